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

/// A copy of `text` in the current memory context, or NULL when memory is short: the hook runs
/// while an error is being reported and must not raise another.
///
/// # Safety
/// Called with a valid current memory context (always so inside error reporting).
unsafe fn copy_or_null(text: &CStr) -> *mut std::ffi::c_char {
    let bytes = text.to_bytes_with_nul();
    // SAFETY: MemoryContextAllocExtended with MCXT_ALLOC_NO_OOM returns NULL instead of raising;
    // a non-NULL result has room for `bytes`, which we copy whole (NUL included).
    unsafe {
        let out = pg_sys::MemoryContextAllocExtended(
            pg_sys::CurrentMemoryContext,
            bytes.len(),
            pg_sys::MCXT_ALLOC_NO_OOM as i32,
        ) as *mut std::ffi::c_char;
        if !out.is_null() {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr() as *const std::ffi::c_char,
                out,
                bytes.len(),
            );
        }
        out
    }
}

/// `PT` in the two low characters of a SQLSTATE (PGSIXBIT('P') | PGSIXBIT('T') << 6): the
/// errors auth_ext raises, whose DETAIL is a GoTrue code the client needs.
const PT_CLASS: i32 = 32 | (36 << 6);

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn redact_hook(edata: *mut pg_sys::ErrorData) {
    // SAFETY: PostgreSQL calls the hook with the ErrorData being reported, valid and writable
    // for the duration of the call; debug_query_string is NULL or the current statement's text.
    // Replacements are allocated in the current memory context (ErrorContext here), which lives
    // until the report is done, as PostgreSQL's own fields do; NULL is a valid "absent" field.
    // What the hook changes reaches the client too (it runs before both sends): auth_ext's own
    // errors keep their DETAIL (the GoTrue code); other errors of such a statement lose DETAIL
    // and CONTEXT, which can quote the statement's literals (`Token "…" is invalid`, `JSON data,
    // line 1: …`, `portal with parameters: $1 = '…'`).
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
                    (*edata).message =
                        copy_or_null(c"statement: <redacted by auth_ext: it passes credentials>");
                }
                for detail in [&mut (*edata).detail, &mut (*edata).detail_log] {
                    if text(*detail).starts_with(b"parameters: ") {
                        *detail = copy_or_null(c"parameters: <redacted by auth_ext>");
                    }
                }
                if !(*edata).context.is_null() {
                    (*edata).context = std::ptr::null_mut();
                }
                if (*edata).sqlerrcode & 0xFFF != PT_CLASS {
                    (*edata).detail = std::ptr::null_mut();
                    (*edata).detail_log = std::ptr::null_mut();
                }
            }
        }
        if let Some(previous) = PREVIOUS {
            previous(edata);
        }
    }
}
