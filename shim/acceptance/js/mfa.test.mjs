// Multi-factor authentication with @supabase/auth-js, unchanged (`auth.mfa.*`), through
// auth-ext-shim (FLOWS_SHIM_URL), written against GoTrue's HTTP contract:
//   POST   /factors                 {factor_type: 'totp', friendly_name, issuer}
//                                   -> {id, type, friendly_name, totp: {qr_code (raw SVG; auth-js
//                                      prefixes data:image/svg+xml;utf-8,), secret, uri}}
//                                   {factor_type: 'phone', friendly_name, phone}
//                                   -> {id, type: 'phone', friendly_name, phone (as given)}
//   POST   /factors/{id}/challenge  {channel?} -> {id, type, expires_at (now + 300 s)}; a phone
//                                   factor's code goes out by SMS (the outbox, delivered by the
//                                   shim to the signed SMS webhook of shim/acceptance/peers/)
//   POST   /factors/{id}/verify     {challenge_id, code} -> the session raised to aal2
//                                   (totp or mfa/phone in its amr), the factor verified
//   DELETE /factors/{id}            -> {id}; a verified factor only from an aal2 session
// and recovery codes (auth.mfa.recoveryCodes.*, behind the client's experimental flag):
//   GET    /factors/recovery-codes            -> {id, type: 'recovery_code', total, remaining}
//   POST   /factors/recovery-codes            {friendly_name?} -> {id, type, friendly_name, total,
//                                             codes}, from aal2, beside a verified factor
//   POST   /factors/recovery-codes/verify     {code} -> the session raised to aal2
//                                             (mfa/recovery_code in its amr), the code used up
//   POST   /factors/recovery-codes/regenerate -> as generate, new codes for the same factor
//   DELETE /factors/recovery-codes            -> {id}, from aal2
// TOTP codes come from otplib (an independent RFC 6238 implementation) and the secret the server
// gave; phone codes from the SMS the webhook receiver kept (inbox.mjs, SMS_DIR).
// Users are made by the admin API (SERVICE_ROLE_KEY, minted by ./test) already confirmed: the
// database confirms by mail (mailer_autoconfirm false). ./test sets rate_limit_verify high in
// shim_flows (challenges and verifications count against it), turns phone factors on
// (mfa_phone_enroll_enabled, mfa_phone_verify_enabled) with mfa_phone_max_frequency 1 s, and
// configures the MFA verification attempt hook of shim/acceptance/hooks.sql.
// The cases run in order; the first four share one user (enroll -> verify -> step-up -> unenroll),
// the phone cases after them one phone user likewise.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuthClient } from '@supabase/auth-js'
import { generateSync } from 'otplib'
import { smsTo, waitForSms, digits, webhookKey, webhookSignature } from './inbox.mjs'

const url = process.env.FLOWS_SHIM_URL ?? 'http://127.0.0.1:54611'
const serviceKey = process.env.SERVICE_ROLE_KEY
assert.ok(serviceKey, 'SERVICE_ROLE_KEY is set by ./test')
const options = { url, persistSession: false, autoRefreshToken: false }
const client = () => new AuthClient({ ...options, headers: { apikey: 'anon-key' } })
// auth-js 2.119.0 keeps mfa.recoveryCodes.* behind this flag (assertRecoveryCodesExperimentalEnabled)
const rcClient = () => new AuthClient({ ...options, headers: { apikey: 'anon-key' }, experimental: { recoveryCodes: true } })
const adminClient = () => new AuthClient({ ...options, headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` } }).admin
const unique = (name) => `${name}-${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}@example.com`
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'))
const methods = (jwt) => (claimsOf(jwt).amr ?? []).map((e) => e.method)
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const BASE32 = /^[A-Z2-7]+=*$/
const QR_PREFIX = 'data:image/svg+xml;utf-8,'
const PASSWORD = 'mfa-password-1'
const PERIOD = 30
const show = (error) => error && `${error.status} ${error.code}: ${error.message}`

// -- users and codes ----------------------------------------------------------------------------

// A confirmed user (admin API) signed in with a password: an aal1 session in its own client.
async function newUser(name, make = client) {
  const email = unique(name)
  const made = await adminClient().createUser({ email, password: PASSWORD, email_confirm: true })
  assert.equal(made.error, null, `admin createUser: ${show(made.error)}`)
  return { email, id: made.data.user.id, auth: await signIn(email, PASSWORD, make) }
}

async function signIn(email, password = PASSWORD, make = client) {
  const auth = make()
  const { data, error } = await auth.signInWithPassword({ email, password })
  assert.equal(error, null, `signInWithPassword: ${show(error)}`)
  assert.equal(claimsOf(data.session.access_token).aal, 'aal1', 'a password sign-in is aal1')
  return auth
}

async function enroll(auth, friendlyName = `phone ${crypto.randomBytes(3).toString('hex')}`, extra = {}) {
  const { data, error } = await auth.mfa.enroll({ factorType: 'totp', friendlyName, ...extra })
  assert.equal(error, null, `mfa.enroll: ${show(error)}`)
  return { id: data.id, secret: data.totp.secret, lastStep: null, data }
}

// The code of a time step the factor has not used yet, with at least `margin` seconds of that step
// left (so that it is still the current step when the server checks it): waits for the next
// step when needed (a code is good once per factor). Relies on no clock skew allowance.
async function codeFor(factor, margin = 3) {
  for (;;) {
    const now = Date.now() / 1000
    const step = Math.floor(now / PERIOD)
    const left = (step + 1) * PERIOD - now
    if ((factor.lastStep === null || step > factor.lastStep) && left >= margin) {
      factor.lastStep = step
      return generateSync({ secret: factor.secret, epoch: step * PERIOD })
    }
    await sleep(Math.ceil((left + 0.1) * 1000))
  }
}

// A code that is not the factor's at any step near now.
function wrongCode(factor) {
  const step = Math.floor(Date.now() / 1000 / PERIOD)
  const near = new Set([-2, -1, 0, 1, 2].map((d) => generateSync({ secret: factor.secret, epoch: (step + d) * PERIOD })))
  for (let n = 0; ; n++) {
    const code = String((123456 + n * 7919) % 1000000).padStart(6, '0')
    if (!near.has(code)) return code
  }
}

async function factorsOf(auth) {
  const { data, error } = await auth.getUser()
  assert.equal(error, null, `getUser: ${show(error)}`)
  return data.user.factors ?? []
}

async function aal(auth) {
  const { data, error } = await auth.mfa.getAuthenticatorAssuranceLevel()
  assert.equal(error, null, `getAuthenticatorAssuranceLevel: ${show(error)}`)
  return { currentLevel: data.currentLevel, nextLevel: data.nextLevel }
}

async function accessToken(auth) {
  const { data } = await auth.getSession()
  assert.ok(data.session, 'the client holds a session')
  return data.session.access_token
}

function refused(result, code, what, status) {
  assert.ok(result.error, `${what}: expected ${code}, got success ${JSON.stringify(result.data)?.slice(0, 300)}`)
  assert.equal(result.error.code, code, `${what}: expected ${code}, got ${show(result.error)}`)
  if (status !== undefined) assert.equal(result.error.status, status, `${what}: expected ${status} ${code}, got ${show(result.error)}`)
}

// -- one user: enroll -> verify -> step-up -> unenroll --------------------------------------------

let alice = null // {email, id, auth}
let aliceFactor = null // {id, secret, lastStep}
let aliceCode = null // the code that verified the factor
let aliceChallenge = null // the challenge it answered

test('enroll: a QR code, a base32 secret and an otpauth:// URI; the factor is listed unverified', async () => {
  alice = await newUser('mfa-js')
  const issuer = 'auth_ext MFA tests'
  const f = await enroll(alice.auth, 'Work phone', { issuer })
  aliceFactor = f // the cases after need only the factor, whatever its shape's checks say
  const d = f.data
  assert.match(d.id, UUID, `the factor id: ${d.id}`)
  assert.equal(d.type, 'totp')
  assert.equal(d.friendly_name, 'Work phone')
  assert.ok(d.totp.qr_code.startsWith(QR_PREFIX), `qr_code: ${d.totp.qr_code.slice(0, 80)}`)
  // GoTrue answers the bare SVG and auth-js adds the data: prefix once
  assert.match(d.totp.qr_code.slice(QR_PREFIX.length), /^(<\?xml[^>]*>\s*)?<svg[\s>]/,
    `after auth-js's prefix, the SVG itself (not a second data: prefix): ${d.totp.qr_code.slice(0, 120)}`)
  assert.ok(d.totp.qr_code.includes('</svg>'), 'a whole SVG document')
  assert.match(d.totp.secret, BASE32, `the secret is base32: ${d.totp.secret}`)
  assert.ok(d.totp.secret.replace(/=+$/, '').length >= 26, `at least 128 bits of secret: ${d.totp.secret.length} chars`)
  const uri = new URL(d.totp.uri)
  assert.equal(uri.protocol, 'otpauth:', d.totp.uri)
  assert.ok(d.totp.uri.startsWith('otpauth://totp/'), d.totp.uri)
  assert.equal(uri.searchParams.get('secret'), d.totp.secret, 'the URI carries the same secret')
  assert.equal(uri.searchParams.get('issuer'), issuer, 'the URI carries the issuer')
  assert.ok(decodeURIComponent(uri.pathname).includes(alice.email), `the label names the account: ${d.totp.uri}`)
  for (const [k, v] of [['algorithm', 'SHA1'], ['digits', '6'], ['period', '30']]) {
    const got = uri.searchParams.get(k)
    if (got !== null) assert.equal(got.toUpperCase(), v, `the URI's ${k}`)
  }

  const factors = await factorsOf(alice.auth)
  assert.equal(factors.length, 1, `getUser().factors: ${JSON.stringify(factors)}`)
  assert.equal(factors[0].id, f.id)
  assert.equal(factors[0].status, 'unverified')
  assert.equal(factors[0].factor_type, 'totp')
  assert.equal(factors[0].friendly_name, 'Work phone')
  const list = await alice.auth.mfa.listFactors()
  assert.equal(list.error, null, show(list.error))
  assert.deepEqual(list.data.all.map((x) => x.id), [f.id], 'listFactors().all')
  assert.deepEqual(list.data.totp, [], 'listFactors().totp lists verified factors only')
  // a factor not yet verified asks for nothing more
  assert.deepEqual(await aal(alice.auth), { currentLevel: 'aal1', nextLevel: 'aal1' })
  assert.deepEqual(await aal(client()), { currentLevel: null, nextLevel: null }, 'no session, no level')

  // an enrollment without a friendly name works too
  const unnamed = await alice.auth.mfa.enroll({ factorType: 'totp' })
  assert.equal(unnamed.error, null, `enroll without a friendly name: ${show(unnamed.error)}`)
  assert.ok(new URL(unnamed.data.totp.uri).searchParams.get('issuer'), `a default issuer: ${unnamed.data.totp.uri}`)
  // an unverified factor goes from an aal1 session
  const gone = await alice.auth.mfa.unenroll({ factorId: unnamed.data.id })
  assert.equal(gone.error, null, `unenroll an unverified factor from aal1: ${show(gone.error)}`)
  assert.equal(gone.data.id, unnamed.data.id)
  assert.deepEqual((await factorsOf(alice.auth)).map((x) => x.id), [f.id])
})

