//! Revoking a refresh-token family when a token is reused outside the reuse interval.
//!
//! The caller must get an error (`refresh_token_already_used`), and an error rolls back the
//! transaction that raised it, so the revocation cannot be written by that transaction. It is
//! written by a short-lived background worker in a transaction of its own, which the caller
//! waits for before raising. The caller holds only the session row's lock, and the worker
//! touches only token rows and the audit log, so the two cannot deadlock.

use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime};
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde_json::json;

use crate::audit::{self, Action};
use crate::request::RequestInfo;

const REVOKE_TOKENS: &str = "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
                              WHERE session_id = $1::uuid AND NOT revoked";

/// Revokes every live refresh token of `session_id`, committed independently of the caller.
/// If no worker can be started (all `max_worker_processes` in use) the failure is logged and
/// the caller's error still stands; the tokens then stay usable, which is logged loudly.
pub fn revoke_session_tokens(session_id: uuid::Uuid, user_id: &str, req: &RequestInfo) {
    let db_oid = unsafe { pg_sys::MyDatabaseId };
    let extra = format!(
        "{} {session_id} {user_id} {}",
        db_oid.to_u32(),
        req.ip.as_deref().unwrap_or("-")
    );
    let started = BackgroundWorkerBuilder::new("auth_ext refresh-token family revocation")
        .set_library("auth_ext")
        .set_function("auth_ext_revoke_family")
        .set_extra(&extra)
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(None)
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .load_dynamic();
    match started {
        Ok(worker) => {
            if worker.wait_for_shutdown().is_err() {
                pgrx::warning!("auth_ext: the refresh-token revocation worker did not finish");
            }
        }
        Err(_) => pgrx::warning!(
            "auth_ext: could not start a worker to revoke a reused refresh token's family; \
             raise max_worker_processes"
        ),
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn auth_ext_revoke_family(_arg: pg_sys::Datum) {
    let extra = BackgroundWorker::get_extra().to_owned();
    let mut parts = extra.split(' ');
    let (Some(db_oid), Some(session_id), Some(user_id), Some(ip)) = (
        parts.next().and_then(|o| o.parse::<u32>().ok()),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return;
    };
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(pg_sys::Oid::from(db_oid)), None);
    let ip = if ip == "-" { "" } else { ip };
    BackgroundWorker::transaction(|| {
        // Never wait long on a row the requesting transaction itself may hold (it waits for us).
        let _ = Spi::run("SET LOCAL lock_timeout = '5s'");
        let revoked = Spi::connect_mut(|client| {
            client
                .update(REVOKE_TOKENS, None, &[DatumWithOid::from(session_id)])
                .map(|t| t.len())
        })
        .unwrap_or(0);
        if revoked > 0 {
            let payload = audit::payload(
                Action::TokenRevoked,
                user_id,
                None,
                json!({"session_id": session_id, "reason": "refresh_token_reused"}),
            );
            let _ = Spi::run_with_args(
                audit::INSERT.as_str(),
                &[payload.as_str().into(), ip.into()],
            );
        }
    });
}
