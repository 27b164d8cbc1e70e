//! `POST /sso` (`signInWithSSO`): the provider (by id, or by the e-mail domain that leads to
//! it), a relay state kept here, and what the broker needs to build the AuthnRequest.

use auth_core::rate_limit::Bucket;
use auth_core::{pkce, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use super::{find, require_enabled, service_provider, Lookup};
use crate::db;
use crate::error::guard;
use crate::instance;
use crate::request;
use crate::signup::link_target;

static INSERT_RELAY_STATE: &str = include_str!("insert_relay_state.sql");

/// A new SSO sign-in: `{relay_state, request_id, sso_url, sp_entity_id, acs_url,
/// name_id_format, provider_id}`. The broker sends the browser to `sso_url` with an
/// AuthnRequest of that ID and the relay state; the ACS takes the relay state back once.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sso_start(
    provider_id: default!(Option<&str>, "NULL"),
    domain: default!(Option<&str>, "NULL"),
    redirect_to: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let req = request::current();
        crate::rate_limit::check(&inst, Bucket::Sso, &req)?;
        let provider_id = provider_id.map(str::trim).filter(|s| !s.is_empty());
        let domain = domain.map(str::trim).filter(|s| !s.is_empty());
        let lookup = match (provider_id, domain) {
            (Some(_), Some(_)) => {
                return Err(AuthError::validation(
                    "Only one of provider_id or domain supported",
                ))
            }
            (None, None) => {
                return Err(AuthError::validation(
                    "A provider_id or domain needs to be provided",
                ))
            }
            (Some(id), None) => Lookup::Id(
                uuid::Uuid::parse_str(id).map_err(|_| AuthError::sso_provider_not_found())?,
            ),
            (None, Some(d)) if d.len() > 253 => return Err(AuthError::sso_provider_not_found()),
            (None, Some(d)) => Lookup::Domain(d.to_lowercase()),
        };
        let challenge = pkce::read_challenge(code_challenge, code_challenge_method)?;
        let provider = find(lookup)?.ok_or_else(AuthError::sso_provider_not_found)?;
        let target = link_target(&inst, redirect_to);
        let request_id = auth_core::sso::new_request_id();
        let (challenge, method) = match &challenge {
            Some((c, m)) => (Some(c.as_str()), Some(m.as_str())),
            None => (None, None),
        };
        let relay_state = db::json(
            INSERT_RELAY_STATE,
            &[
                db::uuid(provider.id).into(),
                request_id.as_str().into(),
                target.as_str().into(),
                challenge.into(),
                method.into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        let sp = service_provider(&inst);
        Ok(JsonB(json!({
            "relay_state": relay_state,
            "request_id": request_id,
            "sso_url": provider.metadata.sso_url,
            "sp_entity_id": sp.entity_id,
            "acs_url": sp.acs_url,
            "name_id_format": provider.name_id_format,
            "provider_id": provider.id,
        })))
    })
}

/// Our side's names for `GET /sso/saml/metadata`: `{entity_id, acs_url}` (public).
#[pg_extern(schema = "auth", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn sso_service_provider() -> JsonB {
    guard(|| {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let sp = service_provider(&inst);
        Ok(JsonB(
            json!({"entity_id": sp.entity_id, "acs_url": sp.acs_url}),
        ))
    })
}