test('challenge, then verify with the code otplib computes: aal2 with totp in amr, the factor verified', async () => {
  assert.ok(aliceFactor, 'needs the enrolled factor of the case before')
  const before = claimsOf(await accessToken(alice.auth))
  const ch = await alice.auth.mfa.challenge({ factorId: aliceFactor.id })
  assert.equal(ch.error, null, `mfa.challenge: ${show(ch.error)}`)
  assert.match(ch.data.id, UUID)
  assert.equal(ch.data.type, 'totp')
  const now = Date.now() / 1000
  assert.ok(Math.abs(ch.data.expires_at - (now + 300)) <= 30, `expires_at ${ch.data.expires_at} is about now + 300 (${Math.round(now + 300)})`)

  // a wrong code: 422 mfa_verification_failed, the factor stays unverified
  const wrong = await alice.auth.mfa.verify({ factorId: aliceFactor.id, challengeId: ch.data.id, code: wrongCode(aliceFactor) })
  refused(wrong, 'mfa_verification_failed', 'a wrong code', 422)
  assert.equal((await factorsOf(alice.auth))[0].status, 'unverified')
  assert.equal(claimsOf(await accessToken(alice.auth)).aal, 'aal1', 'a wrong code leaves the session aal1')

  // the right code, on a challenge of its own (whether a challenge survives a wrong code is not ours to say)
  const ch2 = await alice.auth.mfa.challenge({ factorId: aliceFactor.id })
  assert.equal(ch2.error, null, show(ch2.error))
  aliceCode = await codeFor(aliceFactor)
  const v = await alice.auth.mfa.verify({ factorId: aliceFactor.id, challengeId: ch2.data.id, code: aliceCode })
  assert.equal(v.error, null, `mfa.verify: ${show(v.error)}`)
  aliceChallenge = ch2.data.id
  assert.ok(v.data.access_token && v.data.refresh_token, 'a new session')
  assert.equal(v.data.token_type.toLowerCase(), 'bearer')
  assert.ok(v.data.expires_in > 0)
  const claims = claimsOf(v.data.access_token)
  // what RLS policies read (auth.jwt()->>'aal'): the token's claims
  assert.equal(claims.aal, 'aal2', `the new token's aal: ${JSON.stringify(claims)}`)
  assert.equal(claims.sub, alice.id)
  assert.equal(claims.role, 'authenticated')
  assert.equal(claims.session_id, before.session_id, 'the same session, raised')
  const amr = claims.amr ?? []
  assert.ok(amr.some((e) => e.method === 'totp'), `totp in amr: ${JSON.stringify(amr)}`)
  assert.ok(amr.some((e) => e.method === 'password'), `password still in amr: ${JSON.stringify(amr)}`)
  for (const e of amr) assert.ok(Number.isInteger(e.timestamp) && Math.abs(e.timestamp - now) < 3600, `amr timestamps: ${JSON.stringify(e)}`)
  assert.equal(v.data.user.id, alice.id)
  assert.equal(v.data.user.factors?.find((x) => x.id === aliceFactor.id)?.status, 'verified', 'the answer\'s user has the factor verified')

  // auth-js keeps the new session
  assert.equal(await accessToken(alice.auth), v.data.access_token)
  assert.equal(claimsOf(await accessToken(alice.auth)).aal, 'aal2')
  assert.deepEqual(await aal(alice.auth), { currentLevel: 'aal2', nextLevel: 'aal2' })
  const { data: viaJwt } = await client().mfa.getAuthenticatorAssuranceLevel(v.data.access_token)
  assert.equal(viaJwt.currentLevel, 'aal2', 'getAuthenticatorAssuranceLevel(jwt)')
  assert.ok(viaJwt.currentAuthenticationMethods.some((e) => e.method === 'totp'))
  const factors = await factorsOf(alice.auth)
  assert.equal(factors[0].status, 'verified')
  const list = await alice.auth.mfa.listFactors()
  assert.deepEqual(list.data.totp.map((x) => x.id), [aliceFactor.id], 'listFactors().totp')
  // the server takes the aal2 token
  const who = await alice.auth.getUser(v.data.access_token)
  assert.equal(who.error, null, `getUser with the aal2 token: ${show(who.error)}`)
  // and the refreshed token stays aal2
  const r = await alice.auth.refreshSession()
  assert.equal(r.error, null, `refreshSession: ${show(r.error)}`)
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal2', 'a refresh keeps aal2')
  assert.ok(methods(r.data.session.access_token).includes('totp'), 'and totp in amr')
})

