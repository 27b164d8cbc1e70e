// @supabase/auth-js, unchanged, against auth-ext-shim (SHIM_URL): what an app does.
// The database behind the shim has refresh_token_reuse_interval = 1 (set by ./test).
import { test } from 'node:test'
import net from 'node:net'
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
  assert.equal(res.status, 403, 'GoTrue answers a token it cannot verify with 403')
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

const BAD_JWT = 'invalid JWT: unable to parse or verify signature, '
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url')
const unb64 = (part) => JSON.parse(Buffer.from(part, 'base64url').toString())

test('a token the server cannot verify is GoTrue\'s 403 bad_jwt, a missing one 401 no_authorization', async () => {
  const a = (await client().signUp({ email: unique('badjwt-a'), password: 'badjwt-password' })).data.session.access_token
  const b = (await client().signUp({ email: unique('badjwt-b'), password: 'badjwt-password' })).data.session.access_token
  const [header, payload] = a.split('.')
  const forged = unb64(payload)
  forged.role = 'service_role'
  const tokens = {
    'claims changed after signing': `${header}.${b64(forged)}.${a.split('.')[2]}`,
    "another token's signature": `${header}.${payload}.${b.split('.')[2]}`,
    'not a JWT': 'not.a.token',
    'no signature': `${header}.${payload}.`,
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
  }
  for (const [what, jwt] of Object.entries(tokens)) {
    const { data, error } = await client().getUser(jwt)
    assert.equal(data.user, null, what)
    assert.ok(isAuthApiError(error), what)
    assert.equal(error.status, 403, what)
    assert.equal(error.code, 'bad_jwt', what)
    assert.ok(error.message.startsWith(BAD_JWT), `${what}: ${error.message}`)
  }
  const tampered = tokens['claims changed after signing']
  for (const [method, path, body] of [['PUT', '/user', '{"data":{}}'], ['POST', '/logout?scope=global', undefined]]) {
    const res = await fetch(`${url}${path}`, { method, body, headers: { Authorization: `Bearer ${tampered}`, 'content-type': 'application/json' } })
    assert.equal(res.status, 403, `${method} ${path}`)
    const json = await res.json()
    assert.equal(json.code, 'bad_jwt')
    assert.ok(json.msg.startsWith(BAD_JWT), json.msg)
  }
  // the genuine token still works: nothing above touched its session
  assert.equal((await client().getUser(a)).error, null)
  for (const headers of [{}, { Authorization: 'Basic abc' }, { Authorization: 'Bearer ' }]) {
    const res = await fetch(`${url}/user`, { headers })
    assert.equal(res.status, 401)
    assert.deepEqual(await res.json(), {
      code: 'no_authorization', error_code: 'no_authorization',
      message: 'This endpoint requires a Bearer token', msg: 'This endpoint requires a Bearer token',
    })
  }
})

// Sends bytes as they are (fetch refuses non-ASCII header values); returns status and body.
const raw = (head, body = '') => new Promise((resolve, reject) => {
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  const chunks = []
  socket.on('data', (c) => chunks.push(c))
  socket.on('error', reject)
  // the shim closes after its answer (Connection: close); the client never half-closes first
  socket.on('end', () => {
    socket.end()
    const text = Buffer.concat(chunks).toString('latin1')
    const status = Number(text.split(' ')[1])
    resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) })
  })
  const bodyBytes = Buffer.from(body)
  socket.write(Buffer.concat([
    head, Buffer.from(`\r\nHost: ${hostname}\r\nConnection: close\r\nContent-Length: ${bodyBytes.length}\r\n\r\n`), bodyBytes,
  ]))
})

