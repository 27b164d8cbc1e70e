//! Raising [`AuthError`]s as Postgres errors, in one place.
//!
//! The error is raised through Postgres' own `errstart`/`errfinish` (src/ffi/elog.rs), which
//! longjmps, so [`raise`] is only ever reached from [`guard`], after every Rust value of the
//! call has been dropped: the frames it jumps over hold nothing that needs a destructor.

use std::panic::{catch_unwind, AssertUnwindSafe};

use auth_core::AuthError;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::PgSqlErrorCode;

use crate::ffi::elog::Report;
use crate::ffi::guc;

pub(crate) use auth_core::AuthResult;

/// Runs the body of a SQL-callable function. An `Err`, a Rust panic, or a Postgres error raised
/// inside (an SPI failure) all leave as one [`AuthError`] with its `PTxxx` SQLSTATE; nothing
/// reaches the caller as an internal error with a raw message.
pub(crate) fn guard<T>(body: impl FnOnce() -> AuthResult<T>) -> T {
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

/// Raises `err` as an ERROR with SQLSTATE `PT<status>`, the message, DETAIL = GoTrue code and,
/// for weak passwords, HINT = the reasons. The texts are copied into Postgres memory first so
/// that nothing owned by Rust is live when the error longjmps.
fn raise(err: AuthError) -> ! {
    let report = Report::error(
        &err.sqlstate(),
        &err.message(),
        err.code(),
        err.hint().as_deref(),
    );
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
    report.raise()
}
