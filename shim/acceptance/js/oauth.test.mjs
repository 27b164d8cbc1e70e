// @supabase/auth-js, unchanged, through social login on auth-ext-shim (FLOWS_SHIM_URL) with real
// identity providers running locally (shim/acceptance/providers/): oidc-provider (an OpenID
// Certified implementation) configured as the custom provider `custom:local`, found by
// discovery, and a GitHub-style OAuth 2.0 provider configured as `github`. Their login and
// consent pages are driven by a browser-like HTTP client with a cookie jar.
// The database (set up by ./test) confirms by mail (mailer_autoconfirm false), allows redirects
// to http://localhost:3000/** and http://127.0.0.1:*/**, and has manual linking on.
import { test } from 'node:test'
import crypto from 'node:crypto'
import assert from 'node:assert/strict'
import { AuthClient } from '@supabase/auth-js'
import { sharedStorage } from './inbox.mjs'
import { followToCallback, followAll, idTokenFor } from '../providers/browser.mjs'

const url = process.env.FLOWS_SHIM_URL ?? 'http://127.0.0.1:54611'
const OIDC = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:54631'
const GITHUB = process.env.GITHUB_PROVIDER_URL ?? 'http://127.0.0.1:54632'
const OIDC_CLIENT = { clientId: 'auth-ext', clientSecret: 'auth-ext-secret' }
const SERVICE_ROLE_KEY = process.env.SERVICE_ROLE_KEY
const SITE = 'http://localhost:3000'
const APP = 'http://127.0.0.1:3001/after-login'
const CALLBACK = `${url}/callback`
const headers = { apikey: 'anon-key' }
const client = (extra = {}) =>
  new AuthClient({ url, headers, persistSession: false, autoRefreshToken: false, ...extra })
const fresh = (name) => `${name}-${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`
const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex')
const fragment = (u) => Object.fromEntries(new URLSearchParams(new URL(u).hash.slice(1)))
const query = (u) => Object.fromEntries(new URL(u).searchParams)

// The provider's URL auth-js would send the browser to (signInWithOAuth never fetches it).
async function oauthUrl(auth, provider, options = {}) {
  const { data, error } = await auth.signInWithOAuth({
    provider, options: { redirectTo: APP, skipBrowserRedirect: true, ...options },
  })
  assert.equal(error, null)
  return data.url
}

// Logs in at the provider as `login` and follows the shim's callback back to the app.
async function landing(authorizeUrl, login, { stopAt = APP, consent = true } = {}) {
  const callback = await followToCallback(authorizeUrl, { login, consent, callbackPrefix: CALLBACK })
  return { callback, landed: await followAll(callback, { stopAt: stopAt }) }
}

// An implicit-flow landing's session, really working: auth-js takes it and the server knows the user.
async function sessionFrom(landed) {
  const f = fragment(landed)
  assert.ok(f.access_token, `a session in the fragment, got ${landed}`)
  const auth = client()
  const { data, error } = await auth.setSession({ access_token: f.access_token, refresh_token: f.refresh_token })
  assert.equal(error, null, error?.message)
  return { auth, session: data.session, user: data.session.user, fragment: f }
}

async function admin(method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { apikey: SERVICE_ROLE_KEY, authorization: `Bearer ${SERVICE_ROLE_KEY}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

test('signInWithOAuth with an OpenID provider (found by discovery): implicit flow to a session', async () => {
  const login = fresh('alice')
  const to = await oauthUrl(client(), 'custom:local', { scopes: 'offline_access', queryParams: { prompt: 'consent' } })
  assert.match(to, /\/authorize\?provider=custom%3Alocal/)
  const { landed } = await landing(to, login)
  assert.ok(landed.startsWith(APP + '#'), landed)
  const { user, fragment: f } = await sessionFrom(landed)
  assert.ok(f.provider_token, 'the provider token comes back once')
  assert.equal(user.email, `${login}@example.com`)
  assert.ok(user.email_confirmed_at, 'the provider verified the address')
  assert.equal(user.app_metadata.provider, 'custom:local')
  assert.deepEqual(user.app_metadata.providers, ['custom:local'])
  assert.equal(user.identities.length, 1)
  assert.equal(user.identities[0].provider, 'custom:local')
  assert.equal(user.identities[0].id, `sub-${login}`)
  assert.equal(user.user_metadata.email_verified, true)
  const claims = JSON.parse(Buffer.from(f.access_token.split('.')[1], 'base64url'))
  assert.deepEqual(claims.amr.map((a) => a.method), ['oauth'])
  assert.equal(claims.app_metadata.provider, 'custom:local')
  // Signing in again finds the same user.
  const again = await sessionFrom((await landing(await oauthUrl(client(), 'custom:local'), login)).landed)
  assert.equal(again.user.id, user.id)
})

test('signInWithOAuth with flowType pkce: ?code= then exchangeCodeForSession', async () => {
  const login = fresh('pkce')
  const storage = sharedStorage()
  const auth = client({ flowType: 'pkce', storage, persistSession: true })
  const to = await oauthUrl(auth, 'custom:local')
  assert.match(to, /code_challenge=/)
  const { landed } = await landing(to, login)
  const code = query(landed).code
  assert.ok(code, `?code= on the app's URL, got ${landed}`)
  assert.equal(new URL(landed).hash, '', 'no tokens in the URL')
  const { data, error } = await auth.exchangeCodeForSession(code)
  assert.equal(error, null, error?.message)
  assert.equal(data.user.email, `${login}@example.com`)
  assert.ok(data.session.provider_token, 'the provider token, once, with the exchange')
  // The code works once.
  const again = await client({ flowType: 'pkce', storage }).exchangeCodeForSession(code)
  assert.ok(again.error)
})

