// Passkeys and WebAuthn MFA in a real browser: Debian's headless Chromium driven over the DevTools
// protocol (playwright-core), a test page (page/, served by serve.mjs from http://localhost:<port>,
// a secure context) running the real @supabase/auth-js 2.119.0 bundled by esbuild, and the
// browser's own navigator.credentials answered by CDP virtual authenticators (WebAuthn.enable,
// WebAuthn.addVirtualAuthenticator: CTAP2, resident keys, user verification). The page calls
// auth-ext-shim (WEBAUTHN_SHIM_URL) cross-origin, through the shim's CORS headers.
//
//   1. passkeys: sign up and in with a password, registerPasskey (GET /passkeys lists it), sign
//      out, signInWithPasskey: a new aal1 session, amr passkey, the same user; rename, admin
//      list and delete
//   2. MFA: mfa.enroll({factorType: 'webauthn'}), challenge (create) + verify: aal2 with
//      mfa/webauthn; then a new password sign-in (aal1), challenge (request) + verify: aal2. On
//      a security key (a usb virtual authenticator: auth-js's MFA helpers ask for a
//      cross-platform one, which Chrome does not answer with an internal one), and on the
//      platform authenticator holding the user's passkey (auth-js's overrides), stepping a
//      passkey sign-in up to aal2
//   3. a cloned authenticator (WebAuthn.getCredentials, then addCredential into a second one)
//      whose counter is equal to or lower than the stored one: 400 webauthn_verification_failed
//   4. the same page from an origin not in webauthn_rp_origins: refused
//   5. assertions tampered with by hand (passkey and MFA): truncated authenticatorData, garbage
//      signatures, foreign challenges and handles: clean 400s, the shim still up; flags changed
//      and re-signed with the credential's key (exported over CDP): UP cleared, another RP's
//      hash, UV cleared on an MFA factor or a passkey registered with UV: refused.
//   6. passkey_enabled off: 404 passkey_disabled
// Every refusal has its control: the same thing, untampered, accepted.
//
// The test configures its database (WEBAUTHN_DATABASE_URL, through psql: WEBAUTHN_PSQL) itself: the
// relying party `localhost`, the page's origin as the only allowed one, passkeys and MFA
// WebAuthn on. ./test makes that database (shim_webauthn) and starts its shim; by hand:
//   WEBAUTHN_SHIM_URL=http://127.0.0.1:PORT WEBAUTHN_DATABASE_URL='host=... dbname=...' \
//   WEBAUTHN_PSQL=.../psql WEBAUTHN_PAGE_PORT=... WEBAUTHN_STRANGER_PORT=... \
//   SERVICE_ROLE_KEY=<a service_role token of that database> node --test webauthn.test.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { startPageServer } from './serve.mjs'

const shim = process.env.WEBAUTHN_SHIM_URL ?? 'http://127.0.0.1:54690'
const pagePort = Number(process.env.WEBAUTHN_PAGE_PORT ?? 54691)
const strangerPort = Number(process.env.WEBAUTHN_STRANGER_PORT ?? 54692)
const databaseUrl = process.env.WEBAUTHN_DATABASE_URL
const psqlPath = process.env.WEBAUTHN_PSQL ?? 'psql'
const serviceKey = process.env.SERVICE_ROLE_KEY
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'
assert.ok(databaseUrl, 'WEBAUTHN_DATABASE_URL is set by ./test')
assert.ok(serviceKey, 'SERVICE_ROLE_KEY is set by ./test')

const PASSWORD = 'webauthn-password-1'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const unique = (name) => `${name}-${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}@example.com`
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'))
const methods = (jwt) => (claimsOf(jwt).amr ?? []).map((e) => e.method)
const show = (error) => error && `${error.status} ${error.code}: ${error.message}`
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const unb64url = (text) => Buffer.from(text, 'base64url')

// -- the database -----------------------------------------------------------------------------

function sql(statement) {
  return execFileSync(psqlPath, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', statement], {
    encoding: 'utf8',
  }).trim()
}
const configure = (settings) => sql(`SELECT auth.configure('${JSON.stringify(settings).replaceAll("'", "''")}') IS NOT NULL`)
// The stored counter of a passkey (webauthn_credentials.sign_count), by its id
const storedCount = (passkeyId) => Number(sql(`SELECT sign_count FROM auth.webauthn_credentials WHERE id = '${passkeyId}'`))

// -- the shim, by hand ------------------------------------------------------------------------

