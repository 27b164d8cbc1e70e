// A GitHub-style OAuth 2.0 provider (not OIDC: no ID token, no discovery)
// for the acceptance tests, with the accounts of accounts.mjs.
//
//   node github.mjs    prints "github-provider ready http://127.0.0.1:PORT"
//
// env (defaults in brackets):
//   GITHUB_PORT            [54632]  0 picks a free port (the ready line tells)
//   GITHUB_CLIENT_ID       [auth-ext-github]
//   GITHUB_CLIENT_SECRET   [auth-ext-github-secret]
//   GITHUB_REDIRECT_URIS   [http://127.0.0.1:54611/callback]  comma-separated, exact match
//
// One host serves both of GitHub's (github.com and api.github.com); the API is
// also under /api/v3 (GitHub Enterprise, what GoTrue calls for a custom URL):
//   GET  /login/oauth/authorize?client_id&redirect_uri&state&scope[&code_challenge&code_challenge_method=S256]
//        no session: 302 /login?return_to=...; then the consent page; then
//        302 redirect_uri?code&state (or ?error=access_denied&state when denied).
//        A redirect_uri not registered: 302 to the first registered one with
//        error=redirect_uri_mismatch, as GitHub does. Unknown client_id: 404.
//   GET  /login                        the login form (field "login"), posts to /session
//   POST /login/oauth/access_token     client_id, client_secret (body, or Basic),
//        code, redirect_uri[, code_verifier]. JSON when Accept has
//        application/json, else form-encoded, like GitHub. Errors are 200 too:
//        incorrect_client_credentials, bad_verification_code, redirect_uri_mismatch.
//        Codes are single use and live 10 minutes. grant_type is not needed.
//   GET  /user, /api/user, /api/v3/user                (Authorization: Bearer|token <t>)
//        { id, login, name, avatar_url, email, ... }; 401 { message: "Bad credentials" }
//   GET  /user/emails, /api/user/emails, /api/v3/user/emails
//        [{ email, primary: true, verified, visibility: "public" }]
//
// Misbehave switch (see misbehave.mjs), endpoints "token", "user", "emails":
//   curl -X POST 'http://127.0.0.1:PORT/__control/misbehave?endpoint=token&mode=garbage&count=2'
//   modes hang | garbage | error; mode=off clears.
//
// Why not oauth2-mock-server: its token endpoint requires grant_type and only
// answers JSON, it validates neither client, secret, code nor redirect_uri,
// mints JWTs, answers a fixed userinfo whatever the token, and its authorize
// has no login step; every GitHub behaviour would have been an override of a
// built-in answer. (Its 9.x also wants Node >= 22.12; this machine has 20.)
import http from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { account, validLogin } from './accounts.mjs';
import { createSwitch, misbehave } from './misbehave.mjs';
import { loginPage, consentPage, errorPage, readForm } from './pages.mjs';

const env = process.env;
const PORT = Number(env.GITHUB_PORT ?? 54632);
const CLIENT_ID = env.GITHUB_CLIENT_ID || 'auth-ext-github';
const CLIENT_SECRET = env.GITHUB_CLIENT_SECRET || 'auth-ext-github-secret';
const REDIRECT_URIS = (env.GITHUB_REDIRECT_URIS || 'http://127.0.0.1:54611/callback')
  .split(',').map((s) => s.trim()).filter(Boolean);
const CODE_TTL_MS = 10 * 60 * 1000;

const sessions = new Map(); // user_session cookie -> login
const codes = new Map(); // code -> { login, redirectUri, scope, challenge, exp }
const tokens = new Map(); // access token -> { login, scope }
const sw = createSwitch(['token', 'user', 'emails']);
let base; // http://127.0.0.1:PORT, once listening

const token = (prefix) => prefix + randomBytes(27).toString('base64url'); // gho_ + 36 chars, as GitHub's
const same = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function send(res, status, body, headers = {}) {
  const json = typeof body !== 'string';
  res.writeHead(status, { 'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8', ...headers });
  res.end(json ? JSON.stringify(body) : body);
}
const redirect = (res, to, headers = {}) => { res.writeHead(302, { location: to, ...headers }); res.end(); };

function sessionLogin(req) {
  const m = (req.headers.cookie ?? '').match(/(?:^|;\s*)user_session=([^;]+)/);
  return m ? sessions.get(m[1]) : undefined;
}

