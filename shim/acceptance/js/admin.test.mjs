// @supabase/auth-js's admin API (what supabase-js's auth.admin is), unchanged, against the flows
// shim (FLOWS_SHIM_URL) with a service-role key the database signed (SERVICE_ROLE_KEY, minted
// by ./test), and anonymous sign-in with its conversion. Invitations arrive at the local SMTP
// server (./inbox.mjs). The database confirms by mail (mailer_autoconfirm false) and has
// external_anonymous_users_enabled on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AuthClient, isAuthApiError } from '@supabase/auth-js'
import { mailAfter, noMailWithin, mailsTo } from './inbox.mjs'

const url = process.env.FLOWS_SHIM_URL ?? 'http://127.0.0.1:54404'
const serviceKey = process.env.SERVICE_ROLE_KEY
assert.ok(serviceKey, 'SERVICE_ROLE_KEY is set by ./test')
const options = { url, persistSession: false, autoRefreshToken: false }
const adminClient = () => new AuthClient({ ...options, headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` } }).admin
const client = () => new AuthClient({ ...options, headers: { apikey: 'anon-key' } })
const rand = () => Math.floor(Math.random() * 1e6)
const unique = (name) => `${name}-${Date.now()}-${rand()}@example.com`
// The crypt_blowfish test vector: the bcrypt hash of "U*U" (as a hash imported from another system).
const BCRYPT_U_STAR_U = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'

test('createUser, getUserById, listUsers with pages, updateUserById, deleteUser', async () => {
  const admin = adminClient()
  const email = unique('admin-create')
  const created = await admin.createUser({
    email, password: 'admin-made-pw-1', email_confirm: true,
    user_metadata: { full_name: 'Ada Admin' }, app_metadata: { plan: 'pro' },
  })
  assert.equal(created.error, null)
  const user = created.data.user
  assert.equal(user.email, email)
  assert.ok(user.email_confirmed_at)
  assert.deepEqual(user.user_metadata, { full_name: 'Ada Admin' })
  assert.equal(user.app_metadata.plan, 'pro')
  assert.equal(user.app_metadata.provider, 'email')
  // the user signs in with the password the admin set
  const signIn = await client().signInWithPassword({ email, password: 'admin-made-pw-1' })
  assert.equal(signIn.error, null)

  const byId = await admin.getUserById(user.id)
  assert.equal(byId.error, null)
  assert.equal(byId.data.user.email, email)

  // pages: x-total-count and Link read by the client. auth-js reads one digit of a page number
  // from the Link header (its own limit; GoTrue's header is the same), so the pages here are
  // three; the header itself is checked for many pages below.
  for (let i = 0; i < 2; i++) assert.equal((await admin.createUser({ email: unique('admin-page') })).error, null)
  const { total } = (await admin.listUsers({ page: 1, perPage: 1 })).data
  assert.ok(total >= 3)
  const perPage = Math.ceil(total / 3)
  const page1 = await admin.listUsers({ page: 1, perPage })
  assert.equal(page1.error, null)
  assert.equal(page1.data.users.length, perPage)
  assert.equal(page1.data.total, total)
  assert.equal(page1.data.nextPage, 2)
  assert.equal(page1.data.lastPage, Math.ceil(total / perPage))
  const last = await admin.listUsers({ page: page1.data.lastPage, perPage })
  assert.equal(last.error, null)
  assert.equal(last.data.nextPage, null)
  const raw = await fetch(`${url}/admin/users?page=1&per_page=1`, { headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` } })
  assert.equal(raw.headers.get('x-total-count'), String(total))
  assert.equal(raw.headers.get('link'),
    `</admin/users?page=2&per_page=1>; rel="next", </admin/users?page=${total}&per_page=1>; rel="last"`)

  // metadata merges, email confirmation, ban and unban
  const meta = await admin.updateUserById(user.id, { user_metadata: { team: 'a' }, app_metadata: { plan: null } })
  assert.equal(meta.error, null)
  assert.deepEqual(meta.data.user.user_metadata, { full_name: 'Ada Admin', team: 'a' })
  assert.equal(meta.data.user.app_metadata.plan, undefined)
  const banned = await admin.updateUserById(user.id, { ban_duration: '24h' })
  assert.equal(banned.error, null)
  assert.ok(new Date(banned.data.user.banned_until) > new Date())
  const refused = await client().signInWithPassword({ email, password: 'admin-made-pw-1' })
  assert.ok(isAuthApiError(refused.error))
  assert.equal(refused.error.code, 'user_banned')
  // banning ended the session signed in above: its refresh token is gone
  const refreshed = await client().refreshSession({ refresh_token: signIn.data.session.refresh_token })
  assert.ok(isAuthApiError(refreshed.error))
  const unbanned = await admin.updateUserById(user.id, { ban_duration: 'none' })
  assert.equal(unbanned.error, null)
  assert.equal(unbanned.data.user.banned_until, undefined)
  assert.equal((await client().signInWithPassword({ email, password: 'admin-made-pw-1' })).error, null)

  // a confirmation by the admin
  const pending = unique('admin-unconfirmed')
  const made = await admin.createUser({ email: pending, password: 'pending-pw-1' })
  assert.equal(made.data.user.email_confirmed_at, undefined)
  const confirmed = await admin.updateUserById(made.data.user.id, { email_confirm: true })
  assert.ok(confirmed.data.user.email_confirmed_at)

  // soft delete keeps an obfuscated row; hard delete removes it
  const soft = await admin.deleteUser(made.data.user.id, true)
  assert.equal(soft.error, null)
  const kept = await admin.getUserById(made.data.user.id)
  assert.equal(kept.error, null)
  assert.ok(kept.data.user.deleted_at)
  assert.notEqual(kept.data.user.email, pending)
  const hard = await admin.deleteUser(user.id)
  assert.equal(hard.error, null)
  const gone = await admin.getUserById(user.id)
  assert.ok(isAuthApiError(gone.error))
  assert.equal(gone.error.status, 404)
  assert.equal(gone.error.code, 'user_not_found')
})

