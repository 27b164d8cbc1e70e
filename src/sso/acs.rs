//! `POST /sso/saml/acs`, in two calls of the broker (the shim) around the XML work it does:
//!
//! 1. `auth.saml_acs_take(relay_state, issuer)`: the relay state is taken (once, in time), or,
//!    for an IdP-initiated response (no relay state, or a URL), the provider is found by the
//!    response's (unverified) issuer. The broker gets what to verify the response against: the
//!    IdP's entity ID and certificates, our entity ID and ACS URL, the request's ID.
//! 2. `auth.saml_acs_finish(relay_state, assertion)` with the assertion the broker verified:
//!    re-checked here against what step 1 handed out (issuer, the request it answers, expiry,
//!    replay), then the user is found, linked or created and the session (or the app's PKCE
//!    code) made; the answer is where to send the browser.
//!
//! A response that fails verification leaves a taken relay state behind and nothing else.

use auth_core::rate_limit::Bucket;
use auth_core::sso::assertion::{Assertion, AttributeMapping};
use auth_core::{pkce, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::json;

use super::account;
use super::{find, require_enabled, service_provider, Lookup, SsoProvider};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance;
use crate::request;
use crate::session_start::{session_fragment, start_session_until};
use crate::signup::link_target;

static TAKE_RELAY_STATE: &str = include_str!("take_relay_state.sql");
static TAKEN_RELAY_STATE: &str = include_str!("taken_relay_state.sql");
static SEEN: &str = include_str!("seen.sql");

/// A finish must follow its take within this long (the broker's verification takes
/// milliseconds; a taken relay state is not a lasting licence).
const TAKEN_WITHIN_SECS: f64 = 60.0;

/// What the ACS was posted with as `RelayState`.
enum Relay<'a> {
    /// Ours: a relay state row (SP-initiated).
    Ours(uuid::Uuid),
    /// IdP-initiated: where to send the user afterwards, if the IdP said.
    IdpInitiated(Option<&'a str>),
}

fn relay(relay_state: Option<&str>) -> AuthResult<Relay<'_>> {
    let value = relay_state.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return Ok(Relay::IdpInitiated(None));
    }
    if let Ok(id) = uuid::Uuid::parse_str(value) {
        return Ok(Relay::Ours(id));
    }
    // GoTrue takes anything that parses as a request URI (absolute, or a path) as where the
    // IdP sends the user; the allow list decides later whether it is followed.
    let uri_like = value.starts_with('/')
        || value.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        });
    if value.len() <= 2048 && uri_like && !value.chars().any(char::is_whitespace) {
        return Ok(Relay::IdpInitiated(Some(value)));
    }
    Err(AuthError::validation(
        "SAML RelayState is not a valid UUID or URL",
    ))
}

