//! Plain facts about this process, read from PostgreSQL's globals.

use pgrx::pg_sys;

/// The oid of the database this process is connected to (0 before it is).
pub fn database() -> u32 {
    // SAFETY: MyDatabaseId is a plain global of this (single-threaded) process, set when it
    // connects; reading it has no side effect.
    unsafe { pg_sys::MyDatabaseId }.to_u32()
}

/// This process's pid.
pub fn pid() -> i32 {
    // SAFETY: MyProcPid is a plain global of this process, set at its start.
    unsafe { pg_sys::MyProcPid }
}

/// Fills `buf` from the server's strong random source; false if it has none.
pub fn strong_random(buf: &mut [u8]) -> bool {
    // SAFETY: pg_strong_random writes exactly `len` bytes into the buffer it is given, which is
    // `buf`, valid for that many.
    unsafe { pg_sys::pg_strong_random(buf.as_mut_ptr().cast(), buf.len()) }
}
