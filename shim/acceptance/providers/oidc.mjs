// A real OpenID Connect provider for the acceptance tests: panva's
// oidc-provider (OpenID Certified), with one confidential client, the
// accounts of accounts.mjs, and a login/consent flow drivable by plain HTTP.
//
//   node oidc.mjs      prints "oidc-provider ready http://127.0.0.1:PORT"
//
// env (defaults in brackets):
//   OIDC_PORT                 [54631]  0 picks a free port (the ready line tells)
//   OIDC_CLIENT_ID            [auth-ext]
//   OIDC_CLIENT_SECRET        [auth-ext-secret]
//   OIDC_REDIRECT_URIS        [http://127.0.0.1:54611/callback]  comma-separated, exact match
//
// Client authentication at the token endpoint: the client is registered as
// client_secret_post, and oidc-provider takes client_secret_basic for it just
// as well (it treats the two as one); sending both at once is invalid_request.
// Issuer http://127.0.0.1:PORT; discovery at /.well-known/openid-configuration,
// authorize /auth, token /token, userinfo /me, JWKS /jwks. ID tokens are RS256
// and carry sub, email, email_verified, name, picture, preferred_username (as
// granted by the scopes openid email profile), plus nonce when one was sent.
// sub is "sub-<login>". A refresh token comes with every code exchange.
// PKCE (S256 only) is honoured when sent, not required.
//
// Login and consent (no JS, see pages.mjs):
//   GET  /interaction/:uid          the login form (field "login") or the consent page
//   POST /interaction/:uid/login    login=<name> signs in as that account
//   POST /interaction/:uid/confirm  grants every scope and claim asked for
//   POST /interaction/:uid/abort    the client gets error=access_denied
//
// Misbehave switch (see misbehave.mjs), endpoints "token" and "userinfo":
//   curl -X POST 'http://127.0.0.1:PORT/__control/misbehave?endpoint=token&mode=hang&count=1'
//   modes hang | garbage | error | forge (forge: token endpoint only: the
//   id_token is signed by a key not in the JWKS); mode=off clears.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';
import { account, validLogin } from './accounts.mjs';
import { createSwitch, misbehave } from './misbehave.mjs';
import { loginPage, consentPage, errorPage, readForm } from './pages.mjs';

const env = process.env;
const PORT = Number(env.OIDC_PORT ?? 54631);
const CLIENT_ID = env.OIDC_CLIENT_ID || 'auth-ext';
const CLIENT_SECRET = env.OIDC_CLIENT_SECRET || 'auth-ext-secret';
const REDIRECT_URIS = (env.OIDC_REDIRECT_URIS || 'http://127.0.0.1:54611/callback')
  .split(',').map((s) => s.trim()).filter(Boolean);

// Listen first: with OIDC_PORT=0 the issuer is only known once bound.
const server = http.createServer();
await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

// A fresh RS256 key per start: tests must read the JWKS, never pin a key.
const signingJwk = {
  ...(await jose.exportJWK((await jose.generateKeyPair('RS256', { extractable: true })).privateKey)),
  kid: `rs256-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig',
};
// The key "forge" signs with: same kid, never published.
const { privateKey: foreignKey } = await jose.generateKeyPair('RS256');

const subFor = (login) => `sub-${login}`;

async function findAccount(_ctx, sub) {
  const acct = sub.startsWith('sub-') ? account(sub.slice(4)) : null;
  if (!acct) return undefined;
  return {
    accountId: sub,
    // The provider keeps only what the granted scopes allow.
    async claims() {
      return {
        sub,
        email: acct.email,
        email_verified: acct.email_verified,
        name: acct.name,
        preferred_username: acct.login,
        picture: `${issuer}/avatars/${acct.login}.png`,
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingJwk] },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'picture', 'preferred_username'],
  },
  // Put the scope's claims in the ID token itself, not only in userinfo
  // (what Google and most real providers do, and what the shim reads).
  conformIdTokenClaims: false,
  findAccount,
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => false },
  // A refresh token with every code exchange, offline_access or not.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 120, IdToken: 3600, RefreshToken: 86400,
    Interaction: 600, Session: 86400, Grant: 86400,
  },
  clientBasedCORS: () => false,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage('oidc-provider error', `${out.error}: ${out.error_description ?? ''}`);
  },
});

const sw = createSwitch(['token', 'userinfo'], ['hang', 'garbage', 'error', 'forge']);
const ROUTE_OF = { [provider.pathFor('token')]: 'token', [provider.pathFor('userinfo')]: 'userinfo' };

// Our routes run before oidc-provider's own (Provider#use puts them first).
provider.use(async (ctx, next) => {
  if (ctx.path === '/__control/misbehave') {
    [ctx.status, ctx.body] = sw.control(ctx.method, new URLSearchParams(ctx.querystring));
    return;
  }
  const endpoint = ROUTE_OF[ctx.path];
  const mode = endpoint && ctx.method !== 'OPTIONS' ? sw.take(endpoint) : null;
  if (mode === 'forge') {
    await next();
    if (ctx.body?.id_token) ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token) };
    return;
  }
  if (mode) {
    ctx.respond = false; // we write the raw response ourselves
    await misbehave(mode, ctx.req, ctx.res);
    return;
  }
  const m = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (!m) return next();
  try {
    await interaction(ctx, m[2]);
  } catch (err) {
    // e.g. the interaction expired or its cookie is missing
    ctx.status = err.status ?? 400;
    ctx.type = 'html';
    ctx.body = errorPage('interaction error', `${err.name}: ${err.message}`);
  }
});

async function forge(idToken) {
  const { kid } = jose.decodeProtectedHeader(idToken);
  return new jose.SignJWT(jose.decodeJwt(idToken)).setProtectedHeader({ alg: 'RS256', kid }).sign(foreignKey);
}

async function interaction(ctx, action) {
  const { req, res } = ctx;
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  const base = `/interaction/${uid}`;
  const finish = async (result, merge) => {
    const to = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  };

  if (!action && ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = prompt.name === 'login'
      ? loginPage({ title: 'Sign in', action: `${base}/login` })
      : consentPage({
        title: 'Authorize',
        text: `${params.client_id} asks for: ${params.scope}`,
        allow: { action: `${base}/confirm` },
        deny: { action: `${base}/abort` },
      });
    return;
  }
  if (ctx.method !== 'POST') ctx.throw(405);

  if (action === 'login') {
    if (prompt.name !== 'login') ctx.throw(400, 'not at the login step');
    const login = (await readForm(req)).get('login') ?? '';
    if (!validLogin(login)) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = loginPage({ title: 'Sign in', action: `${base}/login`, error: `invalid login name: ${login}` });
      return;
    }
    await finish({ login: { accountId: subFor(login) } }, false);
  } else if (action === 'confirm') {
    if (prompt.name !== 'consent') ctx.throw(400, 'not at the consent step');
    // Grant exactly what is missing: every requested scope and claim.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await finish({ consent: details.grantId ? {} : { grantId } }, true);
  } else if (action === 'abort') {
    await finish({ error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  } else {
    ctx.throw(404);
  }
}

server.on('request', provider.callback());
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
console.log(`oidc-provider ready ${issuer}`);
