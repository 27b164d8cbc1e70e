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
    template
        .replace("{{user_object}}", body(USER_OBJECT))
        .replace("{{audit_insert}}", body(AUDIT_INSERT))
        .replace("{{session_in_force}}", body(SESSION_IN_FORCE))
        .replace("{{instance_id}}", &format!("'{}'", crate::db::INSTANCE_ID))
}
