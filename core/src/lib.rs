//! Pure logic of `auth_ext`: everything that can be decided without a database.
//!
//! The extension crate calls into these functions from its thin `#[pg_extern]` layer;
//! keeping them free of pgrx lets them be unit-tested and fuzzed as ordinary Rust.

pub mod admin;
pub mod claims;
pub mod client_ip;
pub mod derived_keys;
pub mod email;
pub mod error;
pub mod external;
pub mod hooks;
pub mod jwt;
pub mod keys;
pub mod mfa;
pub mod otp;
pub mod password;
pub mod phone;
pub mod pkce;
pub mod random;
pub mod rate_limit;
pub mod redact;
pub mod redirect;
pub mod refresh;
pub mod rows;
pub mod settings;
pub mod sign_in;
pub mod sso;
pub mod templates;
pub mod user;
pub mod webhook;

pub use error::{AuthError, AuthResult};
