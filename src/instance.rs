//! The per-backend cache of what every call needs: settings, the key ring and the refresh-token
//! chain key, loaded with two queries and kept until a change to `auth.config` or
//! `auth.signing_keys` invalidates it.
//!
//! Invalidation rides on Postgres' relcache machinery: a statement trigger on both tables calls
//! `CacheInvalidateRelcacheByRelid`, which reaches this backend at its next command and every
//! other backend when the change commits, through the callback registered in `_PG_init`.
//!
//! The helpers run with the caller's rights (`anon` cannot read `auth.config`), so loading, and
//! the few other reads of private tables made on a caller's behalf, run as the extension's owner
//! through [`as_owner`], the same switch a SECURITY DEFINER function makes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use auth_core::derived_keys::DerivedKeys;
use auth_core::jwt::{KeyRing, KeyStatus, VerifyOptions};
use auth_core::keys::{Alg, KeyMaterial};
use auth_core::settings::Settings;
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};

use crate::error::AuthResult;
use crate::ffi::{guc, owner, relcache};

pub struct Instance {
    pub settings: Settings,
    /// One key per purpose, derived from the stored master secret.
    pub keys: DerivedKeys,
    pub ring: KeyRing,
    /// `settings.verify_options()`, made once (verification is the per-request path).
    pub verify_options: VerifyOptions,
    /// OIDs of `settings.trust.trusted_roles` that exist.
    pub trusted_role_oids: Vec<pg_sys::Oid>,
}

thread_local! {
    static CACHE: RefCell<Option<Rc<Instance>>> = const { RefCell::new(None) };
    /// OIDs of auth.config and auth.signing_keys, for the invalidation callback.
    static WATCHED: Cell<(pg_sys::Oid, pg_sys::Oid)> = const { Cell::new((pg_sys::InvalidOid, pg_sys::InvalidOid)) };
    static OWNER: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::InvalidOid) };
    /// Bumped by every invalidation, so that a load that raced one is not cached.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

pub(crate) fn register_invalidation_callback() {
    relcache::on_invalidation(on_relcache_invalidation);
}

fn on_relcache_invalidation(relid: pg_sys::Oid) {
    let (config, keys) = WATCHED.get();
    if relid == pg_sys::InvalidOid || relid == config || relid == keys {
        GENERATION.set(GENERATION.get().wrapping_add(1));
        forget();
    }
}

/// Drops the cached instance; the next [`get`] reloads it.
pub fn forget() {
    // The callback can fire while a borrow is active (a reload's own query); try_borrow_mut
    // then fails and the reload in progress is what replaces the stale value anyway.
    CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            *c = None;
        }
    });
}

/// The current instance, loading it when the cache is empty.
pub fn get() -> AuthResult<Rc<Instance>> {
    if let Some(found) = CACHE.with(|c| c.borrow().clone()) {
        return Ok(found);
    }
    let generation = GENERATION.get();
    // Read with the latest snapshot, not the transaction's: under REPEATABLE READ the latter can
    // predate the change whose invalidation emptied the cache, and the stale value would stay.
    // (A parallel operation may not take new snapshots; it reads with the one it was given.)
    let loaded = Rc::new(as_owner(|| owner::with_latest_snapshot(load))?);
    if GENERATION.get() == generation {
        CACHE.with(|c| *c.borrow_mut() = Some(loaded.clone()));
    }
    Ok(loaded)
}

/// The extension's owner (its objects' owner, who installed it).
pub fn owner() -> AuthResult<pg_sys::Oid> {
    match OWNER.get() {
        o if o != pg_sys::InvalidOid => Ok(o),
        _ => {
            // Read-only SPI: nothing here may assign a transaction id (standbys, parallel workers).
            let o = Spi::connect(|c| {
                c.select(
                    "SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'auth_ext'",
                    Some(1),
                    &[],
                )?
                .first()
                .get::<pg_sys::Oid>(1)
            })
            .ok()
            .flatten()
            .ok_or(AuthError::Internal)?;
            OWNER.set(o);
            Ok(o)
        }
    }
}

/// Runs `f` with the extension owner's rights and `search_path = pg_catalog, pg_temp`, as a
/// SECURITY DEFINER function would, restoring the caller's afterwards (also when `f` unwinds;
/// a Postgres error's abort restores them as well). Without the pinned path a caller could put
/// their own `to_jsonb()` or `now()` in front of the owner's queries.
pub fn as_owner<T>(f: impl FnOnce() -> AuthResult<T>) -> AuthResult<T> {
    // Restored below on every path (an abort restores it as well).
    let saved = owner::switch_user(owner()?);
    let nest_level = guc::new_nest_level();
    let pinned = guc::set(
        c"search_path",
        "pg_catalog, pg_temp",
        guc::Scope::NestLevel,
        false,
    );
    let outcome = match pinned {
        Ok(()) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)),
        Err(()) => Ok(Err(AuthError::Internal)),
    };
    guc::close_nest_level(outcome.is_ok(), nest_level);
    saved.restore();
    match outcome {
        Ok(r) => r,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

type KeyRow = (
    String,
    String,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<JsonB>,
);

fn load() -> AuthResult<Instance> {
    let spi = |e: pgrx::spi::SpiError| {
        pgrx::log!("auth_ext: loading the instance failed: {e:?}");
        AuthError::Internal
    };
    let (settings, master_secret, config_oid, keys_oid) = Spi::connect(|client| {
        let t = client.select(include_str!("sql/instance_config.sql"), Some(1), &[])?;
        if t.is_empty() {
            return Ok(None);
        }
        let t = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((
            t.get::<JsonB>(1)?,
            t.get::<Vec<u8>>(2)?,
            t.get::<pg_sys::Oid>(3)?,
            t.get::<pg_sys::Oid>(4)?,
        )))
    })
    .map_err(spi)?
    .and_then(|(a, b, c, d)| Some((a?, b?, c?, d?)))
    .ok_or(AuthError::Internal)?;
    let rows: Vec<KeyRow> = Spi::connect(|client| {
        let mut out = Vec::new();
        for row in client.select(include_str!("sql/instance_keys.sql"), None, &[])? {
            out.push((
                row.get::<String>(1)?.unwrap_or_default(),
                row.get::<String>(2)?.unwrap_or_default(),
                row.get::<String>(3)?.unwrap_or_default(),
                row.get::<Vec<u8>>(4)?,
                row.get::<Vec<u8>>(5)?,
                row.get::<JsonB>(6)?,
            ));
        }
        Ok::<_, pgrx::spi::SpiError>(out)
    })
    .map_err(spi)?;
    WATCHED.set((config_oid, keys_oid));
    let settings = Settings::from_stored(&settings.0)?;
    let mut entries = Vec::with_capacity(rows.len());
    for (kid, alg, status, secret, private_der, public_jwk) in rows {
        let material = KeyMaterial {
            alg: Alg::parse(&alg)?,
            secret,
            private_der,
            public_jwk: public_jwk.map(|j| j.0),
        };
        entries.push((kid, KeyStatus::parse(&status)?, material));
    }
    let ring = KeyRing::new(entries)?;
    ring.current()?;
    let trusted_role_oids = settings
        .trust
        .trusted_roles
        .iter()
        .filter_map(|name| owner::role_oid(name))
        .collect();
    Ok(Instance {
        verify_options: settings.verify_options(),
        settings,
        keys: DerivedKeys::from_master(&master_secret),
        ring,
        trusted_role_oids,
    })
}
