//! Which statements the server log must not repeat: those that call one of auth_ext's
//! functions taking a password, token or secret, whose literals would otherwise land in a
//! `STATEMENT:` line when the call fails before auth_ext's own code runs (a malformed argument,
//! permission denied, a wrong argument count), or in `log_statement` output.

/// Functions (in `auth` and `auth_api`) whose arguments may hold a credential. A statement that
/// merely mentions one of these names is redacted too: erring on that side costs a log line's
/// text, never a secret.
pub const CREDENTIAL_FUNCTIONS: &[&str] = &[
    "sign_up",
    "sign_in_with_password",
    "refresh_session",
    "update_user",
    "configure",
    "authenticate",
    "import_signing_key",
    "verify_jwt",
];

/// Longest statement prefix searched; statements are searched case-insensitively in full up to
/// this length, and a longer one is redacted whatever it holds (it is rarely worth logging).
const MAX_SCANNED: usize = 1 << 20;

/// Whether `statement` calls (or names) a credential-taking function.
pub fn statement_needs_redaction(statement: &[u8]) -> bool {
    if statement.len() > MAX_SCANNED {
        return true;
    }
    let lower: Vec<u8> = statement.iter().map(u8::to_ascii_lowercase).collect();
    CREDENTIAL_FUNCTIONS
        .iter()
        .any(|name| lower.windows(name.len()).any(|w| w == name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_calls_are_found_in_any_spelling() {
        for sql in [
            "SELECT auth.sign_up('a@b.co', 'hunter22', '{bad')",
            "select AUTH.SIGN_IN_WITH_PASSWORD('a@b.co', 'x')",
            "SELECT \"auth\".\"update_user\"('{\"password\": \"p\"}')",
            "SELECT auth_api.refresh_session($1)",
            "SELECT auth.authenticate('eyJ...')",
            "SELECT auth.configure('{\"jwt_secret\": \"s\"}')",
            "SELECT auth.import_signing_key('-----BEGIN PRIVATE KEY-----')",
            "SELECT auth.verify_jwt('eyJ')",
        ] {
            assert!(statement_needs_redaction(sql.as_bytes()), "{sql}");
        }
    }

    #[test]
    fn other_statements_are_left_alone() {
        for sql in [
            "SELECT 1",
            "SELECT auth.uid()",
            "SELECT * FROM diary WHERE owner = auth.uid()",
            "SELECT auth.get_user()",
            "SELECT auth.sign_out('local')",
        ] {
            assert!(!statement_needs_redaction(sql.as_bytes()), "{sql}");
        }
        assert!(statement_needs_redaction(&vec![b' '; MAX_SCANNED + 1]));
    }
}
