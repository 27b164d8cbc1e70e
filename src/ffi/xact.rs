//! Who is running and in which transaction: the session's login role, superuser status, and a
//! tag that names the current transaction (also from a parallel worker of it).

use pgrx::pg_sys;

/// The session's login role (`session_user`), which `SET ROLE` does not change.
pub(crate) fn session_user() -> pg_sys::Oid {
    // SAFETY: reads a backend-local variable set at connection time.
    unsafe { pg_sys::GetSessionUserId() }
}

/// The role the session acts as (`SET ROLE`'s), outside any SECURITY DEFINER function.
pub(crate) fn outer_user() -> pg_sys::Oid {
    // SAFETY: reads a backend-local variable that SET ROLE maintains.
    unsafe { pg_sys::GetOuterUserId() }
}

/// Whether `role` is a superuser.
pub(crate) fn is_superuser(role: pg_sys::Oid) -> bool {
    // SAFETY: a syscache lookup by OID; an unknown OID is simply not a superuser.
    unsafe { pg_sys::superuser_arg(role) }
}

/// Names the current top-level transaction, unique over the server's life: the server's start
/// time and the virtual transaction id (backend slot, local transaction number; PostgreSQL
/// carries a slot's numbering over to the next backend that uses it, so a pair is never
/// reused). In a parallel worker it is the leader's, so workers agree with their leader.
pub(crate) fn transaction_tag() -> [u8; 16] {
    // SAFETY: MyProc is this backend's PGPROC, set for every regular and parallel backend before
    // any SQL runs. lockGroupLeader is NULL or the leader's PGPROC, which lives in shared memory
    // for as long as the leader runs, and the leader waits for its workers before its
    // transaction ends, so its vxid fields are stable while we read them.
    let (backend, lxid) = unsafe {
        let me = pg_sys::MyProc;
        let leader = if (*me).lockGroupLeader.is_null() {
            me
        } else {
            (*me).lockGroupLeader
        };
        ((*leader).backendId, (*leader).lxid)
    };
    // SAFETY: PgStartTime is set once by the postmaster before forking any backend.
    let started = unsafe { pg_sys::PgStartTime };
    let mut tag = [0u8; 16];
    tag[..8].copy_from_slice(&started.to_le_bytes());
    tag[8..12].copy_from_slice(&backend.to_le_bytes());
    tag[12..].copy_from_slice(&lxid.to_le_bytes());
    tag
}

/// Whether this server is a standby (in recovery), where nothing can be written.
pub(crate) fn recovery_in_progress() -> bool {
    // SAFETY: reads shared recovery state; callable from any backend at any time.
    unsafe { pg_sys::RecoveryInProgress() }
}

static TRANSACTION_END: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Calls `callback` when a transaction of this backend (or of its parallel workers) commits,
/// aborts or is prepared. Once per process, from `_PG_init`.
pub(crate) fn on_transaction_end(callback: fn()) {
    if TRANSACTION_END.set(callback).is_err() {
        return;
    }
    // SAFETY: registers a static function with no argument, once per process (guarded above).
    unsafe { pg_sys::RegisterXactCallback(Some(transaction_event), std::ptr::null_mut()) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn transaction_event(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_PARALLEL_ABORT
            | XACT_EVENT_PREPARE
    ) {
        if let Some(callback) = TRANSACTION_END.get() {
            callback();
        }
    }
}