test('signInWithOAuth with a GitHub-style provider (not OpenID): the verified primary address', async () => {
  const login = fresh('octo')
  const { landed } = await landing(await oauthUrl(client(), 'github'), login)
  const { user, fragment: f } = await sessionFrom(landed)
  assert.ok(f.provider_token.startsWith('gho_'))
  assert.equal(user.email, `${login}@example.com`)
  assert.equal(user.app_metadata.provider, 'github')
  assert.equal(user.user_metadata.user_name, login)
  assert.match(user.identities[0].id, /^\d+$/, 'GitHub ids are numbers, kept as text')
})

test('a verified address links the new identity to the user who holds it; an unverified one never does', async () => {
  const login = fresh('holder')
  const email = `${login}@example.com`
  const made = await admin('POST', '/admin/users', { email, password: 'a-Password-1', email_confirm: true })
  assert.equal(made.status, 200, JSON.stringify(made.body))
  const { user } = await sessionFrom((await landing(await oauthUrl(client(), 'github'), login)).landed)
  assert.equal(user.id, made.body.id, 'linked to the existing user')
  assert.deepEqual(user.app_metadata.providers.sort(), ['email', 'github'])
  // The password still works: the account was confirmed, nothing was taken from it.
  const { error } = await client().signInWithPassword({ email, password: 'a-Password-1' })
  assert.equal(error, null)

  // An address the provider did not verify, held by another user: no link, no new user, no
  // session (GoTrue's provider_email_needs_verification).
  const victim = fresh('victim') + '-unverified'
  const victimUser = await admin('POST', '/admin/users', { email: `${victim}@example.com`, password: 'a-Password-1', email_confirm: true })
  assert.equal(victimUser.status, 200)
  const refused = (await landing(await oauthUrl(client(), 'custom:local'), victim)).landed
  assert.equal(query(refused).error_code, 'provider_email_needs_verification', refused)
  assert.equal(fragment(refused).access_token, undefined)
  const victimAfter = await admin('GET', `/admin/users/${victimUser.body.id}`)
  assert.deepEqual(victimAfter.body.identities.map((i) => i.provider), ['email'], 'nothing linked')
})

test('an unverified address nobody holds: the user is kept, a confirmation mail goes out, no session yet', async () => {
  const login = fresh('newbie') + '-unverified'
  const { landed } = await landing(await oauthUrl(client(), 'custom:local'), login)
  const q = query(landed)
  assert.equal(q.error_code, 'provider_email_needs_verification', landed)
  assert.equal(q.error, 'access_denied')
  assert.equal(fragment(landed).error_code, 'provider_email_needs_verification')
  const list = await admin('GET', `/admin/users?per_page=1000`)
  const kept = list.body.users.find((u) => u.email === `${login}@example.com`)
  assert.ok(kept && !kept.email_confirmed_at, 'kept, unconfirmed')
})

test('signInWithIdToken with an ID token the provider issued: nonce hashed as the clients send it', async () => {
  const login = fresh('idtoken')
  const nonce = crypto.randomBytes(16).toString('hex')
  const tokens = await idTokenFor({ issuer: OIDC, ...OIDC_CLIENT, redirectUri: CALLBACK, login, nonce: sha256hex(nonce) })
  const bad = await client().signInWithIdToken({ provider: 'custom:local', token: tokens.id_token, nonce: 'another' })
  assert.ok(bad.error, 'a wrong nonce is refused')
  const missing = await client().signInWithIdToken({ provider: 'custom:local', token: tokens.id_token })
  assert.ok(missing.error, 'a token with a nonce needs it')
  const { data, error } = await client().signInWithIdToken({
    provider: 'custom:local', token: tokens.id_token, nonce, access_token: tokens.access_token,
  })
  assert.equal(error, null, error?.message)
  assert.equal(data.user.email, `${login}@example.com`)
  assert.equal(data.user.identities[0].provider, 'custom:local')
  // The access token must match at_hash where both are given (oidc-provider puts none in a
  // token-endpoint ID token; core/src/external/id_token.rs's unit tests cover the check).
  const payload = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url'))
  const wrongAt = await client().signInWithIdToken({ provider: 'custom:local', token: tokens.id_token, nonce, access_token: 'not-it' })
  assert.equal(Boolean(wrongAt.error), 'at_hash' in payload)
})

