// The test page's script (bundled by esbuild with @supabase/auth-js 2.119.0 into /app.js): one
// AuthClient per page, its session kept in memory, and every call answered as plain JSON
// ({data, error}) so that the test (webauthn.test.mjs, through Playwright) can look at it.
// The WebAuthn ceremonies are the browser's own navigator.credentials, answered by the virtual
// authenticator the test attached to this page over the DevTools protocol.
import { AuthClient } from '@supabase/auth-js'
import {
  deserializeCredentialRequestOptions,
  deserializeCredentialCreationOptions,
  serializeCredentialRequestResponse,
  serializeCredentialCreationResponse,
} from '@supabase/auth-js/dist/module/lib/webauthn'

let auth = null
// MFA challenges answered by the authenticator but not yet verified, by challenge id
const pending = new Map()

function memoryStorage() {
  const items = new Map()
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  }
}

// An auth-js error, a WebAuthnError or a DOMException, as JSON
function describe(error) {
  if (!error) return null
  const cause = error.cause ?? error.originalError
  return {
    name: error.name ?? null,
    status: error.status ?? null,
    code: error.code ?? null,
    message: error.message ?? String(error),
    cause: cause ? { name: cause.name ?? null, message: cause.message ?? String(cause) } : null,
  }
}

async function answer(promise) {
  try {
    const { data, error } = await promise
    return { data: data === undefined ? null : JSON.parse(JSON.stringify(data)), error: describe(error) }
  } catch (thrown) {
    return { data: null, error: { ...describe(thrown), thrown: true } }
  }
}

const app = {
  // url: the shim; one client per page load
  init(url) {
    auth = new AuthClient({
      url,
      headers: { apikey: 'anon-key' },
      storage: memoryStorage(),
      storageKey: 'webauthn-page',
      persistSession: true,
      autoRefreshToken: false,
      detectSessionInUrl: false,
    })
    return { origin: window.location.origin, secure: window.isSecureContext }
  },
  async session() {
    const { data } = await auth.getSession()
    return data.session ? JSON.parse(JSON.stringify(data.session)) : null
  },
  signUp: (email, password) => answer(auth.signUp({ email, password })),
  signInWithPassword: (email, password) => answer(auth.signInWithPassword({ email, password })),
  signOut: () => answer(auth.signOut().then((r) => ({ data: null, error: r.error }))),

  // passkeys: GoTrueClient's one-call helpers, then the steps
  registerPasskey: () => answer(auth.registerPasskey()),
  signInWithPasskey: () => answer(auth.signInWithPasskey()),
  listPasskeys: () => answer(auth.passkey.list()),
  updatePasskey: (passkeyId, friendlyName) => answer(auth.passkey.update({ passkeyId, friendlyName })),
  deletePasskey: (passkeyId) => answer(auth.passkey.delete({ passkeyId })),

  // MFA: auth.mfa.* and auth.mfa.webauthn.*
  enroll: (friendlyName) => answer(auth.mfa.enroll({ factorType: 'webauthn', friendlyName })),
  listFactors: () => answer(auth.mfa.listFactors()),
  aal: () => answer(auth.mfa.getAuthenticatorAssuranceLevel()),
  // The server's challenge and the authenticator's answer to it (create or request), kept here;
  // answered with what the server asked for.
  async webauthnChallenge(factorId, friendlyName) {
    const { data, error } = await auth.mfa.webauthn.challenge({ factorId, friendlyName })
    if (error || !data) return { data: null, error: describe(error) }
    pending.set(data.challengeId, data)
    return { data: { challengeId: data.challengeId, type: data.webauthn.type }, error: null }
  },
  webauthnVerify: (factorId, challengeId) => {
    const challenge = pending.get(challengeId)
    pending.delete(challengeId)
    return answer(auth.mfa.webauthn.verify({ factorId, challengeId, webauthn: challenge.webauthn }))
  },
  // the one-call helpers; overrides: what auth-js passes on to navigator.credentials
  webauthnAuthenticate: (factorId, overrides) => answer(auth.mfa.webauthn.authenticate({ factorId }, overrides)),
  webauthnRegister: (friendlyName, overrides) => answer(auth.mfa.webauthn.register({ friendlyName }, overrides)),

  // By hand: the authenticator's answer to options the test fetched itself, as the JSON a
  // client posts (auth-js's serializers), not sent anywhere.
  async assert(options) {
    try {
      const credential = await navigator.credentials.get({ publicKey: deserializeCredentialRequestOptions(options) })
      return { data: serializeCredentialRequestResponse(credential), error: null }
    } catch (thrown) {
      return { data: null, error: describe(thrown) }
    }
  },
  async create(options) {
    try {
      const credential = await navigator.credentials.create({ publicKey: deserializeCredentialCreationOptions(options) })
      return { data: serializeCredentialCreationResponse(credential), error: null }
    } catch (thrown) {
      return { data: null, error: describe(thrown) }
    }
  },
}

window.app = app
document.getElementById('status').textContent = 'ready'