async function post(path, body, headers = {}) {
  const response = await fetch(`${shim}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: 'anon-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  let json = null
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, body: json, text }
}

async function adminGet(path) {
  const response = await fetch(`${shim}${path}`, { headers: { apikey: serviceKey, authorization: `Bearer ${serviceKey}` } })
  return { status: response.status, body: await response.json().catch(() => null) }
}

// -- the browser --------------------------------------------------------------------------------

let context
let profile
const servers = []
let pageOrigin
let strangerOrigin

before(async () => {
  configure({
    webauthn_rp_id: 'localhost',
    webauthn_rp_display_name: 'auth_ext browser test',
    webauthn_rp_origins: `http://localhost:${pagePort}`,
    passkey_enabled: true,
    mfa_webauthn_enroll_enabled: true,
    mfa_webauthn_verify_enabled: true,
    mailer_autoconfirm: true,
    // every passkey sign-in asks for options: more than GoTrue's 30 an hour from one address
    rate_limit_passkey: 1000000000,
  })
  const page = await startPageServer(pagePort)
  const stranger = await startPageServer(strangerPort)
  servers.push(page, stranger)
  pageOrigin = page.origin
  strangerOrigin = stranger.origin
  profile = mkdtempSync(join(tmpdir(), 'auth-ext-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

after(async () => {
  await context?.close()
  for (const server of servers) await server.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

// A platform authenticator (the brief's: CTAP2, internal, resident keys, UV) or a security key
// (usb: auth-js's MFA helpers ask for a cross-platform authenticator by default).
const PLATFORM = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true }
const SECURITY_KEY = { ...PLATFORM, transport: 'usb' }

// A tab of the test page from `origin`, its auth-js client pointed at the shim, and the DevTools
// session that gives it virtual authenticators (each tab has its own).
async function openTab(origin = pageOrigin) {
  const page = await context.newPage()
  page.setDefaultTimeout(60_000)
  const problems = []
  page.on('pageerror', (error) => problems.push(String(error)))
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => window.app !== undefined)
  const info = await page.evaluate((url) => window.app.init(url), shim)
  assert.equal(info.origin, origin)
  assert.equal(info.secure, true, 'the page is a secure context')
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable', { enableUI: false })
  const tab = {
    page,
    cdp,
    problems,
    // window.app.<name>(...args) in the page, brought to the front first: WebAuthn refuses a
    // page without focus (NotAllowedError), and the cases below open several tabs
    async call(name, ...args) {
      await page.bringToFront()
      return page.evaluate(([n, a]) => window.app[n](...a), [name, args])
    },
    async addAuthenticator(options = PLATFORM) {
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { automaticPresenceSimulation: true, ...options },
      })
      return authenticatorId
    },
    removeAuthenticator: (authenticatorId) => cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId }),
    async credentials(authenticatorId) {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials
    },
    addCredential: (authenticatorId, credential) => cdp.send('WebAuthn.addCredential', { authenticatorId, credential }),
    close: () => page.close(),
  }
  return tab
}

// auth-js's answer without an error, its data
function ok(result, what) {
  assert.equal(result.error, null, `${what}: ${show(result.error)}`)
  return result.data
}

// auth-js's answer with the error expected
function refused(result, status, code, what) {
  assert.ok(result.error, `${what}: refused (got ${JSON.stringify(result.data)?.slice(0, 200)})`)
  assert.equal(result.error.status, status, `${what}: ${show(result.error)}`)
  assert.equal(result.error.code, code, `${what}: ${show(result.error)}`)
}

// A new user, signed up and in with a password in `tab` (the database confirms on sign-up)
async function passwordUser(tab, name) {
  const email = unique(name)
  const signedUp = ok(await tab.call('signUp', email, PASSWORD), 'signUp')
  assert.ok(signedUp.session, 'sign-up answers with a session (mailer_autoconfirm)')
  const signedIn = ok(await tab.call('signInWithPassword', email, PASSWORD), 'signInWithPassword')
  const claims = claimsOf(signedIn.session.access_token)
  assert.equal(claims.aal, 'aal1')
  assert.deepEqual(methods(signedIn.session.access_token), ['password'])
  assert.equal(claims.sub, signedUp.user.id)
  return { email, id: signedUp.user.id }
}

// A user with one passkey on a platform authenticator of `tab`, signed out
async function passkeyUser(tab, name) {
  const authenticator = await tab.addAuthenticator(PLATFORM)
  const user = await passwordUser(tab, name)
  const passkey = ok(await tab.call('registerPasskey'), 'registerPasskey')
  ok(await tab.call('signOut'), 'signOut')
  return { ...user, authenticator, passkey }
}

// The authenticator's one credential of the relying party `localhost`
async function onlyCredential(tab, authenticator) {
  const credentials = (await tab.credentials(authenticator)).filter((c) => c.rpId === 'localhost')
  assert.equal(credentials.length, 1, 'the authenticator holds one credential')
  return credentials[0]
}

// The private key of a credential the authenticator holds (WebAuthn.getCredentials exports it,
// PKCS#8), to sign assertions by hand
const keyOf = (credential) => crypto.createPrivateKey({ key: Buffer.from(credential.privateKey, 'base64'), format: 'der', type: 'pkcs8' })
const FLAG_UP = 0x01
const FLAG_UV = 0x04

