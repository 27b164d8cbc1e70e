// @supabase/auth-js, unchanged, through the email and phone flows of auth-ext-shim (FLOWS_SHIM_URL),
// with real delivery: the shim drains the outbox to an SMTP server and an SMS webhook
// (shim/acceptance/peers/), and these tests read what they received (./inbox.mjs).
// The database behind the shim (set up by ./test) confirms by mail and by SMS
// (mailer_autoconfirm and sms_autoconfirm false), allows redirects to site_url
// http://localhost:3000 and the globs http://localhost:3000/**, http://127.0.0.1:*/**,
// and lets one user be sent one message of a kind per second (smtp_max_frequency 1).
import { test, before } from 'node:test'
import crypto from 'node:crypto'
import assert from 'node:assert/strict'
import { AuthClient, isAuthApiError, isAuthImplicitGrantRedirectError } from '@supabase/auth-js'
import {
  mailAfter, mailsTo, waitForMail, noMailWithin, smsAfter, smsTo, digits,
  webhookKey, webhookSignature, sharedStorage, visitPage,
} from './inbox.mjs'

const url = process.env.FLOWS_SHIM_URL ?? 'http://127.0.0.1:54404'
const SMS_RECEIVER = process.env.SMS_RECEIVER_URL ?? 'http://127.0.0.1:54403'
const SECRET = process.env.SMS_WEBHOOK_SECRET
const SITE = 'http://localhost:3000'
const APP = 'http://127.0.0.1:3001' // in uri_allow_list through http://127.0.0.1:*/**
const headers = { apikey: 'anon-key' }
const options = { url, headers, persistSession: false, autoRefreshToken: false }
const client = (extra = {}) => new AuthClient({ ...options, ...extra })
const rand = () => Math.floor(Math.random() * 1e6)
const unique = (name) => `${name}-${Date.now()}-${rand()}@example.com`
// GoTrue keeps a phone as digits only; the client sends it with its +
const uniquePhone = () => '1555' + String(rand()).padStart(6, '0') + String(rand() % 10)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sha224 = (s) => crypto.createHash('sha224').update(s).digest('hex')
const assertKeyedHash = (hash, address, code) => {
  assert.match(hash, /^[0-9a-f]{56}$/)
  assert.notEqual(hash, sha224(address + code))
}
const otherCode = (code) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0')