test('hostile input: wrong types, odd and huge headers, spoofed X-Forwarded-For', async () => {
  const email = unique('hostile')
  const session = (await client().signUp({ email, password: 'hostile-password' })).data.session
  const send = (method, path, body, headers = {}) =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const badJson = async (res, what) => {
    assert.equal(res.status, 400, what)
    const json = await res.json()
    assert.equal(json.code, 'bad_json', what)
    assert.ok(json.msg.startsWith('Could not parse request body as JSON: '), `${what}: ${json.msg}`)
  }
  // a field of the wrong type is GoTrue's decoding failure, 400 bad_json
  await badJson(await send('POST', '/signup', { email: 42, password: 'hostile-password' }), 'signup email 42')
  await badJson(await send('POST', '/signup', { email: unique('h'), password: true }), 'signup password true')
  await badJson(await send('POST', '/signup', { email: unique('h'), password: 'hostile-password', data: 'text' }), 'signup data text')
  await badJson(await send('POST', '/token?grant_type=password', { email: [email], password: 'hostile-password' }), 'grant email array')
  await badJson(await send('POST', '/token?grant_type=refresh_token', { refresh_token: 12345 }), 'refresh_token number')
  const auth = { Authorization: `Bearer ${session.access_token}` }
  await badJson(await send('PUT', '/user', { email: 42 }, auth), 'update email 42')
  await badJson(await send('PUT', '/user', { data: [1] }, auth), 'update data array')
  // a field only another grant uses is not looked at; unknown keys of PUT /user reach the database
  let res = await send('POST', '/token?grant_type=password', { email, password: 'hostile-password', refresh_token: 5 })
  assert.equal(res.status, 200)
  res = await send('PUT', '/user', { data: { k: 1 }, not_a_gotrue_field: { x: 1 } }, auth)
  assert.equal(res.status, 200)
  assert.deepEqual((await res.json()).user_metadata, { k: 1 })
  // a body that is JSON but not an object
  for (const body of ['[1]', 'null', '"text"', '42']) {
    res = await fetch(`${url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    assert.equal(res.status, 400, body)
    assert.equal((await res.json()).msg, 'The body must be a JSON object', body)
  }
  const login = JSON.stringify({ email, password: 'hostile-password' })
  const signIn = (headers) => fetch(`${url}/token?grant_type=password`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: login })
  // spoofed and malformed X-Forwarded-For: the client's entries are its word, never trusted or fatal
  for (const xff of ['6.6.6.6', '6.6.6.6, 7.7.7.7', 'not-an-ip', ', , ,', '[::1]:80, 999.1.1.1', 'x'.repeat(8000)]) {
    res = await signIn({ 'x-forwarded-for': xff, 'x-real-ip': '6.6.6.6' })
    assert.equal(res.status, 200, xff.slice(0, 40))
  }
  // large and many headers (the database keeps a bounded user agent)
  res = await signIn({ 'user-agent': 'u'.repeat(16000), 'x-large': 'l'.repeat(16000) })
  assert.equal(res.status, 200)
  const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x-h${i}`, `v${i}`]))
  assert.equal((await signIn(many)).status, 200)
  // more headers than the HTTP server takes: refused before any handler runs
  const tooMany = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-h${i}`, `v${i}`]))
  assert.equal((await signIn(tooMany)).status, 431)
  // PUT /user looks at the token before the body, as GoTrue does
  res = await send('PUT', '/user', { email: 42 })
  assert.equal(res.status, 401)
  assert.equal((await res.json()).code, 'no_authorization')
  // values that are not UTF-8 (skipped), NUL-free Latin-1, an undecodable bearer token
  const latin1 = (s) => Buffer.from(s, 'latin1')
  res = await raw(Buffer.concat([
    latin1('POST /token?grant_type=password HTTP/1.1\r\nContent-Type: application/json\r\n'),
    latin1('X-Forwarded-For: \xff\xfe6.6.6.6\r\nUser-Agent: caf\xe9\r\nX-Note: \xc3\x28'),
  ]), login)
  assert.equal(res.status, 200, res.body)
  assert.ok(JSON.parse(res.body).access_token)
  res = await raw(latin1('GET /user HTTP/1.1\r\nAuthorization: Bearer \xff\xfe'))
  assert.equal(res.status, 401)
  assert.equal(JSON.parse(res.body).code, 'no_authorization')
  // the shim still serves
  assert.equal((await fetch(`${url}/health`)).status, 200)
})