test('a code is good once: the same code on a new challenge is mfa_verification_failed; a verified challenge is refused (GoTrue: mfa_ip_address_mismatch)', async () => {
  assert.ok(aliceCode, 'needs the verification of the case before')
  const ch = await alice.auth.mfa.challenge({ factorId: aliceFactor.id })
  assert.equal(ch.error, null, show(ch.error))
  const again = await alice.auth.mfa.verify({ factorId: aliceFactor.id, challengeId: ch.data.id, code: aliceCode })
  refused(again, 'mfa_verification_failed', 'the same code again (same 30 s step, a new challenge)', 422)
  // from another session of the same user too
  const other = await signIn(alice.email)
  const ch2 = await other.mfa.challenge({ factorId: aliceFactor.id })
  assert.equal(ch2.error, null, show(ch2.error))
  refused(await other.mfa.verify({ factorId: aliceFactor.id, challengeId: ch2.data.id, code: aliceCode }),
    'mfa_verification_failed', 'the same code from another session')
  assert.equal(claimsOf(await accessToken(other)).aal, 'aal1')
  // the challenge already answered
  refused(await alice.auth.mfa.verify({ factorId: aliceFactor.id, challengeId: aliceChallenge, code: aliceCode }),
    'mfa_ip_address_mismatch', 'a verified challenge used again (GoTrue answers as for another address)')
  // a challenge id nobody made (GoTrue: 422 mfa_factor_not_found)
  const unknown = await alice.auth.mfa.verify({ factorId: aliceFactor.id, challengeId: crypto.randomUUID(), code: aliceCode })
  assert.ok(unknown.error, `an unknown challenge id verified: ${JSON.stringify(unknown.data)?.slice(0, 200)}`)
  assert.ok(['mfa_challenge_expired', 'mfa_factor_not_found'].includes(unknown.error.code), `an unknown challenge id: ${show(unknown.error)}`)
})

test('step-up: a fresh sign-in is aal1 (next aal2); updateUser({password}) and unenroll need aal2; challengeAndVerify raises it', async () => {
  assert.ok(aliceCode, 'needs the verified factor of the cases before')
  const auth = await signIn(alice.email)
  assert.deepEqual(await aal(auth), { currentLevel: 'aal1', nextLevel: 'aal2' }, 'a user with a verified factor, signed in with a password')
  assert.deepEqual(methods(await accessToken(auth)), ['password'])
  refused(await auth.updateUser({ password: 'mfa-password-2' }), 'insufficient_aal', 'updateUser({password}) from aal1')
  refused(await auth.mfa.unenroll({ factorId: aliceFactor.id }), 'insufficient_aal', 'unenroll a verified factor from aal1')
  assert.equal((await factorsOf(auth))[0]?.status, 'verified', 'the factor is still there')
  // the password did not change
  await signIn(alice.email, PASSWORD)

  // challengeAndVerify with the next code (waits for a new 30 s step if the last one used this one)
  const code = await codeFor(aliceFactor)
  const cv = await auth.mfa.challengeAndVerify({ factorId: aliceFactor.id, code })
  assert.equal(cv.error, null, `challengeAndVerify: ${show(cv.error)}`)
  assert.equal(claimsOf(cv.data.access_token).aal, 'aal2')
  assert.ok(methods(cv.data.access_token).includes('totp'))
  assert.deepEqual(await aal(auth), { currentLevel: 'aal2', nextLevel: 'aal2' })
  const upd = await auth.updateUser({ password: 'mfa-password-2' })
  assert.equal(upd.error, null, `updateUser({password}) from aal2: ${show(upd.error)}`)
  await signIn(alice.email, 'mfa-password-2')
  alice.auth = auth
})

test('unenroll from aal2: {id}; no factors left; the next refresh is aal1 without totp', async () => {
  assert.ok(alice?.auth && aliceFactor, 'needs the cases before')
  assert.equal(claimsOf(await accessToken(alice.auth)).aal, 'aal2', 'the step-up session')
  const gone = await alice.auth.mfa.unenroll({ factorId: aliceFactor.id })
  assert.equal(gone.error, null, `unenroll from aal2: ${show(gone.error)}`)
  assert.equal(gone.data.id, aliceFactor.id)
  assert.deepEqual(await factorsOf(alice.auth), [], 'getUser().factors')
  const list = await alice.auth.mfa.listFactors()
  assert.deepEqual(list.data.all, [])
  assert.deepEqual(list.data.totp, [])
  const r = await alice.auth.refreshSession()
  assert.equal(r.error, null, `refreshSession: ${show(r.error)}`)
  const claims = claimsOf(r.data.session.access_token)
  assert.equal(claims.aal, 'aal1', `the refreshed token: ${JSON.stringify(claims)}`)
  assert.ok(!methods(r.data.session.access_token).includes('totp'), `no totp in amr: ${JSON.stringify(claims.amr)}`)
  assert.deepEqual(await aal(alice.auth), { currentLevel: 'aal1', nextLevel: 'aal1' })
  // the factor is gone for good
  refused(await alice.auth.mfa.challenge({ factorId: aliceFactor.id }), 'mfa_factor_not_found', 'a challenge of the unenrolled factor', 404)
  refused(await alice.auth.mfa.unenroll({ factorId: aliceFactor.id }), 'mfa_factor_not_found', 'unenroll twice', 404)
})

// -- independent cases -----------------------------------------------------------------------------

test('challengeAndVerify verifies a new factor in one call', async () => {
  const u = await newUser('mfa-js-cv')
  const f = await enroll(u.auth, 'Authenticator')
  const { data, error } = await u.auth.mfa.challengeAndVerify({ factorId: f.id, code: await codeFor(f) })
  assert.equal(error, null, `challengeAndVerify: ${show(error)}`)
  assert.equal(claimsOf(data.access_token).aal, 'aal2')
  assert.deepEqual(await aal(u.auth), { currentLevel: 'aal2', nextLevel: 'aal2' })
  assert.equal((await u.auth.mfa.listFactors()).data.totp.length, 1)
})

test('another factor\'s challenge and another user\'s factor are refused', async () => {
  const a = await newUser('mfa-js-a')
  const b = await newUser('mfa-js-b')
  const f1 = await enroll(a.auth, 'first')
  const f2 = await enroll(a.auth, 'second')
  const fb = await enroll(b.auth, 'bob phone')
  // a challenge of f1 presented to f2, with f2's right code
  const c1 = await a.auth.mfa.challenge({ factorId: f1.id })
  assert.equal(c1.error, null, show(c1.error))
  const cross = await a.auth.mfa.verify({ factorId: f2.id, challengeId: c1.data.id, code: generateSync({ secret: f2.secret }) })
  assert.ok(cross.error, `f1's challenge verified f2: ${JSON.stringify(cross.data)?.slice(0, 200)}`)
  assert.ok(['mfa_challenge_expired', 'mfa_factor_not_found'].includes(cross.error.code), `another factor's challenge: ${show(cross.error)}`)
  assert.ok(cross.error.status === 404 || cross.error.status === 422, show(cross.error))
  assert.deepEqual((await factorsOf(a.auth)).map((x) => x.status), ['unverified', 'unverified'])
  assert.equal(claimsOf(await accessToken(a.auth)).aal, 'aal1')
  // bob cannot challenge, verify or unenroll alice's factors
  refused(await b.auth.mfa.challenge({ factorId: f1.id }), 'mfa_factor_not_found', 'challenge another user\'s factor', 404)
  refused(await b.auth.mfa.verify({ factorId: f1.id, challengeId: c1.data.id, code: generateSync({ secret: f1.secret }) }),
    'mfa_factor_not_found', 'verify another user\'s factor with its challenge and code', 404)
  refused(await b.auth.mfa.unenroll({ factorId: f2.id }), 'mfa_factor_not_found', 'unenroll another user\'s factor', 404)
  refused(await b.auth.mfa.challenge({ factorId: crypto.randomUUID() }), 'mfa_factor_not_found', 'a factor id nobody has', 404)
  // and alice's factors are untouched, bob's own still works
  assert.deepEqual((await factorsOf(a.auth)).map((x) => x.id).sort(), [f1.id, f2.id].sort())
  const ok = await b.auth.mfa.challengeAndVerify({ factorId: fb.id, code: await codeFor(fb) })
  assert.equal(ok.error, null, `bob's own factor: ${show(ok.error)}`)
  // bob's aal2 session does not reach alice's factors either
  refused(await b.auth.mfa.unenroll({ factorId: f1.id }), 'mfa_factor_not_found', 'unenroll another user\'s factor from aal2', 404)
  // no session at all: 401
  const res = await fetch(`${url}/factors`, { method: 'POST', headers: { apikey: 'anon-key', 'content-type': 'application/json' }, body: JSON.stringify({ factor_type: 'totp' }) })
  assert.equal(res.status, 401, `POST /factors without a bearer: ${res.status} ${await res.text()}`)
})

