//! Password hashing as the backends run it: auth_core's argon2id, then its working memory handed
//! back to the OS.
//!
//! argon2id allocates `argon2_memory_kib` (19 MiB by default) per hash. glibc serves the first
//! such block by mmap and unmaps it on free, but then raises its mmap threshold, so later blocks
//! come from the heap and stay with the process: bench/memory.sql saw every backend keep about
//! 95 MiB after ten sign-ins. `malloc_trim` returns whole free pages, wherever they are.

use auth_core::password::{self, Argon2Cost};
use auth_core::AuthError;

unsafe extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

fn release_memory() {
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe { malloc_trim(0) };
}

pub fn hash(password: &str, cost: Argon2Cost) -> Result<String, AuthError> {
    let hashed = password::hash(password, cost);
    release_memory();
    hashed
}

pub fn verify(password: &str, stored: &str) -> bool {
    let matches = password::verify(password, stored);
    release_memory();
    matches
}
