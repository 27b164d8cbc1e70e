//! `GET|POST /callback`, in two calls of the broker (the shim), around the network it does:
//!
//! 1. `auth.oauth_callback_take(state)`: the state is taken (once; a replay finds nothing) and
//!    the broker gets what the token exchange needs, the client secret among it.
//! 2. `auth.oauth_callback_finish(state, ...)` with the provider's answer (its ID token, or its
//!    user API's answer): the ID token is verified here, the user found, linked or created,
//!    and the session (or the app's PKCE code) made; the answer is where to send the browser.
//!
//! A provider that fails between the two leaves a taken state behind and nothing else.

use auth_core::external::id_token::{self, Expected};
use auth_core::external::profile::{self, Profile};
use auth_core::external::STATE_LIFETIME_SECS;
use auth_core::jwt::KeyRing;
use auth_core::{pkce, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::accounts::{self, Outcome};
use super::{callback_url, fetch, missing, provider as load_provider, Provider};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance::{self, Instance};
use crate::request::{self, RequestInfo};
use crate::session_start::start_session;

static TAKE_STATE: &str = include_str!("take_state.sql");
static TAKEN_STATE: &str = include_str!("taken_state.sql");

fn state_hash(state: Option<&str>) -> AuthResult<String> {
    match state.filter(|s| !s.is_empty()) {
        None => Err(AuthError::bad_oauth_callback(
            "OAuth state parameter missing",
        )),
        Some(s) if s.len() > 128 => Err(AuthError::bad_oauth_state()),
        Some(s) => Ok(auth_core::external::state_hash(s)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Taking {
    provider: String,
    redirect_to: String,
    code_verifier: Option<String>,
    secret: Option<String>,
    age: f64,
}

/// Takes a flow's state: `{provider, redirect_to, token_url, token_auth, client_id,
/// client_secret, redirect_uri, code_verifier, userinfo_url, emails_url, oidc}`. For the broker
/// only: the answer holds the client secret.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn oauth_callback_take(state: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let hash = state_hash(state)?;
        let taking: Taking = db::typed(db::json(TAKE_STATE, &[hash.as_str().into()])?)?
            .ok_or_else(AuthError::bad_oauth_state)?;
        if taking.age > STATE_LIFETIME_SECS as f64 {
            return Err(AuthError::bad_oauth_state());
        }
        let p = load_provider(Some(&taking.provider))?;
        let endpoints = p.endpoints().map_err(|_| AuthError::bad_oauth_state())?;
        Ok(JsonB(json!({
            "provider": p.name,
            "redirect_to": taking.redirect_to,
            "token_url": endpoints.token,
            "token_auth": p.config.token_auth.as_str(),
            "client_id": p.client_id()?,
            "client_secret": taking.secret,
            "redirect_uri": callback_url(&inst),
            "code_verifier": taking.code_verifier,
            "userinfo_url": endpoints.userinfo,
            "emails_url": endpoints.emails,
            "oidc": p.flavor.is_oidc(),
        })))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakenState {
    id: uuid::Uuid,
    provider: String,
    redirect_to: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    link_user_id: Option<uuid::Uuid>,
    link_session_live: bool,
    age: f64,
}

/// The provider's user from its answer: a verified ID token (OpenID Connect), completed by the
/// userinfo answer; else the user API's answer. `Ok(Err(fetch))`: the provider's keys must be
/// fetched first.
pub(super) fn profile_from(
    p: &Provider,
    id_token_text: Option<&str>,
    userinfo: Option<&Value>,
    emails: Option<&Value>,
    expected_nonce: NonceRule,
    access_token: Option<&str>,
) -> AuthResult<Result<Profile, Value>> {
    // Only OpenID providers' ID tokens are read (GitLab hands one out for `openid` too).
    let id_token_text = id_token_text.filter(|_| p.flavor.is_oidc());
    let Some(token) = id_token_text.filter(|t| !t.is_empty()) else {
        if p.flavor.is_oidc() {
            // Providers read through userinfo (GoTrue's keycloak): the broker's answer.
            let info = userinfo.ok_or_else(|| {
                AuthError::bad_oauth_callback("Error getting user profile from external provider")
            })?;
            return profile::from_oidc(info, None).map(Ok);
        }
        let user = userinfo.ok_or_else(|| {
            AuthError::bad_oauth_callback("Error getting user profile from external provider")
        })?;
        return profile::from_api(p.flavor, user, emails).map(Ok);
    };
    let endpoints = match p.endpoints() {
        Ok(e) => e,
        Err(m) => return Ok(Err(missing(p, m))),
    };
    let jwks_url = endpoints.jwks_uri.clone().unwrap_or_default();
    let Some(jwks) = p.jwks.as_ref() else {
        return Ok(Err(fetch(&p.name, "jwks", &jwks_url)));
    };
    let ring = provider_ring(&p.name, jwks)?;
    let audiences = p.config.client_id.list();
    let (nonce, skip) = match &expected_nonce {
        NonceRule::Hashed(n) => (n.as_deref(), p.config.skip_nonce_check),
        NonceRule::Exact(_) => (None, true),
    };
    let expected = Expected {
        issuers: &endpoints.issuers,
        any_azure_tenant: endpoints.any_azure_tenant,
        audiences: &audiences,
        nonce,
        skip_nonce_check: skip,
        access_token,
        now: crate::now(),
    };
    let claims = match id_token::verify(token, &ring, &expected) {
        Ok(c) => c,
        // A key the cached JWKS lacks: the provider may have rotated; fetch once more (the
        // broker tries once, then the refusal stands).
        Err(e) if e.message().contains("(kid) is unknown") && p.config.jwks.is_none() => {
            return Ok(Err(fetch(&p.name, "jwks", &jwks_url)))
        }
        Err(e) => return Err(e),
    };
    if let NonceRule::Exact(Some(want)) = &expected_nonce {
        let got = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        let same: bool = got.as_bytes().ct_eq(want.as_bytes()).into();
        if !same && !p.config.skip_nonce_check {
            return Err(AuthError::bad_oidc_token("Nonces mismatch"));
        }
    }
    profile::from_oidc(&claims, userinfo).map(Ok)
}

/// Parsed provider key rings, per backend, by provider and JWKS: parsing one (importing and
/// checking each RSA modulus) costs ~24 ms for two RSA keys against ~0.4 ms for a verification.
const RING_CACHE: usize = 8;
thread_local! {
    static RINGS: std::cell::RefCell<Vec<(String, Value, std::rc::Rc<KeyRing>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn provider_ring(provider: &str, jwks: &Value) -> AuthResult<std::rc::Rc<KeyRing>> {
    let hit = RINGS.with(|r| {
        r.borrow()
            .iter()
            .find(|(name, doc, _)| name == provider && doc == jwks)
            .map(|(_, _, ring)| ring.clone())
    });
    if let Some(ring) = hit {
        return Ok(ring);
    }
    let ring = std::rc::Rc::new(id_token::provider_ring(jwks)?);
    RINGS.with(|r| {
        let mut rings = r.borrow_mut();
        rings.retain(|(name, _, _)| name != provider);
        if rings.len() >= RING_CACHE {
            rings.remove(0);
        }
        rings.push((provider.to_owned(), jwks.clone(), ring.clone()));
    });
    Ok(ring)
}

/// How an ID token's nonce is checked.
pub(super) enum NonceRule {
    /// The redirect flow: the token carries the nonce this flow sent, as sent.
    Exact(Option<String>),
    /// `grant_type=id_token`: the client gives the raw nonce; the token carries its SHA-256.
    Hashed(Option<String>),
}

/// The implicit flow's redirect: the session in the fragment, with the provider's tokens.
fn session_fragment(
    to: &str,
    session: &Value,
    provider_tokens: (Option<&str>, Option<&str>),
) -> String {
    let mut extra = Vec::new();
    if let Some(t) = provider_tokens.0.filter(|t| !t.is_empty()) {
        extra.push(("provider_token", t));
    }
    if let Some(t) = provider_tokens.1.filter(|t| !t.is_empty()) {
        extra.push(("provider_refresh_token", t));
    }
    crate::session_start::session_fragment(to, session, &extra)
}

/// Finishes a flow with the provider's answer: `{"location": url}` (the session in the
/// fragment, or the app's `?code=`), `{"fetch": ...}` when the provider's keys must be fetched
/// first, or `{"refusal": {status, code, message}, "redirect_to": url}` when the user was kept
/// but may not sign in yet (a confirmation mail went out). For the broker only.
#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn oauth_callback_finish(
    state: Option<&str>,
    id_token: default!(Option<&str>, "NULL"),
    userinfo: default!(Option<JsonbArg>, "NULL"),
    emails: default!(Option<JsonbArg>, "NULL"),
    provider_access_token: default!(Option<&str>, "NULL"),
    provider_refresh_token: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        let hash = state_hash(state)?;
        let flow: TakenState = db::typed(db::json(TAKEN_STATE, &[hash.as_str().into()])?)?
            .ok_or_else(AuthError::bad_oauth_state)?;
        if flow.age > STATE_LIFETIME_SECS as f64 {
            return Err(AuthError::bad_oauth_state());
        }
        if !flow.link_session_live {
            return Err(AuthError::SessionNotFound);
        }
        let p = load_provider(Some(&flow.provider))?;
        let userinfo = userinfo.map(|u| u.to_value("userinfo")).transpose()?;
        let emails = emails.map(|e| e.to_value("emails")).transpose()?;
        let profile = match profile_from(
            &p,
            id_token,
            userinfo.as_ref(),
            emails.as_ref(),
            NonceRule::Exact(flow.nonce.clone()),
            provider_access_token,
        )? {
            Ok(profile) => profile,
            Err(fetch) => return Ok(JsonB(fetch)),
        };
        db::exec(
            "DELETE FROM auth.oauth_states WHERE id = $1",
            &[db::uuid(flow.id).into()],
        )?;
        if profile.email.is_none() && !p.config.email_optional {
            return Err(AuthError::bad_oauth_callback(
                "Error getting user email from external provider",
            ));
        }
        let outcome = match flow.link_user_id {
            Some(target) => accounts::link(&inst, db::uuid(target), &p.name, &profile, &req)?,
            None => accounts::sign_in(
                &inst,
                &p.name,
                &profile,
                p.config.email_optional,
                &flow.redirect_to,
                &req,
            )?,
        };
        let location = match outcome {
            Outcome::NeedsVerification(refusal) => {
                return Ok(JsonB(json!({
                    "refusal": {"status": refusal.status(), "code": refusal.code(),
                                "message": refusal.message()},
                    "redirect_to": flow.redirect_to,
                })))
            }
            Outcome::SignedIn { user_id, email } => finish(
                &inst,
                &flow,
                &p.name,
                user_id,
                &email,
                (provider_access_token, provider_refresh_token),
                &req,
            )?,
        };
        Ok(JsonB(json!({ "location": location })))
    })
}

/// The app's end of the flow: `?code=` for a PKCE flow (the provider's tokens wait in the flow
/// state for the exchange), else a session in the fragment.
fn finish(
    inst: &Instance,
    flow: &TakenState,
    provider: &str,
    user_id: pgrx::Uuid,
    email: &str,
    provider_tokens: (Option<&str>, Option<&str>),
    req: &RequestInfo,
) -> AuthResult<String> {
    if let (Some(challenge), Some(method)) = (&flow.code_challenge, &flow.code_challenge_method) {
        let method = pkce::Method::parse(method).ok_or(AuthError::Internal)?;
        return crate::pkce::provider_code_redirect(
            &flow.redirect_to,
            user_id,
            &crate::pkce::ProviderFlow {
                challenge,
                method,
                provider,
                auth_method: "oauth",
                provider_tokens,
                session_not_after: None,
            },
        );
    }
    let session = start_session(inst, user_id, email, provider, "oauth", req)?;
    Ok(session_fragment(
        &flow.redirect_to,
        &session,
        provider_tokens,
    ))
}
