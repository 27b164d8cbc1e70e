//! Keeps credentials out of the server log: an `emit_log_hook` that, for a statement calling
//! one of auth_ext's credential-taking functions (`auth_core::redact`), drops the `STATEMENT:`
//! line of any message and replaces the statement and its bound parameters in `log_statement`
//! / `log_min_duration_statement` lines.
//!
//! auth_ext's own errors already keep the statement out (src/error.rs); this covers failures
//! before its code is entered (a malformed `data` literal, permission denied, a wrong argument
//! count). It needs the library preloaded (`shared_preload_libraries`): otherwise the hook is
//! installed only when a backend first calls an auth_ext function.

use std::ffi::CStr;

use auth_core::redact;
use pgrx::pg_sys;

static mut PREVIOUS: pg_sys::emit_log_hook_type = None;

/// Installs the hook (from `_PG_init`, once per process).
pub(crate) fn install() {
    // SAFETY: _PG_init runs once per process, single-threaded, before this process reports
    // anything through the hook; the previous hook is kept and chained.
    unsafe {
        PREVIOUS = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(redact_hook);
    }
}

/// A message's text, for prefix checks.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string alive for the returned lifetime.
unsafe fn text<'a>(ptr: *const std::ffi::c_char) -> &'a [u8] {
    if ptr.is_null() {
        return b"";
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(ptr) }.to_bytes()
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn redact_hook(edata: *mut pg_sys::ErrorData) {
    // SAFETY: PostgreSQL calls the hook with the ErrorData being reported, valid and writable
    // for the duration of the call; debug_query_string is NULL or the current statement's text.
    // Replacement strings are allocated with pstrdup in the current memory context (ErrorContext
    // here), which lives until the report is done, as PostgreSQL's own fields do.
    unsafe {
        if !edata.is_null() && (*edata).output_to_server {
            let statement = text(pg_sys::debug_query_string);
            if !statement.is_empty() && redact::statement_needs_redaction(statement) {
                (*edata).hide_stmt = true;
                let message = text((*edata).message);
                if message.starts_with(b"statement: ")
                    || message.starts_with(b"execute ")
                    || message.starts_with(b"duration: ")
                {
                    (*edata).message = pg_sys::pstrdup(
                        c"statement: <redacted by auth_ext: it passes credentials>".as_ptr(),
                    );
                }
                for detail in [&mut (*edata).detail, &mut (*edata).detail_log] {
                    if text(*detail).starts_with(b"parameters: ") {
                        *detail = pg_sys::pstrdup(c"parameters: <redacted by auth_ext>".as_ptr());
                    }
                }
            }
        }
        if let Some(previous) = PREVIOUS {
            previous(edata);
        }
    }
}