/// Every way an assertion is refused after the broker's check: GoTrue's one answer.
fn assertion_invalid() -> AuthError {
    AuthError::validation("SAML Assertion is not valid")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Taking {
    sso_provider_id: uuid::Uuid,
    request_id: String,
    age: f64,
}

/// Takes a relay state (or, IdP-initiated, finds the provider by the response's issuer) and
/// answers what the response must be verified against: `{sso_provider_id, idp_entity_id,
/// certificates, sp_entity_id, acs_url, request_id}` (`request_id` null when IdP-initiated:
/// the response must then answer no request). For the broker only.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn saml_acs_take(relay_state: Option<&str>, issuer: default!(Option<&str>, "NULL")) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        // Each post costs the broker a signature check: limited per client address, as GoTrue
        // limits its ACS.
        crate::rate_limit::check(&inst, Bucket::SamlAssertion, &request::current())?;
        let (provider, request_id) = match relay(relay_state)? {
            Relay::Ours(id) => {
                let taking: Taking =
                    db::typed(db::json(TAKE_RELAY_STATE, &[db::uuid(id).into()])?)?
                        .ok_or_else(AuthError::saml_relay_state_not_found)?;
                if taking.age >= inst.settings.sso.saml_relay_state_validity_period as f64 {
                    return Err(AuthError::saml_relay_state_expired());
                }
                let provider = find(Lookup::Id(taking.sso_provider_id))?
                    .ok_or_else(AuthError::saml_relay_state_not_found)?;
                (provider, Some(taking.request_id))
            }
            Relay::IdpInitiated(_) => {
                let issuer = issuer.map(str::trim).filter(|i| !i.is_empty());
                let issuer = issuer
                    .filter(|i| i.len() <= 1024)
                    .ok_or_else(AuthError::saml_idp_not_found)?;
                (
                    find(Lookup::EntityId(issuer))?.ok_or_else(AuthError::saml_idp_not_found)?,
                    None,
                )
            }
        };
        let sp = service_provider(&inst);
        Ok(JsonB(json!({
            "sso_provider_id": provider.id,
            "idp_entity_id": provider.entity_id,
            "certificates": provider.metadata.certificates,
            "sp_entity_id": sp.entity_id,
            "acs_url": sp.acs_url,
            "request_id": request_id,
            // Stale metadata from a URL: the broker fetches it again and stores it through
            // auth.saml_metadata_refresh before verifying (keeping these if that fails).
            "refresh_metadata_url": provider.refresh_url,
        })))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakenRelayState {
    sso_provider_id: uuid::Uuid,
    request_id: String,
    redirect_to: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    taken_ago: f64,
}

/// Finishes an SSO sign-in with the assertion the broker verified (core's `Assertion` as
/// JSON): `{"location": url}`, the session in the fragment or the app's `?code=`. For the
/// broker only.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn saml_acs_finish(relay_state: Option<&str>, assertion: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let req = request::current();
        let assertion = Assertion::from_json(
            &assertion
                .ok_or_else(|| AuthError::validation("assertion is required"))?
                .to_value("assertion")?,
        )?;
        // The flow: the relay state taken a moment ago (and now spent), or the IdP's own.
        let (provider, expected_request, redirect_to, challenge) = match relay(relay_state)? {
            Relay::Ours(id) => {
                let flow: TakenRelayState =
                    db::typed(db::json(TAKEN_RELAY_STATE, &[db::uuid(id).into()])?)?
                        .ok_or_else(AuthError::saml_relay_state_not_found)?;
                if flow.taken_ago > TAKEN_WITHIN_SECS {
                    return Err(AuthError::saml_relay_state_expired());
                }
                let provider = find(Lookup::Id(flow.sso_provider_id))?
                    .ok_or_else(AuthError::saml_relay_state_not_found)?;
                let challenge = match (flow.code_challenge, flow.code_challenge_method) {
                    (Some(c), Some(m)) => {
                        Some((c, pkce::Method::parse(&m).ok_or(AuthError::Internal)?))
                    }
                    _ => None,
                };
                let to = flow
                    .redirect_to
                    .unwrap_or_else(|| inst.settings.signup.site_url.clone());
                (provider, Some(flow.request_id), to, challenge)
            }
            Relay::IdpInitiated(to) => {
                let provider = find(Lookup::EntityId(&assertion.issuer))?
                    .ok_or_else(AuthError::saml_idp_not_found)?;
                (provider, None, link_target(&inst, to), None)
            }
        };
        check(&provider, &assertion, expected_request.as_deref())?;
        let mapping = AttributeMapping::parse(
            provider
                .attribute_mapping
                .as_ref()
                .unwrap_or(&serde_json::Value::Null),
        )
        .map_err(|_| AuthError::Internal)?;
        let profile = assertion.profile(&mapping, &provider.entity_id)?;
        let identity_provider = provider.identity_provider();
        let (user_id, email) = account::sign_in(&inst, &identity_provider, &profile, &req)?;
        let not_after = assertion.session_not_on_or_after;
        let location = match challenge {
            Some((challenge, method)) => crate::pkce::provider_code_redirect(
                &redirect_to,
                user_id,
                &crate::pkce::ProviderFlow {
                    challenge: &challenge,
                    method,
                    provider: &identity_provider,
                    auth_method: "sso/saml",
                    provider_tokens: (None, None),
                    session_not_after: not_after,
                },
            )?,
            None => {
                let session = start_session_until(
                    &inst,
                    user_id,
                    &email,
                    &identity_provider,
                    "sso/saml",
                    not_after,
                    &req,
                )?;
                session_fragment(&redirect_to, &session, &[])
            }
        };
        Ok(JsonB(json!({ "location": location })))
    })
}

/// What the database checks again itself, whatever the broker said: the assertion is the
/// provider's, answers the request this flow made (or none, IdP-initiated), is still valid by
/// this clock, and was never taken before.
fn check(
    provider: &SsoProvider,
    assertion: &Assertion,
    expected_request: Option<&str>,
) -> AuthResult<()> {
    if assertion.issuer != provider.entity_id {
        return Err(assertion_invalid());
    }
    if assertion.in_response_to.as_deref() != expected_request {
        return Err(assertion_invalid());
    }
    let now = crate::now();
    if assertion.not_on_or_after <= now
        || assertion.session_not_on_or_after.is_some_and(|t| t <= now)
    {
        return Err(assertion_invalid());
    }
    let first = db::json(
        SEEN,
        &[
            db::uuid(provider.id).into(),
            assertion.assertion_id.as_str().into(),
            (assertion.not_on_or_after as f64).into(),
        ],
    )?;
    if first.is_none() {
        return Err(AuthError::validation(
            "SAML Assertion has already been used",
        ));
    }
    Ok(())
}

/// The broker's fresh copy of a provider's metadata (fetched from its `metadata_url` when
/// `saml_acs_take` said it was stale): stored if it is the same IdP's, and its certificates
/// returned, `{certificates}`. For the broker only.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn saml_metadata_refresh(sso_provider_id: Option<&str>, metadata_xml: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let id = uuid::Uuid::parse_str(sso_provider_id.unwrap_or(""))
            .map_err(|_| AuthError::validation("sso_provider_id is not a UUID"))?;
        let provider = find(Lookup::Id(id))?.ok_or_else(AuthError::saml_idp_not_found)?;
        let fresh = auth_core::sso::metadata::parse(metadata_xml.unwrap_or(""))?;
        if fresh.entity_id != provider.entity_id {
            return Err(AuthError::validation(
                "the fetched SAML Metadata is another IdP's (its EntityID differs)",
            ));
        }
        db::exec(
            "UPDATE auth.saml_providers SET metadata_xml = $2, updated_at = now() \
              WHERE sso_provider_id = $1",
            &[db::uuid(id).into(), metadata_xml.into()],
        )?;
        Ok(JsonB(json!({ "certificates": fresh.certificates })))
    })
}