// An assertion whose authenticatorData `change` edited, signed again with the credential's own
// key (as the authenticator signs: authenticatorData || SHA-256(clientDataJSON)), so that the
// signature holds and only what was changed can be refused
function resign(assertion, key, change) {
  const data = unb64url(assertion.response.authenticatorData)
  change(data)
  const clientHash = crypto.createHash('sha256').update(unb64url(assertion.response.clientDataJSON)).digest()
  assertion.response.authenticatorData = b64url(data)
  assertion.response.signature = b64url(crypto.sign('sha256', Buffer.concat([data, clientHash]), key))
}

function assertPasskeySession(data, userId, what) {
  assert.ok(data?.session?.access_token, `${what}: a session`)
  const claims = claimsOf(data.session.access_token)
  assert.equal(claims.sub, userId, `${what}: the same user`)
  assert.equal(claims.aal, 'aal1', `${what}: aal1`)
  assert.deepEqual(methods(data.session.access_token), ['passkey'], `${what}: amr passkey`)
  assert.equal(data.user.id, userId)
}

// -- 1. passkeys --------------------------------------------------------------------------------

test('passkey: password sign-up, registerPasskey, GET /passkeys, sign out, signInWithPasskey -> amr passkey, same user', async () => {
  const tab = await openTab()
  try {
    const authenticator = await tab.addAuthenticator(PLATFORM)
    const user = await passwordUser(tab, 'passkey')
    assert.equal(ok(await tab.call('listPasskeys'), 'list before').length, 0)

    const registered = ok(await tab.call('registerPasskey'), 'registerPasskey')
    assert.match(registered.id, UUID)
    assert.ok(registered.created_at)
    // the authenticator made a discoverable credential for `localhost` whose user handle is the
    // user's id (36 ASCII bytes), as GoTrue's options ask
    const credential = await onlyCredential(tab, authenticator)
    assert.equal(credential.isResidentCredential, true)
    assert.equal(Buffer.from(credential.userHandle, 'base64').toString(), user.id)

    const listed = ok(await tab.call('listPasskeys'), 'listPasskeys')
    assert.equal(listed.length, 1)
    assert.equal(listed[0].id, registered.id)
    assert.equal(listed[0].last_used_at ?? null, null, 'not used yet')

    ok(await tab.call('signOut'), 'signOut')
    assert.equal(await tab.call('session'), null, 'signed out')

    const signedIn = ok(await tab.call('signInWithPasskey'), 'signInWithPasskey')
    assertPasskeySession(signedIn, user.id, 'signInWithPasskey')
    const session = await tab.call('session')
    assert.equal(session?.access_token, signedIn.session.access_token, 'auth-js keeps the new session')
    // the stored counter followed the authenticator's
    const { signCount } = await onlyCredential(tab, authenticator)
    assert.ok(signCount > 0)
    assert.equal(storedCount(registered.id), signCount)
    const used = ok(await tab.call('listPasskeys'), 'list after sign-in')
    assert.ok(used[0].last_used_at, 'last_used_at set by the sign-in')

    // the passkey session works as any other: a refresh keeps amr passkey
    const refreshed = await post('/token?grant_type=refresh_token', { refresh_token: signedIn.session.refresh_token })
    assert.equal(refreshed.status, 200, refreshed.text)
    assert.deepEqual(methods(refreshed.body.access_token), ['passkey'])
    assert.equal(tab.problems.length, 0, tab.problems.join('\n'))
  } finally {
    await tab.close()
  }
})

test('passkey: rename, the admin list, delete; a deleted passkey no longer signs in', async () => {
  const tab = await openTab()
  try {
    const user = await passkeyUser(tab, 'manage')
    ok(await tab.call('signInWithPasskey'), 'signInWithPasskey')
    const renamed = ok(await tab.call('updatePasskey', user.passkey.id, 'My laptop'), 'updatePasskey')
    assert.equal(renamed.friendly_name, 'My laptop')
    assert.equal(ok(await tab.call('listPasskeys'), 'list')[0].friendly_name, 'My laptop')
    const admin = await adminGet(`/admin/users/${user.id}/passkeys`)
    assert.equal(admin.status, 200)
    assert.deepEqual(admin.body.map((p) => p.id), [user.passkey.id])

    ok(await tab.call('deletePasskey', user.passkey.id), 'deletePasskey')
    assert.equal(ok(await tab.call('listPasskeys'), 'list after delete').length, 0)
    ok(await tab.call('signOut'), 'signOut')
    // the authenticator still holds the credential; the server no longer knows it
    await onlyCredential(tab, user.authenticator)
    refused(await tab.call('signInWithPasskey'), 400, 'webauthn_verification_failed', 'a deleted passkey')
  } finally {
    await tab.close()
  }
})

// -- 2. MFA ---------------------------------------------------------------------------------------