// GET (and the consent form's POST to) /login/oauth/authorize.
async function authorize(req, res, url) {
  const params = req.method === 'POST' ? await readForm(req) : url.searchParams;
  const clientId = params.get('client_id');
  if (clientId !== CLIENT_ID) return send(res, 404, errorPage('Not Found', `unknown client_id: ${clientId}`));
  const state = params.get('state');
  const redirectUri = params.get('redirect_uri') || REDIRECT_URIS[0];
  const back = (to, query) => {
    const u = new URL(to);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    if (state !== null) u.searchParams.set('state', state);
    redirect(res, u.href);
  };
  if (!REDIRECT_URIS.includes(redirectUri)) {
    return back(REDIRECT_URIS[0], {
      error: 'redirect_uri_mismatch',
      error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
    });
  }
  const challenge = params.get('code_challenge');
  if (challenge && (params.get('code_challenge_method') ?? 'plain') !== 'S256') {
    return back(redirectUri, { error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
  }
  const login = sessionLogin(req);
  if (!login) return redirect(res, `/login?${new URLSearchParams({ client_id: clientId, return_to: url.pathname + url.search })}`);

  if (req.method === 'GET') {
    // GitHub asks once per app; here every time, so that every run is alike.
    const hidden = Object.fromEntries(url.searchParams);
    return send(res, 200, consentPage({
      title: 'Authorize application',
      text: `${clientId} wants to access ${login}'s account (${params.get('scope') || 'no scope'})`,
      allow: { action: '/login/oauth/authorize', hidden: { ...hidden, authorize: '1' } },
      deny: { action: '/login/oauth/authorize', hidden: { ...hidden, authorize: '0' } },
    }));
  }
  if (params.get('authorize') !== '1') {
    return back(redirectUri, {
      error: 'access_denied', error_description: 'The user has denied your application access.',
    });
  }
  const code = randomBytes(10).toString('hex'); // GitHub's codes are 20 hex digits
  // GitHub's token answer lists the scopes comma-separated; asked for with spaces or commas.
  const scope = (params.get('scope') ?? '').split(/[\s,]+/).filter(Boolean).join(',');
  codes.set(code, { login, redirectUri, scope, challenge, exp: Date.now() + CODE_TTL_MS });
  back(redirectUri, { code });
}

async function login(req, res, url) {
  if (req.method === 'GET') {
    return send(res, 200, loginPage({
      title: 'Sign in to GitHub', action: '/session', hidden: { return_to: url.searchParams.get('return_to') ?? '/' },
    }));
  }
  const form = await readForm(req);
  const name = form.get('login') ?? '';
  // Only local paths: never an open redirect.
  const returnTo = (form.get('return_to') ?? '/').startsWith('/') ? form.get('return_to') : '/';
  if (!validLogin(name)) {
    return send(res, 400, loginPage({
      title: 'Sign in to GitHub', action: '/session', hidden: { return_to: returnTo }, error: `invalid login name: ${name}`,
    }));
  }
  const sid = token('');
  sessions.set(sid, name);
  redirect(res, returnTo, { 'set-cookie': `user_session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
}

async function accessToken(req, res) {
  const form = await readForm(req);
  const wantsJson = (req.headers.accept ?? '').includes('application/json');
  const answer = (body) => (wantsJson
    ? send(res, 200, body)
    : send(res, 200, new URLSearchParams(body).toString(), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }));
  const fail = (error, error_description) => answer({ error, error_description });

  let id = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = (req.headers.authorization ?? '').match(/^Basic\s+(.+)$/i);
  if (basic) {
    const [u, p = ''] = Buffer.from(basic[1], 'base64').toString().split(':');
    id = decodeURIComponent(u);
    secret = decodeURIComponent(p);
  }
  if (id !== CLIENT_ID || !same(secret ?? '', CLIENT_SECRET)) {
    return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
  }
  const code = codes.get(form.get('code') ?? '');
  codes.delete(form.get('code') ?? ''); // single use, even when the rest is wrong
  if (!code || code.exp < Date.now()) return fail('bad_verification_code', 'The code passed is incorrect or expired.');
  const redirectUri = form.get('redirect_uri');
  if (redirectUri && redirectUri !== code.redirectUri) {
    return fail('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
  }
  if (code.challenge) {
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) {
      return fail('bad_verification_code', 'The code_verifier does not match the code_challenge.');
    }
  }
  const accessTok = token('gho_');
  tokens.set(accessTok, { login: code.login, scope: code.scope });
  answer({ access_token: accessTok, token_type: 'bearer', scope: code.scope });
}

function api(req, res, what) {
  const m = (req.headers.authorization ?? '').match(/^(?:Bearer|token)\s+(\S+)$/i);
  const tok = m && tokens.get(m[1]);
  if (!tok) return send(res, 401, { message: 'Bad credentials', status: '401' });
  const acct = account(tok.login);
  if (what === 'emails') {
    return send(res, 200, [{ email: acct.email, primary: true, verified: acct.email_verified, visibility: 'public' }]);
  }
  send(res, 200, {
    login: acct.login,
    id: acct.numericId,
    node_id: Buffer.from(`04:User${acct.numericId}`).toString('base64'),
    avatar_url: `${base}/avatars/${acct.numericId}`,
    html_url: `${base}/${acct.login}`,
    type: 'User',
    site_admin: false,
    name: acct.name,
    email: acct.email,
  }, { 'x-oauth-scopes': tok.scope.split(',').join(', ') });
}

const ENDPOINT_OF = {
  '/login/oauth/access_token': 'token',
  '/user': 'user', '/api/user': 'user', '/api/v3/user': 'user',
  '/user/emails': 'emails', '/api/user/emails': 'emails', '/api/v3/user/emails': 'emails',
};

async function handle(req, res) {
  const url = new URL(req.url, base);
  const path = url.pathname;
  if (path === '/__control/misbehave') {
    const [status, body] = sw.control(req.method, url.searchParams);
    return send(res, status, body);
  }
  const endpoint = ENDPOINT_OF[path];
  const mode = endpoint && sw.take(endpoint);
  if (mode) return misbehave(mode, req, res);

  if (path === '/login/oauth/authorize' && ['GET', 'POST'].includes(req.method)) return authorize(req, res, url);
  if ((path === '/login' && req.method === 'GET') || (path === '/session' && req.method === 'POST')) return login(req, res, url);
  if (endpoint === 'token' && req.method === 'POST') return accessToken(req, res);
  if (endpoint && endpoint !== 'token' && req.method === 'GET') return api(req, res, endpoint);
  send(res, 404, { message: 'Not Found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, { message: String(err) });
  });
});
await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
base = `http://127.0.0.1:${server.address().port}`;
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
console.log(`github-provider ready ${base}`);
