//! Every call into PostgreSQL's C API that Rust cannot check lives in this folder, each
//! `unsafe` block with a `// SAFETY:` line saying why it is sound. The rest of the extension
//! calls the safe functions here.

pub mod guc;
pub mod log_redaction;
pub mod xact;
