//! Revoking a refresh-token family when a token is reused outside the reuse interval.
//!
//! The caller must get an error (`refresh_token_already_used`), and an error rolls back the
//! transaction that raised it, so the revocation cannot be written by that transaction. It is
//! a trace (src/trace/): queued in shared memory, committed by the database's trace writer in a
//! transaction of its own, which the caller waits for (at most [`WAIT`]); then the caller checks
//! in the database that no live token of the session remains, and fails closed (`PT500`, logged)
//! if one does. Without `shared_preload_libraries = 'auth_ext'` (the reduced mode), one
//! short-lived worker per detection does the same work; if none can be started the check fails
//! closed the same way. Either way a revocation is never skipped silently.
//!
//! The caller holds only the session row's lock, and the writer touches only token rows and the
//! audit log (with a lock timeout), so the two cannot deadlock.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use auth_core::AuthError;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::db;
use crate::error::AuthResult;
use crate::ffi::bgw;
use crate::request::RequestInfo;
use crate::trace::{self, kinds, Kind};

/// How long a caller waits for its revocation to be committed.
pub const WAIT: Duration = Duration::from_secs(5);

static NO_WORKER: AtomicU64 = AtomicU64::new(0);

/// Revokes every live refresh token of the session of token `token_id` (in `session_id`),
/// committed independently of the caller, and checks that none is left: `Err(Internal)` (PT500)
/// if one is.
pub fn revoke_family(token_id: i64, session_id: uuid::Uuid, req: &RequestInfo) -> AuthResult<()> {
    let payload = kinds::revoke_family(token_id, req.ip.as_deref());
    if trace::available() {
        match trace::enqueue(Kind::RevokeFamily, &payload, true) {
            Ok(ticket) => {
                if !trace::wait(&ticket, WAIT) {
                    pgrx::log!(
                        "auth_ext: the revocation of session {session_id}'s refresh tokens was not \
                         confirmed within {} s",
                        WAIT.as_secs()
                    );
                }
            }
            Err(why) => pgrx::log!(
                "auth_ext: could not queue the revocation of session {session_id}'s refresh \
                 tokens ({why:?})"
            ),
        }
    } else {
        revoke_with_one_off_worker(token_id, session_id, req);
    }
    // Fail closed: if the revocation was not committed (queue full, no worker, a lock timeout),
    // say so instead of pretending the family is dead.
    let live = db::json(
        "SELECT to_jsonb(count(*)) FROM auth.refresh_tokens WHERE session_id = $1 AND NOT revoked",
        &[db::uuid(session_id).into()],
    )?;
    if live.and_then(|v| v.as_i64()).unwrap_or(0) > 0 {
        pgrx::log!(
            "auth_ext: the refresh tokens of session {session_id} (reused token id {token_id}) \
             could not be revoked; answering PT500"
        );
        return Err(AuthError::Internal);
    }
    Ok(())
}

/// The reduced mode: one worker for this detection, given the token id as its Datum argument and
/// the database oid and IP address as raw bytes in `bgw_extra`; the caller waits for its end.
fn revoke_with_one_off_worker(token_id: i64, session_id: uuid::Uuid, req: &RequestInfo) {
    let db = crate::ffi::proc::database();
    let ip = req.ip.as_deref().unwrap_or("");
    let ip = &ip.as_bytes()[..ip.len().min(64)];
    let mut extra = Vec::with_capacity(5 + ip.len());
    extra.extend_from_slice(&db.to_le_bytes());
    extra.push(ip.len() as u8);
    extra.extend_from_slice(ip);
    let spec = bgw::Spec {
        function: c"auth_ext_revoke_family",
        name: "auth_ext refresh-token family revocation",
        kind: "auth_ext revocation",
        arg: token_id,
        extra: &extra,
        notify: true,
    };
    match bgw::register(&spec) {
        Some(worker) => {
            if !worker.wait_shutdown() {
                pgrx::log!(
                    "auth_ext: the revocation worker for session {session_id} did not finish"
                );
            }
        }
        None => trace::log_sparsely(&NO_WORKER, |n| {
            format!(
                "auth_ext: no free background worker to revoke session {session_id}'s refresh \
                 tokens (raise max_worker_processes, or preload auth_ext); {n} in this process"
            )
        }),
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn auth_ext_revoke_family(arg: pg_sys::Datum) {
    let token_id = arg.value() as i64;
    let extra = bgw::extra();
    let db = u32::from_le_bytes(extra[..4].try_into().unwrap());
    let ip_len = extra[4] as usize;
    let ip = std::str::from_utf8(extra.get(5..5 + ip_len).unwrap_or(&[]));
    let (Ok(ip), true) = (ip, db != 0 && ip_len <= 64) else {
        pgrx::warning!(
            "auth_ext: revocation worker for token id {token_id} got malformed arguments \
             (database {db}, address length {ip_len}); nothing revoked"
        );
        return;
    };
    bgw::connect(db);
    let result = bgw::transaction(|| {
        Spi::run("SET LOCAL lock_timeout = '5s'").map_err(|e| e.to_string())?;
        let payload = kinds::revoke_family(token_id, Some(ip));
        kinds::apply(Kind::RevokeFamily as u8, &payload)
    });
    if let Err(f) = result {
        pgrx::debug1!("auth_ext: revocation worker error text: {}", f.message);
        pgrx::warning!(
            "auth_ext: revocation worker for token id {token_id} in database {db} failed \
             (SQLSTATE {}); the caller answers PT500",
            f.sqlstate
        );
    }
}
