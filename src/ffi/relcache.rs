//! The relcache invalidation machinery the per-backend instance cache rides on
//! (src/instance.rs): a callback for every invalidation this backend receives, and sending
//! one for a table.

use std::sync::OnceLock;

use pgrx::pg_sys;
use pgrx::prelude::*;

static CALLBACK: OnceLock<fn(pg_sys::Oid)> = OnceLock::new();

/// Calls `callback` with the relation's OID (InvalidOid: "everything") for every relcache
/// invalidation this backend processes. Once per process, from `_PG_init`.
pub(crate) fn on_invalidation(callback: fn(pg_sys::Oid)) {
    if CALLBACK.set(callback).is_err() {
        return;
    }
    // SAFETY: registers a static function with a dummy argument; called once per process
    // (guarded above), before any invalidation can be delivered to it.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(deliver), pg_sys::Datum::from(0)) };
}

#[pg_guard]
unsafe extern "C-unwind" fn deliver(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    if let Some(callback) = CALLBACK.get() {
        callback(relid);
    }
}

/// Whether `relid` names a relation.
pub(crate) fn relation_exists(relid: pg_sys::Oid) -> bool {
    // SAFETY: a syscache lookup by OID; an unknown OID gives NULL instead of an error.
    !unsafe { pg_sys::get_rel_name(relid) }.is_null()
}

/// Queues a relcache invalidation of `relid`: this backend processes it at its next command,
/// the others when the transaction commits. `relid` must name a relation
/// ([`relation_exists`]); PostgreSQL raises an internal error otherwise.
pub(crate) fn invalidate(relid: pg_sys::Oid) {
    // SAFETY: takes an OID by value; an error (unknown relation) is raised as a Postgres error,
    // which pgrx turns into a panic the caller's guard handles.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) }
}