// Follows nothing: the answer to a GET of an emailed link, as a browser sees it before it moves.
async function open(link) {
  const res = await fetch(link, { redirect: 'manual' })
  const location = res.headers.get('location')
  return { status: res.status, location: location ? new URL(location, link) : null }
}
const fragment = (u) => Object.fromEntries(new URLSearchParams(u.hash.replace(/^#/, '')))
const base = (u) => u.origin + u.pathname

// The session really works: the server knows the user behind its access token.
async function assertSignedIn(session, expected) {
  assert.ok(session?.access_token, 'a session with an access token')
  const me = await client().getUser(session.access_token)
  assert.equal(me.error, null, `getUser: ${me.error?.message}`)
  for (const [k, v] of Object.entries(expected)) assert.equal(me.data.user[k], v, k)
  return me.data.user
}

// A user who signed up and confirmed the address by the mailed code; `auth` holds the session.
async function confirmedUser(tag, password = `${tag}-password-1`) {
  const email = unique(tag)
  const auth = client()
  const { mail } = await mailAfter(email, () => auth.signUp({ email, password }))
  const v = await auth.verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(v.error, null, `confirming ${email}: ${v.error?.message}`)
  return { email, password, auth, user: v.data.user }
}

let receiverAtStart
before(async () => {
  const health = await fetch(`${url}/health`).catch((e) => ({ ok: false, statusText: e.message }))
  assert.ok(health.ok, `the flows shim at ${url} answers /health: ${health.status ?? ''} ${health.statusText}`)
  receiverAtStart = await (await fetch(`${SMS_RECEIVER}/stats`)).json()
})

test('sign-up with confirmation: no session, the mail, sign-in refused, verifyOtp by code', async () => {
  const auth = client()
  const email = unique('confirm')
  const password = 'confirm-password-1'
  const { result: up, mail } = await mailAfter(email, () =>
    auth.signUp({ email, password, options: { emailRedirectTo: `${APP}/confirmed`, data: { plan: 'free' } } }))
  assert.equal(up.error, null)
  assert.equal(up.data.session, null, 'no session before the address is confirmed')
  assert.equal(up.data.user.email, email)
  assert.ok(!up.data.user.email_confirmed_at)
  assert.equal(up.data.user.user_metadata.plan, 'free')

  // the mail: from the configured sender, a code, and the /verify link of the shim's external URL
  assert.match(mail.from, /auth_ext tests/)
  assert.match(mail.from, /auth@example\.com/)
  assert.ok(mail.subject.length > 0)
  assert.match(mail.code ?? '', /^\d{6}$/, `a 6-digit code in: ${mail.text ?? mail.html}`)
  assert.ok(mail.link?.startsWith(`${url}/verify?`), `the link: ${mail.link}`)
  assert.equal(mail.params.type, 'signup')
  assert.equal(mail.params.redirect_to, `${APP}/confirmed`)
  // the link's token has the shape of GoTrue's hash of the address and the code, but is keyed:
  // GoTrue's plain sha224 anyone could compute from the address and a guessed code
  assertKeyedHash(mail.params.token, email, mail.code)

  const early = await client().signInWithPassword({ email, password })
  assert.ok(isAuthApiError(early.error))
  assert.equal(early.error.code, 'email_not_confirmed')
  assert.equal(early.error.status, 400)

  const wrong = await client().verifyOtp({ email, token: otherCode(mail.code), type: 'email' })
  assert.equal(wrong.error?.code, 'otp_expired')
  assert.equal(wrong.error.status, 403)

  const v = await auth.verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(v.error, null)
  assert.equal(v.data.user.id, up.data.user.id)
  assert.ok(v.data.user.email_confirmed_at)
  await assertSignedIn(v.data.session, { id: up.data.user.id, email })
  assert.equal((await auth.getUser()).data.user.email, email, 'the client keeps the session')

  assert.equal((await client().signInWithPassword({ email, password })).error, null, 'confirmed: the password signs in')
  const reused = await client().verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(reused.error?.code, 'otp_expired', 'a code is spent once used')
})

test('a second user is confirmed by token_hash', async () => {
  const email = unique('hash-confirm')
  const { result: up, mail } = await mailAfter(email, () => client().signUp({ email, password: 'hash-password-1' }))
  assert.equal(up.data.session, null)
  assert.match(mail.tokenHash, /^[0-9a-f]{56}$/)
  const auth = client()
  const v = await auth.verifyOtp({ token_hash: mail.tokenHash, type: 'signup' })
  assert.equal(v.error, null)
  assert.ok(v.data.user.email_confirmed_at)
  await assertSignedIn(v.data.session, { id: up.data.user.id, email })
  const again = await client().verifyOtp({ token_hash: mail.tokenHash, type: 'signup' })
  assert.equal(again.error?.code, 'otp_expired')
})

test('the mailed link: 303 to redirect_to with the session in the fragment; the same link again, the error fragment', async () => {
  const email = unique('link')
  const { result: up, mail } = await mailAfter(email, () =>
    client().signUp({ email, password: 'link-password-1', options: { emailRedirectTo: `${APP}/welcome` } }))
  const first = await open(mail.link)
  assert.equal(first.status, 303)
  assert.equal(base(first.location), `${APP}/welcome`)
  const f = fragment(first.location)
  assert.ok(f.access_token && f.refresh_token, first.location.href)
  assert.equal(f.token_type, 'bearer')
  assert.equal(f.type, 'signup')
  assert.ok(Number(f.expires_in) > 90)
  assert.ok(Math.abs(Number(f.expires_at) - (Date.now() / 1000 + Number(f.expires_in))) < 60)

  // the app's page: auth-js (detectSessionInUrl) takes the session from the fragment
  const page = await visitPage(first.location.href, options)
  assert.equal(page.error, null)
  assert.equal(page.session?.user.id, up.data.user.id)
  assert.equal(new URL(page.url).hash, '', 'the client clears the tokens from the address bar')
  assert.equal((await page.client.getUser()).data.user.email, email)
  await assertSignedIn({ access_token: f.access_token }, { email })
  assert.equal((await client().refreshSession({ refresh_token: f.refresh_token })).error, null, 'the refresh token works')

  // the link again: it is spent, the redirect carries GoTrue's error fragment
  const second = await open(mail.link)
  assert.equal(second.status, 303)
  assert.equal(base(second.location), `${APP}/welcome`)
  const e = fragment(second.location)
  assert.equal(e.access_token, undefined)
  assert.equal(e.error, 'access_denied')
  assert.equal(e.error_code, 'otp_expired')
  assert.equal(e.error_description, 'Email link is invalid or has expired')
  const errorPage = await visitPage(second.location.href, options)
  assert.equal(errorPage.session, null)
  assert.ok(isAuthImplicitGrantRedirectError(errorPage.error), String(errorPage.error))
  assert.equal(errorPage.error.details.code, 'otp_expired')
  assert.equal(errorPage.error.message, 'Email link is invalid or has expired')
})

test('a redirect_to outside the allow list lands on site_url', async () => {
  const email = unique('evil')
  const { mail } = await mailAfter(email, () =>
    client().signUp({ email, password: 'evil-password-1', options: { emailRedirectTo: 'https://evil.example.com/phish' } }))
  assert.ok(!mail.link.includes('evil.example.com'), `the mailed link keeps no refused redirect: ${mail.link}`)
  // and a link whose redirect_to was changed afterwards
  const tampered = new URL(mail.link)
  tampered.searchParams.set('redirect_to', 'https://evil.example.com/phish')
  const res = await open(tampered.href)
  assert.equal(res.status, 303)
  assert.equal(res.location.origin, SITE, res.location.href)
  await assertSignedIn({ access_token: fragment(res.location).access_token }, { email })
})

test('signInWithOtp by email: a code for an existing user, a new user created, an unknown one refused with shouldCreateUser false', async () => {
  const { email } = await confirmedUser('otp')
  const { result, mail } = await mailAfter(email, () =>
    client().signInWithOtp({ email, options: { shouldCreateUser: false, emailRedirectTo: `${APP}/magic` } }))
  assert.equal(result.error, null)
  assert.equal(result.data.session, null)
  assert.equal(mail.params.type, 'magiclink')
  assert.equal(mail.params.redirect_to, `${APP}/magic`)
  const auth = client()
  const v = await auth.verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(v.error, null)
  await assertSignedIn(v.data.session, { email })

  const stranger = unique('stranger')
  const refused = await client().signInWithOtp({ email: stranger, options: { shouldCreateUser: false } })
  assert.ok(isAuthApiError(refused.error))
  assert.equal(refused.error.code, 'otp_disabled')
  assert.equal(refused.error.status, 422)
  assert.equal(refused.error.message, 'Signups not allowed for otp')

  const fresh = unique('fresh-otp')
  const { result: created, mail: welcome } = await mailAfter(fresh, () =>
    client().signInWithOtp({ email: fresh, options: { data: { source: 'otp' } } }))
  assert.equal(created.error, null)
  const s = await client().verifyOtp({ email: fresh, token: welcome.code, type: 'email' })
  assert.equal(s.error, null)
  assert.ok(s.data.user.email_confirmed_at)
  assert.equal(s.data.user.user_metadata.source, 'otp')
  await assertSignedIn(s.data.session, { email: fresh })

  assert.ok(await noMailWithin(stranger, 1500), 'nothing was sent to the refused address')
})

test('signInWithOtp by phone, verifyOtp sms', async () => {
  const phone = uniquePhone()
  const { result, sms } = await smsAfter(phone, () => client().signInWithOtp({ phone: `+${phone}` }))
  assert.equal(result.error, null)
  assert.ok(result.data.messageId, 'a message id comes back')
  assert.match(sms.otp, /^\d{6}$/)
  assert.equal(sms.smsType, 'sms')
  assert.equal(digits(sms.payload.sms.phone), phone)
  assert.ok(sms.payload.user?.id, 'the hook input carries the user')

  const wrong = await client().verifyOtp({ phone: `+${phone}`, token: otherCode(sms.otp), type: 'sms' })
  assert.equal(wrong.error?.code, 'otp_expired')
  const v = await client().verifyOtp({ phone: `+${phone}`, token: sms.otp, type: 'sms' })
  assert.equal(v.error, null)
  assert.equal(v.data.user.id, sms.payload.user.id)
  assert.ok(v.data.user.phone_confirmed_at)
  await assertSignedIn(v.data.session, { phone })
  const reused = await client().verifyOtp({ phone: `+${phone}`, token: sms.otp, type: 'sms' })
  assert.equal(reused.error?.code, 'otp_expired')
})

test('resend (signup): too soon is over_email_send_rate_limit; then a new mail whose code confirms', async () => {
  const email = unique('resend')
  const up = await client().signUp({ email, password: 'resend-password-1' })
  assert.equal(up.error, null)
  const tooSoon = await client().resend({ type: 'signup', email })
  assert.ok(isAuthApiError(tooSoon.error), 'within smtp_max_frequency (1 s) of the first mail')
  assert.equal(tooSoon.error.code, 'over_email_send_rate_limit')
  assert.equal(tooSoon.error.status, 429)
  await waitForMail(email)
  await sleep(1100)
  const { result, mail } = await mailAfter(email, () =>
    client().resend({ type: 'signup', email, options: { emailRedirectTo: `${APP}/again` } }))
  assert.equal(result.error, null)
  assert.equal(mail.params.type, 'signup')
  assert.equal(mail.params.redirect_to, `${APP}/again`)
  const v = await client().verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(v.error, null)
  await assertSignedIn(v.data.session, { id: up.data.user.id })
  assert.equal(mailsTo(email).length, 2, 'the refused resend sent nothing')
})

test('resetPasswordForEmail, verifyOtp recovery, updateUser password, sign-in with the new one', async () => {
  const { email, password } = await confirmedUser('recover')
  const { result, mail } = await mailAfter(email, () => client().resetPasswordForEmail(email, { redirectTo: `${APP}/reset` }))
  assert.equal(result.error, null)
  assert.deepEqual(result.data, {})
  assert.equal(mail.params.type, 'recovery')
  assert.equal(mail.params.redirect_to, `${APP}/reset`)
  const auth = client()
  const events = []
  auth.onAuthStateChange((event) => events.push(event))
  const v = await auth.verifyOtp({ email, token: mail.code, type: 'recovery' })
  assert.equal(v.error, null)
  await assertSignedIn(v.data.session, { email })
  const upd = await auth.updateUser({ password: 'recovered-password-2' })
  assert.equal(upd.error, null)
  assert.ok(events.includes('PASSWORD_RECOVERY'))
  const signIn = await client().signInWithPassword({ email, password: 'recovered-password-2' })
  assert.equal(signIn.error, null)
  await assertSignedIn(signIn.data.session, { email })
  assert.equal((await client().signInWithPassword({ email, password })).error?.code, 'invalid_credentials')

  const stranger = unique('no-such-user')
  const unknown = await client().resetPasswordForEmail(stranger)
  assert.equal(unknown.error, null, 'an unknown address looks the same')
  assert.ok(await noMailWithin(stranger, 1500), 'and gets nothing')
})

test('updateUser({email}): secure change, a code to the old and to the new address; after both, the new email', async () => {
  const { email, password, auth } = await confirmedUser('change')
  const newEmail = unique('changed')
  const oldCount = mailsTo(email).length
  const upd = await auth.updateUser({ email: newEmail }, { emailRedirectTo: `${APP}/changed` })
  assert.equal(upd.error, null)
  assert.equal(upd.data.user.email, email, 'unchanged until both are confirmed')
  assert.equal(upd.data.user.new_email, newEmail)
  const toOld = await waitForMail(email, { after: oldCount })
  const toNew = await waitForMail(newEmail)
  for (const m of [toOld, toNew]) {
    assert.equal(m.params.type, 'email_change')
    assert.equal(m.params.redirect_to, `${APP}/changed`)
    assert.match(m.code, /^\d{6}$/)
  }
  assertKeyedHash(toOld.params.token, email, toOld.code)
  assertKeyedHash(toNew.params.token, newEmail, toNew.code)

  // the first half: GoTrue's 200 message, no session (the Python client needs "code": "200")
  let last
  const recording = client({ fetch: async (...args) => { const res = await fetch(...args); last = res.clone(); return res } })
  const half = await recording.verifyOtp({ email, token: toOld.code, type: 'email_change' })
  assert.equal(half.error, null)
  assert.equal(half.data.session, null)
  assert.deepEqual(await last.json(), {
    msg: 'Confirmation link accepted. Please proceed to confirm link sent to the other email', code: '200',
  })
  assert.equal((await auth.getUser()).data.user.email, email, 'one confirmation changes nothing yet')

  const done = await client().verifyOtp({ email: newEmail, token: toNew.code, type: 'email_change' })
  assert.equal(done.error, null)
  assert.equal(done.data.user.email, newEmail)
  await assertSignedIn(done.data.session, { email: newEmail })
  const me = await auth.getUser()
  assert.equal(me.data.user.email, newEmail, 'the earlier session sees the new address')
  assert.ok(!me.data.user.new_email)
  assert.equal((await client().signInWithPassword({ email: newEmail, password })).error, null)
  assert.equal((await client().signInWithPassword({ email, password })).error?.code, 'invalid_credentials')
})

test('reauthenticate: a nonce by mail, then updateUser({password, nonce})', async () => {
  const { email, password, auth } = await confirmedUser('reauth')
  const { result, mail } = await mailAfter(email, () => auth.reauthenticate())
  assert.equal(result.error, null)
  assert.match(mail.code, /^\d{6}$/)
  const upd = await auth.updateUser({ password: 'reauth-password-2', nonce: mail.code })
  assert.equal(upd.error, null)
  assert.equal(upd.data.user.email, email)
  const signIn = await client().signInWithPassword({ email, password: 'reauth-password-2' })
  assert.equal(signIn.error, null)
  await assertSignedIn(signIn.data.session, { email })
  assert.equal((await client().signInWithPassword({ email, password })).error?.code, 'invalid_credentials')
})

test("flowType 'pkce': signUp, the link gives ?code=, exchangeCodeForSession; a second exchange fails", async () => {
  const storage = sharedStorage()
  const pkce = { ...options, persistSession: true, storage, storageKey: 'flows-pkce-signup', flowType: 'pkce' }
  const auth = new AuthClient(pkce)
  const email = unique('pkce')
  const { result: up, mail } = await mailAfter(email, () =>
    auth.signUp({ email, password: 'pkce-password-1', options: { emailRedirectTo: `${APP}/callback` } }))
  assert.equal(up.error, null)
  assert.equal(up.data.session, null)
  assert.ok(mail.params.token.startsWith('pkce_'), `a PKCE link: ${mail.link}`)
  const verifier = JSON.parse(storage.getItem('flows-pkce-signup-code-verifier'))
  assert.ok(verifier)

  const res = await open(mail.link)
  assert.equal(res.status, 303)
  assert.equal(base(res.location), `${APP}/callback`)
  const code = res.location.searchParams.get('code')
  assert.ok(code, res.location.href)
  assert.ok(!res.location.href.includes('access_token'), 'PKCE: no token in the redirect')

  const ex = await auth.exchangeCodeForSession(code)
  assert.equal(ex.error, null)
  assert.equal(ex.data.user.id, up.data.user.id)
  assert.ok(ex.data.user.email_confirmed_at)
  await assertSignedIn(ex.data.session, { email })

  const again = await auth.exchangeCodeForSession(code)
  assert.ok(again.error, 'the client has no verifier left')
  const replay = await fetch(`${url}/token?grant_type=pkce`, {
    method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ auth_code: code, code_verifier: verifier }),
  })
  assert.equal(replay.status, 404)
  assert.equal((await replay.json()).code, 'flow_state_not_found', 'the code is spent at the server too')
})

test("flowType 'pkce': signInWithOtp, the page the link lands on exchanges ?code= itself", async () => {
  const { email } = await confirmedUser('pkce-otp')
  const storage = sharedStorage()
  const pkce = { ...options, persistSession: true, storage, storageKey: 'flows-pkce-otp', flowType: 'pkce' }
  const auth = new AuthClient(pkce)
  const { result, mail } = await mailAfter(email, () =>
    auth.signInWithOtp({ email, options: { shouldCreateUser: false, emailRedirectTo: `${APP}/callback` } }))
  assert.equal(result.error, null)
  assert.ok(mail.params.token.startsWith('pkce_'), mail.link)
  const res = await open(mail.link)
  assert.equal(res.status, 303)
  assert.ok(res.location.searchParams.get('code'), res.location.href)
  // the same browser (its storage holds the verifier) opens the page: detectSessionInUrl exchanges
  const page = await visitPage(res.location.href, pkce)
  assert.equal(page.error, null)
  assert.equal(page.session?.user.email, email)
  assert.equal(new URL(page.url).searchParams.get('code'), null, 'the client removes the code from the address')
  await assertSignedIn(page.session, { email })
  // another browser (no verifier) cannot use a link of this flow
  const other = await visitPage(res.location.href, { ...pkce, storage: sharedStorage() })
  assert.equal(other.session, null)
})

test('phone sign-up with a password, verifyOtp sms, signInWithPassword({phone})', async () => {
  const phone = uniquePhone()
  const password = 'phone-password-1'
  const { result: up, sms } = await smsAfter(phone, () => client().signUp({ phone: `+${phone}`, password }))
  assert.equal(up.error, null)
  assert.equal(up.data.session, null)
  assert.equal(up.data.user.phone, phone)
  assert.equal(sms.smsType, 'sms')
  const early = await client().signInWithPassword({ phone: `+${phone}`, password })
  assert.equal(early.error?.code, 'phone_not_confirmed')
  assert.equal(early.error.status, 400)
  const v = await client().verifyOtp({ phone: `+${phone}`, token: sms.otp, type: 'sms' })
  assert.equal(v.error, null)
  assert.ok(v.data.user.phone_confirmed_at)
  const signIn = await client().signInWithPassword({ phone: `+${phone}`, password })
  assert.equal(signIn.error, null)
  await assertSignedIn(signIn.data.session, { id: up.data.user.id, phone })
})

test('{{ .TokenHash }}: the app page verifies the token_hash; a prefetch of the link burns it first', async () => {
  const { email } = await confirmedUser('tokenhash')
  // the app's page (a template linking to it with the token_hash) calls verifyOtp({token_hash, type: 'email'})
  const { mail } = await mailAfter(email, () => client().signInWithOtp({ email, options: { shouldCreateUser: false } }))
  assertKeyedHash(mail.tokenHash, email, mail.code)
  const v = await client().verifyOtp({ token_hash: mail.tokenHash, type: 'email' })
  assert.equal(v.error, null)
  await assertSignedIn(v.data.session, { email })

  // a mail scanner fetches the /verify link before the user clicks: the scanner gets the session,
  // the user's app page gets otp_expired. That is why the token_hash template exists.
  await sleep(1100) // smtp_max_frequency: one magic link a second per user
  const { mail: second } = await mailAfter(email, () => client().signInWithOtp({ email, options: { shouldCreateUser: false } }))
  assert.notEqual(second.tokenHash, mail.tokenHash)
  const prefetch = await open(second.link)
  assert.equal(prefetch.status, 303)
  assert.ok(fragment(prefetch.location).access_token, 'the prefetch was signed in')
  const late = await client().verifyOtp({ token_hash: second.tokenHash, type: 'email' })
  assert.ok(isAuthApiError(late.error))
  assert.equal(late.error.code, 'otp_expired')
  assert.equal(late.error.status, 403)
})

test('a refused sign-up sends nothing', async () => {
  const email = unique('weak')
  const weak = await client().signUp({ email, password: 'short' })
  assert.equal(weak.error?.code, 'weak_password')
  assert.ok(await noMailWithin(email, 1500))
})

test('the SMS webhook: each delivery carries a valid Standard Webhooks signature; forged ones are refused', { skip: !SECRET && 'SMS_WEBHOOK_SECRET is not set' }, async () => {
  const phone = uniquePhone()
  const { sms } = await smsAfter(phone, () => client().signInWithOtp({ phone: `+${phone}` }))
  const key = webhookKey(SECRET)
  assert.equal(sms.content_type?.split(';')[0], 'application/json')
  assert.ok(Math.abs(Date.now() / 1000 - Number(sms.webhook_timestamp)) < 300)
  // checked again here, not only by the receiver: every delivery it kept
  const kept = smsTo(phone)
  for (const r of kept) {
    const expected = webhookSignature(key, r.webhook_id, r.webhook_timestamp, r.body)
    assert.ok(r.webhook_signature.split(' ').includes(expected), `signature of ${r.file}`)
  }
  // forged deliveries: a wrong key, a stale timestamp, no signature
  const body = JSON.stringify({ user: {}, sms: { otp: '000000', sms_type: 'sms', phone } })
  const now = Math.floor(Date.now() / 1000)
  const post = (h) => fetch(`${SMS_RECEIVER}/sms`, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body })
  const forged = [
    { 'webhook-id': 'forged-1', 'webhook-timestamp': String(now), 'webhook-signature': webhookSignature(Buffer.from('not the key'), 'forged-1', now, body) },
    { 'webhook-id': 'forged-2', 'webhook-timestamp': String(now - 600), 'webhook-signature': webhookSignature(key, 'forged-2', now - 600, body) },
    { 'webhook-id': 'forged-3', 'webhook-timestamp': String(now) },
  ]
  for (const h of forged) assert.equal((await post(h)).status, 401, h['webhook-id'])
  assert.equal(smsTo(phone).length, kept.length, 'none of them was kept')
  const stats = await (await fetch(`${SMS_RECEIVER}/stats`)).json()
  assert.equal(stats.rejected - receiverAtStart.rejected, forged.length, "the shim's own deliveries were never refused")
  assert.ok(stats.accepted > receiverAtStart.accepted)
})