test('MFA webauthn: enroll, challenge (create) + verify -> aal2 mfa/webauthn; password sign-in, challenge (request) + verify -> aal2', async () => {
  const tab = await openTab()
  try {
    const key = await tab.addAuthenticator(SECURITY_KEY)
    const user = await passwordUser(tab, 'mfa')
    const factor = ok(await tab.call('enroll', 'Security key'), 'mfa.enroll')
    assert.match(factor.id, UUID)
    assert.equal(factor.type, 'webauthn')
    assert.equal(factor.friendly_name, 'Security key')

    const created = ok(await tab.call('webauthnChallenge', factor.id), 'challenge (create)')
    assert.equal(created.type, 'create')
    assert.equal((await onlyCredential(tab, key)).isResidentCredential, false, 'MFA asks for no resident key')
    const enrolled = ok(await tab.call('webauthnVerify', factor.id, created.challengeId), 'verify (create)')
    let claims = claimsOf(enrolled.access_token)
    assert.equal(claims.sub, user.id)
    assert.equal(claims.aal, 'aal2')
    assert.ok(methods(enrolled.access_token).includes('mfa/webauthn'), methods(enrolled.access_token).join())
    const factors = ok(await tab.call('listFactors'), 'listFactors')
    assert.deepEqual(factors.webauthn.map((f) => [f.id, f.status]), [[factor.id, 'verified']])

    // a new password sign-in: aal1, aal2 next
    ok(await tab.call('signOut'), 'signOut')
    const again = ok(await tab.call('signInWithPassword', user.email, PASSWORD), 'signInWithPassword')
    assert.equal(claimsOf(again.session.access_token).aal, 'aal1')
    const level = ok(await tab.call('aal'), 'getAuthenticatorAssuranceLevel')
    assert.deepEqual([level.currentLevel, level.nextLevel], ['aal1', 'aal2'])
    // managing passkeys now needs aal2 (GoTrue's rule for users with a verified factor)
    refused(await tab.call('registerPasskey'), 403, 'insufficient_aal', 'registerPasskey at aal1 with MFA')

    const requested = ok(await tab.call('webauthnChallenge', factor.id), 'challenge (request)')
    assert.equal(requested.type, 'request')
    const stepped = ok(await tab.call('webauthnVerify', factor.id, requested.challengeId), 'verify (request)')
    claims = claimsOf(stepped.access_token)
    assert.equal(claims.sub, user.id)
    assert.equal(claims.aal, 'aal2')
    assert.deepEqual(methods(stepped.access_token).sort(), ['mfa/webauthn', 'password'])
    assert.equal(claims.session_id, claimsOf(again.session.access_token).session_id, 'the same session, raised')
    assert.equal(ok(await tab.call('aal'), 'aal after').currentLevel, 'aal2')

    // the one-call helper on yet another password sign-in
    ok(await tab.call('signOut'), 'signOut')
    ok(await tab.call('signInWithPassword', user.email, PASSWORD), 'signInWithPassword')
    const authenticated = ok(await tab.call('webauthnAuthenticate', factor.id), 'mfa.webauthn.authenticate')
    assert.equal(claimsOf(authenticated.access_token).aal, 'aal2')
    assert.equal(tab.problems.length, 0, tab.problems.join('\n'))
  } finally {
    await tab.close()
  }
})

test('MFA webauthn on the platform authenticator that holds the passkey: passkey sign-in (aal1), then MFA -> aal2 with passkey and mfa/webauthn', async () => {
  const tab = await openTab()
  try {
    const user = await passkeyUser(tab, 'platform-mfa')
    ok(await tab.call('signInWithPassword', user.email, PASSWORD), 'signInWithPassword')
    // auth-js asks for a cross-platform authenticator unless told otherwise
    const platform = { authenticatorSelection: { authenticatorAttachment: 'platform' } }
    const registered = ok(await tab.call('webauthnRegister', 'This laptop', platform), 'mfa.webauthn.register')
    assert.equal(claimsOf(registered.access_token).aal, 'aal2')
    assert.ok(methods(registered.access_token).includes('mfa/webauthn'))
    const held = (await tab.credentials(user.authenticator)).filter((c) => c.rpId === 'localhost')
    assert.deepEqual(held.map((c) => c.isResidentCredential).sort(), [false, true], 'the passkey and the MFA credential')

    ok(await tab.call('signOut'), 'signOut')
    const signedIn = ok(await tab.call('signInWithPasskey'), 'signInWithPasskey')
    assertPasskeySession(signedIn, user.id, 'passkey sign-in of an MFA user')
    const level = ok(await tab.call('aal'), 'getAuthenticatorAssuranceLevel')
    assert.deepEqual([level.currentLevel, level.nextLevel], ['aal1', 'aal2'])
    const factor = ok(await tab.call('listFactors'), 'listFactors').webauthn[0]
    const stepped = ok(await tab.call('webauthnAuthenticate', factor.id), 'mfa.webauthn.authenticate')
    assert.equal(claimsOf(stepped.access_token).aal, 'aal2')
    assert.deepEqual(methods(stepped.access_token).sort(), ['mfa/webauthn', 'passkey'])
  } finally {
    await tab.close()
  }
})

