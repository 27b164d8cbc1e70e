//! `POST /token?grant_type=id_token` (`signInWithIdToken`): an ID token a provider issued to
//! the app (Sign in with Apple, Google One Tap, a custom OpenID provider), verified against the
//! provider's keys, signs its user in (or, with `link_identity`, links it to the caller).

use auth_core::rate_limit::Bucket;
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;

use super::accounts::{self, Outcome};
use super::callback::{profile_from, NonceRule};
use super::provider as load_provider;
use crate::error::guard;
use crate::instance;
use crate::request;
use crate::session_start::start_session;

/// The session for the ID token's user, or `{"fetch": ...}` when the provider's keys must be
/// fetched first (the shim does, then calls again; through PostgREST the owner configures the
/// provider's `jwks`).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_in_with_id_token(
    provider: Option<&str>,
    id_token: Option<&str>,
    nonce: default!(Option<&str>, "NULL"),
    access_token: default!(Option<&str>, "NULL"),
    link_identity: default!(Option<bool>, "false"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, Bucket::Token, &req)?;
        let Some(token) = id_token.filter(|t| !t.is_empty()) else {
            return Err(AuthError::validation("id_token required"));
        };
        if provider.is_none_or(str::is_empty) {
            return Err(AuthError::validation(
                "provider or client_id and issuer required",
            ));
        }
        let link_to = if link_identity == Some(true) {
            Some(crate::caller::signed_in_caller()?.user_id)
        } else {
            None
        };
        let p = load_provider(provider)?;
        if !p.flavor.is_oidc() {
            return Err(AuthError::validation(format!(
                "Provider {} does not issue ID tokens",
                p.name
            )));
        }
        let profile = match profile_from(
            &p,
            Some(token),
            None,
            None,
            NonceRule::Hashed(nonce.map(str::to_owned)),
            access_token,
        )? {
            Ok(profile) => profile,
            Err(fetch) => return Ok(JsonB(fetch)),
        };
        if profile.email.is_none() && !p.config.email_optional {
            return Err(AuthError::bad_oidc_token(
                "the ID token has no email address",
            ));
        }
        let target = crate::signup::link_target(&inst, None);
        let outcome = match link_to {
            Some(user) => accounts::link(&inst, user, &p.name, &profile, &req)?,
            None => accounts::sign_in(
                &inst,
                &p.name,
                &profile,
                p.config.email_optional,
                &target,
                &req,
            )?,
        };
        match outcome {
            Outcome::SignedIn { user_id, email } => {
                start_session(&inst, user_id, &email, &p.name, "oauth", &req).map(JsonB)
            }
            // Kept with the user and the mail queued, as GoTrue commits them.
            Outcome::NeedsVerification(refusal) => Ok(JsonB(serde_json::json!({
                "refusal": {"status": refusal.status(), "code": refusal.code(),
                            "message": refusal.message()},
            }))),
        }
    })
}
