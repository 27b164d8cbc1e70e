//! The key ring's SQL face: creating, importing and rotating signing keys (owner only), the
//! public JWKS, and the `jwt-secret` PostgREST needs.
//!
//! Rotation never leaves a moment without a signing key: a key becomes `current` in the same
//! transaction that moves the old current key to `previous`, and the current key cannot be
//! moved anywhere else directly.

use auth_core::jwt::KeyStatus;
use auth_core::keys::{self, Alg, KeyMaterial};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::db::{self, ReadFn};
use crate::error::{guard, AuthResult};
use crate::instance;

static STORE_KEY: &str = include_str!("store_key.sql");
static LOCK_KEY: &str = include_str!("lock_key.sql");
static RETIRE_CURRENT: &str = include_str!("retire_current.sql");
static SET_SIGNING_ALGORITHM: &str = include_str!("set_signing_algorithm.sql");
static REVOKE_SPARE_HS256: &str = include_str!("revoke_spare_hs256.sql");
static LISTING: &str = include_str!("listing.sql");

/// Stores a key in `status` under a new kid; returns it.
pub(crate) fn store(material: &KeyMaterial, status: KeyStatus) -> AuthResult<String> {
    store_as(material, None, status)
}

/// Stores a key in `status` under `kid` (an imported JWK's, already checked by
/// `keys::check_kid`), or under a new kid when there is none; returns the kid. A kid that is
/// already in the ring, in any state, is refused as a validation error, and nothing is written:
/// the insert does nothing on that conflict (also when a concurrent import of the same kid
/// commits first), so no unique violation surfaces as an internal error.
pub(crate) fn store_as(
    material: &KeyMaterial,
    kid: Option<&str>,
    status: KeyStatus,
) -> AuthResult<String> {
    let kid = match kid {
        Some(kid) => kid.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let inserted = db::json(
        STORE_KEY,
        &[
            kid.as_str().into(),
            material.alg.as_str().into(),
            status.as_str().into(),
            material.secret.clone().into(),
            material.private_der.clone().into(),
            material.public_jwk.clone().map(JsonB).into(),
        ],
    )?;
    if inserted.is_none() {
        return Err(AuthError::validation(
            "a signing key with this kid already exists (in any state, revoked included)",
        ));
    }
    Ok(kid)
}

/// A key's lifecycle state, read strictly (the transition rules depend on it).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedKey {
    status: String,
    can_sign: bool,
}

fn status_of(kid: &str) -> AuthResult<(KeyStatus, bool)> {
    let row: LockedKey = db::typed(db::json(LOCK_KEY, &[kid.into()])?)?
        .ok_or_else(|| AuthError::validation("no signing key has this kid"))?;
    Ok((KeyStatus::parse(&row.status)?, row.can_sign))
}

/// Moves `kid` to `to`, enforcing the lifecycle.
pub(crate) fn set_status(kid: &str, to: KeyStatus) -> AuthResult<()> {
    let (from, can_sign) = status_of(kid)?;
    use KeyStatus::*;
    match (from, to) {
        (a, b) if a == b => return Ok(()),
        (Revoked, _) => return Err(AuthError::validation("a revoked key cannot be used again")),
        (Current, _) => {
            return Err(AuthError::validation(
                "the current key cannot be moved directly: make another key current first",
            ))
        }
        (_, Current) if !can_sign => {
            return Err(AuthError::validation(
                "this key has no private part and cannot sign",
            ))
        }
        (_, Current) => {
            db::exec(RETIRE_CURRENT, &[])?;
            // The setting names the algorithm that signs; keep it true to the key that does.
            db::exec(SET_SIGNING_ALGORITHM, &[kid.into()])?;
        }
        (Previous, Standby) => {
            return Err(AuthError::validation(
                "a previous key cannot go back to standby",
            ))
        }
        _ => {}
    }
    db::exec(
        "UPDATE auth.signing_keys SET status = $2, updated_at = now() WHERE kid = $1",
        &[kid.into(), to.as_str().into()],
    )?;
    instance::forget();
    Ok(())
}