// -- 3. a cloned authenticator ----------------------------------------------------------------

test('a cloned authenticator whose counter is not ahead of the stored one is refused (400 webauthn_verification_failed)', async () => {
  const tab = await openTab()
  const clones = await openTab()
  try {
    const user = await passkeyUser(tab, 'clone')
    // a sign-in moves the stored counter to the authenticator's
    assertPasskeySession(ok(await tab.call('signInWithPasskey'), 'first sign-in'), user.id, 'first sign-in')
    const original = await onlyCredential(tab, user.authenticator)
    const stored = storedCount(user.passkey.id)
    assert.ok(stored > 0, 'the stored counter moved')
    assert.equal(original.signCount, stored, 'the authenticator counts what it sent last')

    // an authenticator holding a copy: its next assertion carries its count + 1
    async function cloneSignIn(signCount) {
      const authenticator = await clones.addAuthenticator(PLATFORM)
      await clones.addCredential(authenticator, { ...original, signCount })
      const result = await clones.call('signInWithPasskey')
      await clones.removeAuthenticator(authenticator)
      return result
    }
    // refused for its counter (the message says so), nothing else
    const CLONED = /signature counter did not increase/
    const equal = await cloneSignIn(stored - 1)
    refused(equal, 400, 'webauthn_verification_failed', 'a clone sending the stored count (equal)')
    assert.match(equal.error.message, CLONED)
    const lower = await cloneSignIn(0)
    refused(lower, 400, 'webauthn_verification_failed', 'a clone sending 1 (lower)')
    assert.match(lower.error.message, CLONED)
    assert.equal(storedCount(user.passkey.id), stored, 'refusals leave the counter')
    // control: a copy whose counter is ahead is taken for the real one
    const ahead = await cloneSignIn(stored + 10)
    assertPasskeySession(ok(ahead, 'a clone ahead of the counter'), user.id, 'a clone ahead')
    assert.equal(storedCount(user.passkey.id), stored + 11)
    // and now the original is the one behind
    ok(await tab.call('signOut'), 'signOut')
    const behind = await tab.call('signInWithPasskey')
    refused(behind, 400, 'webauthn_verification_failed', 'the original, now behind')
    assert.match(behind.error.message, CLONED)
  } finally {
    await clones.close()
    await tab.close()
  }
})

// -- 4. a wrong origin ---------------------------------------------------------------------------

test('the page from an origin not in webauthn_rp_origins: registration, passkey sign-in and MFA refused', async () => {
  const tab = await openTab()
  const stranger = await openTab(strangerOrigin)
  try {
    assert.notEqual(strangerOrigin, pageOrigin)
    // registration from the stranger: the browser makes the credential (the RP id `localhost`
    // fits both origins), the server refuses it
    const strangerKey = await stranger.addAuthenticator(PLATFORM)
    const strangerUser = await passwordUser(stranger, 'stranger')
    refused(await stranger.call('registerPasskey'), 400, 'webauthn_verification_failed', 'registerPasskey from a stranger')
    assert.equal((await stranger.credentials(strangerKey)).length, 1, 'the browser did make a credential')
    assert.equal(ok(await stranger.call('listPasskeys'), 'list').length, 0, 'none stored')

    // sign-in from the stranger with a passkey registered on the right origin, its counter ahead
    const user = await passkeyUser(tab, 'origin')
    const credential = await onlyCredential(tab, user.authenticator)
    const registeredCount = storedCount(user.passkey.id)
    await stranger.removeAuthenticator(strangerKey) // one internal authenticator per tab
    const copy = await stranger.addAuthenticator(PLATFORM)
    await stranger.addCredential(copy, { ...credential, signCount: credential.signCount + 5 })
    ok(await stranger.call('signOut'), 'signOut')
    refused(await stranger.call('signInWithPasskey'), 400, 'webauthn_verification_failed', 'signInWithPasskey from a stranger')
    assert.equal(storedCount(user.passkey.id), registeredCount, 'the counter did not move')
    // control: the same credential and counter in a tab of the right origin
    const twin = await openTab()
    try {
      const twinKey = await twin.addAuthenticator(PLATFORM)
      await twin.addCredential(twinKey, { ...credential, signCount: credential.signCount + 5 })
      assertPasskeySession(ok(await twin.call('signInWithPasskey'), 'the right origin'), user.id, 'the right origin')
    } finally {
      await twin.close()
    }

    // MFA from the stranger: enrolment's create ceremony refused, the factor stays unverified
    await stranger.addAuthenticator(SECURITY_KEY)
    ok(await stranger.call('signInWithPassword', strangerUser.email, PASSWORD), 'signInWithPassword')
    const factor = ok(await stranger.call('enroll', 'Stranger key'), 'mfa.enroll')
    const created = ok(await stranger.call('webauthnChallenge', factor.id), 'challenge (create)')
    refused(await stranger.call('webauthnVerify', factor.id, created.challengeId), 400, 'webauthn_verification_failed', 'MFA verify from a stranger')
    const factors = ok(await stranger.call('listFactors'), 'listFactors')
    assert.deepEqual(factors.all.map((f) => f.status), ['unverified'])
  } finally {
    await stranger.close()
    await tab.close()
  }
})