test('at most 10 factors (the 11th is too_many_enrolled_mfa_factors); a friendly name twice is mfa_factor_name_conflict', async () => {
  const u = await newUser('mfa-js-many')
  const ids = []
  for (let i = 1; i <= 10; i++) ids.push((await enroll(u.auth, `factor ${i}`)).id)
  refused(await u.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'factor 11' }), 'too_many_enrolled_mfa_factors', 'the 11th factor', 422)
  assert.equal((await factorsOf(u.auth)).length, 10)
  // one unenrolled (unverified, so from aal1): room for one more
  const gone = await u.auth.mfa.unenroll({ factorId: ids[9] })
  assert.equal(gone.error, null, show(gone.error))
  refused(await u.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'factor 3' }), 'mfa_factor_name_conflict', 'a friendly name the user has', 422)
  const eleventh = await u.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'factor 11' })
  assert.equal(eleventh.error, null, `after an unenroll: ${show(eleventh.error)}`)
  assert.equal((await factorsOf(u.auth)).length, 10)
  // the name is the user's own: another user may take it
  const other = await newUser('mfa-js-many-b')
  await enroll(other.auth, 'factor 3')
})

test('200 concurrent verifies of one valid code, each on its own challenge: exactly one succeeds, the rest refused or backed off', async () => {
  // The issue asks for 1,000; 200 keeps the suite short and still races well past the shim's pool.
  const N = 200
  const u = await newUser('mfa-js-race')
  const f = await enroll(u.auth, 'raced')
  const challenges = await Promise.all(Array.from({ length: N }, () => u.auth.mfa.challenge({ factorId: f.id })))
  const failedChallenges = challenges.filter((c) => c.error)
  assert.equal(failedChallenges.length, 0, `challenges refused: ${failedChallenges.slice(0, 3).map((c) => show(c.error)).join('; ')}`)
  assert.equal(new Set(challenges.map((c) => c.data.id)).size, N, 'distinct challenges')
  const code = await codeFor(f, 10) // 10 s of the step left for the whole burst
  const results = await Promise.all(challenges.map((c) => u.auth.mfa.verify({ factorId: f.id, challengeId: c.data.id, code })))
  const won = results.filter((r) => !r.error)
  const codes = {}
  for (const r of results) if (r.error) codes[`${r.error.status} ${r.error.code}`] = (codes[`${r.error.status} ${r.error.code}`] ?? 0) + 1
  assert.equal(won.length, 1, `exactly one verification succeeds: ${won.length} did; the others: ${JSON.stringify(codes)}`)
  // The others are refused as wrong codes (422), or by the factor's backoff before the code is
  // even checked (429: guesses at one factor back off as password guesses do).
  const refused = (codes['422 mfa_verification_failed'] ?? 0) + (codes['429 over_request_rate_limit'] ?? 0)
  assert.equal(refused, N - 1, `every other one is mfa_verification_failed or over_request_rate_limit: ${JSON.stringify(codes)}`)
  assert.equal(claimsOf(won[0].data.access_token).aal, 'aal2')
  assert.equal((await factorsOf(u.auth))[0].status, 'verified')
})

// -- phone factors: the code by SMS ------------------------------------------------------------------

const SMS_SECRET = process.env.SMS_WEBHOOK_SECRET
// Digits only, as GoTrue keeps a number (the client sends it with its +): 1 557 and 7 more, apart
// from the numbers of flows.test.mjs (1 555), python/flows.py (1 556) and python/mfa.py (1 558).
const newPhone = () => '1557' + String(crypto.randomInt(1e7)).padStart(7, '0')
// A code of the same length that is not `code`.
const otherCode = (code) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0')

async function enrollPhone(auth, phone = newPhone(), friendlyName = undefined) {
  const { data, error } = await auth.mfa.enroll({ factorType: 'phone', phone: `+${phone}`, friendlyName })
  assert.equal(error, null, `mfa.enroll phone: ${show(error)}`)
  return { id: data.id, phone, data }
}

// A challenge of a phone factor and the SMS it sent, as the webhook receiver kept it. A challenge
// refused by the factor's frequency limit (mfa_phone_max_frequency, 1 s in shim_flows) is asked
// again once the wait the server named is over.
async function challengeSms(auth, factor, params = {}) {
  for (let tries = 0; ; tries++) {
    const before = smsTo(factor.phone).length
    const ch = await auth.mfa.challenge({ factorId: factor.id, ...params })
    if (ch.error?.code === 'over_sms_send_rate_limit' && tries < 5) {
      const seconds = Number(/after (\d+) seconds?/.exec(ch.error.message)?.[1] ?? 1)
      await sleep(seconds * 1000 + 50)
      continue
    }
    assert.equal(ch.error, null, `mfa.challenge of a phone factor: ${show(ch.error)}`)
    const sms = await waitForSms(factor.phone, { after: before })
    return { challenge: ch.data, sms, code: sms.otp }
  }
}