/// Makes a signing key of `alg` current: a standby key of that algorithm if there is one,
/// otherwise a new one.
pub(crate) fn switch_algorithm(alg: Alg) -> AuthResult<()> {
    let inst = instance::get()?;
    if inst.ring.current()?.material.alg == alg {
        return Ok(());
    }
    // Prefer a prepared standby key, then the newest verify-only key of that algorithm (an
    // adopted HS256 secret), before minting a new one.
    let usable = |status: KeyStatus| {
        inst.ring
            .keys()
            .iter()
            .filter(|k| k.status == status && k.material.alg == alg && k.material.can_sign())
            .map(|k| k.kid.clone())
            .next_back()
    };
    let kid = match usable(KeyStatus::Standby).or_else(|| usable(KeyStatus::Previous)) {
        Some(kid) => kid,
        None => store(&keys::generate(alg)?, KeyStatus::Standby)?,
    };
    set_status(&kid, KeyStatus::Current)
}

/// Adopts an existing HS256 secret (PostgREST's or Supabase's `jwt-secret`) so the tokens signed
/// with it keep verifying. It replaces the other HS256 keys; it signs only when HS256 is the
/// signing algorithm.
pub(crate) fn adopt_hs256_secret(secret: &str, signing_alg: Alg) -> AuthResult<()> {
    let material = keys::import(secret, Some(Alg::HS256))?;
    db::exec(REVOKE_SPARE_HS256, &[])?;
    let kid = store(&material, KeyStatus::Standby)?;
    if signing_alg == Alg::HS256 {
        set_status(&kid, KeyStatus::Current)
    } else {
        set_status(&kid, KeyStatus::Previous)
    }
}

/// A new key of `alg` (ES256, RS256, EdDSA or HS256) in standby; returns its kid. Owner only.
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn create_signing_key(alg: Option<&str>) -> String {
    guard(move || {
        let alg = Alg::parse(alg.unwrap_or(""))?;
        store(&keys::generate(alg)?, KeyStatus::Standby)
    })
}

/// Imports a key in standby: a JWK (public or private), a PEM key, or with alg 'HS256' a plain
/// secret of at least 32 characters. A JWK's `kid` is kept, so that tokens minted elsewhere with
/// it verify here (it must be 1 to 255 printable ASCII characters and not in the ring yet);
/// other keys get a new kid. Returns the kid. Owner only.
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn import_signing_key(key: Option<&str>, alg: default!(Option<&str>, "NULL")) -> String {
    guard(move || {
        let key = key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| AuthError::validation("a key is required"))?;
        let alg = alg.map(Alg::parse).transpose()?;
        let imported = keys::import_with_kid(key, alg)?;
        store_as(
            &imported.material,
            imported.kid.as_deref(),
            KeyStatus::Standby,
        )
    })
}

/// Moves a key between states: standby → current (the old current becomes previous) →
/// previous → revoked. Owner only. Returns the key's listing.
#[pg_extern(schema = "auth")]
#[search_path(pg_catalog, pg_temp)]
fn set_signing_key_status(kid: Option<&str>, status: Option<&str>) -> JsonB {
    guard(move || {
        let kid = kid.ok_or_else(|| AuthError::validation("a kid is required"))?;
        set_status(kid, KeyStatus::parse(status.unwrap_or(""))?)?;
        listing(Some(kid), db::json).map(|v| JsonB(v[0].clone()))
    })
}

/// `read` is `db::json` after a change in the same call (it needs a fresh snapshot), otherwise
/// `db::read_json`, which works on standbys.
fn listing(kid: Option<&str>, read: ReadFn) -> AuthResult<Vec<Value>> {
    let rows = read(LISTING, &[kid.into()])?.unwrap_or_default();
    Ok(rows.as_array().cloned().unwrap_or_default())
}

/// The keys and their states, without any key material. Owner and service_role.
#[pg_extern(schema = "auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn signing_keys() -> JsonB {
    guard(move || listing(None, db::read_json).map(|v| JsonB(Value::Array(v))))
}

/// The public JWKS: every non-revoked asymmetric key. Never an HS256 secret. Everyone.
#[pg_extern(schema = "auth", stable, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn jwks() -> JsonB {
    guard(move || Ok(JsonB(instance::get()?.ring.jwks())))
}

/// What to paste into PostgREST's `jwt-secret` so that it accepts every non-revoked key, HS256
/// included: a JWKS (it holds the HS256 secret, so it is owner only).
#[pg_extern(schema = "auth", stable)]
#[search_path(pg_catalog, pg_temp)]
fn postgrest_jwt_secret() -> String {
    guard(move || Ok(instance::get()?.ring.verification_jwks().to_string()))
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "keys_api",
    requires = [
        create_signing_key,
        import_signing_key,
        set_signing_key_status,
        signing_keys,
        jwks,
        postgrest_jwt_secret
    ]
);