// -- 5. assertions tampered with by hand ---------------------------------------------------------

test('malformed assertions posted by hand: clean 4xx, the shim still up; the untampered one accepted', async () => {
  const tab = await openTab()
  try {
    const user = await passkeyUser(tab, 'tamper')
    const before = storedCount(user.passkey.id)
    // another user with a passkey of their own (in a tab of their own)
    const otherTab = await openTab()
    const otherId = (await passkeyUser(otherTab, 'tamper-other')).id
    await otherTab.close()
    // fresh options and the authenticator's real answer to them, not sent
    async function realAssertion() {
      const options = await post('/passkeys/authentication/options', {})
      assert.equal(options.status, 200, options.text)
      const assertion = ok(await tab.call('assert', options.body.options), 'navigator.credentials.get')
      return { challenge_id: options.body.challenge_id, credential: assertion }
    }
    // what GoTrue answers: the credential unreadable, or read and refused
    const UNPARSABLE = 'Invalid credential response'
    const FAILED = 'Credential verification failed'
    const variants = {
      'authenticatorData truncated to 20 bytes': [UNPARSABLE, (c) => {
        c.response.authenticatorData = b64url(unb64url(c.response.authenticatorData).subarray(0, 20))
      }],
      'authenticatorData without its counter (32 + 1 bytes)': [UNPARSABLE, (c) => {
        c.response.authenticatorData = b64url(unb64url(c.response.authenticatorData).subarray(0, 33))
      }],
      'authenticatorData empty': [UNPARSABLE, (c) => {
        c.response.authenticatorData = ''
      }],
      'authenticatorData not base64url': [UNPARSABLE, (c) => {
        c.response.authenticatorData = '*** not base64 ***'
      }],
      'signature of random bytes': [FAILED, (c) => {
        c.response.signature = b64url(crypto.randomBytes(71))
      }],
      'signature with one bit flipped': [FAILED, (c) => {
        const signature = unb64url(c.response.signature)
        signature[signature.length - 1] ^= 1
        c.response.signature = b64url(signature)
      }],
      'signature empty': [FAILED, (c) => {
        c.response.signature = ''
      }],
      'a counter raised by hand (signature no longer matches)': [FAILED, (c) => {
        const data = unb64url(c.response.authenticatorData)
        data.writeUInt32BE(data.readUInt32BE(33) + 1000, 33)
        c.response.authenticatorData = b64url(data)
      }],
      'clientDataJSON not JSON': [UNPARSABLE, (c) => {
        c.response.clientDataJSON = b64url(Buffer.from('{"type":"webauthn.get",'))
      }],
      'clientDataJSON of another challenge': [FAILED, (c) => {
        const client = JSON.parse(unb64url(c.response.clientDataJSON))
        client.challenge = b64url(crypto.randomBytes(32))
        c.response.clientDataJSON = b64url(Buffer.from(JSON.stringify(client)))
      }],
      'clientDataJSON of type webauthn.create': [FAILED, (c) => {
        const client = JSON.parse(unb64url(c.response.clientDataJSON))
        client.type = 'webauthn.create'
        c.response.clientDataJSON = b64url(Buffer.from(JSON.stringify(client)))
      }],
      'no response': [UNPARSABLE, (c) => {
        delete c.response
      }],
      'an unknown credential id': [FAILED, (c) => {
        c.id = c.rawId = b64url(crypto.randomBytes(32))
      }],
      "another user's handle": [FAILED, (c) => {
        c.response.userHandle = b64url(Buffer.from(otherId))
      }],
      'a user handle that is no UUID': [FAILED, (c) => {
        c.response.userHandle = b64url(Buffer.from('not a uuid'))
      }],
    }
    for (const [name, [message, tamper]] of Object.entries(variants)) {
      const { challenge_id, credential } = await realAssertion()
      tamper(credential)
      const answer = await post('/passkeys/authentication/verify', { challenge_id, credential })
      assert.equal(answer.status, 400, `${name}: ${answer.status} ${answer.text}`)
      assert.equal(answer.body?.error_code, 'webauthn_verification_failed', `${name}: ${answer.text}`)
      assert.equal(answer.body?.msg, message, `${name}: ${answer.text}`)
      assert.equal(answer.body?.access_token, undefined)
    }
    // not JSON at all, and a credential that is not an object
    const { challenge_id } = await realAssertion()
    const notJson = await post('/passkeys/authentication/verify', `{"challenge_id": "${challenge_id}", "credential": {`)
    assert.equal(notJson.status, 400, notJson.text)
    assert.equal(notJson.body?.error_code, 'bad_json')
    const notObject = await post('/passkeys/authentication/verify', { challenge_id, credential: 'garbage' })
    assert.equal(notObject.status, 400, notObject.text)
    assert.equal(notObject.body?.error_code, 'webauthn_verification_failed')

    // well signed (the authenticator's key, exported), but not what the relying party accepts
    const key = keyOf(await onlyCredential(tab, user.authenticator))
    const resigned = {
      'user-present flag cleared': (data) => {
        data[32] &= ~FLAG_UP
      },
      'rpIdHash of another relying party': (data) => {
        crypto.createHash('sha256').update('example.com').digest().copy(data, 0)
      },
    }
    for (const [name, change] of Object.entries(resigned)) {
      const { challenge_id, credential } = await realAssertion()
      resign(credential, key, change)
      const answer = await post('/passkeys/authentication/verify', { challenge_id, credential })
      assert.equal(answer.status, 400, `${name} (re-signed): ${answer.status} ${answer.text}`)
      assert.equal(answer.body?.error_code, 'webauthn_verification_failed', `${name} (re-signed): ${answer.text}`)
    }

    assert.equal(storedCount(user.passkey.id), before, 'no tampered assertion moved the counter')
    const health = await fetch(`${shim}/health`)
    assert.equal(health.status, 200, 'the shim is still up')

    // controls: an assertion re-signed unchanged by the same code is accepted (the refusals above
    // are for what was changed) ...
    const same = await realAssertion()
    resign(same.credential, key, () => {})
    const sameAnswer = await post('/passkeys/authentication/verify', same)
    assert.equal(sameAnswer.status, 200, sameAnswer.text)
    // ... and the untampered answer posted the same way signs in; posted again, refused
    const real = await realAssertion()
    const accepted = await post('/passkeys/authentication/verify', real)
    assert.equal(accepted.status, 200, accepted.text)
    assert.equal(claimsOf(accepted.body.access_token).sub, user.id)
    assert.deepEqual(methods(accepted.body.access_token), ['passkey'])
    const replayed = await post('/passkeys/authentication/verify', real)
    assert.equal(replayed.status, 400, replayed.text)
    assert.equal(replayed.body?.error_code, 'webauthn_challenge_not_found')
  } finally {
    await tab.close()
  }
})

