//! Dynamic background workers: registering one with a Datum argument and a few raw bytes of
//! `bgw_extra`, waiting for its end, and, inside a worker, connecting to a database, reading the
//! extra bytes, an exit callback, and transactions whose errors are caught and reported to the
//! caller instead of ending the worker.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;

/// What a worker is: its library function, names, and arguments.
pub struct Spec<'a> {
    pub function: &'static CStr,
    pub name: &'a str,
    pub kind: &'static str,
    pub arg: i64,
    pub extra: &'a [u8],
    /// Whether the registering backend will wait for the worker's end ([`Handle::wait_shutdown`]).
    pub notify: bool,
}

/// A registered dynamic worker. Its memory (the handle) lives in the registering backend's
/// current memory context: use it within the call that registered it.
pub struct Handle(*mut pg_sys::BackgroundWorkerHandle);

fn copy_str(dst: &mut [std::ffi::c_char], s: &[u8]) {
    let n = s.len().min(dst.len() - 1);
    for (d, b) in dst.iter_mut().zip(&s[..n]) {
        *d = *b as std::ffi::c_char;
    }
    dst[n] = 0;
}

/// Registers a worker; `None` when no slot is free (`max_worker_processes`) or `extra` does not
/// fit (128 bytes).
pub fn register(spec: &Spec) -> Option<Handle> {
    // SAFETY: BackgroundWorker is a plain C struct; zeroed is a valid starting value (what C
    // callers get with memset). Every string field is NUL-terminated within its array by
    // copy_str, bgw_extra is raw bytes the worker reads back with `extra()`.
    let mut bgw: pg_sys::BackgroundWorker = unsafe { std::mem::zeroed() };
    if spec.extra.len() > bgw.bgw_extra.len() {
        return None;
    }
    copy_str(&mut bgw.bgw_name, spec.name.as_bytes());
    copy_str(&mut bgw.bgw_type, spec.kind.as_bytes());
    copy_str(&mut bgw.bgw_library_name, b"auth_ext");
    copy_str(&mut bgw.bgw_function_name, spec.function.to_bytes());
    for (d, b) in bgw.bgw_extra.iter_mut().zip(spec.extra) {
        *d = *b as std::ffi::c_char;
    }
    bgw.bgw_flags =
        (pg_sys::BGWORKER_SHMEM_ACCESS | pg_sys::BGWORKER_BACKEND_DATABASE_CONNECTION) as i32;
    bgw.bgw_start_time = pg_sys::BgWorkerStartTime::BgWorkerStart_RecoveryFinished;
    bgw.bgw_restart_time = -1; // BGW_NEVER_RESTART
    bgw.bgw_main_arg = pg_sys::Datum::from(spec.arg);
    bgw.bgw_notify_pid = if spec.notify { super::proc::pid() } else { 0 };
    let mut handle: *mut pg_sys::BackgroundWorkerHandle = std::ptr::null_mut();
    // SAFETY: bgw is fully initialised above; PostgreSQL copies it into its slot array and, on
    // success, sets `handle` to a palloc'd handle.
    let ok = unsafe { pg_sys::RegisterDynamicBackgroundWorker(&mut bgw, &mut handle) };
    (ok && !handle.is_null()).then_some(Handle(handle))
}

impl Handle {
    /// Waits until the worker has exited (or could not start). Interruptible: a cancel raises its
    /// error. Returns false if the postmaster died.
    pub fn wait_shutdown(self) -> bool {
        // SAFETY: the handle came from RegisterDynamicBackgroundWorker in this call's memory
        // context and the worker was registered with bgw_notify_pid = our pid, as
        // WaitForBackgroundWorkerShutdown requires.
        let status = unsafe { pg_sys::WaitForBackgroundWorkerShutdown(self.0) };
        status == pg_sys::BgwHandleStatus::BGWH_STOPPED
    }
}

/// Inside a worker: the raw `bgw_extra` bytes it was registered with.
pub fn extra() -> [u8; 128] {
    let mut out = [0u8; 128];
    // SAFETY: MyBgworkerEntry is set for a background worker before its main function runs
    // (checked for null); bgw_extra is a 128-byte array inside it.
    unsafe {
        let entry = pg_sys::MyBgworkerEntry;
        if !entry.is_null() {
            for (o, c) in out.iter_mut().zip((*entry).bgw_extra.iter()) {
                *o = *c as u8;
            }
        }
    }
    out
}

