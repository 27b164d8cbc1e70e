//! Every call into PostgreSQL's C API (and libc) that Rust cannot check lives in this folder,
//! each `unsafe` block with a `// SAFETY:` line saying why it is sound. The rest of the
//! extension calls the safe functions here.

pub(crate) mod bgw;
pub(crate) mod elog;
pub(crate) mod guc;
pub(crate) mod hook_context;
pub(crate) mod jsonb;
pub(crate) mod latch;
pub(crate) mod log_redaction;
pub(crate) mod memory;
pub(crate) mod owner;
pub(crate) mod planner;
pub(crate) mod proc;
pub(crate) mod relcache;
pub(crate) mod shmem;
pub(crate) mod xact;