// Audit entries through the admin API (GET /admin/audit?query=...), oldest first: a user's
// (author:<email>), or those of an action (action:<name>).
async function auditOf(email, query = `author:${email}`) {
  const res = await fetch(`${url}/admin/audit?per_page=100&query=${encodeURIComponent(query)}`, {
    headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` },
  })
  assert.equal(res.status, 200, `GET /admin/audit: ${res.status}`)
  return (await res.json()).map((e) => e.payload).reverse()
}

let pat = null // {email, id, auth}: the phone user of the cases below
let patFactor = null // {id, phone}
let patSpent = null // {challenge, code}: the challenge that verified the factor

test('phone: enroll answers {id, type phone, friendly_name, phone}; listed unverified; a bad or missing number is validation_failed', async () => {
  pat = await newUser('mfa-js-phone')
  const phone = newPhone()
  const f = await enrollPhone(pat.auth, phone, 'Pat\'s mobile')
  patFactor = f
  assert.match(f.data.id, UUID, `the factor id: ${f.data.id}`)
  assert.deepEqual({ ...f.data, id: undefined }, { id: undefined, type: 'phone', friendly_name: 'Pat\'s mobile', phone: `+${phone}` },
    `the answer: ${JSON.stringify(f.data)}`)
  const factors = await factorsOf(pat.auth)
  assert.deepEqual(factors.map((x) => [x.id, x.factor_type, x.status, x.friendly_name]), [[f.id, 'phone', 'unverified', 'Pat\'s mobile']],
    `getUser().factors: ${JSON.stringify(factors)}`)
  const list = await pat.auth.mfa.listFactors()
  assert.equal(list.error, null, show(list.error))
  assert.deepEqual(list.data.all.map((x) => x.id), [f.id], 'listFactors().all')
  assert.deepEqual(list.data.phone, [], 'listFactors().phone lists verified factors only')
  assert.deepEqual(list.data.totp, [])
  assert.deepEqual(await aal(pat.auth), { currentLevel: 'aal1', nextLevel: 'aal1' }, 'an unverified factor asks for nothing more')

  // GoTrue's validation: a number is needed, in E.164
  refused(await pat.auth.mfa.enroll({ factorType: 'phone', phone: 'call me' }), 'validation_failed', 'a number that is not one', 400)
  refused(await pat.auth.mfa.enroll({ factorType: 'phone', phone: '' }), 'validation_failed', 'an empty number', 400)
  refused(await pat.auth.mfa.enroll({ factorType: 'phone' }), 'validation_failed', 'no number', 400)
  // the same number again while unverified: the new factor replaces the old one (GoTrue's rule)
  const again = await enrollPhone(pat.auth, phone, 'Pat\'s mobile, again')
  assert.notEqual(again.id, f.id)
  assert.deepEqual((await factorsOf(pat.auth)).map((x) => x.id), [again.id], 'the unverified factor of that number is replaced')
  patFactor = again
})

test('phone: challenge sends the code by SMS; a wrong code is mfa_verification_failed; the code raises the session to aal2 with mfa/phone in amr', async () => {
  assert.ok(patFactor, 'needs the enrolled factor of the case before')
  const before = claimsOf(await accessToken(pat.auth))
  const { challenge, sms, code } = await challengeSms(pat.auth, patFactor, { channel: 'sms' })
  assert.match(challenge.id, UUID)
  assert.equal(challenge.type, 'phone')
  const now = Date.now() / 1000
  assert.ok(Math.abs(challenge.expires_at - (now + 300)) <= 30, `expires_at ${challenge.expires_at} is about now + 300 (${Math.round(now + 300)})`)
  // the SMS: the send-SMS hook's input, for the factor's number, a six-digit code
  assert.equal(sms.smsType, 'mfa', `sms_type: ${JSON.stringify(sms.payload.sms)}`)
  assert.equal(digits(sms.payload.sms.phone), patFactor.phone)
  assert.match(code, /^\d{6}$/, `mfa_phone_otp_length 6: ${code}`)
  assert.equal(sms.payload.user?.id, pat.id, 'the hook input carries the user')
  if (SMS_SECRET) {
    const expected = webhookSignature(webhookKey(SMS_SECRET), sms.webhook_id, sms.webhook_timestamp, sms.body)
    assert.ok(sms.webhook_signature.split(' ').includes(expected), 'the delivery carries a valid Standard Webhooks signature')
  }

  // a wrong code: 422 mfa_verification_failed, nothing raised
  refused(await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: challenge.id, code: otherCode(code) }),
    'mfa_verification_failed', 'a wrong code', 422)
  assert.equal((await factorsOf(pat.auth))[0].status, 'unverified')
  assert.equal(claimsOf(await accessToken(pat.auth)).aal, 'aal1', 'a wrong code leaves the session aal1')

  // the code the SMS carried, on the same challenge (a wrong guess does not spend it)
  const v = await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: challenge.id, code })
  assert.equal(v.error, null, `mfa.verify: ${show(v.error)}`)
  patSpent = { challenge: challenge.id, code }
  const claims = claimsOf(v.data.access_token)
  assert.equal(claims.aal, 'aal2', `the new token's aal: ${JSON.stringify(claims)}`)
  assert.equal(claims.sub, pat.id)
  assert.equal(claims.session_id, before.session_id, 'the same session, raised')
  assert.ok(methods(v.data.access_token).includes('mfa/phone'), `mfa/phone in amr: ${JSON.stringify(claims.amr)}`)
  assert.ok(methods(v.data.access_token).includes('password'), `password still in amr: ${JSON.stringify(claims.amr)}`)
  assert.ok(!methods(v.data.access_token).includes('totp'), `no totp in amr: ${JSON.stringify(claims.amr)}`)
  assert.equal(v.data.user.factors?.find((x) => x.id === patFactor.id)?.status, 'verified', 'the answer\'s user has the factor verified')
  assert.equal(await accessToken(pat.auth), v.data.access_token, 'auth-js keeps the new session')
  const level = await pat.auth.mfa.getAuthenticatorAssuranceLevel()
  assert.equal(level.error, null, show(level.error))
  assert.equal(level.data.currentLevel, 'aal2')
  assert.equal(level.data.nextLevel, 'aal2')
  assert.ok(level.data.currentAuthenticationMethods.some((e) => e.method === 'mfa/phone'), JSON.stringify(level.data))
  const list = await pat.auth.mfa.listFactors()
  assert.deepEqual(list.data.phone.map((x) => x.id), [patFactor.id], 'listFactors().phone')
  assert.deepEqual(list.data.totp, [], 'listFactors().totp')
  const who = await pat.auth.getUser(v.data.access_token)
  assert.equal(who.error, null, `getUser with the aal2 token: ${show(who.error)}`)
  const r = await pat.auth.refreshSession()
  assert.equal(r.error, null, `refreshSession: ${show(r.error)}`)
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal2', 'a refresh keeps aal2')
  assert.ok(methods(r.data.session.access_token).includes('mfa/phone'), 'and mfa/phone in amr')
  // the audit trail (GoTrue's actions), with no code in it
  const audit = await auditOf(pat.email)
  const actions = audit.filter((e) => e.log_type === 'factor').map((e) => e.action)
  for (const a of ['factor_in_progress', 'challenge_created', 'verification_attempted']) assert.ok(actions.includes(a), `${a} in the audit trail: ${actions}`)
  assert.equal(actions.filter((a) => a === 'verification_attempted').length, 1, `one verification: ${actions}`)
  assert.ok(!JSON.stringify(audit).includes(code), 'no code in the audit trail')
})

test('phone: a code is its challenge\'s only: again on its spent challenge (mfa_ip_address_mismatch), on a new challenge (mfa_verification_failed)', async () => {
  assert.ok(patSpent, 'needs the verification of the case before')
  refused(await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: patSpent.challenge, code: patSpent.code }),
    'mfa_ip_address_mismatch', 'the code again on its verified challenge (GoTrue answers as for another address)', 422)
  const { challenge, code } = await challengeSms(pat.auth, patFactor)
  if (code !== patSpent.code) { // one time in a million the new code is the old one
    refused(await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: challenge.id, code: patSpent.code }),
      'mfa_verification_failed', 'the last challenge\'s code on a new challenge', 422)
  }
  // a challenge id nobody made
  const unknown = await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: crypto.randomUUID(), code })
  refused(unknown, 'mfa_factor_not_found', 'an unknown challenge id (GoTrue: mfa_factor_not_found)')
  // and the new challenge's own code still works: the refused attempts spent nothing
  const v = await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: challenge.id, code })
  assert.equal(v.error, null, `the new challenge's code: ${show(v.error)}`)
  assert.ok(methods(v.data.access_token).includes('mfa/phone'))
})

test('phone: mfa_phone_max_frequency: a second challenge at once is 429 over_sms_send_rate_limit and sends nothing; once the wait is over it goes', async () => {
  assert.ok(patFactor, 'needs the factor of the cases before')
  const before = smsTo(patFactor.phone).length
  const token = await accessToken(pat.auth)
  let first // waiting out the limit from the last case's challenge, if need be (1 s)
  for (let tries = 0; tries < 20; tries++) {
    first = await pat.auth.mfa.challenge({ factorId: patFactor.id })
    if (first.error?.code !== 'over_sms_send_rate_limit') break
    await sleep(250)
  }
  assert.equal(first.error, null, `the first challenge: ${show(first.error)}`)
  // at once: refused, with Retry-After (raw, to read the header auth-js does not hand out)
  const res = await fetch(`${url}/factors/${patFactor.id}/challenge`, {
    method: 'POST', headers: { apikey: 'anon-key', Authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'sms' }),
  })
  const body = await res.json()
  assert.equal(res.status, 429, `a second challenge at once: ${res.status} ${JSON.stringify(body)}`)
  assert.equal(body.code ?? body.error_code, 'over_sms_send_rate_limit', JSON.stringify(body))
  const retryAfter = Number(res.headers.get('retry-after'))
  assert.ok(retryAfter >= 1, `Retry-After: ${res.headers.get('retry-after')}`)
  refused(await pat.auth.mfa.challenge({ factorId: patFactor.id }), 'over_sms_send_rate_limit', 'through auth-js too', 429)
  // the first challenge is not spent by the refusals
  const firstSms = await waitForSms(patFactor.phone, { after: before })
  const v = await pat.auth.mfa.verify({ factorId: patFactor.id, challengeId: first.data.id, code: firstSms.otp })
  assert.equal(v.error, null, `the first challenge's code: ${show(v.error)}`)
  // after the wait: a challenge, one more SMS (none was sent for the refused ones)
  await sleep(retryAfter * 1000 + 50)
  const ch = await pat.auth.mfa.challenge({ factorId: patFactor.id })
  assert.equal(ch.error, null, `after Retry-After: ${show(ch.error)}`)
  await waitForSms(patFactor.phone, { after: before + 1 })
  assert.equal(smsTo(patFactor.phone).length, before + 2, 'one SMS per challenge that went through, none for the refused ones')
})

