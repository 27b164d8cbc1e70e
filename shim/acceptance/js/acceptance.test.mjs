// @supabase/auth-js, unchanged, against auth-ext-shim (SHIM_URL): what an app does.
// The database behind the shim has refresh_token_reuse_interval = 1 (set by ./test).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AuthClient, AuthApiError, AuthWeakPasswordError, isAuthApiError } from '@supabase/auth-js'

const url = process.env.SHIM_URL ?? 'http://127.0.0.1:9999'
const client = () => new AuthClient({ url, headers: { apikey: 'anon-key' }, persistSession: false, autoRefreshToken: false })
const unique = (name) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('sign up, sign in, get the user, update metadata and password', async () => {
  const auth = client()
  const email = unique('js')
  const up = await auth.signUp({ email, password: 'js-password-1', options: { data: { name: 'JS' } } })
  assert.equal(up.error, null)
  assert.ok(up.data.session?.access_token, 'autoconfirm: a session comes back')
  assert.equal(up.data.user.email, email)
  assert.deepEqual(up.data.user.user_metadata, { name: 'JS' })
  assert.equal(up.data.user.identities.length, 1)

  const signIn = await auth.signInWithPassword({ email, password: 'js-password-1' })
  assert.equal(signIn.error, null)
  assert.equal(signIn.data.user.email, email)
  assert.ok(signIn.data.session.expires_in > 90)

  const me = await auth.getUser()
  assert.equal(me.error, null)
  assert.equal(me.data.user.id, signIn.data.user.id)

  const meta = await auth.updateUser({ data: { theme: 'dark' } })
  assert.equal(meta.error, null)
  assert.deepEqual(meta.data.user.user_metadata, { name: 'JS', theme: 'dark' })

  const pw = await auth.updateUser({ password: 'js-password-2' })
  assert.equal(pw.error, null)
  const again = await client().signInWithPassword({ email, password: 'js-password-2' })
  assert.equal(again.error, null)
  const old = await client().signInWithPassword({ email, password: 'js-password-1' })
  assert.ok(old.error instanceof AuthApiError)
})

test('refreshSession rotates, getClaims verifies the ES256 token locally through the JWKS', async () => {
  const auth = client()
  const email = unique('claims')
  const { data } = await auth.signUp({ email, password: 'claims-password' })
  const first = data.session
  const refreshed = await auth.refreshSession()
  assert.equal(refreshed.error, null)
  assert.notEqual(refreshed.data.session.refresh_token, first.refresh_token)
  assert.equal(refreshed.data.user.email, email)

  const claims = await auth.getClaims()
  assert.equal(claims.error, null)
  assert.equal(claims.data.header.alg, 'ES256')
  assert.ok(claims.data.header.kid)
  assert.equal(claims.data.claims.sub, data.user.id)
  assert.equal(claims.data.claims.role, 'authenticated')
  assert.equal(claims.data.claims.aal, 'aal1')
  // the JWKS the client fetched is public keys only, cacheable
  const jwks = await fetch(`${url}/.well-known/jwks.json`)
  assert.equal(jwks.headers.get('cache-control'), 'public, max-age=600')
  for (const key of (await jwks.json()).keys) assert.equal(key.d, undefined)
})

test('signOut with each scope', async () => {
  const email = unique('scopes')
  await client().signUp({ email, password: 'scopes-password' })
  const a = client(), b = client(), c = client()
  for (const x of [a, b, c]) assert.equal((await x.signInWithPassword({ email, password: 'scopes-password' })).error, null)

  assert.equal((await a.signOut({ scope: 'others' })).error, null)
  assert.equal((await a.getUser()).error, null, 'a keeps its session')
  const bToken = (await b.getSession()).data.session.access_token
  const bUser = await fetch(`${url}/user`, { headers: { Authorization: `Bearer ${bToken}` } })
  assert.equal(bUser.status, 403, 'b was signed out by others')

  assert.equal((await a.signOut({ scope: 'local' })).error, null)
  assert.equal((await a.getSession()).data.session, null, 'the client drops its session')

  const d = client()
  await d.signInWithPassword({ email, password: 'scopes-password' })
  const token = (await d.getSession()).data.session.access_token
  assert.equal((await d.signOut({ scope: 'global' })).error, null)
  const after = await fetch(`${url}/user`, { headers: { Authorization: `Bearer ${token}` } })
  assert.equal(after.status, 403)
  assert.equal((await after.json()).code, 'session_not_found')
})