test('signInWithIdToken refuses a token signed by a key the provider does not publish, and unknown providers', async () => {
  await fetch(`${OIDC}/__control/misbehave?endpoint=token&mode=forge&count=1`, { method: 'POST' })
  const tokens = await idTokenFor({ issuer: OIDC, ...OIDC_CLIENT, redirectUri: CALLBACK, login: fresh('forged') })
  const forged = await client().signInWithIdToken({ provider: 'custom:local', token: tokens.id_token })
  assert.ok(forged.error, 'a forged signature is refused')
  const unknown = await client().signInWithIdToken({ provider: 'custom:nowhere', token: tokens.id_token })
  assert.equal(unknown.error?.status, 400)
})

test('linkIdentity, getUserIdentities and unlinkIdentity', async () => {
  const first = fresh('linker')
  const { auth, user } = await sessionFrom((await landing(await oauthUrl(client(), 'github'), first)).landed)
  const linking = await auth.linkIdentity({ provider: 'custom:local', options: { redirectTo: APP, skipBrowserRedirect: true } })
  assert.equal(linking.error, null, linking.error?.message)
  const { landed } = await landing(linking.data.url, fresh('second'))
  const after = await sessionFrom(landed)
  assert.equal(after.user.id, user.id, 'the identity joins the signed-in user')
  const ids = await after.auth.getUserIdentities()
  assert.equal(ids.error, null)
  assert.deepEqual(ids.data.identities.map((i) => i.provider).sort(), ['custom:local', 'github'])
  // The same identity cannot be linked to another user.
  const other = await sessionFrom((await landing(await oauthUrl(client(), 'github'), fresh('other'))).landed)
  const steal = await other.auth.linkIdentity({ provider: 'github', options: { redirectTo: APP, skipBrowserRedirect: true } })
  const refused = (await landing(steal.data.url, first)).landed
  assert.equal(query(refused).error_code, 'identity_already_exists')

  const local = ids.data.identities.find((i) => i.provider === 'custom:local')
  assert.equal((await after.auth.unlinkIdentity(local)).error, null)
  const left = await after.auth.getUserIdentities()
  assert.deepEqual(left.data.identities.map((i) => i.provider), ['github'])
  const last = await after.auth.unlinkIdentity(left.data.identities[0])
  assert.equal(last.error?.code, 'single_identity_not_deletable')
})

test('the callback refuses replayed and forged states, passes a refusal at the provider through', async () => {
  const { callback, landed } = await landing(await oauthUrl(client(), 'github'), fresh('replay'))
  assert.ok(fragment(landed).access_token)
  const replay = await followAll(callback, { stopAt: SITE })
  assert.equal(query(replay).error_code, 'bad_oauth_state', 'a state works once; the error goes to site_url')
  const forged = await followAll(`${CALLBACK}?state=forged-state&code=whatever`, { stopAt: SITE })
  assert.equal(query(forged).error_code, 'bad_oauth_state')
  const missing = await followAll(`${CALLBACK}?code=whatever`, { stopAt: SITE })
  assert.equal(query(missing).error_code, 'bad_oauth_callback')
  const denied = (await landing(await oauthUrl(client(), 'custom:local'), fresh('denier'), { consent: false })).landed
  assert.ok(denied.startsWith(APP), denied)
  assert.equal(query(denied).error, 'access_denied')
})

test('a provider that hangs or answers garbage: an error back at the app, nothing signed in', async () => {
  for (const mode of ['garbage', 'error']) {
    await fetch(`${GITHUB}/__control/misbehave?endpoint=token&mode=${mode}&count=1`, { method: 'POST' })
    const { landed } = await landing(await oauthUrl(client(), 'github'), fresh(`broken-${mode}`))
    assert.ok(landed.startsWith(APP), landed)
    assert.equal(query(landed).error, 'server_error', `${mode}: ${landed}`)
    assert.equal(fragment(landed).access_token, undefined)
  }
  await fetch(`${GITHUB}/__control/misbehave?endpoint=user&mode=hang&count=1`, { method: 'POST' })
  const started = Date.now()
  const { landed } = await landing(await oauthUrl(client(), 'github'), fresh('hang'))
  assert.equal(query(landed).error, 'server_error', landed)
  assert.ok(Date.now() - started < 60_000)
})

test('redirect_to outside the allow list (encodings included) lands on site_url', async () => {
  for (const evil of ['https://evil.example/', '//evil.example', 'http://localhost:3000@evil.example/',
    'http://evil.example%2f@localhost:3000/', 'javascript:alert(1)', 'http://127.0.0.1:3001\\@evil.example/']) {
    const to = await oauthUrl(client(), 'github', { redirectTo: evil })
    const { landed } = await landing(to, fresh('redirect'), { stopAt: 'http' })
    assert.ok(landed.startsWith(SITE + '#') || landed.startsWith(SITE + '/#'), `${evil} -> ${landed}`)
  }
})

test('an unknown provider and bad PKCE parameters are refused before any redirect', async () => {
  const res = await fetch(`${url}/authorize?provider=nowhere`, { redirect: 'manual' })
  assert.equal(res.status, 400)
  assert.equal((await res.json()).error_code, 'validation_failed')
  const pk = await fetch(`${url}/authorize?provider=github&code_challenge=short&code_challenge_method=s256`, { redirect: 'manual' })
  assert.equal(pk.status, 400)
})