test('phone: channel whatsapp (not offered here) or garbage is 400 validation_failed; no SMS', async () => {
  assert.ok(patFactor, 'needs the factor of the cases before')
  await sleep(1050) // past mfa_phone_max_frequency since the last case's challenge
  const before = smsTo(patFactor.phone).length
  refused(await pat.auth.mfa.challenge({ factorId: patFactor.id, channel: 'whatsapp' }), 'validation_failed', 'channel whatsapp', 400)
  refused(await pat.auth.mfa.challenge({ factorId: patFactor.id, channel: 'carrier pigeon' }), 'validation_failed', 'channel garbage', 400)
  // the refusals did not count as challenges either (mfa_phone_max_frequency): one goes through at once
  const ch = await pat.auth.mfa.challenge({ factorId: patFactor.id, channel: 'sms' })
  assert.equal(ch.error, null, `a challenge right after the refused ones: ${show(ch.error)}`)
  const sms = await waitForSms(patFactor.phone, { after: before })
  assert.equal(smsTo(patFactor.phone).length, before + 1, `only the accepted challenge sent an SMS (${sms.file})`)
})

test('phone: step-up and unenroll: a fresh sign-in is aal1 (next aal2) until a phone code; the same number again is mfa_verified_factor_exists; unenroll from aal2', async () => {
  assert.ok(patFactor, 'needs the verified factor of the cases before')
  const auth = await signIn(pat.email)
  assert.deepEqual(await aal(auth), { currentLevel: 'aal1', nextLevel: 'aal2' }, 'a user with a verified phone factor, signed in with a password')
  refused(await auth.mfa.unenroll({ factorId: patFactor.id }), 'insufficient_aal', 'unenroll a verified factor from aal1')
  refused(await auth.mfa.enroll({ factorType: 'phone', phone: `+${newPhone()}` }), 'insufficient_aal', 'another factor from aal1', 403)
  const { challenge, code } = await challengeSms(auth, patFactor)
  const v = await auth.mfa.verify({ factorId: patFactor.id, challengeId: challenge.id, code })
  assert.equal(v.error, null, `step-up by phone: ${show(v.error)}`)
  assert.deepEqual(await aal(auth), { currentLevel: 'aal2', nextLevel: 'aal2' })
  refused(await auth.mfa.enroll({ factorType: 'phone', phone: `+${patFactor.phone}` }), 'mfa_verified_factor_exists', 'the verified number again', 422)
  const gone = await auth.mfa.unenroll({ factorId: patFactor.id })
  assert.equal(gone.error, null, `unenroll from aal2: ${show(gone.error)}`)
  assert.equal(gone.data.id, patFactor.id)
  assert.deepEqual(await factorsOf(auth), [])
  const r = await auth.refreshSession()
  assert.equal(r.error, null, `refreshSession: ${show(r.error)}`)
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal1', 'the next refresh is aal1')
  assert.ok(!methods(r.data.session.access_token).includes('mfa/phone'), `no mfa/phone in amr: ${JSON.stringify(claimsOf(r.data.session.access_token).amr)}`)
  refused(await auth.mfa.challenge({ factorId: patFactor.id }), 'mfa_factor_not_found', 'a challenge of the unenrolled factor', 404)
  const actions = (await auditOf(pat.email)).map((e) => e.action)
  assert.ok(actions.includes('factor_unenrolled'), `factor_unenrolled in the audit trail: ${actions}`)
  // the number is free again
  await enrollPhone(auth, patFactor.phone, 'Pat\'s mobile, re-enrolled')
})

test('phone: another user\'s phone factor cannot be challenged (no SMS to its number) nor verified with its code', async () => {
  const a = await newUser('mfa-js-phone-a')
  const b = await newUser('mfa-js-phone-b')
  const fa = await enrollPhone(a.auth)
  const before = smsTo(fa.phone).length
  refused(await b.auth.mfa.challenge({ factorId: fa.id }), 'mfa_factor_not_found', 'challenge another user\'s phone factor', 404)
  const { challenge, code } = await challengeSms(a.auth, fa)
  assert.equal(smsTo(fa.phone).length, before + 1, 'the only SMS to a\'s number is a\'s own challenge\'s')
  refused(await b.auth.mfa.verify({ factorId: fa.id, challengeId: challenge.id, code }),
    'mfa_factor_not_found', 'verify another user\'s factor with its challenge and code', 404)
  // b's own phone factor does not take a's challenge either
  const fb = await enrollPhone(b.auth)
  const cross = await b.auth.mfa.verify({ factorId: fb.id, challengeId: challenge.id, code })
  refused(cross, 'mfa_factor_not_found', 'a\'s challenge presented to b\'s factor')
  assert.equal(claimsOf(await accessToken(b.auth)).aal, 'aal1')
  // a's challenge and code are untouched by b's attempts
  assert.equal((await factorsOf(a.auth))[0].status, 'unverified')
  const v = await a.auth.mfa.verify({ factorId: fa.id, challengeId: challenge.id, code })
  assert.equal(v.error, null, `a's own code after b's attempts: ${show(v.error)}`)
  // the admin API sees the factor and deletes it (factor_deleted); a's session falls back to aal1
  const admin = adminClient()
  const listed = await admin.mfa.listFactors({ userId: a.id })
  assert.equal(listed.error, null, show(listed.error))
  assert.deepEqual(listed.data.factors.map((x) => [x.id, x.factor_type, x.status]), [[fa.id, 'phone', 'verified']])
  const del = await admin.mfa.deleteFactor({ userId: a.id, id: fa.id })
  assert.equal(del.error, null, `admin deleteFactor: ${show(del.error)}`)
  // auth-js 2.119.0 hands this one back wrapped once more ({data: {data: factor, error}})
  assert.equal((del.data.data ?? del.data).id, fa.id, `the deleted factor: ${JSON.stringify(del.data)}`)
  const r = await a.auth.refreshSession()
  assert.equal(r.error, null, show(r.error))
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal1', 'the deleted factor no longer holds the session at aal2')
  const deleted = (await auditOf(null, 'action:factor_deleted')).filter((e) => e.traits?.factor_id === fa.id)
  assert.equal(deleted.length, 1, 'factor_deleted in the audit trail')
  assert.equal(deleted[0].actor_id, a.id, `the entry is the user's: ${JSON.stringify(deleted[0])}`)
})

