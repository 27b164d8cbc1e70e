//! The provider documents the broker fetched when a call asked for them (`{"fetch": ...}`): a
//! custom provider's discovery document and a provider's JWKS, checked and kept with their
//! expiry (the answer's max-age, between a minute and a day).

use auth_core::external::{id_token, providers, DEFAULT_DOCUMENT_MAX_AGE, MAX_DOCUMENT_MAX_AGE};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;

/// Stores `document` of `kind` (`discovery` or `jwks`) for `provider`. For the broker only.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn provider_document_store(
    provider: Option<&str>,
    kind: Option<&str>,
    document: Option<JsonbArg>,
    max_age: default!(Option<i64>, "NULL"),
) -> bool {
    guard(move || {
        let name = provider.map(str::to_lowercase).unwrap_or_default();
        let document = document
            .map(|d| d.to_value("document"))
            .transpose()?
            .ok_or_else(|| AuthError::validation("document is required"))?;
        let ttl = max_age
            .unwrap_or(DEFAULT_DOCUMENT_MAX_AGE)
            .clamp(60, MAX_DOCUMENT_MAX_AGE);
        let stored = match kind {
            Some("jwks") => {
                id_token::provider_ring(&document)?;
                db::exec(
                    "UPDATE auth.identity_providers SET jwks = $2, \
                            jwks_expires_at = now() + make_interval(secs => $3), updated_at = now() \
                      WHERE name = $1",
                    &[name.as_str().into(), JsonB(document).into(), (ttl as f64).into()],
                )?
            }
            Some("discovery") => {
                let config = db::json(
                    "SELECT config FROM auth.identity_providers WHERE name = $1",
                    &[name.as_str().into()],
                )?
                .ok_or_else(AuthError::provider_not_supported)?;
                let (_, parsed) = providers::ProviderConfig::parse(&name, &config)
                    .map_err(|_| AuthError::Internal)?;
                let issuer = parsed
                    .issuer
                    .or(parsed.url)
                    .ok_or_else(|| AuthError::validation("the provider has no issuer"))?;
                let kept = providers::check_discovery(&issuer, &document)?;
                db::exec(
                    "UPDATE auth.identity_providers SET discovery = $2, \
                            discovery_expires_at = now() + make_interval(secs => $3), updated_at = now() \
                      WHERE name = $1",
                    &[name.as_str().into(), JsonB(kept).into(), (ttl as f64).into()],
                )?
            }
            _ => return Err(AuthError::validation("kind must be discovery or jwks")),
        };
        Ok(stored > 0)
    })
}
