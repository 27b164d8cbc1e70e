//! auth_ext: Supabase Auth (GoTrue) inside PostgreSQL.
//!
//! Pure logic lives in the `auth_core` crate; the modules here are the thin SQL-facing layer.

mod audit;
mod claims;
mod db;
mod error;
mod ffi;
mod hashing;
mod instance;
mod jsonb;
mod jwt;
mod keyring;
mod planner;
mod request;
mod revoke;
mod session;
mod settings;
mod trace;
mod user;

::pgrx::pg_module_magic!();

/// The `auth` schema, which every SQL function of the extension lives in (created by
/// sql/schema.sql; declared here so that pgrx knows it).
#[pgrx::pg_schema]
mod auth {}

pgrx::extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
pgrx::extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    instance::register_invalidation_callback();
    claims::register_transaction_callback();
    // Shared memory for traces and counters when preloaded (src/trace/).
    trace::init();
}

/// Unix time in seconds, for token timestamps.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
