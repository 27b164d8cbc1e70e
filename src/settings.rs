//! `auth.settings()`, `auth.configure()` and the secrets created at install time.

use auth_core::settings::Settings;
use auth_core::{random, AuthError};
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};

use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance;

#[pg_extern(schema = "auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn settings() -> JsonB {
    guard(|| Ok(JsonB(instance::get()?.settings.to_json())))
}

/// Applies validated changes and returns the new settings. `jwt_secret` is write-only: it
/// replaces the HS256 signing key and never appears in any output.
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn configure(changes: Option<JsonB>) -> JsonB {
    guard(|| {
        let changes = changes
            .ok_or_else(|| AuthError::validation("configure expects a JSON object of settings"))?;
        let current = instance::get()?.settings.clone();
        let change = current.apply(&changes.0)?;
        db::exec(
            "UPDATE auth.config SET settings = $1, updated_at = now()",
            &[JsonB(change.settings.to_json()).into()],
        )?;
        if let Some(secret) = change.jwt_secret {
            replace_signing_secret(secret.as_bytes())?;
        }
        instance::forget();
        Ok(JsonB(instance::get()?.settings.to_json()))
    })
}

fn replace_signing_secret(secret: &[u8]) -> AuthResult<()> {
    // Two statements: within one, the unique index on the current key still sees the old row.
    db::exec(
        "DELETE FROM auth.signing_keys WHERE status = 'current'",
        &[],
    )?;
    db::exec(
        "INSERT INTO auth.signing_keys (kid, algorithm, secret, status) VALUES ($1, 'HS256', $2, 'current')",
        &[uuid::Uuid::new_v4().to_string().as_str().into(), secret.to_vec().into()],
    )?;
    Ok(())
}

/// The HS256 secret as text, for PostgREST's `jwt-secret`. Owner only.
#[pg_extern(schema = "auth", stable)]
#[search_path(pg_catalog, pg_temp)]
fn postgrest_jwt_secret() -> String {
    guard(|| {
        let inst = instance::get()?;
        String::from_utf8(inst.signing_key.secret.clone())
            .map_err(|_| AuthError::validation("the signing secret is not text"))
    })
}

/// Called once by the install script: the refresh-token chain key and a random HS256 secret
/// (256 bits, as a 43-character string so that it can be pasted into postgrest.conf).
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn _install_secrets() {
    guard(|| {
        db::exec(
            "INSERT INTO auth.config (settings, refresh_token_key) VALUES ($1, $2)",
            &[
                JsonB(Settings::default().to_json()).into(),
                random::bytes::<32>().to_vec().into(),
            ],
        )?;
        replace_signing_secret(random::token_string().as_bytes())
    })
}

/// Called by the statement trigger on auth.config and auth.signing_keys: tells every backend,
/// through the relcache invalidation queue, to drop its cached instance (see instance.rs).
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn _invalidate_instance_cache(relid: pg_sys::Oid) {
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
    instance::forget();
}
