//! Reading and setting configuration parameters (GUCs), including the `request.*` settings
//! PostgREST and the shim pass the request in.

use std::ffi::{CStr, CString};

use pgrx::pg_sys;

/// The text of a setting, `None` when it is unset or empty (PostgREST leaves '' after a
/// transaction). The slice points into GUC storage: read it before the setting can change.
pub(crate) fn get(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: `name` is NUL-terminated; with missing_ok the call returns NULL for an unknown
    // setting instead of raising.
    let ptr = unsafe { pg_sys::GetConfigOption(name.as_ptr(), true, false) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-NULL result is a NUL-terminated string in GUC storage, valid until the
    // setting changes, which nothing in the caller's use of it does.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    (!bytes.is_empty()).then_some(bytes)
}

/// [`get`] as text (invalid UTF-8 replaced).
pub(crate) fn get_string(name: &CStr) -> Option<String> {
    get(name).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// How long a value set by [`set`] lasts.
#[derive(Clone, Copy)]
pub enum Scope {
    /// Until the end of the transaction, as `set_config(..., true)`.
    Transaction,
    /// Until `AtEOXact_GUC` of the nest level opened with [`new_nest_level`], as a function's
    /// `SET` clause.
    NestLevel,
}

/// Sets `name` to `value` without a transaction id or a catalog access; `superuser`: as a
/// superuser would (for settings ordinary roles may not change).
pub(crate) fn set(name: &CStr, value: &str, scope: Scope, superuser: bool) -> Result<(), ()> {
    let value = CString::new(value).map_err(|_| ())?;
    let (context, action) = (
        if superuser {
            pg_sys::GucContext::PGC_SUSET
        } else {
            pg_sys::GucContext::PGC_USERSET
        },
        match scope {
            Scope::Transaction => pg_sys::GucAction::GUC_ACTION_LOCAL,
            Scope::NestLevel => pg_sys::GucAction::GUC_ACTION_SAVE,
        },
    );
    // SAFETY: both strings are NUL-terminated and outlive the call, which copies them; with
    // elevel 0 a rejected value returns 0 (or raises for a hard error, which pgrx's guard turns
    // into a Rust panic the caller's guard() handles).
    let applied = unsafe {
        pg_sys::set_config_option(
            name.as_ptr(),
            value.as_ptr(),
            context,
            pg_sys::GucSource::PGC_S_SESSION,
            action,
            true,
            0,
            false,
        )
    };
    if applied > 0 {
        Ok(())
    } else {
        Err(())
    }
}

/// Opens a GUC nest level: settings made with [`Scope::NestLevel`] are undone by
/// [`close_nest_level`].
pub(crate) fn new_nest_level() -> i32 {
    // SAFETY: no arguments; it only increments the backend's GUC nesting counter.
    unsafe { pg_sys::NewGUCNestLevel() }
}

/// Undoes the settings of `level` (`committed`: as at the end of a successful function).
pub(crate) fn close_nest_level(committed: bool, level: i32) {
    // SAFETY: `level` came from new_nest_level in this backend and is closed once.
    unsafe { pg_sys::AtEOXact_GUC(committed, level) }
}

/// Whether a parallel operation is in progress (no setting may change then).
pub(crate) fn in_parallel_mode() -> bool {
    // SAFETY: reads a backend-local flag.
    unsafe { pg_sys::IsInParallelMode() }
}
