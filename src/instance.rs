//! The per-backend cache of what every call needs: settings, signing keys and the refresh-token
//! chain key, loaded with one query and kept until a change to `auth.config` or
//! `auth.signing_keys` invalidates it.
//!
//! Invalidation rides on Postgres' relcache machinery: a statement trigger on both tables calls
//! `CacheInvalidateRelcacheByRelid`, which reaches this backend at its next command and every
//! other backend when the change commits, through the callback registered in `_PG_init`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use auth_core::jwt::{HsKey, Verifier};
use auth_core::settings::Settings;
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};

use crate::error::AuthResult;

pub struct Instance {
    pub settings: Settings,
    pub refresh_token_key: Vec<u8>,
    pub signing_key: HsKey,
    pub verifier: Verifier,
}

thread_local! {
    static CACHE: RefCell<Option<Rc<Instance>>> = const { RefCell::new(None) };
    /// OIDs of auth.config and auth.signing_keys, for the invalidation callback.
    static WATCHED: Cell<(pg_sys::Oid, pg_sys::Oid)> = const { Cell::new((pg_sys::InvalidOid, pg_sys::InvalidOid)) };
}

pub fn register_invalidation_callback() {
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(
            Some(on_relcache_invalidation),
            pg_sys::Datum::from(0),
        )
    };
}

#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let (config, keys) = WATCHED.get();
    if relid == pg_sys::InvalidOid || relid == config || relid == keys {
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
    let loaded = Rc::new(load()?);
    CACHE.with(|c| *c.borrow_mut() = Some(loaded.clone()));
    Ok(loaded)
}

fn load() -> AuthResult<Instance> {
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT c.settings, c.refresh_token_key, k.kid, k.secret,
                    'auth.config'::regclass::oid, 'auth.signing_keys'::regclass::oid
               FROM auth.config c, auth.signing_keys k
              WHERE k.status = 'current'",
            Some(1),
            &[],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let t = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((
            t.get::<JsonB>(1)?,
            t.get::<Vec<u8>>(2)?,
            t.get::<String>(3)?,
            t.get::<Vec<u8>>(4)?,
            t.get::<pg_sys::Oid>(5)?,
            t.get::<pg_sys::Oid>(6)?,
        )))
    })
    .map_err(|_| AuthError::Internal)?;
    let Some((Some(settings), Some(refresh_token_key), Some(kid), Some(secret), Some(c), Some(k))) =
        row
    else {
        pgrx::log!("auth_ext: auth.config or the current signing key is missing");
        return Err(AuthError::Internal);
    };
    WATCHED.set((c, k));
    let settings = Settings::from_stored(&settings.0)?;
    let signing_key = HsKey { kid, secret };
    Ok(Instance {
        settings,
        refresh_token_key,
        verifier: Verifier::new(signing_key.clone()),
        signing_key,
    })
}