test('phone: the MFA verification attempt hook rejects a wrong code: 403 mfa_verification_rejected with its message, every session of the user ends', async () => {
  // hooks.sql's hook rejects wrong codes at factors of this name and lets everything else through
  const u = await newUser('mfa-js-phone-hook')
  const other = await signIn(u.email) // a second session of the same user
  const f = await enrollPhone(u.auth, newPhone(), 'hook: reject wrong codes')
  const { challenge, code } = await challengeSms(u.auth, f)
  const token = await accessToken(u.auth)
  assert.equal((await client().getUser(token)).error, null, 'the session works before')
  const rejected = await u.auth.mfa.verify({ factorId: f.id, challengeId: challenge.id, code: otherCode(code) })
  refused(rejected, 'mfa_verification_rejected', 'a wrong code the hook rejects', 403)
  assert.equal(rejected.error.message, 'Too many wrong codes: signed out everywhere', 'the hook\'s message')
  // signed out everywhere: neither session refreshes, the access token's session is gone
  for (const [name, auth] of [['the verifying session', u.auth], ['the other session', other]]) {
    const r = await auth.refreshSession()
    assert.ok(r.error, `${name} still refreshes: ${JSON.stringify(r.data?.session?.access_token && claimsOf(r.data.session.access_token))}`)
  }
  const me = await client().getUser(token)
  assert.ok(me.error, `the ended session's access token is refused: ${JSON.stringify(me.data)?.slice(0, 200)}`)
  // a right code goes through the hook (a fresh sign-in: the old sessions are gone)
  const again = await signIn(u.email)
  const fresh = await challengeSms(again, f)
  const v = await again.mfa.verify({ factorId: f.id, challengeId: fresh.challenge.id, code: fresh.code })
  assert.equal(v.error, null, `the right code with the hook on: ${show(v.error)}`)
  assert.ok(methods(v.data.access_token).includes('mfa/phone'))
})

test('phone: 1,000 concurrent verifications of one SMS code on one challenge: exactly one succeeds, the others find the challenge answered', async (t) => {
  const N = 1000
  const u = await newUser('mfa-js-phone-race')
  const f = await enrollPhone(u.auth)
  const { challenge, code } = await challengeSms(u.auth, f)
  const results = await Promise.all(Array.from({ length: N }, () => u.auth.mfa.verify({ factorId: f.id, challengeId: challenge.id, code })))
  const won = results.filter((r) => !r.error)
  const codes = {}
  for (const r of results) if (r.error) codes[`${r.error.status} ${r.error.code}`] = (codes[`${r.error.status} ${r.error.code}`] ?? 0) + 1
  t.diagnostic(`the ${N - won.length} refused: ${JSON.stringify(codes)}`)
  assert.equal(won.length, 1, `exactly one verification succeeds: ${won.length} did; the others: ${JSON.stringify(codes)}`)
  // The others find the challenge answered (422 mfa_ip_address_mismatch, GoTrue's answer), or
  // are turned away by the factor's backoff (429) before the code is checked.
  const others = (codes['422 mfa_ip_address_mismatch'] ?? 0) + (codes['429 over_request_rate_limit'] ?? 0)
  assert.equal(others, N - 1, `every other one is mfa_ip_address_mismatch or over_request_rate_limit: ${JSON.stringify(codes)}`)
  assert.equal(claimsOf(won[0].data.access_token).aal, 'aal2')
  assert.ok(methods(won[0].data.access_token).includes('mfa/phone'))
  assert.equal((await factorsOf(u.auth))[0].status, 'verified')
  const verifications = (await auditOf(u.email)).filter((e) => e.action === 'verification_attempted')
  assert.equal(verifications.length, 1, `one verification in the audit trail: ${verifications.length}`)
})

// -- recovery codes: one user, in order (generate -> verify -> regenerate -> delete) ----------------

const RC_CODE = /^[a-z2-7]{16}$/
let rc = null // {email, id, auth (aal2 by TOTP), totp, factorId, codes}
const grouped = (code) => code.match(/.{1,4}/g).join('-') // as auth-js suggests showing them

test('recovery codes need the client\'s experimental flag (auth-js 2.119.0), and an aal2 session beside a verified factor', async () => {
  await assert.rejects(() => client().mfa.recoveryCodes.getStatus(), /experimental/, 'without the flag auth-js refuses before any request')
  const u = await newUser('mfa-js-rc', rcClient)
  // no verified factor, aal1: no codes (GoTrue asks for aal2 first)
  refused(await u.auth.mfa.recoveryCodes.generate(), 'insufficient_aal', 'generate from aal1', 403)
  refused(await u.auth.mfa.recoveryCodes.getStatus(), 'mfa_factor_not_found', 'status without codes', 404)
  const totp = await enroll(u.auth, 'Authenticator')
  const cv = await u.auth.mfa.challengeAndVerify({ factorId: totp.id, code: await codeFor(totp) })
  assert.equal(cv.error, null, `challengeAndVerify: ${show(cv.error)}`)
  assert.equal(claimsOf(cv.data.access_token).aal, 'aal2')
  rc = { ...u, totp }
})

test('generate after the TOTP factor is verified: ten base32 codes, shown once; status counts them; listed as a recovery_code factor', async () => {
  assert.ok(rc?.totp, 'needs the aal2 user of the case before')
  const { data, error } = await rc.auth.mfa.recoveryCodes.generate({ friendlyName: 'Paper in the drawer' })
  assert.equal(error, null, `recoveryCodes.generate: ${show(error)}`)
  assert.match(data.id, UUID)
  assert.equal(data.type, 'recovery_code')
  assert.equal(data.friendly_name, 'Paper in the drawer')
  assert.equal(data.total, 10)
  assert.equal(data.codes.length, 10)
  for (const code of data.codes) assert.match(code, RC_CODE, `a code: ${code}`)
  assert.equal(new Set(data.codes).size, 10, 'distinct codes')
  assert.ok(!('remaining' in data), `generate has no remaining: ${JSON.stringify(Object.keys(data))}`)
  rc.factorId = data.id
  rc.codes = data.codes
  // once per user
  refused(await rc.auth.mfa.recoveryCodes.generate(), 'mfa_verified_factor_exists', 'generate twice', 422)
  const status = await rc.auth.mfa.recoveryCodes.getStatus()
  assert.equal(status.error, null, `recoveryCodes.getStatus: ${show(status.error)}`)
  assert.deepEqual(status.data, { id: rc.factorId, type: 'recovery_code', total: 10, remaining: 10 }, 'status: no codes, no name')
  // the user's factors: TOTP and the codes' factor, verified; auth-js files it under recovery_code
  const list = await rc.auth.mfa.listFactors()
  assert.equal(list.error, null, show(list.error))
  assert.deepEqual(list.data.recovery_code.map((f) => [f.id, f.status, f.friendly_name]), [[rc.factorId, 'verified', 'Paper in the drawer']])
  assert.deepEqual(list.data.totp.map((f) => f.id), [rc.totp.id])
  assert.equal(list.data.all.length, 2)
  for (const f of list.data.all) assert.ok(!('codes' in f) && !('code_hash' in f), `a listed factor carries no code: ${JSON.stringify(f)}`)
  // the generic endpoints refuse it, as GoTrue's do
  refused(await rc.auth.mfa.challenge({ factorId: rc.factorId }), 'validation_failed', 'a challenge of the codes\' factor', 400)
  refused(await rc.auth.mfa.unenroll({ factorId: rc.factorId }), 'validation_failed', 'DELETE /factors/{id} of the codes\' factor', 422)
  refused(await rc.auth.mfa.unenroll({ factorId: rc.totp.id }), 'mfa_recovery_codes_sole_factor', 'the codes\' only other factor', 422)
})

