//! Latches: a process's own latch in shared memory (so another process can set it), setting
//! one, and an interruptible wait on one's own.

use pgrx::pg_sys;

/// The address of this process's latch in its PGPROC, as a plain number other processes can
/// hand to [`set`]. 0 outside a regular process (none has a PGPROC then).
pub fn own() -> usize {
    // SAFETY: MyProc is this process's PGPROC in shared memory (null before InitProcess, which
    // is checked); taking the address of a field does not read it.
    unsafe {
        if pg_sys::MyProc.is_null() {
            0
        } else {
            (&raw mut (*pg_sys::MyProc).procLatch) as usize
        }
    }
}

/// Wakes the process owning `latch` (an address from [`own`]; 0 is ignored).
pub fn set(latch: usize) {
    if latch == 0 {
        return;
    }
    // SAFETY: `latch` is the address of a PGPROC's procLatch, in the PGPROC array in shared
    // memory, which never moves or goes away while the server runs. If its process has exited
    // since, the latch is disowned or owned by the PGPROC's next user: SetLatch is then a no-op
    // or a spurious wake-up, which every latch user must tolerate by design.
    unsafe { pg_sys::SetLatch(latch as *mut pg_sys::Latch) }
}

/// Waits on this process's latch for at most `ms` milliseconds, then resets it and serves
/// interrupts: a cancel or terminate request raises its error here. Exits if the postmaster
/// died.
pub fn wait(ms: i64) {
    // SAFETY: MyLatch is this process's latch, set up before any SQL runs or a worker's main
    // function is entered. pgrx wraps these calls so that a PostgreSQL error (from
    // CHECK_FOR_INTERRUPTS) becomes a Rust panic carried to our caller's `guard`.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms as std::ffi::c_long,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    pg_sys::check_for_interrupts!();
}