/// Inside a worker: connects to database `db` as the bootstrap superuser. Raises FATAL if the
/// database is gone or refuses connections (the exit callbacks still run).
pub fn connect(db: u32) {
    // SAFETY: called once, from a worker registered with BGWORKER_BACKEND_DATABASE_CONNECTION,
    // before any transaction.
    unsafe {
        pg_sys::BackgroundWorkerInitializeConnectionByOid(
            pg_sys::Oid::from(db),
            pg_sys::InvalidOid,
            0,
        )
    }
}

/// Inside a worker: installs SIGTERM handling (the flag [`terminating`] reads, the latch set)
/// and unblocks signals.
pub fn init_signals() {
    pgrx::bgworkers::BackgroundWorker::attach_signal_handlers(
        pgrx::bgworkers::SignalWakeFlags::SIGTERM,
    );
}

/// Inside a worker: whether SIGTERM arrived (a shutdown, `pg_terminate_backend`, `DROP
/// DATABASE ... WITH (FORCE)`).
pub fn terminating() -> bool {
    // SAFETY: ShutdownRequestPending is a sig_atomic_t the SIGTERM handler sets.
    unsafe { std::ptr::read_volatile(&raw const pg_sys::ShutdownRequestPending) != 0 }
}

/// Runs `callback(arg)` when the process exits, also after a FATAL error.
pub fn on_exit(callback: unsafe extern "C-unwind" fn(i32, pg_sys::Datum), arg: i64) {
    // SAFETY: registers a callback with PostgreSQL's exit machinery; the function is 'static.
    unsafe { pg_sys::before_shmem_exit(Some(callback), pg_sys::Datum::from(arg)) }
}

/// Names a worker's current work (or idleness) in pg_stat_activity.
pub fn report_activity(running: bool, what: &CStr) {
    let state = if running {
        pg_sys::BackendState::STATE_RUNNING
    } else {
        pg_sys::BackendState::STATE_IDLE
    };
    // SAFETY: a NUL-terminated string; pgstat copies it.
    unsafe { pg_sys::pgstat_report_activity(state, what.as_ptr()) }
}

/// Why a worker transaction failed: SQLSTATE and message (ours or PostgreSQL's).
#[derive(Debug)]
pub struct Failure {
    pub sqlstate: String,
    pub message: String,
}

fn failure(payload: Box<dyn std::any::Any + Send>) -> Failure {
    match payload.downcast::<CaughtError>() {
        Ok(caught) => {
            let report = match &*caught {
                CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
                CaughtError::RustPanic { ereport, .. } => ereport,
            };
            Failure {
                sqlstate: format!("{:?}", report.sql_error_code()),
                message: report.message().to_owned(),
            }
        }
        Err(other) => Failure {
            sqlstate: "XX000".into(),
            message: other
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| other.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Rust panic".into()),
        },
    }
}

/// Inside a worker: runs `body` in a transaction of its own and commits it if it returns `Ok`.
/// If it returns `Err`, or an error is raised (by PostgreSQL inside, a panic, or at commit), the
/// transaction is aborted and the reason returned; the worker goes on.
pub fn transaction<R>(body: impl FnOnce() -> Result<R, String>) -> Result<R, Failure> {
    // SAFETY: a connected worker outside any transaction (every path below ends the one it
    // starts) may start one; a snapshot is pushed for the body's statements, as pgrx's
    // BackgroundWorker::transaction does.
    unsafe {
        pg_sys::SetCurrentStatementStartTimestamp();
        pg_sys::StartTransactionCommand();
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let value = body()?;
        // SAFETY: pops the snapshot pushed above and commits; a commit-time error longjmps into
        // pgrx's guard and becomes a panic caught here.
        unsafe {
            pg_sys::PopActiveSnapshot();
            pg_sys::CommitTransactionCommand();
        }
        Ok(value)
    }));
    let failed = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(message)) => Failure {
            sqlstate: "none (refused by auth_ext)".into(),
            message,
        },
        Err(payload) => failure(payload),
    };
    // SAFETY: the transaction started above is still open (not committed: commit is the last
    // step of the Ok path). Any PostgreSQL error state was flushed by pgrx when it turned the
    // error into a panic; AbortCurrentTransaction cleans up (snapshots, SPI, locks, memory) the
    // way PostgreSQL's own error recovery does, leaving no transaction open.
    unsafe { pg_sys::AbortCurrentTransaction() };
    Err(failed)
}