test('createUser with an imported bcrypt password_hash: the user signs in with the original password', async () => {
  const admin = adminClient()
  const email = unique('admin-bcrypt')
  const created = await admin.createUser({ email, password_hash: BCRYPT_U_STAR_U, email_confirm: true })
  assert.equal(created.error, null)
  const ok = await client().signInWithPassword({ email, password: 'U*U' })
  assert.equal(ok.error, null)
  assert.equal(ok.data.user.id, created.data.user.id)
  const bad = await admin.createUser({ email: unique('admin-bad-hash'), password_hash: 'md5$nope' })
  assert.ok(isAuthApiError(bad.error))
  assert.equal(bad.error.status, 400)
})

test('generateLink for each type: a link and a code, no mail; the link verifies', async () => {
  const admin = adminClient()
  const email = unique('admin-link')
  const signup = await admin.generateLink({ type: 'signup', email, password: 'linked-pw-1', options: { data: { via: 'link' } } })
  assert.equal(signup.error, null)
  const p = signup.data.properties
  assert.match(p.action_link, /\/verify\?token=[0-9a-f]{56}&type=signup&redirect_to=/)
  assert.match(p.email_otp, /^\d{6}$/)
  assert.match(p.hashed_token, /^[0-9a-f]{56}$/)
  assert.equal(p.verification_type, 'signup')
  assert.equal(signup.data.user.email, email)
  assert.ok(await noMailWithin(email, 1000), 'generateLink sends nothing')
  const verified = await client().verifyOtp({ type: 'signup', token_hash: p.hashed_token })
  assert.equal(verified.error, null)
  assert.equal(verified.data.user.id, signup.data.user.id)
  assert.deepEqual(verified.data.user.user_metadata, { via: 'link' })

  for (const type of ['magiclink', 'recovery']) {
    const link = await admin.generateLink({ type, email })
    assert.equal(link.error, null, type)
    assert.equal(link.data.properties.verification_type, type)
    const session = await client().verifyOtp({ type: 'email', email, token: link.data.properties.email_otp })
    assert.equal(session.error, null, type)
    assert.equal(session.data.user.email, email)
  }
  const stranger = unique('admin-magic-new')
  const magicNew = await admin.generateLink({ type: 'magiclink', email: stranger })
  assert.equal(magicNew.error, null)
  assert.equal(magicNew.data.properties.verification_type, 'signup')
  const missing = await admin.generateLink({ type: 'recovery', email: unique('admin-nobody') })
  assert.equal(missing.error.status, 404)

  const invite = await admin.generateLink({ type: 'invite', email: unique('admin-link-invite') })
  assert.equal(invite.error, null)
  assert.equal(invite.data.properties.verification_type, 'invite')
  assert.ok(invite.data.user.invited_at)
  const accepted = await client().verifyOtp({ type: 'invite', token_hash: invite.data.properties.hashed_token })
  assert.equal(accepted.error, null)

  const newEmail = unique('admin-link-changed')
  for (const type of ['email_change_current', 'email_change_new']) {
    const change = await admin.generateLink({ type, email, newEmail })
    assert.equal(change.error, null, type)
    assert.equal(change.data.properties.verification_type, type)
    assert.match(change.data.properties.action_link, /&type=email_change&/)
    assert.equal(change.data.user.new_email, newEmail)
  }
})

