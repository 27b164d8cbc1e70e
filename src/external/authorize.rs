//! `GET /authorize` (`signInWithOAuth`) and `GET /user/identities/authorize` (`linkIdentity`):
//! a flow's state, kept here, and the provider's authorization URL the browser is sent to.

use auth_core::external::{self, AuthorizeRequest, Flavor};
use auth_core::rate_limit::Bucket;
use auth_core::{pkce, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use super::{callback_url, missing, provider as load_provider};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance;
use crate::request;
use crate::signup::link_target;

static INSERT_STATE: &str = include_str!("insert_state.sql");

/// Query parameters the caller may not pass through to the provider (GoTrue's reserved list).
const RESERVED: [&str; 9] = [
    "client_id",
    "client_secret",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "nonce",
];
const MAX_EXTRA: usize = 16;

/// The extra query parameters (`access_type`, `prompt`, `login_hint`, ...) for the provider.
fn extra_params(params: Option<Value>) -> AuthResult<Vec<(String, String)>> {
    let Some(Value::Object(map)) = params else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in map {
        let Some(v) = v.as_str() else { continue };
        if RESERVED.contains(&k.to_ascii_lowercase().as_str()) || k.len() > 64 || v.len() > 512 {
            continue;
        }
        out.push((k, v.to_owned()));
    }
    if out.len() > MAX_EXTRA {
        return Err(AuthError::validation("too many query parameters"));
    }
    Ok(out)
}

/// The provider's URL for a new flow: `{"url": ...}`, or `{"fetch": ...}` when the provider's
/// discovery document must be fetched first. `link`: `linkIdentity` for the signed-in caller.
#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn oauth_authorize(
    provider: Option<&str>,
    redirect_to: default!(Option<&str>, "NULL"),
    scopes: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
    params: default!(Option<JsonbArg>, "NULL"),
    link: default!(Option<bool>, "false"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        // Each flow stores a state: starting them is limited per address as sign-ins are.
        crate::rate_limit::check(&inst, Bucket::Token, &request::current())?;
        let (link_user, link_session) = if link == Some(true) {
            if !inst.settings.signup.security_manual_linking_enabled {
                return Err(AuthError::manual_linking_disabled());
            }
            let caller = crate::caller::signed_in_caller()?;
            // The flow finishes only while this session is in force (a stolen, short-lived
            // token must not become a lasting way in through a linked identity).
            let session = caller.session_id.ok_or(AuthError::SessionNotFound)?;
            (Some(caller.user_id), Some(session))
        } else {
            (None, None)
        };
        let p = load_provider(provider)?;
        if !p.has_secret {
            return Err(AuthError::validation(
                "Unsupported provider: missing OAuth secret",
            ));
        }
        let client_pkce = pkce::read_challenge(code_challenge, code_challenge_method)?;
        if scopes.is_some_and(|s| s.len() > external::MAX_SCOPES_LEN) {
            return Err(AuthError::validation("scopes are too long"));
        }
        let extra = extra_params(params.map(|p| p.to_value("params")).transpose()?)?;
        let endpoints = match p.endpoints() {
            Ok(e) => e,
            Err(m) => return Ok(JsonB(missing(&p, m))),
        };
        let target = link_target(&inst, redirect_to);
        let state = external::random_token();
        let uses_pkce = p.config.pkce.unwrap_or(p.flavor != Flavor::Apple);
        let verifier = uses_pkce.then(external::random_token);
        let nonce = p.flavor.is_oidc().then(external::random_token);
        let (challenge, method) = match &client_pkce {
            Some((c, m)) => (Some(c.as_str()), Some(m.as_str())),
            None => (None, None),
        };
        db::exec(
            INSERT_STATE,
            &[
                external::state_hash(&state).as_str().into(),
                p.name.as_str().into(),
                target.as_str().into(),
                challenge.into(),
                method.into(),
                verifier.as_deref().into(),
                nonce.as_deref().into(),
                link_user.into(),
                link_session.into(),
            ],
        )?;
        let client_id = p.client_id()?;
        let scope = external::scopes(p.flavor, &p.config, scopes);
        let redirect_uri = callback_url(&inst);
        let challenge_to_provider = verifier.as_deref().map(external::s256);
        let url = external::authorize_url(&AuthorizeRequest {
            endpoints: &endpoints,
            client_id: &client_id,
            redirect_uri: &redirect_uri,
            state: &state,
            scopes: &scope,
            code_challenge: challenge_to_provider.as_deref(),
            nonce: nonce.as_deref(),
            form_post: p.flavor == Flavor::Apple,
            extra: &extra,
        });
        Ok(JsonB(json!({ "url": url })))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "external_api",
    requires = [
        oauth_authorize,
        oauth_callback_take,
        oauth_callback_finish,
        provider_document_store,
        sign_in_with_id_token,
        unlink_identity,
        configure_provider,
        remove_provider,
        providers,
    ]
);
