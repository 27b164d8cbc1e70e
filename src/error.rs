//! Raising [`AuthError`]s as Postgres errors, in one place.
//!
//! pgrx's `ereport!` only knows the SQLSTATEs of its `PgSqlErrorCode` enum, and ours are
//! PostgREST's `PTxxx` codes, so the error is raised through Postgres' own `errstart`/`errfinish`.
//! That longjmps, so [`raise`] is only ever reached from [`guard`], after every Rust value of the
//! call has been dropped: the frames it jumps over hold nothing that needs a destructor.

use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use auth_core::AuthError;
use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::PgSqlErrorCode;

use crate::ffi::guc;

pub type AuthResult<T> = Result<T, AuthError>;

unsafe extern "C-unwind" {
    fn errstart(elevel: c_int, domain: *const c_char) -> bool;
    fn errcode(sqlerrcode: c_int) -> c_int;
    fn errmsg(fmt: *const c_char, ...) -> c_int;
    fn errdetail(fmt: *const c_char, ...) -> c_int;
    fn errhint(fmt: *const c_char, ...) -> c_int;
    fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
}

/// Runs the body of a SQL-callable function. An `Err`, a Rust panic, or a Postgres error raised
/// inside (an SPI failure) all leave as one [`AuthError`] with its `PTxxx` SQLSTATE; nothing
/// reaches the caller as an internal error with a raw message.
pub fn guard<T>(body: impl FnOnce() -> AuthResult<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(body));
    let err = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(err)) => err,
        Err(payload) => from_panic(payload),
    };
    raise(err)
}

/// Classifies what unwound out of a body. Postgres errors keep their meaning where one exists
/// (a serialisation failure is a conflict to retry, a read-only standby says so); everything else
/// is logged by SQLSTATE only, since messages can carry values, and reported as internal.
fn from_panic(payload: Box<dyn std::any::Any + Send>) -> AuthError {
    let caught = match payload.downcast::<CaughtError>() {
        Ok(caught) => *caught,
        Err(_) => {
            pgrx::log!("auth_ext: internal error (Rust panic)");
            return AuthError::Internal;
        }
    };
    let report = match &caught {
        CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
        CaughtError::RustPanic { ereport, .. } => ereport,
    };
    use PgSqlErrorCode::*;
    let code = report.sql_error_code();
    match code {
        ERRCODE_T_R_SERIALIZATION_FAILURE
        | ERRCODE_T_R_DEADLOCK_DETECTED
        | ERRCODE_LOCK_NOT_AVAILABLE
        | ERRCODE_UNIQUE_VIOLATION => AuthError::Conflict,
        ERRCODE_READ_ONLY_SQL_TRANSACTION => AuthError::ReadOnly,
        // Cancellation and timeouts must stay what they are so clients and poolers react
        // correctly; they carry no data.
        ERRCODE_QUERY_CANCELED | ERRCODE_ADMIN_SHUTDOWN => caught.rethrow(),
        _ => {
            // The SQLSTATE only: messages can carry values (an email in a unique violation).
            pgrx::log!("auth_ext: internal error, SQLSTATE {:?}", code);
            // The text, for an operator who asks for it (log_min_messages = debug1).
            pgrx::debug1!("auth_ext: internal error: {}", report.message());
            AuthError::Internal
        }
    }
}

fn pg_cstring(s: &str) -> *mut c_char {
    // Interior NULs cannot occur in our messages; replace them rather than fail.
    let c = CString::new(s.replace('\0', " ")).expect("no NUL left");
    unsafe { pg_sys::pstrdup(c.as_ptr()) }
}

fn make_sqlstate(s: &str) -> c_int {
    // PGSIXBIT / MAKE_SQLSTATE from utils/elog.h
    let b = s.as_bytes();
    let six = |c: u8| (c.wrapping_sub(b'0') & 0x3F) as c_int;
    six(b[0]) + (six(b[1]) << 6) + (six(b[2]) << 12) + (six(b[3]) << 18) + (six(b[4]) << 24)
}

/// Raises `err` as an ERROR with SQLSTATE `PT<status>`, the message, DETAIL = GoTrue code and,
/// for weak passwords, HINT = the reasons. Strings are copied into Postgres memory first so
/// that nothing owned by Rust is live when `errfinish` longjmps.
fn raise(err: AuthError) -> ! {
    let sqlstate = make_sqlstate(&err.sqlstate());
    let message = pg_cstring(&err.message());
    let detail = pg_cstring(err.code());
    let hint = err.hint().map(|h| pg_cstring(&h));
    drop(err);
    // The failing statement may hold a password or token as a literal: keep the server log from
    // repeating it. The setting is transaction-local, so the abort that follows restores it.
    // (Settings cannot change inside a parallel operation; a worker's error is reported by its
    // leader, whose statement logging is the leader's.)
    // (With the library preloaded, ffi::log_redaction covers this and more.)
    if !guc::in_parallel_mode() {
        let _ = guc::set(
            c"log_min_error_statement",
            "panic",
            guc::Scope::Transaction,
            true,
        );
    }
    const PERCENT_S: *const c_char = c"%s".as_ptr();
    unsafe {
        errstart(pgrx::PgLogLevel::ERROR as c_int, std::ptr::null());
        errcode(sqlstate);
        errmsg(PERCENT_S, message);
        errdetail(PERCENT_S, detail);
        if let Some(hint) = hint {
            errhint(PERCENT_S, hint);
        }
        // No source location: it would only say "auth_ext" and clutter every client.
        errfinish(std::ptr::null(), 0, std::ptr::null());
    }
    unreachable!("errfinish(ERROR) does not return")
}