test('verify a code from a fresh aal1 sign-in: aal2 with mfa/recovery_code in amr; the same code again is refused', async () => {
  assert.ok(rc?.codes, 'needs the codes of the case before')
  const fresh = await signIn(rc.email, PASSWORD, rcClient)
  assert.deepEqual(await aal(fresh), { currentLevel: 'aal1', nextLevel: 'aal2' }, 'a fresh sign-in of a user with factors')
  const before = claimsOf(await accessToken(fresh))
  const events = []
  fresh.onAuthStateChange((event) => { events.push(event) })
  // as a person types it: in groups, upper case
  const { data, error } = await fresh.mfa.recoveryCodes.verify({ code: grouped(rc.codes[0]).toUpperCase() })
  assert.equal(error, null, `recoveryCodes.verify: ${show(error)}`)
  assert.ok(data.access_token && data.refresh_token, 'a session')
  const claims = claimsOf(data.access_token)
  assert.equal(claims.aal, 'aal2', `the new token: ${JSON.stringify(claims)}`)
  assert.equal(claims.session_id, before.session_id, 'the same session, raised')
  assert.ok(methods(data.access_token).includes('mfa/recovery_code'), `mfa/recovery_code in amr: ${JSON.stringify(claims.amr)}`)
  assert.ok(methods(data.access_token).includes('password'), 'password still in amr')
  // auth-js keeps the session and says so
  assert.equal(await accessToken(fresh), data.access_token)
  assert.ok(events.includes('MFA_CHALLENGE_VERIFIED'), `events: ${events}`)
  const level = await fresh.mfa.getAuthenticatorAssuranceLevel()
  assert.equal(level.data.currentLevel, 'aal2')
  assert.ok(level.data.currentAuthenticationMethods.some((m) => m.method === 'mfa/recovery_code'))
  const r = await fresh.refreshSession()
  assert.equal(r.error, null, show(r.error))
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal2', 'a refresh keeps aal2')
  assert.ok(methods(r.data.session.access_token).includes('mfa/recovery_code'))
  // used once: from another fresh session the same code is refused, that session stays aal1
  const other = await signIn(rc.email, PASSWORD, rcClient)
  refused(await other.mfa.recoveryCodes.verify({ code: rc.codes[0] }), 'mfa_verification_failed', 'a used code', 422)
  assert.equal(claimsOf(await accessToken(other)).aal, 'aal1')
  refused(await other.mfa.recoveryCodes.verify({ code: ' -- ' }), 'validation_failed', 'no code', 400)
  const status = await fresh.mfa.recoveryCodes.getStatus()
  assert.deepEqual([status.data?.total, status.data?.remaining], [10, 9], `status after one use: ${JSON.stringify(status.data)}`)
  rc.raised = fresh
})

test('two concurrent verifications of one code: exactly one succeeds, the other is a wrong code', async () => {
  assert.ok(rc?.codes, 'needs the codes of the cases before')
  for (const code of rc.codes.slice(1, 4)) {
    const auth = await signIn(rc.email, PASSWORD, rcClient)
    const token = await accessToken(auth)
    const verify = () => fetch(`${url}/factors/recovery-codes/verify`, {
      method: 'POST',
      headers: { apikey: 'anon-key', authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    }).then(async (res) => ({ status: res.status, body: await res.json() }))
    const results = await Promise.all([verify(), verify()])
    const statuses = results.map((x) => x.status).sort()
    assert.deepEqual(statuses, [200, 422], `one 200 and one 422: ${JSON.stringify(results.map((x) => [x.status, x.body.error_code ?? x.body.code]))}`)
    assert.equal(results.find((x) => x.status === 422).body.error_code, 'mfa_verification_failed')
  }
  const status = await rc.auth.mfa.recoveryCodes.getStatus()
  assert.equal(status.data?.remaining, 6, `three more used: ${JSON.stringify(status.data)}`)
})

test('regenerate from aal2: the same factor and name, ten new codes; the old ones no longer work', async () => {
  assert.ok(rc?.codes, 'needs the codes of the cases before')
  const aal1 = await signIn(rc.email, PASSWORD, rcClient)
  refused(await aal1.mfa.recoveryCodes.regenerate(), 'insufficient_aal', 'regenerate from aal1', 403)
  const { data, error } = await rc.auth.mfa.recoveryCodes.regenerate()
  assert.equal(error, null, `recoveryCodes.regenerate: ${show(error)}`)
  assert.equal(data.id, rc.factorId, 'the same factor')
  assert.equal(data.friendly_name, 'Paper in the drawer')
  assert.equal(data.total, 10)
  assert.equal(data.codes.length, 10)
  for (const code of data.codes) {
    assert.match(code, RC_CODE)
    assert.ok(!rc.codes.includes(code), `a new code is not an old one: ${code}`)
  }
  const status = await rc.auth.mfa.recoveryCodes.getStatus()
  assert.deepEqual(status.data, { id: rc.factorId, type: 'recovery_code', total: 10, remaining: 10 })
  refused(await aal1.mfa.recoveryCodes.verify({ code: rc.codes[9] }), 'mfa_verification_failed', 'an old code never used', 422)
  const ok = await aal1.mfa.recoveryCodes.verify({ code: data.codes[0] })
  assert.equal(ok.error, null, `a new code: ${show(ok.error)}`)
  assert.equal(claimsOf(ok.data.access_token).aal, 'aal2')
  rc.codes = data.codes
  rc.raised = aal1
})

test('five wrong codes lock verification (429 mfa_recovery_codes_locked, even for a right code)', async () => {
  const u = await newUser('mfa-js-rc-lock', rcClient)
  const totp = await enroll(u.auth, 'Authenticator')
  const cv = await u.auth.mfa.challengeAndVerify({ factorId: totp.id, code: await codeFor(totp) })
  assert.equal(cv.error, null, show(cv.error))
  const gen = await u.auth.mfa.recoveryCodes.generate()
  assert.equal(gen.error, null, show(gen.error))
  assert.equal(gen.data.friendly_name, 'Recovery codes', 'the default name')
  const fresh = await signIn(u.email, PASSWORD, rcClient)
  for (let i = 1; i <= 5; i++) {
    refused(await fresh.mfa.recoveryCodes.verify({ code: 'aaaaaaaaaaaaaaaa' }), 'mfa_verification_failed', `wrong code ${i}`, 422)
  }
  refused(await fresh.mfa.recoveryCodes.verify({ code: gen.data.codes[0] }), 'mfa_recovery_codes_locked', 'a right code while locked', 429)
  // regenerate (from aal2) lifts the lock
  const regen = await u.auth.mfa.recoveryCodes.regenerate()
  assert.equal(regen.error, null, show(regen.error))
  const ok = await fresh.mfa.recoveryCodes.verify({ code: regen.data.codes[0] })
  assert.equal(ok.error, null, `after regenerate: ${show(ok.error)}`)
})

test('delete (recoveryCodes.unenroll) from aal2: {id}; the codes and the aal2 they gave are gone', async () => {
  assert.ok(rc?.raised, 'needs the session a code raised in the cases before')
  const aal1 = await signIn(rc.email, PASSWORD, rcClient)
  refused(await aal1.mfa.recoveryCodes.unenroll(), 'insufficient_aal', 'delete from aal1', 403)
  const { data, error } = await rc.auth.mfa.recoveryCodes.unenroll()
  assert.equal(error, null, `recoveryCodes.unenroll: ${show(error)}`)
  assert.deepEqual(data, { id: rc.factorId })
  refused(await rc.auth.mfa.recoveryCodes.getStatus(), 'mfa_factor_not_found', 'status after delete', 404)
  refused(await aal1.mfa.recoveryCodes.verify({ code: rc.codes[1] }), 'mfa_verification_failed', 'a code after delete', 422)
  const list = await rc.auth.mfa.listFactors()
  assert.deepEqual(list.data.recovery_code, [])
  assert.deepEqual(list.data.all.map((f) => f.id), [rc.totp.id])
  // the session a code raised falls back to aal1, without the method; the TOTP one stays aal2
  const r = await rc.raised.refreshSession()
  assert.equal(r.error, null, show(r.error))
  assert.equal(claimsOf(r.data.session.access_token).aal, 'aal1')
  assert.ok(!methods(r.data.session.access_token).includes('mfa/recovery_code'), JSON.stringify(claimsOf(r.data.session.access_token).amr))
  assert.equal(claimsOf((await rc.auth.refreshSession()).data.session.access_token).aal, 'aal2')
  // and the TOTP factor may go now
  const gone = await rc.auth.mfa.unenroll({ factorId: rc.totp.id })
  assert.equal(gone.error, null, `unenroll TOTP without codes: ${show(gone.error)}`)
})
