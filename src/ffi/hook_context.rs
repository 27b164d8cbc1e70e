//! The context an auth hook runs in: as the owner's chosen role (not the extension owner whose
//! rights the calling SECURITY DEFINER function has), as a restricted operation, in a settings
//! level of its own that is thrown away after it (whatever the hook sets, even without LOCAL:
//! `request.jwt.claims`, `search_path`, `statement_timeout`, does not outlive it), and under a
//! time limit of its own. PostgreSQL's `statement_timeout` only starts with a top-level
//! statement, and a hook runs inside one, so the limit is a timeout of our own that cancels the
//! query the way `statement_timeout` does.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use pgrx::pg_sys;

/// PostgreSQL 15's `USER_TIMEOUT` (utils/timeout.h, not in pgrx's bindings): passed to
/// `RegisterTimeout`, it asks for a new user-defined timeout id.
const USER_TIMEOUT: i32 = 12;

extern "C-unwind" {
    fn RegisterTimeout(id: i32, handler: Option<unsafe extern "C-unwind" fn()>) -> i32;
    fn enable_timeout_after(id: i32, delay_ms: i32);
    fn disable_timeout(id: i32, keep_indicator: bool);
}

/// Set by the handler; read after the hook to tell our cancel from another.
static FIRED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static TIMEOUT_ID: Cell<Option<i32>> = const { Cell::new(None) };
}

/// Runs in signal context: only sets flags and the latch, as PostgreSQL's own handlers do.
unsafe extern "C-unwind" fn on_timeout() {
    FIRED.store(true, Ordering::SeqCst);
    // SAFETY: InterruptPending and QueryCancelPending are sig_atomic_t flags meant to be set
    // from signal handlers; MyLatch is this process's latch, valid for its whole life, and
    // SetLatch is async-signal-safe (StatementTimeoutHandler does the same).
    unsafe {
        pg_sys::QueryCancelPending = 1;
        pg_sys::InterruptPending = 1;
        pg_sys::SetLatch(pg_sys::MyLatch);
    }
}

fn timeout_id() -> i32 {
    TIMEOUT_ID.with(|cell| {
        if let Some(id) = cell.get() {
            return id;
        }
        // SAFETY: registers a handler for a fresh user timeout id, once per backend (ids are
        // never released; PostgreSQL has ten).
        let id = unsafe { RegisterTimeout(USER_TIMEOUT, Some(on_timeout)) };
        cell.set(Some(id));
        id
    })
}

/// While alive: the current user is `role` (restricted), and the timeout is armed. Dropping it
/// restores both; an error that aborts the transaction restores the user too.
pub(crate) struct HookContext {
    saved_user: pg_sys::Oid,
    saved_context: i32,
    guc_level: i32,
    timeout: i32,
}

impl HookContext {
    pub(crate) fn enter(role: pg_sys::Oid, timeout_ms: i32) -> HookContext {
        let mut saved_user = pg_sys::InvalidOid;
        let mut saved_context = 0;
        // SAFETY: opens a settings nest level, as function SET clauses and restricted
        // maintenance commands do; drop closes it with AtEOXact_GUC(false), which undoes every
        // change made inside it, SET without LOCAL included.
        let guc_level = unsafe { pg_sys::NewGUCNestLevel() };
        // SAFETY: reads and sets backend-local state, as SECURITY DEFINER calls and
        // maintenance commands do; the previous values are kept to be restored in drop.
        unsafe {
            pg_sys::GetUserIdAndSecContext(&mut saved_user, &mut saved_context);
            pg_sys::SetUserIdAndSecContext(
                role,
                saved_context
                    | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32
                    | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
            );
        }
        let timeout = timeout_id();
        FIRED.store(false, Ordering::SeqCst);
        // SAFETY: arms the id registered above; it fires at most once.
        unsafe { enable_timeout_after(timeout, timeout_ms) };
        HookContext {
            saved_user,
            saved_context,
            guc_level,
            timeout,
        }
    }

    /// Whether the hook ran out of time (its cancel was ours).
    pub(crate) fn timed_out(&self) -> bool {
        FIRED.load(Ordering::SeqCst)
    }
}

impl Drop for HookContext {
    fn drop(&mut self) {
        // SAFETY: disarms our own timeout, throws away the hook's settings level and puts back
        // the user and context saved in enter (the reverse order of enter).
        unsafe {
            disable_timeout(self.timeout, false);
            pg_sys::AtEOXact_GUC(false, self.guc_level);
            pg_sys::SetUserIdAndSecContext(self.saved_user, self.saved_context);
        }
    }
}
