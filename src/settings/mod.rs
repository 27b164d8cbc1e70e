//! `auth.settings()`, `auth.configure()` and the secrets created at install time.

use auth_core::jwt::KeyStatus;
use auth_core::keys::{self, Alg};
use auth_core::settings::Settings;
use auth_core::{random, AuthError};
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};

use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;
use crate::ffi::relcache;
use crate::instance;
use crate::keys as key_ring;

#[pg_extern(schema = "auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn settings() -> JsonB {
    guard(move || Ok(JsonB(instance::get()?.settings.to_json())))
}

/// Applies validated changes and returns the new settings. `jwt_secret` is write-only: it adopts
/// an HS256 secret and never appears in any output. A new `jwt_signing_algorithm` rotates to a
/// key of that algorithm.
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn configure(changes: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let changes = changes
            .ok_or_else(|| AuthError::validation("configure expects a JSON object of settings"))?;
        let current = instance::get()?.settings.clone();
        let changes = changes.to_value("the settings")?;
        let change = current.apply(&changes)?;
        db::exec(
            "UPDATE auth.config SET settings = $1, updated_at = now()",
            &[JsonB(change.settings.to_json()).into()],
        )?;
        instance::forget();
        let alg = change.settings.signing_alg();
        if let Some(secret) = change.jwt_secret {
            key_ring::adopt_hs256_secret(&secret, alg)?;
        }
        if changes.get("jwt_signing_algorithm").is_some() {
            key_ring::switch_algorithm(alg)?;
        }
        instance::forget();
        Ok(JsonB(instance::get()?.settings.to_json()))
    })
}

/// Called once by the install script: the refresh-token chain key, an ES256 key that signs
/// (Supabase's recommendation) and an HS256 secret that only verifies, for tokens minted by
/// PostgREST-style tooling (256 bits, as a 43-character string that pastes into configs).
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn _install_secrets() {
    guard(move || {
        db::exec(
            "INSERT INTO auth.config (settings, refresh_token_key) VALUES ($1, $2)",
            &[
                JsonB(Settings::default().to_json()).into(),
                random::bytes::<32>().to_vec().into(),
            ],
        )?;
        key_ring::store(&keys::generate(Alg::ES256)?, KeyStatus::Current)?;
        key_ring::store(&keys::generate(Alg::HS256)?, KeyStatus::Previous)?;
        Ok(())
    })
}

/// Called by the statement trigger on auth.config and auth.signing_keys: tells every backend,
/// through the relcache invalidation queue, to drop its cached instance (see instance.rs).
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn _invalidate_instance_cache(relid: pg_sys::Oid) {
    guard(move || {
        // Postgres raises an internal error for an OID that is no relation.
        if !relcache::relation_exists(relid) {
            return Err(AuthError::validation("not a table"));
        }
        relcache::invalidate(relid);
        instance::forget();
        Ok(())
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "settings_api",
    requires = [
        settings,
        configure,
        _install_secrets,
        _invalidate_instance_cache
    ]
);
