//! The reduced mode's durable traces (no `shared_preload_libraries`): one short-lived worker per
//! entry, given the kind as its Datum and the database and payload as raw bytes in `bgw_extra`,
//! applied in a transaction of its own; the caller waits for its end.

use std::sync::atomic::AtomicU64;

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::kinds::{self, Kind};
use crate::ffi::bgw;

static NO_WORKER: AtomicU64 = AtomicU64::new(0);

/// Room in `bgw_extra` (128 bytes) after the database oid and the payload length.
const MAX_PAYLOAD: usize = 128 - 5;

/// Applies `payload` of `kind` through a one-off worker and waits for it. Returns whether the
/// worker ran to its end (its own failures are logged by it).
pub fn apply_with_one_off_worker(kind: Kind, payload: &[u8]) -> bool {
    if payload.len() > MAX_PAYLOAD {
        pgrx::log!(
            "auth_ext: a {kind:?} trace of {} bytes does not fit a worker",
            payload.len()
        );
        return false;
    }
    let db = crate::ffi::proc::database();
    let mut extra = Vec::with_capacity(5 + payload.len());
    extra.extend_from_slice(&db.to_le_bytes());
    extra.push(payload.len() as u8);
    extra.extend_from_slice(payload);
    let spec = bgw::Spec {
        function: c"auth_ext_trace_once",
        name: "auth_ext one-off trace",
        kind: "auth_ext trace",
        arg: kind as i64,
        extra: &extra,
        notify: true,
    };
    match bgw::register(&spec) {
        Some(worker) => worker.wait_shutdown(),
        None => {
            super::log_sparsely(&NO_WORKER, |n| {
                format!(
                    "auth_ext: no free background worker for a {kind:?} trace (raise \
                     max_worker_processes, or preload auth_ext); {n} in this process"
                )
            });
            false
        }
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn auth_ext_trace_once(arg: pg_sys::Datum) {
    let kind = arg.value() as u8;
    let extra = bgw::extra();
    let db = u32::from_le_bytes(extra[..4].try_into().unwrap());
    let len = extra[4] as usize;
    let Some(payload) = extra
        .get(5..5 + len)
        .filter(|_| db != 0 && len <= MAX_PAYLOAD)
    else {
        pgrx::warning!("auth_ext: one-off trace worker got malformed arguments; nothing written");
        return;
    };
    bgw::connect(db);
    let result = bgw::transaction(|| {
        Spi::run("SET LOCAL lock_timeout = '5s'").map_err(|e| e.to_string())?;
        kinds::apply(kind, payload)
    });
    if let Err(f) = result {
        pgrx::warning!(
            "auth_ext: one-off trace worker (kind {kind}) in database {db} failed (SQLSTATE {})",
            f.sqlstate
        );
    }
}
