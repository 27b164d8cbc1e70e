//! Email normalisation and validation, the way GoTrue accepts addresses.

use crate::error::{AuthError, AuthResult};

pub const MAX_EMAIL_LEN: usize = 255;

/// Trims, lower-cases and validates an email address; returns the form that is stored.
pub fn normalize(raw: Option<&str>) -> AuthResult<String> {
    let raw = raw.ok_or_else(|| AuthError::validation("An email address is required"))?;
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(AuthError::validation("An email address is required"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(AuthError::validation(
            "Unable to validate email address: too long",
        ));
    }
    if !is_valid(&email) {
        return Err(AuthError::validation(
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(email)
}

/// A deliberately plain check: one `@`, a non-empty local part of printable ASCII without
/// spaces or quotes, and a domain of dot-separated labels (letters, digits, hyphens) with a dot.
fn is_valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(
            normalize(Some("  Alice@Example.COM ")).unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            normalize(Some("a.b+tag@sub.example.io")).unwrap(),
            "a.b+tag@sub.example.io"
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@b.com'; drop table auth.users;--",
            "é@example.com",
            "a@exa_mple.com",
            ".a@b.com",
            "a\u{0}@b.com",
        ] {
            assert!(normalize(Some(bad)).is_err(), "{bad:?} accepted");
        }
        assert!(normalize(None).is_err());
        assert!(normalize(Some(&format!("{}@example.com", "a".repeat(300)))).is_err());
    }
}
