//! Reading the claims that PostgREST (or `authenticate()`) put in `request.jwt.claims`.

use serde_json::Value;

use crate::error::{AuthError, AuthResult};
use crate::jwt::json::{self, Captured, JsonError, ValueSink};

/// The parsed claims of the current request, with the fields the RLS helpers return.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestClaims {
    pub raw: Value,
    pub sub: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
}

/// Parses the `request.jwt.claims` text. Empty or missing means "no claims" (`Ok(None)`), as in
/// Supabase; anything else must be a JSON object.
pub fn parse(text: Option<&str>) -> AuthResult<Option<RequestClaims>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    // The same strict parse as token claims: no duplicate keys, no NUL characters.
    let mut sink = ValueSink::default();
    let parsed = json::parse_object(text.as_bytes(), &mut sink, &mut Captured::new(&[]));
    let raw = match parsed {
        Ok(()) => sink.into_value().ok_or(AuthError::Internal)?,
        Err(JsonError::NotAnObject) => {
            return Err(AuthError::bad_jwt(
                "request.jwt.claims is not a JSON object",
            ))
        }
        Err(JsonError::DuplicateKey) => {
            return Err(AuthError::bad_jwt("request.jwt.claims has a duplicate key"))
        }
        Err(JsonError::Nul) => {
            return Err(AuthError::bad_jwt(
                "request.jwt.claims contains a NUL character (\\u0000)",
            ))
        }
        Err(JsonError::Invalid) => {
            return Err(AuthError::bad_jwt("request.jwt.claims is not valid JSON"))
        }
    };
    let field = |k: &str| {
        raw.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Some(RequestClaims {
        sub: field("sub"),
        role: field("role"),
        email: field("email"),
        raw,
    }))
}

/// `sub` as a UUID; a `sub` that is not one is an error rather than a silent NULL, as in
/// Supabase where the cast fails.
pub fn parse_uuid(claim: &str, value: &str) -> AuthResult<uuid::Uuid> {
    uuid::Uuid::parse_str(value)
        .map_err(|_| AuthError::bad_jwt(format!("the {claim} claim is not a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_missing() {
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some("")).unwrap(), None);
    }

    #[test]
    fn fields() {
        let c = parse(Some(
            r#"{"sub":"5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11","role":"authenticated","email":""}"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            c.sub.as_deref(),
            Some("5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11")
        );
        assert_eq!(c.role.as_deref(), Some("authenticated"));
        assert_eq!(c.email, None, "empty strings count as missing");
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "{",
            "[]",
            "42",
            "\"x\"",
            "null",
            "{\"sub\":",
            r#"{"email":"a\u0000b"}"#,
            r#"{"a":1,"a":2}"#,
        ] {
            assert_eq!(parse(Some(bad)).unwrap_err().code(), "bad_jwt", "{bad}");
        }
        assert!(parse_uuid("sub", "not-a-uuid").is_err());
    }
}