test('a failed delivery is retried: SMTP 451 then accepted, webhook 503 then accepted', async () => {
  const email = `tempfail1-${Date.now()}-${rand()}@example.com` // the catcher refuses its first delivery
  const { result: up, mail } = await mailAfter(email, () => client().signUp({ email, password: 'retry-password-1' }), { timeout: 120000 })
  assert.equal(up.error, null)
  const v = await client().verifyOtp({ email, token: mail.code, type: 'email' })
  assert.equal(v.error, null)
  await assertSignedIn(v.data.session, { email })

  const phone = uniquePhone()
  const before = await (await fetch(`${SMS_RECEIVER}/stats`)).json()
  await fetch(`${SMS_RECEIVER}/control/fail?phone=${phone}&times=1`, { method: 'POST' })
  const { sms } = await smsAfter(phone, () => client().signInWithOtp({ phone: `+${phone}` }), { timeout: 120000 })
  const after = await (await fetch(`${SMS_RECEIVER}/stats`)).json()
  assert.equal(after.failed_on_purpose - before.failed_on_purpose, 1, 'the first delivery was refused')
  const s = await client().verifyOtp({ phone: `+${phone}`, token: sms.otp, type: 'sms' })
  assert.equal(s.error, null)
  await assertSignedIn(s.data.session, { phone })
})
