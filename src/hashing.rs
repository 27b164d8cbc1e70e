//! Password hashing as the backends run it: auth_core's argon2id with one working area per
//! backend, kept between hashes and offered back to the OS after each.
//!
//! argon2id needs `argon2_memory_kib` (19 MiB by default) per hash. Allocated afresh each time,
//! the OS faults it in page by page (about 4,900 minor faults, several milliseconds of a
//! sign-in); freed, glibc raises its mmap threshold and keeps later blocks on the heap
//! (bench/memory.sql once saw backends keep about 95 MiB after ten sign-ins). So each backend
//! keeps one area, and after each hash marks its pages MADV_FREE: the kernel takes them back
//! only under memory pressure, and until it does the next hash reuses them without a fault.

use std::cell::RefCell;

use auth_core::password::{self, Argon2Cost, Memory};
use auth_core::AuthError;

thread_local! {
    static MEMORY: RefCell<Memory> = const { RefCell::new(Vec::new()) };
}

/// An area larger than this (64 MiB of 1 KiB blocks; an imported hash of a higher cost) is
/// freed after its hash instead of kept.
const KEEP_MAX_BLOCKS: usize = 64 * 1024;

/// Runs `f` with the backend's argon2 memory, then lets the kernel reclaim its pages if needed.
fn with_memory<T>(f: impl FnOnce(&mut Memory) -> T) -> T {
    MEMORY.with(|m| {
        let mut memory = m.borrow_mut();
        let result = f(&mut memory);
        if memory.len() > KEEP_MAX_BLOCKS {
            *memory = Memory::new();
        } else {
            offer_back(&memory);
        }
        result
    })
}

/// MADV_FREE on the whole pages inside `memory`. The contents may then read as zeros, which
/// argon2 does not mind: it writes every block before it reads it.
fn offer_back(memory: &Memory) {
    crate::ffi::memory::offer_back(memory.as_slice());
}

pub(crate) fn hash(password: &str, cost: Argon2Cost) -> Result<String, AuthError> {
    with_memory(|memory| password::hash_in(password, cost, memory))
}

pub(crate) fn verify(password: &str, stored: &str) -> bool {
    with_memory(|memory| password::verify_in(password, stored, memory))
}
