//! SQL fragments that several statements share, spliced into their `.sql` files where they say
//! `{{user_object}}`, `{{audit_insert}}`, `{{session_in_force}}` or `{{instance_id}}` (GoTrue's
//! zero instance id, as a literal).
//!
//! db.rs keeps one plan per statement, keyed by the text's address, so an expanded statement
//! lives in a `static LazyLock<String>` (see [`expand`]) and is built once per backend.

/// The GoTrue user object of the `auth.users` row aliased `u` (a SQL expression).
const USER_OBJECT: &str = include_str!("sql/user_object.sql");
/// The audit insert, with the payload in `$1` and the IP address in `$2`.
pub(crate) const AUDIT_INSERT: &str = include_str!("sql/audit_insert.sql");
/// Whether the session aliased `s` is in force (`$2` timebox, `$3` inactivity timeout).
const SESSION_IN_FORCE: &str = include_str!("sql/session_in_force.sql");
/// The user object's `factors` (a jsonb object), where the schema has auth.mfa_factors.
const USER_FACTORS: &str = include_str!("sql/user_factors.sql");
/// Whether the user aliased `u` has a verified factor, where the schema has auth.mfa_factors.
const HAS_VERIFIED_FACTOR: &str = "EXISTS (SELECT 1 FROM auth.mfa_factors f \
     WHERE f.user_id = u.id AND f.status = 'verified')";

/// A fragment without its leading comment lines (they explain the file, not the statement).
fn body(fragment: &str) -> &str {
    let mut rest = fragment;
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest.trim_end()
}

/// `template` with its placeholders replaced by the fragments. Use it as
/// `static S: LazyLock<String> = LazyLock::new(|| fragments::expand(include_str!("s.sql")));`
pub(crate) fn expand(template: &str) -> String {
    // Between installing a new library and `ALTER EXTENSION auth_ext UPDATE`, the schema is the
    // old release's: statements must not name tables it lacks (sign-up and sign-in keep working
    // then; README, Upgrading). Checked once per backend: recycle connections after the update.
    let (factors, verified_factor, session_not_after) = if schema_0_8() {
        (
            body(USER_FACTORS),
            HAS_VERIFIED_FACTOR,
            "extract(epoch FROM session_not_after)::bigint",
        )
    } else {
        ("'{}'::jsonb", "false", "NULL::bigint")
    };
    template
        .replace("{{user_object}}", body(USER_OBJECT))
        .replace("{{user_factors}}", factors)
        .replace("{{has_verified_factor}}", verified_factor)
        .replace("{{flow_session_not_after}}", session_not_after)
        .replace("{{audit_insert}}", body(AUDIT_INSERT))
        .replace("{{session_in_force}}", body(SESSION_IN_FORCE))
        .replace("{{instance_id}}", &format!("'{}'", crate::db::INSTANCE_ID))
}

/// Whether the schema is 0.8.0's or later (it has the MFA tables, and the SSO session end on
/// `auth.flow_state`, both new in 0.8.0).
fn schema_0_8() -> bool {
    static EXISTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXISTS.get_or_init(|| {
        crate::db::read_json(
            "SELECT to_jsonb(to_regclass('auth.mfa_factors') IS NOT NULL)",
            &[],
        )
        .ok()
        .flatten()
            == Some(serde_json::Value::Bool(true))
    })
}

/// Whether the schema has the recovery codes' tables (new in 0.9.0): statements of the older
/// capabilities that look at them (unenrolling a factor) run only then. Checked once per
/// backend, as [`schema_0_8`].
pub(crate) fn recovery_codes_schema() -> bool {
    static EXISTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXISTS.get_or_init(|| {
        crate::db::read_json(
            "SELECT to_jsonb(to_regclass('auth.mfa_recovery_code_sets') IS NOT NULL)",
            &[],
        )
        .ok()
        .flatten()
            == Some(serde_json::Value::Bool(true))
    })
}
