//! SAML 2.0 single sign-on (GoTrue's `/sso`, `/sso/saml/acs`, `/sso/saml/metadata` and the admin
//! API's `/admin/sso/providers`): the pure part.
//!
//! The split, and why: verifying a SAML response means XML canonicalisation and XML-DSig, which
//! are notoriously easy to get subtly wrong (signature wrapping, comment truncation of NameIDs,
//! ...). That work is done once, by a mature implementation, outside the database: the shim
//! verifies the response with libxmlsec1 against the certificates this module extracted from
//! the IdP's metadata, checks what needs no database row (audience, destination, validity
//! window), and hands the database only the verified assertion, as JSON
//! ([`assertion::Assertion`]). No XML signature is ever checked here, and no libxml2 runs inside
//! PostgreSQL.
//!
//! What the database decides, from that JSON and its own rows, is GoTrue's policy: whether the
//! issuer, the `InResponseTo` request id and the relay state line up with what it stored, which
//! user the assertion names ([`assertion::Assertion::user_id`]), its email, and the claims kept
//! through the provider's attribute mapping ([`assertion::AttributeMapping`]). The metadata of an
//! IdP is untrusted text from an administrator or a URL; [`metadata::parse`] reads it with a
//! pure-Rust parser that refuses DTDs and entities.

pub mod assertion;
pub mod metadata;

pub use assertion::{Assertion, Attribute, AttributeMapper, AttributeMapping};
pub use metadata::{IdpMetadata, MetadataError};

/// `urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified`
pub const NAME_ID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`
pub const NAME_ID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// `urn:oasis:names:tc:SAML:2.0:nameid-format:persistent`
pub const NAME_ID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// `urn:oasis:names:tc:SAML:2.0:nameid-format:transient`
pub const NAME_ID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

/// The NameID formats a provider's `name_id_format` may ask for (GoTrue's list).
pub const NAME_ID_FORMATS: [&str; 4] = [
    NAME_ID_UNSPECIFIED,
    NAME_ID_EMAIL,
    NAME_ID_PERSISTENT,
    NAME_ID_TRANSIENT,
];

/// The longest domain name accepted.
pub const MAX_DOMAIN_LEN: usize = 253;

/// A fresh AuthnRequest ID: `_` and 32 lower-case hex digits (128 bits from the OS). The
/// leading `_` makes it a valid xs:ID (which cannot start with a digit).
pub fn new_request_id() -> String {
    let bytes = crate::random::bytes::<16>();
    let mut id = String::with_capacity(33);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

fn base(api_external_url: &str) -> &str {
    api_external_url.trim().trim_end_matches('/')
}

/// The service provider's entity id: `<API_EXTERNAL_URL>/sso/saml/metadata` (GoTrue's).
pub fn sp_entity_id(api_external_url: &str) -> String {
    format!("{}/sso/saml/metadata", base(api_external_url))
}

/// The Assertion Consumer Service: `<API_EXTERNAL_URL>/sso/saml/acs`.
pub fn acs_url(api_external_url: &str) -> String {
    format!("{}/sso/saml/acs", base(api_external_url))
}

/// An SSO domain as stored: trimmed, lower-cased, a plain DNS name with at least one dot (no
/// scheme, address, path or port).
pub fn normalize_domain(d: &str) -> Result<String, String> {
    let d = d.trim().to_ascii_lowercase();
    if d.is_empty() {
        return Err("SSO domain must not be empty".into());
    }
    if d.len() > MAX_DOMAIN_LEN {
        return Err(format!(
            "SSO domain must be at most {MAX_DOMAIN_LEN} characters"
        ));
    }
    if d.contains("://") {
        return Err("SSO domain must be a domain name, not a URL".into());
    }
    if d.contains('@') {
        return Err("SSO domain must be a domain name, not an email address".into());
    }
    if d.contains('/') || d.contains(':') {
        return Err("SSO domain must be a domain name without a path or port".into());
    }
    if !d.contains('.') {
        return Err(format!("SSO domain {d} is not a valid domain name"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !d.split('.').all(label_ok) {
        return Err(format!("SSO domain {d} is not a valid domain name"));
    }
    Ok(d)
}

/// The domain of an email address: what follows its last `@`, lower-cased (`None` without an
/// `@` or with nothing after it).
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    if domain.is_empty() {
        return None;
    }
    Some(domain.to_lowercase())
}

/// A provider's `name_id_format`: absent (the IdP's choice) or one of [`NAME_ID_FORMATS`].
pub fn check_name_id_format(format: Option<&str>) -> Result<(), String> {
    match format {
        None | Some("") => Ok(()),
        Some(f) if NAME_ID_FORMATS.contains(&f) => Ok(()),
        Some(_) => Err(format!(
            "name_id_format must be unspecified or one of {}",
            NAME_ID_FORMATS.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_fresh_xs_ids() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 33);
            assert!(id.starts_with('_'));
            assert!(id[1..]
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        }
    }

    #[test]
    fn sp_urls() {
        for base in [
            "https://auth.example.com/auth/v1",
            "https://auth.example.com/auth/v1/",
            " https://auth.example.com/auth/v1// ",
        ] {
            assert_eq!(
                sp_entity_id(base),
                "https://auth.example.com/auth/v1/sso/saml/metadata"
            );
            assert_eq!(
                acs_url(base),
                "https://auth.example.com/auth/v1/sso/saml/acs"
            );
        }
    }

    #[test]
    fn domains() {
        assert_eq!(normalize_domain(" Example.COM ").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("a-b.sub.example.co.uk").unwrap(),
            "a-b.sub.example.co.uk"
        );
        assert_eq!(
            normalize_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "  ",
            "localhost",
            "https://example.com",
            "user@example.com",
            "example.com/path",
            "example.com:443",
            "-example.com",
            "example-.com",
            "exa_mple.com",
            "example..com",
            ".example.com",
            "example.com.",
            "bücher.example",
            "exa mple.com",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}.com", "a.".repeat(130));
        assert!(long.len() > MAX_DOMAIN_LEN);
        let msg = normalize_domain(&long).unwrap_err();
        assert!(!msg.contains("a.a.a."), "{msg}");
        let label = format!("{}.com", "a".repeat(64));
        assert!(normalize_domain(&label).is_err());
    }

    #[test]
    fn email_domains() {
        assert_eq!(
            email_domain("Alice@Example.COM").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            email_domain("\"a@b\"@corp.example").as_deref(),
            Some("corp.example")
        );
        assert_eq!(email_domain("no-at-sign"), None);
        assert_eq!(email_domain("trailing@"), None);
    }

    #[test]
    fn name_id_formats() {
        assert!(check_name_id_format(None).is_ok());
        assert!(check_name_id_format(Some("")).is_ok());
        for f in NAME_ID_FORMATS {
            assert!(check_name_id_format(Some(f)).is_ok());
        }
        let msg = check_name_id_format(Some("urn:oasis:names:tc:SAML:2.0:nameid-format:entity"))
            .unwrap_err();
        assert!(msg.starts_with("name_id_format must be unspecified or one of "));
        assert!(check_name_id_format(Some(&NAME_ID_EMAIL.to_uppercase())).is_err());
    }
}