test('inviteUserByEmail: the invitation arrives by mail and its code signs the invitee in', async () => {
  const admin = adminClient()
  const email = unique('admin-invite')
  const { result, mail } = await mailAfter(email, () => admin.inviteUserByEmail(email, { data: { team: 'b' } }))
  assert.equal(result.error, null)
  assert.ok(result.data.user.invited_at)
  assert.ok(mail.code, 'the invitation carries a code')
  const session = await client().verifyOtp({ type: 'invite', email, token: mail.code })
  assert.equal(session.error, null)
  assert.equal(session.data.user.id, result.data.user.id)
  assert.deepEqual(session.data.user.user_metadata, { team: 'b' })
  // an invitation to a confirmed user is refused
  const again = await admin.inviteUserByEmail(email)
  assert.equal(again.error.code, 'email_exists')
  assert.equal(mailsTo(email).length, 1)
})

test('a non-admin bearer gets 403 not_admin; no bearer 401', async () => {
  const email = unique('admin-nonadmin')
  await adminClient().createUser({ email, password: 'plain-user-pw-1', email_confirm: true })
  const { data } = await client().signInWithPassword({ email, password: 'plain-user-pw-1' })
  const asUser = new AuthClient({ ...options, headers: { apikey: 'anon-key', Authorization: `Bearer ${data.session.access_token}` } }).admin
  const listed = await asUser.listUsers()
  assert.ok(isAuthApiError(listed.error))
  assert.equal(listed.error.status, 403)
  assert.equal(listed.error.code, 'not_admin')
  const created = await asUser.createUser({ email: unique('admin-by-user') })
  assert.equal(created.error.code, 'not_admin')
  const anonymous = new AuthClient({ ...options, headers: { apikey: 'anon-key' } }).admin
  assert.equal((await anonymous.listUsers()).error.status, 401)
})

test('signInAnonymously: an is_anonymous token; updateUser({email}) + the code makes the same user permanent', async () => {
  const auth = client()
  const anon = await auth.signInAnonymously({ options: { data: { cart: 3 } } })
  assert.equal(anon.error, null)
  assert.equal(anon.data.user.is_anonymous, true)
  const claims = await auth.getClaims()
  assert.equal(claims.error, null)
  assert.equal(claims.data.claims.is_anonymous, true)
  assert.equal(claims.data.claims.amr[0].method, 'anonymous')
  const id = anon.data.user.id

  const noPassword = await auth.updateUser({ password: 'anon-password-1' })
  assert.equal(noPassword.error.status, 422)

  const email = unique('anon-convert')
  const { result, mail } = await mailAfter(email, () => auth.updateUser({ email }))
  assert.equal(result.error, null)
  assert.equal(result.data.user.is_anonymous, true, 'anonymous until the address is proven')
  const verified = await auth.verifyOtp({ type: 'email_change', email, token: mail.code })
  assert.equal(verified.error, null)
  assert.equal(verified.data.user.id, id)
  assert.equal(verified.data.user.email, email)
  assert.equal(verified.data.user.is_anonymous, false)
  assert.deepEqual(verified.data.user.user_metadata, { cart: 3 })
  assert.equal(verified.data.user.app_metadata.provider, 'email')
  const refreshed = await auth.refreshSession()
  assert.equal(refreshed.error, null)
  const after = await auth.getClaims()
  assert.equal(after.data.claims.is_anonymous, false)
})

test('a custom access token hook (shim/acceptance/hooks.sql) adds a claim getClaims() shows, at sign-in and refresh', async () => {
  const email = unique('hooked')
  const made = await adminClient().createUser({ email, password: 'hooked-pw-1', email_confirm: true, user_metadata: { plan: 'pro' } })
  assert.equal(made.error, null)
  const auth = client()
  assert.equal((await auth.signInWithPassword({ email, password: 'hooked-pw-1' })).error, null)
  const claims = await auth.getClaims()
  assert.equal(claims.error, null)
  assert.equal(claims.data.claims.plan, 'pro')
  assert.equal(claims.data.claims.sub, made.data.user.id)
  assert.equal((await auth.refreshSession()).error, null)
  assert.equal((await auth.getClaims()).data.claims.plan, 'pro')
  const other = client()
  assert.equal((await other.signInAnonymously()).error, null)
  assert.equal((await other.getClaims()).data.claims.plan, 'free')
})
