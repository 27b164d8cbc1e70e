// Self-test of the providers and the driver: node selftest.mjs
//
// Starts oidc.mjs and github.mjs as child processes on free ports, plus a
// tiny fake "shim" (an RP with /authorize and /callback, keeping its state in
// a cookie), runs the flows through browser.mjs, checks every answer, and
// exits 0 only when every check passed. Last line: "N passed, N failed".
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { followToCallback, followAll, idTokenFor, exchangeCode, CookieJar } from './browser.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CB = 'http://127.0.0.1:9/cb'; // a dummy callback: the driver stops before requesting it
const APP = 'http://127.0.0.1:9/app'; // the fake shim's redirect_to
const OIDC = { id: 'selftest-oidc', secret: 'selftest-oidc-secret' };
const GH = { id: 'selftest-gh', secret: 'selftest-gh-secret' };
const RUN = randomBytes(4).toString('hex'); // unique login names per run

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || detail === undefined ? '' : ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
}
async function group(name, fn) {
  try {
    await fn();
  } catch (err) {
    check(`${name}: ran to the end`, false, err.stack);
  }
}
async function throws(fn) {
  try { await fn(); return null; } catch (err) { return err; }
}

const children = [];
function start(file, env) {
  const child = spawn(process.execPath, [file], { cwd: HERE, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no ready line in 20 s\n${stderr}`)), 20000);
    child.on('exit', (code) => reject(new Error(`${file} exited ${code}\n${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^(?:oidc|github)-provider ready (http:\/\/\S+)$/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
}

// The fake shim: /authorize sends the browser to the OIDC provider with a
// state it also sets as a cookie; /callback checks both, exchanges the code
// and sends the browser to APP#email=... . It proves the jar carries the
// RP's own cookies across the provider's pages.
let shim;
let shimCallback;
function startShim(providerMeta) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, shim);
    if (url.pathname === '/authorize') {
      const state = randomBytes(8).toString('hex');
      const to = new URL(providerMeta.authorization_endpoint);
      to.search = new URLSearchParams({ response_type: 'code', client_id: OIDC.id, redirect_uri: shimCallback, scope: 'openid email', state });
      res.writeHead(302, { location: to.href, 'set-cookie': `rp_state=${state}; Path=/callback; HttpOnly` });
      return res.end();
    }
    if (url.pathname === '/callback') {
      const cookieState = (req.headers.cookie ?? '').match(/rp_state=(\w+)/)?.[1];
      if (!cookieState || cookieState !== url.searchParams.get('state')) {
        res.writeHead(400);
        return res.end('state cookie missing or different');
      }
      try {
        const tok = await exchangeCode(providerMeta.token_endpoint, {
          code: url.searchParams.get('code'), clientId: OIDC.id, clientSecret: OIDC.secret, redirectUri: shimCallback,
        });
        res.writeHead(302, { location: `${APP}#email=${jose.decodeJwt(tok.id_token).email}`, 'set-cookie': 'rp_state=; Path=/callback; Max-Age=0' });
      } catch (err) {
        res.writeHead(302, { location: `${APP}#error=${encodeURIComponent(err.message)}` });
      }
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    shim = `http://127.0.0.1:${server.address().port}`;
    shimCallback = `${shim}/callback`;
    server.unref();
    resolve();
  }));
}

const form = (o) => new URLSearchParams(o);
const post = (url, body, headers = {}) => fetch(url, { method: 'POST', body, headers: { accept: 'application/json', ...headers } });
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const arm = (base, endpoint, mode, count = 1) => post(`${base}/__control/misbehave?${form({ endpoint, mode, count })}`).then((r) => r.json());

