//! PKCE (RFC 7636) for the email and phone flows, as GoTrue checks it.
//!
//! A request that carries `code_challenge` and `code_challenge_method` starts the PKCE flow: the
//! challenge is stored in `auth.flow_state` and the session is handed out later, by
//! `POST /token?grant_type=pkce`, to whoever presents the matching `code_verifier`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AuthError, AuthResult};

/// How long a flow state (and so its auth code) stays usable: GoTrue's default
/// `GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION`, 300 s.
pub const FLOW_STATE_LIFETIME_SECS: i64 = 300;

/// Shortest and longest challenge and verifier (RFC 7636 sections 4.1 and 4.2).
pub const MIN_LEN: usize = 43;
pub const MAX_LEN: usize = 128;

/// GoTrue's message when only one of the two PKCE parameters is given.
pub const MISSING_PARAMS: &str = "PKCE flow requires code_challenge_method and code_challenge";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    /// The form stored in `auth.flow_state.code_challenge_method` (GoTrue writes lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::S256 => "s256",
            Method::Plain => "plain",
        }
    }

    /// GoTrue's `ParseCodeChallengeMethod`: `s256` or `plain`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_lowercase().as_str() {
            "s256" => Some(Method::S256),
            "plain" => Some(Method::Plain),
            _ => None,
        }
    }
}

/// RFC 7636's unreserved characters, `[A-Za-z0-9-._~]`.
fn unreserved(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Reads the PKCE parameters of a request the way GoTrue's `validatePKCEParams` does.
///
/// Neither given (absent or empty): the implicit flow, `Ok(None)`. One without the other: GoTrue's
/// validation error. Otherwise the challenge must be 43 to 128 unreserved characters and the
/// method `s256` or `plain` in any case. (GoTrue answers an unknown method with a 500; here it is
/// a validation error.)
pub fn read_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> AuthResult<Option<(String, Method)>> {
    let challenge = challenge.unwrap_or("");
    let method = method.unwrap_or("");
    match (challenge.is_empty(), method.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) | (false, true) => return Err(AuthError::validation(MISSING_PARAMS)),
        (false, false) => {}
    }
    if !(MIN_LEN..=MAX_LEN).contains(&challenge.len()) {
        return Err(AuthError::validation(format!(
            "code challenge has to be between {MIN_LEN} and {MAX_LEN} characters"
        )));
    }
    if !unreserved(challenge) {
        return Err(AuthError::validation(
            "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes",
        ));
    }
    let method = Method::parse(method)
        .ok_or_else(|| AuthError::validation("code challenge method not supported"))?;
    Ok(Some((challenge.to_owned(), method)))
}