// A user with a verified webauthn factor on a security key of `tab`, signed in again with a
// password (aal1); by hand: the factor's challenges answered by the key, and verify
async function mfaUser(tab, name) {
  const securityKey = await tab.addAuthenticator(SECURITY_KEY)
  const user = await passwordUser(tab, name)
  const factor = ok(await tab.call('enroll', 'Key'), 'mfa.enroll')
  const created = ok(await tab.call('webauthnChallenge', factor.id), 'challenge (create)')
  ok(await tab.call('webauthnVerify', factor.id, created.challengeId), 'verify (create)')
  ok(await tab.call('signOut'), 'signOut')
  const signedIn = ok(await tab.call('signInWithPassword', user.email, PASSWORD), 'signInWithPassword')
  const bearer = { authorization: `Bearer ${signedIn.session.access_token}` }
  return {
    ...user,
    securityKey,
    async realAssertion() {
      const challenge = await post(`/factors/${factor.id}/challenge`, {}, bearer)
      assert.equal(challenge.status, 200, challenge.text)
      assert.equal(challenge.body.webauthn.type, 'request')
      const publicKey = challenge.body.webauthn.credential_options.publicKey
      const assertion = ok(await tab.call('assert', publicKey), 'navigator.credentials.get')
      return { challenge_id: challenge.body.id, assertion }
    },
    verify: (challenge_id, assertion) =>
      post(`/factors/${factor.id}/verify`, { challenge_id, webauthn: { type: 'request', credential_response: assertion } }, bearer),
  }
}

