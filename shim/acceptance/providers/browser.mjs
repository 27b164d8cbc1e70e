// A browser-like HTTP driver for the providers' login and consent pages.
//
// It follows redirects by hand (fetch with redirect: 'manual'), keeps cookies
// per origin (scheme://host:port, honouring Path and deletion), and on an HTML
// page submits the forms of pages.mjs: data-step="login" with the login name,
// then data-step="consent" (or "deny" when consent is false).
//
//   followToCallback(authorizeUrl, { login, consent, callbackPrefix, jar })
//     -> the first redirect target starting with callbackPrefix, not requested
//   followAll(url, { stopAt, login, consent, jar })
//     -> the same, for e.g. the shim's /callback on to the app's redirect_to
//   idTokenFor({ issuer, clientId, clientSecret, redirectUri, login, nonce })
//     -> the OIDC provider's token response ({ id_token, access_token, ... })
//        after a real code flow; nonce is sent as given.
// Pass the same jar (new CookieJar()) to several calls to keep one browser,
// e.g. the shim's cookies from /authorize to /callback. Without one, each call
// is a fresh browser, so the providers always ask for a login.
import { randomBytes } from 'node:crypto';

const MAX_HOPS = 30;

export class CookieJar {
  #byOrigin = new Map(); // origin -> Map("name;path" -> { name, value, path })

  store(url, response) {
    const { origin } = new URL(url);
    if (!this.#byOrigin.has(origin)) this.#byOrigin.set(origin, new Map());
    const cookies = this.#byOrigin.get(origin);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      if (expired) cookies.delete(`${name};${path}`);
      else cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  header(url) {
    const { origin, pathname } = new URL(url);
    const matches = [...(this.#byOrigin.get(origin)?.values() ?? [])].filter(
      (c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

// One request with the jar's cookies; returns the response (body unread).
async function request(jar, url, { method = 'GET', form } = {}) {
  const headers = { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(15000) });
  jar.store(url, res);
  return res;
}

const unescape = (s) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]);
const attrsOf = (s) => Object.fromEntries([...s.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k.toLowerCase(), unescape(v)]));

// The forms of an HTML page: { step, action, method, fields } each.
export function parseForms(html, baseUrl) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, attrs, inner]) => {
    const a = attrsOf(attrs);
    const fields = {};
    for (const [, input] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const i = attrsOf(input);
      if (i.name) fields[i.name] = i.value ?? '';
    }
    return {
      step: a['data-step'],
      action: new URL(a.action ?? '', baseUrl).href,
      method: (a.method ?? 'get').toUpperCase(),
      fields,
    };
  });
}

// Walks from url until a redirect's target starts with stop; returns that target.
async function walk(url, { stop, login, consent = true, jar = new CookieJar() }) {
  if (!stop) throw new Error('a stop prefix is required');
  let next = { url, method: 'GET' };
  const trail = [];
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    trail.push(`${next.method} ${next.url}`);
    const res = await request(jar, next.url, next);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer(); // drain, so the connection can be reused
      const target = new URL(location, next.url).href;
      if (target.startsWith(stop)) return target;
      // 307/308 repeat the method and body; the others become a GET, as in browsers.
      next = res.status === 307 || res.status === 308 ? { ...next, url: target } : { url: target, method: 'GET' };
      continue;
    }
    const text = await res.text();
    const forms = res.status === 200 ? parseForms(text, next.url) : [];
    const want = forms.find((f) => f.step === 'login') ? 'login' : consent ? 'consent' : 'deny';
    const form = forms.find((f) => f.step === want);
    if (!form) {
      throw new Error(`stuck: ${res.status} at ${next.url} without a redirect to ${stop}\n`
        + `trail:\n  ${trail.join('\n  ')}\nbody: ${text.slice(0, 500)}`);
    }
    if (want === 'login') {
      if (login === undefined) throw new Error(`a login page at ${next.url}, but no login name was given`);
      form.fields.login = login;
    }
    if (form.method === 'GET') {
      const u = new URL(form.action);
      u.search = new URLSearchParams(form.fields);
      next = { url: u.href, method: 'GET' };
    } else {
      next = { url: form.action, method: form.method, form: form.fields };
    }
  }
  throw new Error(`more than ${MAX_HOPS} hops:\n  ${trail.join('\n  ')}`);
}

export async function followToCallback(authorizeUrl, { login, consent = true, callbackPrefix, jar } = {}) {
  return walk(authorizeUrl, { stop: callbackPrefix, login, consent, jar });
}

export async function followAll(url, { stopAt, login, consent = true, jar } = {}) {
  return walk(url, { stop: stopAt, login, consent, jar });
}

// The real authorization-code flow against the OIDC provider, as the relying
// party would run it, for signInWithIdToken tests: aud is clientId, and the
// nonce claim is exactly the nonce given (pass sha256 hex of the raw nonce to
// mimic supabase-js). authMethod: client_secret_post or client_secret_basic.
export async function idTokenFor({
  issuer, clientId, clientSecret, redirectUri, login, nonce,
  scope = 'openid email profile', authMethod = 'client_secret_post',
}) {
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const state = randomBytes(12).toString('hex');
  const authorize = new URL(meta.authorization_endpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope, state,
    ...(nonce !== undefined && { nonce }),
  });
  const callback = new URL(await followToCallback(authorize.href, { login, callbackPrefix: redirectUri }));
  const got = Object.fromEntries(callback.searchParams);
  if (got.error) throw new Error(`authorization failed: ${got.error} ${got.error_description ?? ''}`);
  if (got.state !== state) throw new Error(`state mismatch: ${got.state} != ${state}`);
  return exchangeCode(meta.token_endpoint, {
    code: got.code, clientId, clientSecret, redirectUri, authMethod,
  });
}

// POSTs an authorization code to an OAuth token endpoint; returns the parsed JSON.
export async function exchangeCode(tokenEndpoint, {
  code, clientId, clientSecret, redirectUri, codeVerifier, authMethod = 'client_secret_post',
}) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (codeVerifier) form.code_verifier = codeVerifier;
  if (authMethod === 'client_secret_basic') {
    const enc = (s) => encodeURIComponent(s); // RFC 6749 2.3.1: form-encode, then base64
    headers.authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
  } else {
    Object.assign(form, { client_id: clientId, client_secret: clientSecret });
  }
  const res = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { throw new Error(`token endpoint: ${res.status} non-JSON: ${text.slice(0, 200)}`); }
  if (!res.ok || json.error) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