/// Whether `verifier` answers `challenge` (as stored with `method`).
///
/// An empty verifier is GoTrue's validation error. GoTrue checks nothing else about the
/// verifier's shape; here, stricter, a verifier that RFC 7636 does not allow (not 43 to 128
/// unreserved characters) is a validation error too, before any hashing. Both comparisons run
/// in constant time. `Ok(false)` is a well-formed verifier that does not match (GoTrue's 403
/// `bad_code_verifier`, "code challenge does not match previously saved code verifier").
pub fn verifier_matches(verifier: &str, challenge: &str, method: Method) -> AuthResult<bool> {
    if verifier.is_empty() {
        return Err(AuthError::validation(
            "invalid request: both auth code and code verifier should be non-empty",
        ));
    }
    if !(MIN_LEN..=MAX_LEN).contains(&verifier.len()) || !unreserved(verifier) {
        return Err(AuthError::validation(format!(
            "code verifier has to be between {MIN_LEN} and {MAX_LEN} alphanumeric characters, hyphens, periods, underscores or tildes"
        )));
    }
    let matches = match method {
        Method::S256 => {
            use base64::Engine;
            let digest = Sha256::digest(verifier.as_bytes());
            let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            encoded.as_bytes().ct_eq(challenge.as_bytes())
        }
        Method::Plain => verifier.as_bytes().ct_eq(challenge.as_bytes()),
    };
    Ok(matches.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 appendix B.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            verifier_matches(RFC_VERIFIER, RFC_CHALLENGE, Method::S256),
            Ok(true)
        );
        assert_eq!(
            verifier_matches(RFC_VERIFIER, RFC_CHALLENGE, Method::Plain),
            Ok(false)
        );
        assert_eq!(
            verifier_matches(RFC_VERIFIER, RFC_VERIFIER, Method::Plain),
            Ok(true)
        );
        let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            verifier_matches(other, RFC_CHALLENGE, Method::S256),
            Ok(false)
        );
    }

    #[test]
    fn implicit_flow_when_both_are_missing() {
        assert_eq!(read_challenge(None, None), Ok(None));
        assert_eq!(read_challenge(Some(""), Some("")), Ok(None));
        assert_eq!(read_challenge(None, Some("")), Ok(None));
    }

    #[test]
    fn one_without_the_other_is_refused() {
        for (c, m) in [
            (Some(RFC_CHALLENGE), None),
            (Some(RFC_CHALLENGE), Some("")),
            (None, Some("s256")),
            (Some(""), Some("plain")),
        ] {
            assert_eq!(
                read_challenge(c, m),
                Err(AuthError::validation(MISSING_PARAMS)),
                "{c:?} {m:?}"
            );
        }
    }

    #[test]
    fn methods_in_any_case() {
        for (m, want) in [
            ("s256", Method::S256),
            ("S256", Method::S256),
            ("plain", Method::Plain),
            ("PLAIN", Method::Plain),
            ("Plain", Method::Plain),
        ] {
            assert_eq!(
                read_challenge(Some(RFC_CHALLENGE), Some(m)),
                Ok(Some((RFC_CHALLENGE.to_owned(), want)))
            );
        }
        assert_eq!(Method::S256.as_str(), "s256");
        assert_eq!(Method::Plain.as_str(), "plain");
        for m in ["sha256", "S-256", "none", " s256"] {
            let e = read_challenge(Some(RFC_CHALLENGE), Some(m)).unwrap_err();
            assert_eq!(e.status(), 400);
            assert_eq!(e.message(), "code challenge method not supported");
        }
    }

    #[test]
    fn challenge_shape() {
        let short = "a".repeat(42);
        let long = "a".repeat(129);
        for c in [short.as_str(), long.as_str()] {
            assert_eq!(
                read_challenge(Some(c), Some("s256")).unwrap_err().message(),
                "code challenge has to be between 43 and 128 characters"
            );
        }
        let ok43 = "a".repeat(43);
        let ok128 = "Az09-._~".repeat(16);
        assert!(read_challenge(Some(&ok43), Some("plain"))
            .unwrap()
            .is_some());
        assert!(read_challenge(Some(&ok128), Some("plain"))
            .unwrap()
            .is_some());
        let bad = format!("{}+", "a".repeat(42));
        let padded = format!("{}=", "a".repeat(42));
        let spaced = format!("{} ", "a".repeat(42));
        // 43 bytes but not 43 characters: refused by the charset
        let unicode = format!("{}é", "a".repeat(41));
        for c in [&bad, &padded, &spaced, &unicode] {
            assert_eq!(
                read_challenge(Some(c), Some("s256")).unwrap_err().message(),
                "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes"
            );
        }
    }

    #[test]
    fn verifier_shape() {
        assert_eq!(
            verifier_matches("", RFC_CHALLENGE, Method::S256)
                .unwrap_err()
                .message(),
            "invalid request: both auth code and code verifier should be non-empty"
        );
        let short = "a".repeat(42);
        let long = "a".repeat(129);
        let slash = format!("{}/", "a".repeat(43));
        for v in [&short, &long, &slash] {
            let e = verifier_matches(v, v, Method::Plain).unwrap_err();
            assert_eq!(e.code(), "validation_failed");
        }
        // a stored challenge of the wrong length is just a mismatch
        assert_eq!(verifier_matches(RFC_VERIFIER, "x", Method::S256), Ok(false));
        assert_eq!(verifier_matches(RFC_VERIFIER, "", Method::Plain), Ok(false));
    }
}