// (each case below its own factor: five failed verifications put a factor in the sign-in
// backoff, as password guesses)
test('malformed MFA assertions posted by hand: clean 4xx; the untampered one raises to aal2', async () => {
  const tab = await openTab()
  try {
    const user = await mfaUser(tab, 'mfa-tamper')
    // unreadable: GoTrue's 400 validation_failed; read and refused: 400 webauthn_verification_failed
    // (GoTrue's 500 there; docs/webauthn.md)
    const UNREADABLE = ['validation_failed', 'Invalid credential_response']
    const FAILED = ['webauthn_verification_failed', 'Credential verification failed']
    const variants = {
      'authenticatorData truncated': [UNREADABLE, (c) => {
        c.response.authenticatorData = b64url(unb64url(c.response.authenticatorData).subarray(0, 20))
      }],
      'signature of random bytes': [FAILED, (c) => {
        c.response.signature = b64url(crypto.randomBytes(71))
      }],
      'clientDataJSON not JSON': [UNREADABLE, (c) => {
        c.response.clientDataJSON = b64url(Buffer.from('nope'))
      }],
      'an unknown credential id': [FAILED, (c) => {
        c.id = c.rawId = b64url(crypto.randomBytes(32))
      }],
    }
    for (const [name, [[code, message], tamper]] of Object.entries(variants)) {
      const { challenge_id, assertion } = await user.realAssertion()
      tamper(assertion)
      const answer = await user.verify(challenge_id, assertion)
      assert.equal(answer.status, 400, `${name}: ${answer.status} ${answer.text}`)
      assert.equal(answer.body?.error_code, code, `${name}: ${answer.text}`)
      assert.equal(answer.body?.msg, message, `${name}: ${answer.text}`)
      assert.equal(answer.body?.access_token, undefined)
    }
    const { challenge_id, assertion } = await user.realAssertion()
    const accepted = await user.verify(challenge_id, assertion)
    assert.equal(accepted.status, 200, accepted.text)
    assert.equal(claimsOf(accepted.body.access_token).aal, 'aal2')
  } finally {
    await tab.close()
  }
})

test('MFA: a factor registered with user verification, asserted without it (re-signed by hand), is refused', async () => {
  const tab = await openTab()
  try {
    // auth_ext's rule (docs/webauthn.md; GoTrue never asks for UV in MFA)
    const user = await mfaUser(tab, 'mfa-uv')
    const key = keyOf(await onlyCredential(tab, user.securityKey))
    for (const [name, change, status] of [
      ['the user-verified flag cleared', (data) => void (data[32] &= ~FLAG_UV), 400],
      ['unchanged (the control)', () => {}, 200],
    ]) {
      const { challenge_id, assertion } = await user.realAssertion()
      assert.ok(unb64url(assertion.response.authenticatorData)[32] & FLAG_UV, 'the key verified the user')
      resign(assertion, key, change)
      const answer = await user.verify(challenge_id, assertion)
      assert.equal(answer.status, status, `${name}: ${answer.text}`)
    }
  } finally {
    await tab.close()
  }
})

// docs/webauthn.md: "a credential registered with UV must verify again". MFA factors keep the
// flag (web_authn_credential.flags.userVerified, checked above); passkeys keep it in
// auth.webauthn_credentials.user_verified (ours: GoTrue keeps none).
test('passkey: registered with user verification, an assertion without it is refused', async () => {
  const tab = await openTab()
  try {
    const user = await passkeyUser(tab, 'uv')
    const key = keyOf(await onlyCredential(tab, user.authenticator))
    const options = await post('/passkeys/authentication/options', {})
    assert.equal(options.status, 200, options.text)
    const assertion = ok(await tab.call('assert', options.body.options), 'navigator.credentials.get')
    assert.ok(unb64url(assertion.response.authenticatorData)[32] & FLAG_UV, 'the authenticator verified the user')
    resign(assertion, key, (data) => void (data[32] &= ~FLAG_UV))
    const answer = await post('/passkeys/authentication/verify', { challenge_id: options.body.challenge_id, credential: assertion })
    assert.equal(answer.status, 400, answer.text)
    assert.equal(answer.body?.error_code, 'webauthn_verification_failed')
  } finally {
    await tab.close()
  }
})

// -- 6. passkeys off ----------------------------------------------------------------------------

test('passkey_enabled off: 404 passkey_disabled from every passkey call; on again, sign-in works', async () => {
  const tab = await openTab()
  try {
    const user = await passkeyUser(tab, 'disabled')
    configure({ passkey_enabled: false })
    try {
      refused(await tab.call('signInWithPasskey'), 404, 'passkey_disabled', 'signInWithPasskey')
      ok(await tab.call('signInWithPassword', user.email, PASSWORD), 'signInWithPassword')
      refused(await tab.call('registerPasskey'), 404, 'passkey_disabled', 'registerPasskey')
      refused(await tab.call('listPasskeys'), 404, 'passkey_disabled', 'passkey.list')
      refused(await tab.call('updatePasskey', user.passkey.id, 'x'), 404, 'passkey_disabled', 'passkey.update')
      refused(await tab.call('deletePasskey', user.passkey.id), 404, 'passkey_disabled', 'passkey.delete')
      const byHand = await post('/passkeys/authentication/options', {})
      assert.equal(byHand.status, 404)
      assert.equal(byHand.body?.error_code, 'passkey_disabled')
      ok(await tab.call('signOut'), 'signOut')
    } finally {
      configure({ passkey_enabled: true })
    }
    assertPasskeySession(ok(await tab.call('signInWithPasskey'), 'on again'), user.id, 'on again')
  } finally {
    await tab.close()
  }
})