test('errors arrive as the client expects them', async () => {
  const auth = client()
  const email = unique('errors')
  await auth.signUp({ email, password: 'errors-password' })

  const wrong = await client().signInWithPassword({ email, password: 'not-the-password' })
  assert.ok(isAuthApiError(wrong.error))
  assert.equal(wrong.error.code, 'invalid_credentials')
  assert.equal(wrong.error.status, 400)
  const unknown = await client().signInWithPassword({ email: unique('nobody'), password: 'not-the-password' })
  assert.equal(unknown.error.code, 'invalid_credentials')

  const weak = await client().signUp({ email: unique('weak'), password: 'short' })
  assert.ok(weak.error instanceof AuthWeakPasswordError)
  assert.deepEqual(weak.error.reasons, ['length'])
  assert.equal(weak.error.status, 422)

  const dup = await client().signUp({ email, password: 'errors-password' })
  assert.equal(dup.error.code, 'user_already_exists')

  // a refresh token reused after the reuse interval revokes its family
  const r = client()
  const s0 = (await r.signInWithPassword({ email, password: 'errors-password' })).data.session
  const s1 = (await r.refreshSession()).data.session
  await r.refreshSession()
  await sleep(1500)
  const reused = await client().refreshSession({ refresh_token: s0.refresh_token })
  assert.ok(isAuthApiError(reused.error))
  assert.equal(reused.error.code, 'refresh_token_already_used')
  const family = await client().refreshSession({ refresh_token: s1.refresh_token })
  assert.equal(family.error.code, 'refresh_token_already_used')
})

test('the shim refuses what is not GoTrue', async () => {
  const post = (path, body, headers = { 'content-type': 'application/json' }) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'x-supabase-api-version': '2024-01-01', ...headers }, body })
  let res = await post('/signup', '{not json')
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('x-supabase-api-version'), '2024-01-01')
  assert.deepEqual(Object.keys(await res.json()).sort(), ['code', 'error_code', 'message', 'msg'])
  res = await post('/signup', 'email=a', { 'content-type': 'application/x-www-form-urlencoded' })
  assert.equal(res.status, 400)
  res = await post('/signup', JSON.stringify({ email: unique('big'), password: 'x'.repeat(100), data: { blob: 'x'.repeat(100000) } }))
  assert.equal(res.status, 413)
  res = await post('/token?grant_type=nonsense', '{}')
  assert.equal(res.status, 400)
  res = await fetch(`${url}/user`)
  assert.equal(res.status, 401)
  res = await fetch(`${url}/user`, { headers: { Authorization: 'Basic abc' } })
  assert.equal(res.status, 401)
  res = await fetch(`${url}/user`, { headers: { Authorization: 'Bearer not.a.token' } })
  assert.equal(res.status, 401)
  assert.equal((await res.json()).code, 'bad_jwt')
  res = await post('/signup', JSON.stringify({ email: unique('extra'), password: 'extra-password', gotrue_meta_security: {}, code_challenge: null }))
  assert.equal(res.status, 200, 'unknown fields are ignored')
  res = await fetch(`${url}/settings`)
  assert.equal((await res.json()).external.email, true)
  res = await fetch(`${url}/health`)
  assert.equal((await res.json()).name, 'auth_ext')
  // supabase-js looks for the endpoints under /auth/v1 of the project URL
  const nested = new AuthClient({ url: `${url}/auth/v1`, headers: { apikey: 'anon-key' }, persistSession: false, autoRefreshToken: false })
  const viaPrefix = await nested.signUp({ email: unique('prefix'), password: 'prefix-password' })
  assert.equal(viaPrefix.error, null)
  assert.ok(viaPrefix.data.session.access_token)
})