async function oidcTests(issuer) {
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
  const verify = (t) => jose.jwtVerify(t, jwks, { issuer, audience: OIDC.id, algorithms: ['RS256'] });

  // One authorization leg through the driver, returning the callback's query.
  async function authorize(login, extra = {}, opts = {}) {
    const state = randomBytes(8).toString('hex');
    const u = new URL(meta.authorization_endpoint);
    u.search = form({ response_type: 'code', client_id: OIDC.id, redirect_uri: CB, scope: 'openid email profile', state, ...extra });
    const cb = new URL(await followToCallback(u.href, { login, callbackPrefix: CB, ...opts }));
    return { ...Object.fromEntries(cb.searchParams), sentState: state };
  }
  const tokenBody = (code, extra = {}) => form({
    grant_type: 'authorization_code', code, redirect_uri: CB, client_id: OIDC.id, client_secret: OIDC.secret, ...extra,
  });

  await group('oidc discovery', async () => {
    check('oidc: issuer', meta.issuer === issuer, meta.issuer);
    check('oidc: client_secret_post offered', meta.token_endpoint_auth_methods_supported.includes('client_secret_post'));
    check('oidc: RS256 ID tokens', meta.id_token_signing_alg_values_supported.includes('RS256'));
    check('oidc: PKCE S256', meta.code_challenge_methods_supported?.includes('S256'));
    check('oidc: scopes email, profile', ['openid', 'email', 'profile'].every((s) => meta.scopes_supported.includes(s)), meta.scopes_supported);
    const keys = (await (await fetch(meta.jwks_uri)).json()).keys;
    check('oidc: JWKS has one public RSA key', keys.length === 1 && keys[0].kty === 'RSA' && !keys[0].d, keys);
  });

  await group('oidc alice: code flow with PKCE and nonce', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const cb = await authorize('alice', { code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-alice' });
    check('oidc alice: code and state on the callback', cb.code && cb.state === cb.sentState, cb);
    check('oidc alice: iss on the callback (RFC 9207)', cb.iss === issuer, cb.iss);
    const bad = await post(meta.token_endpoint, tokenBody(cb.code, { code_verifier: `${verifier}x` }));
    check('oidc: a wrong code_verifier is invalid_grant', bad.status === 400 && (await bad.json()).error === 'invalid_grant');

    const cb2 = await authorize('alice', { code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-alice' });
    const tok = await exchangeCode(meta.token_endpoint, { code: cb2.code, clientId: OIDC.id, clientSecret: OIDC.secret, redirectUri: CB, codeVerifier: verifier });
    check('oidc alice: access, refresh and ID tokens', tok.access_token && tok.refresh_token && tok.id_token && tok.token_type === 'Bearer', tok);
    const { payload, protectedHeader } = await verify(tok.id_token);
    check('oidc alice: ID token RS256 with the JWKS kid', protectedHeader.alg === 'RS256' && protectedHeader.kid, protectedHeader);
    const want = {
      sub: 'sub-alice', email: 'alice@example.com', email_verified: true, name: 'Alice Example',
      preferred_username: 'alice', picture: `${issuer}/avatars/alice.png`, nonce: 'n-alice',
    };
    for (const [k, v] of Object.entries(want)) check(`oidc alice: id_token ${k}`, payload[k] === v, payload[k]);

    const info = await (await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } })).json();
    check('oidc alice: userinfo claims', ['sub', 'email', 'email_verified', 'name', 'preferred_username', 'picture'].every((k) => info[k] === want[k]), info);

    const refresh = () => post(meta.token_endpoint, form({ grant_type: 'refresh_token', refresh_token: tok.refresh_token, client_id: OIDC.id, client_secret: OIDC.secret }));
    const refreshed = await refresh();
    const rj = await refreshed.json();
    check('oidc: refresh_token grant', refreshed.status === 200 && rj.access_token && rj.access_token !== tok.access_token, rj);
    const again = await post(meta.token_endpoint, tokenBody(cb2.code, { code_verifier: verifier }));
    check('oidc: a used code is invalid_grant', again.status === 400 && (await again.json()).error === 'invalid_grant');
    // RFC 6749 4.1.2: a replayed code revokes what it had issued.
    const revoked = await refresh();
    check('oidc: the replay revoked the refresh token', revoked.status === 400 && (await revoked.json()).error === 'invalid_grant');
  });

  await group('oidc idTokenFor', async () => {
    const raw = `raw-${RUN}`;
    const tok = await idTokenFor({ issuer, clientId: OIDC.id, clientSecret: OIDC.secret, redirectUri: CB, login: 'bob', nonce: sha256hex(raw) });
    const { payload } = await verify(tok.id_token);
    check('oidc bob: email_verified false', payload.email_verified === false && payload.email === 'bob@example.com', payload);
    check('oidc bob: nonce as given, aud the client', payload.nonce === sha256hex(raw) && payload.aud === OIDC.id, payload);
    check('oidc bob: an access token too', typeof tok.access_token === 'string');
    const noNonce = jose.decodeJwt((await idTokenFor({ issuer, clientId: OIDC.id, clientSecret: OIDC.secret, redirectUri: CB, login: 'carol' })).id_token);
    check('oidc carol: no nonce when none is sent', noNonce.nonce === undefined && noNonce.email_verified === true, noNonce);

    for (const [login, verified] of [[`st-${RUN}`, true], [`st-${RUN}-unverified`, false]]) {
      const p = jose.decodeJwt((await idTokenFor({ issuer, clientId: OIDC.id, clientSecret: OIDC.secret, redirectUri: CB, login })).id_token);
      check(`oidc on-the-fly ${login}`, p.sub === `sub-${login}` && p.email === `${login}@example.com` && p.email_verified === verified, p);
    }
  });

  await group('oidc refusals', async () => {
    const cb = await authorize('alice');
    const wrong = await post(meta.token_endpoint, tokenBody(cb.code, { client_secret: 'nope' }));
    check('oidc: a wrong secret is 401 invalid_client', wrong.status === 401 && (await wrong.json()).error === 'invalid_client');
    const basic = await post(meta.token_endpoint, form({ grant_type: 'authorization_code', code: cb.code, redirect_uri: CB }), {
      authorization: `Basic ${Buffer.from(`${OIDC.id}:${OIDC.secret}`).toString('base64')}`,
    });
    check('oidc: client_secret_basic accepted as well', basic.status === 200 && (await basic.json()).id_token, basic.status);
    const both = await post(meta.token_endpoint, tokenBody((await authorize('alice')).code), {
      authorization: `Basic ${Buffer.from(`${OIDC.id}:${OIDC.secret}`).toString('base64')}`,
    });
    check('oidc: basic and post at once is invalid_request', both.status === 400 && (await both.json()).error === 'invalid_request');

    const plain = await authorize('alice', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    check('oidc: PKCE plain is refused', plain.error === 'invalid_request' && !plain.code, plain);
    const denied = await authorize('alice', {}, { consent: false });
    check('oidc: denied consent is error=access_denied with state', denied.error === 'access_denied' && denied.state === denied.sentState, denied);

    const u = new URL(meta.authorization_endpoint);
    u.search = form({ response_type: 'code', client_id: OIDC.id, redirect_uri: 'http://127.0.0.1:9/evil', scope: 'openid', state: 's' });
    const err = await throws(() => followToCallback(u.href, { login: 'alice', callbackPrefix: 'http://127.0.0.1:9/' }));
    check('oidc: an unregistered redirect_uri gets an error page, no redirect', err && /stuck: 400/.test(err.message), err?.message);
    const badLogin = await throws(() => authorize('no spaces allowed'));
    check('oidc: an invalid login name stays on the login page', badLogin && /stuck: 400/.test(badLogin.message), badLogin?.message);
  });

  await group('oidc misbehave', async () => {
    const armed = await arm(issuer, 'token', 'garbage', 2);
    check('oidc misbehave: armed', armed.armed?.token?.mode === 'garbage' && armed.armed.token.count === 2, armed);
    for (const n of [1, 2]) {
      const r = await post(meta.token_endpoint, tokenBody((await authorize('alice')).code));
      const text = await r.text();
      check(`oidc misbehave garbage ${n}/2: 200, not JSON`, r.status === 200 && (await throws(() => JSON.parse(text))) !== null, text);
    }
    const back = await post(meta.token_endpoint, tokenBody((await authorize('alice')).code));
    check('oidc misbehave: back to normal after count', back.status === 200 && (await back.json()).id_token);

    await arm(issuer, 'token', 'error');
    const e500 = await post(meta.token_endpoint, tokenBody((await authorize('alice')).code));
    check('oidc misbehave error: 500', e500.status === 500, e500.status);

    await arm(issuer, 'token', 'hang');
    const code = (await authorize('alice')).code;
    const t0 = Date.now();
    const hung = await throws(() => fetch(meta.token_endpoint, { method: 'POST', body: tokenBody(code), signal: AbortSignal.timeout(1500) }));
    check('oidc misbehave hang: no answer within 1.5 s', hung?.name === 'TimeoutError' && Date.now() - t0 >= 1400, hung?.name);

    await arm(issuer, 'token', 'forge');
    const forged = await (await post(meta.token_endpoint, tokenBody((await authorize('alice')).code))).json();
    const bad = await throws(() => verify(forged.id_token));
    check('oidc misbehave forge: the ID token fails verification', bad?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', bad?.code);
    check('oidc misbehave forge: the claims are still right', jose.decodeJwt(forged.id_token).sub === 'sub-alice');

    await arm(issuer, 'userinfo', 'error', 5);
    const off = await arm(issuer, 'userinfo', 'off');
    check('oidc misbehave: mode=off disarms', Object.keys(off.armed).length === 0, off);
    const badMode = await post(`${issuer}/__control/misbehave?endpoint=token&mode=sideways`);
    check('oidc misbehave: an unknown mode is 400', badMode.status === 400);
  });

  await group('driver through a fake shim', async () => {
    const start = `${shim}/authorize`;
    const app = await followAll(start, { stopAt: APP, login: `shim-${RUN}` });
    check('followAll: /authorize to the app in one walk', app === `${APP}#email=shim-${RUN}@example.com`, app);

    const jar = new CookieJar();
    const cb = await followToCallback(start, { login: 'carol', callbackPrefix: shimCallback, jar });
    check('followToCallback: stops at the shim callback', cb.startsWith(`${shimCallback}?code=`), cb);
    const app2 = await followAll(cb, { stopAt: APP, jar });
    check('followAll: through the callback with the same jar', app2 === `${APP}#email=carol@example.com`, app2);

    const cb3 = await followToCallback(start, { login: 'carol', callbackPrefix: shimCallback });
    const noJar = await throws(() => followAll(cb3, { stopAt: APP }));
    check('followAll: a fresh jar lacks the shim cookie (400)', noJar && /stuck: 400/.test(noJar.message), noJar?.message);
  });
}

async function githubTests(base) {
  const authorizeUrl = (extra = {}) => `${base}/login/oauth/authorize?${form({ client_id: GH.id, redirect_uri: CB, scope: 'user:email read:user', ...extra })}`;
  async function authorize(login, extra = {}, opts = {}) {
    const state = randomBytes(8).toString('hex');
    const cb = new URL(await followToCallback(authorizeUrl({ state, ...extra }), { login, callbackPrefix: CB, ...opts }));
    return { ...Object.fromEntries(cb.searchParams), sentState: state };
  }
  const tokenBody = (code, extra = {}) => form({ client_id: GH.id, client_secret: GH.secret, code, redirect_uri: CB, ...extra });
  const tokenFor = async (login) => (await (await post(`${base}/login/oauth/access_token`, tokenBody((await authorize(login)).code))).json()).access_token;
  const get = (path, tok) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tok}`, accept: 'application/vnd.github+json' } });

  await group('github alice', async () => {
    const cb = await authorize('alice');
    check('github alice: code and state on the callback', /^[0-9a-f]{20}$/.test(cb.code) && cb.state === cb.sentState, cb);
    const r = await post(`${base}/login/oauth/access_token`, tokenBody(cb.code));
    const tok = await r.json();
    check('github alice: token JSON', r.status === 200 && tok.access_token?.startsWith('gho_') && tok.token_type === 'bearer' && tok.scope === 'user:email,read:user', tok);

    const user = await (await get('/api/user', tok.access_token)).json();
    check('github alice: /api/user', Number.isInteger(user.id) && user.login === 'alice' && user.email === 'alice@example.com'
      && user.name === 'Alice Example' && typeof user.avatar_url === 'string', user);
    const v3 = await (await get('/api/v3/user', tok.access_token)).json();
    check('github: /api/v3/user is the same', v3.id === user.id);
    const emails = await (await get('/api/user/emails', tok.access_token)).json();
    check('github alice: /api/user/emails', emails.length === 1 && emails[0].email === 'alice@example.com'
      && emails[0].primary === true && emails[0].verified === true && emails[0].visibility === 'public', emails);
    const user2 = await (await get('/user', await tokenFor('alice'))).json();
    check('github: the id is stable per login', user2.id === user.id, [user.id, user2.id]);
    const bob = await (await get('/user', await tokenFor('bob'))).json();
    check('github: another login, another id', Number.isInteger(bob.id) && bob.id !== user.id, bob.id);

    const again = await (await post(`${base}/login/oauth/access_token`, tokenBody(cb.code))).json();
    check('github: a used code is 200 bad_verification_code', again.error === 'bad_verification_code', again);
    const none = await get('/api/user', 'gho_nope');
    check('github: a bad token is 401 Bad credentials', none.status === 401 && (await none.json()).message === 'Bad credentials');
  });

  await group('github accounts', async () => {
    for (const [login, verified] of [['bob', false], [`gh-${RUN}`, true], [`gh-${RUN}-unverified`, false]]) {
      const tok = await tokenFor(login);
      const [user, emails] = await Promise.all([get('/api/user', tok), get('/api/user/emails', tok)].map(async (p) => (await p).json()));
      check(`github ${login}: login, email, verified ${verified}`, user.login === login && emails[0].email === `${login}@example.com`
        && emails[0].verified === verified, { user, emails });
    }
  });

  await group('github refusals', async () => {
    const url = `${base}/login/oauth/access_token`;
    const wrongSecret = await (await post(url, tokenBody((await authorize('alice')).code, { client_secret: 'nope' }))).json();
    check('github: a wrong secret is incorrect_client_credentials', wrongSecret.error === 'incorrect_client_credentials', wrongSecret);
    const wrongUri = await (await post(url, tokenBody((await authorize('alice')).code, { redirect_uri: 'http://127.0.0.1:9/other' }))).json();
    check('github: another redirect_uri is redirect_uri_mismatch', wrongUri.error === 'redirect_uri_mismatch', wrongUri);
    const formAnswer = await fetch(url, { method: 'POST', body: tokenBody((await authorize('alice')).code) });
    const parsed = new URLSearchParams(await formAnswer.text());
    check('github: without Accept json the answer is form-encoded', formAnswer.headers.get('content-type').startsWith('application/x-www-form-urlencoded')
      && parsed.get('access_token')?.startsWith('gho_') && parsed.get('token_type') === 'bearer');
    const basic = await (await post(url, form({ code: (await authorize('alice')).code }), {
      authorization: `Basic ${Buffer.from(`${GH.id}:${GH.secret}`).toString('base64')}`,
    })).json();
    check('github: client credentials by Basic also work', basic.access_token?.startsWith('gho_'), basic);

    const denied = await authorize('alice', {}, { consent: false });
    check('github: denied is error=access_denied with state', denied.error === 'access_denied' && denied.state === denied.sentState, denied);
    const mismatch = await authorize('alice', { redirect_uri: 'http://127.0.0.1:9/evil' });
    check('github: an unregistered redirect_uri goes to the registered one with an error', mismatch.error === 'redirect_uri_mismatch', mismatch);
    const unknown = await fetch(`${base}/login/oauth/authorize?client_id=nope&state=s`, { redirect: 'manual' });
    check('github: an unknown client_id is 404', unknown.status === 404, unknown.status);

    const verifier = randomBytes(32).toString('base64url');
    const pkce = { code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
    const badPkce = await (await post(url, tokenBody((await authorize('alice', pkce)).code, { code_verifier: 'x' }))).json();
    check('github: PKCE, a wrong verifier is refused', badPkce.error === 'bad_verification_code', badPkce);
    const goodPkce = await (await post(url, tokenBody((await authorize('alice', pkce)).code, { code_verifier: verifier }))).json();
    check('github: PKCE, the right verifier is accepted', goodPkce.access_token?.startsWith('gho_'), goodPkce);
  });

  await group('github misbehave', async () => {
    const url = `${base}/login/oauth/access_token`;
    await arm(base, 'token', 'hang');
    const code = (await authorize('alice')).code;
    const hung = await throws(() => fetch(url, { method: 'POST', body: tokenBody(code), signal: AbortSignal.timeout(1000) }));
    check('github misbehave hang: no answer within 1 s', hung?.name === 'TimeoutError', hung?.name);
    const tok = await tokenFor('alice');
    check('github misbehave: the next token request is normal', tok?.startsWith('gho_'), tok);
    await arm(base, 'user', 'garbage');
    const g = await get('/api/user', tok);
    check('github misbehave garbage: /api/user 200, not JSON', g.status === 200 && (await throws(async () => JSON.parse(await g.text()))) !== null);
    await arm(base, 'emails', 'error');
    check('github misbehave error: /api/user/emails 500', (await get('/api/user/emails', tok)).status === 500);
    check('github misbehave: then normal again', (await get('/api/user/emails', tok)).status === 200);
    const forge = await post(`${base}/__control/misbehave?endpoint=token&mode=forge`);
    check('github misbehave: forge is OIDC only (400)', forge.status === 400);
  });
}

try {
  // The fake shim needs the OIDC discovery, the OIDC provider the shim's
  // callback: bind the shim first, fill in the discovery once known.
  const meta = {};
  await startShim(meta);
  const [issuer, github] = await Promise.all([
    start('oidc.mjs', { OIDC_PORT: '0', OIDC_CLIENT_ID: OIDC.id, OIDC_CLIENT_SECRET: OIDC.secret, OIDC_REDIRECT_URIS: `${CB},${shimCallback}` }),
    start('github.mjs', { GITHUB_PORT: '0', GITHUB_CLIENT_ID: GH.id, GITHUB_CLIENT_SECRET: GH.secret, GITHUB_REDIRECT_URIS: CB }),
  ]);
  Object.assign(meta, await (await fetch(`${issuer}/.well-known/openid-configuration`)).json());
  await oidcTests(issuer);
  await githubTests(github);
} catch (err) {
  check('providers started', false, err.stack);
} finally {
  for (const child of children) child.kill();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
