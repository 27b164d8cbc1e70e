//! Switching the current user as a SECURITY DEFINER function does, and running with the
//! latest snapshot.

use pgrx::pg_sys;

/// The current user and security context, to restore after [`switch_user`].
pub(crate) struct SavedUser {
    user: pg_sys::Oid,
    context: i32,
}

/// Makes `role` the current user (a local user id change, as SECURITY DEFINER makes); returns
/// what to restore.
pub(crate) fn switch_user(role: pg_sys::Oid) -> SavedUser {
    let (mut user, mut context) = (pg_sys::InvalidOid, 0);
    // SAFETY: reads and then sets this backend's current user and security context; the
    // caller restores the previous values with `restore`, and an abort resets them too.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(role, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    SavedUser { user, context }
}

impl SavedUser {
    pub(crate) fn restore(self) {
        // SAFETY: sets back the values read by switch_user in this backend.
        unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) };
    }
}

/// Runs `f` with the latest snapshot as the active one, so that it sees every committed
/// change even under REPEATABLE READ. In a parallel operation, which may not take new
/// snapshots, `f` reads with the one it was given.
pub(crate) fn with_latest_snapshot<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: reads a backend-local flag.
    if unsafe { pg_sys::IsInParallelMode() } {
        return f();
    }
    // SAFETY: GetLatestSnapshot returns a snapshot valid for the transaction; pushed here and
    // popped below. If `f` raises, the abort pops the active snapshot stack itself.
    unsafe { pg_sys::PushActiveSnapshot(pg_sys::GetLatestSnapshot()) };
    let result = f();
    // SAFETY: pops the snapshot pushed above (f pushes and pops its own in balance).
    unsafe { pg_sys::PopActiveSnapshot() };
    result
}

/// The OID of the role named `name`, if it exists.
pub(crate) fn role_oid(name: &str) -> Option<pg_sys::Oid> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `name` is NUL-terminated and alive for the call; missing_ok returns InvalidOid
    // for an unknown role instead of raising.
    let oid = unsafe { pg_sys::get_role_oid(name.as_ptr(), true) };
    (oid != pg_sys::InvalidOid).then_some(oid)
}
