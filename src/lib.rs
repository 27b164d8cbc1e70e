//! auth_ext: Supabase Auth (GoTrue) inside PostgreSQL.
//!
//! Pure logic lives in the `auth_core` crate; the modules here are the thin SQL-facing layer.
//! src/README.md describes the layout.

// Capabilities: each folder holds its SQL functions, its statements and its api.sql (grants,
// PostgREST wrappers).
mod admin;
mod anonymous;
mod claims;
mod cleanup;
mod external;
mod jwt;
mod keys;
mod mfa;
mod otp;
mod outbox;
mod passkeys;
mod password;
mod pkce;
mod recovery;
mod refresh;
mod sessions;
mod settings;
mod signup;
mod sso;
mod user;
mod verify;

// Shared building blocks.
mod audit;
mod caller;
mod db;
mod error;
mod ffi;
mod fragments;
mod hashing;
mod hooks;
mod instance;
mod one_time;
mod password_policy;
mod rate_limit;
mod request;
mod revoke;
mod session_start;
mod trace;
mod trust;
mod user_object;

::pgrx::pg_module_magic!();

/// The `auth` schema, which every SQL function of the extension lives in (created by
/// sql/schema.sql; declared here so that pgrx knows it).
#[pgrx::pg_schema]
mod auth {}

pgrx::extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
pgrx::extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    ffi::log_redaction::install();
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
