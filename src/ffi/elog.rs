//! Raising an ERROR with any SQLSTATE through PostgreSQL's own `errstart`/`errfinish`: pgrx's
//! `ereport!` only knows the SQLSTATEs of its `PgSqlErrorCode` enum, and ours are PostgREST's
//! `PTxxx` codes.

use std::ffi::{c_char, c_int, CString};

use pgrx::pg_sys;

unsafe extern "C-unwind" {
    fn errstart(elevel: c_int, domain: *const c_char) -> bool;
    fn errcode(sqlerrcode: c_int) -> c_int;
    fn errmsg(fmt: *const c_char, ...) -> c_int;
    fn errdetail(fmt: *const c_char, ...) -> c_int;
    fn errhint(fmt: *const c_char, ...) -> c_int;
    fn errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
}

/// An error report whose texts are already copied into PostgreSQL memory, so that raising it
/// (a longjmp) leaves nothing owned by Rust behind.
pub(crate) struct Report {
    sqlstate: c_int,
    message: *mut c_char,
    detail: *mut c_char,
    hint: Option<*mut c_char>,
}

fn pg_cstring(s: &str) -> *mut c_char {
    // Interior NULs cannot occur in our messages; replace them rather than fail.
    let c = CString::new(s.replace('\0', " ")).expect("no NUL left");
    // SAFETY: `c` is NUL-terminated and alive for the call; pstrdup copies it into the current
    // memory context (raising only on out-of-memory, like any allocation).
    unsafe { pg_sys::pstrdup(c.as_ptr()) }
}

fn make_sqlstate(s: &str) -> c_int {
    // PGSIXBIT / MAKE_SQLSTATE from utils/elog.h
    let b = s.as_bytes();
    let six = |c: u8| (c.wrapping_sub(b'0') & 0x3F) as c_int;
    six(b[0]) + (six(b[1]) << 6) + (six(b[2]) << 12) + (six(b[3]) << 18) + (six(b[4]) << 24)
}

impl Report {
    /// An ERROR with a five-character `sqlstate`, the message, a DETAIL and maybe a HINT.
    pub(crate) fn error(sqlstate: &str, message: &str, detail: &str, hint: Option<&str>) -> Self {
        Report {
            sqlstate: make_sqlstate(sqlstate),
            message: pg_cstring(message),
            detail: pg_cstring(detail),
            hint: hint.map(pg_cstring),
        }
    }

    /// Raises the report; it does not return. The caller must hold no Rust value that needs a
    /// destructor (the frames in between are jumped over).
    pub(crate) fn raise(self) -> ! {
        const PERCENT_S: *const c_char = c"%s".as_ptr();
        // SAFETY: the standard ereport sequence; every string is a palloc'd NUL-terminated copy
        // passed through a "%s" format, so no text is read as a format. errfinish(ERROR)
        // longjmps to the nearest PG_TRY (pgrx's guard of this call), skipping only frames
        // whose owner promised they hold nothing to drop.
        unsafe {
            errstart(pgrx::PgLogLevel::ERROR as c_int, std::ptr::null());
            errcode(self.sqlstate);
            errmsg(PERCENT_S, self.message);
            errdetail(PERCENT_S, self.detail);
            if let Some(hint) = self.hint {
                errhint(PERCENT_S, hint);
            }
            // No source location: it would only say "auth_ext" and clutter every client.
            errfinish(std::ptr::null(), 0, std::ptr::null());
        }
        unreachable!("errfinish(ERROR) does not return")
    }
}
