//! Signing and verifying access tokens, and the GoTrue shapes built around them.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use crate::error::{AuthError, AuthResult};

/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew tolerated on `exp`, `nbf` and `iat`, as PostgREST.
pub const LEEWAY_SECONDS: u64 = 30;

/// An HS256 key: its id and the shared secret (the bytes of the secret string, as PostgREST
/// and Supabase use it).
#[derive(Clone)]
pub struct HsKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for HsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A verifier prepared once per key ring and reused for every token.
pub struct Verifier {
    key: HsKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Verifier {
    pub fn new(key: HsKey) -> Verifier {
        let decoding = DecodingKey::from_secret(&key.secret);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        Verifier {
            key,
            decoding,
            validation,
        }
    }

    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// Verifies a compact JWS and returns its claims.
    pub fn verify(&self, token: &str) -> AuthResult<Value> {
        if token.is_empty() {
            return Err(AuthError::bad_jwt("the token is empty"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::bad_jwt(format!(
                "the token is larger than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::bad_jwt("the token's algorithm is not accepted"));
        }
        if let Some(kid) = &header.kid {
            if kid != &self.key.kid {
                return Err(AuthError::bad_jwt(
                    "the token's signing key (kid) is unknown",
                ));
            }
        }
        let data = jsonwebtoken::decode::<Value>(token, &self.decoding, &self.validation)
            .map_err(|e| AuthError::bad_jwt(describe(e.kind())))?;
        if !data.claims.is_object() {
            return Err(AuthError::bad_jwt(
                "the token's claims are not a JSON object",
            ));
        }
        if let Some(iat) = data.claims.get("iat") {
            let now = jsonwebtoken::get_current_timestamp() as f64;
            match iat.as_f64() {
                Some(t) if t <= now + LEEWAY_SECONDS as f64 => {}
                Some(_) => {
                    return Err(AuthError::bad_jwt(
                        "the token was issued in the future (iat)",
                    ))
                }
                None => return Err(AuthError::bad_jwt("the iat claim is not a number")),
            }
        }
        Ok(data.claims)
    }
}

/// Why a header did not parse: an algorithm we do not know (`none`, ...) is named as such.
fn header_error(token: &str) -> AuthError {
    use base64::Engine;
    let alg = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").cloned());
    match alg {
        Some(_) => AuthError::bad_jwt("the token's algorithm is not accepted"),
        None => AuthError::bad_jwt("the token is malformed"),
    }
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired (exp)",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidSignature => "the signature does not match",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not accepted"
        }
        ErrorKind::MissingRequiredClaim(_) => "the token has no exp claim",
        ErrorKind::Base64(_) => "the token is not valid base64url",
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => "the token's JSON is malformed",
        _ => "the token is malformed",
    }
}

/// Signs claims with HS256, header `{alg, typ: "JWT", kid}`.
pub fn sign(key: &HsKey, claims: &Value) -> AuthResult<String> {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&key.secret))
        .map_err(|_| AuthError::Internal)
}

/// The inputs of an access token besides the user.
pub struct TokenContext<'a> {
    pub issuer: &'a str,
    pub session_id: &'a str,
    pub aal: &'a str,
    /// `(method, unix timestamp)`, newest first.
    pub amr: &'a [(String, i64)],
    pub now: i64,
    pub lifetime: i64,
    pub default_aud: &'a str,
}

/// The access-token claims for `user` (a GoTrue user object), exactly the set GoTrue issues.
pub fn access_token_claims(user: &Value, ctx: &TokenContext) -> Value {
    let s = |k: &str| user.get(k).cloned().unwrap_or(Value::Null);
    let str_or = |k: &str, d: &str| {
        user.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .unwrap_or(d)
            .to_owned()
    };
    json!({
        "iss": ctx.issuer,
        "sub": s("id"),
        "aud": str_or("aud", ctx.default_aud),
        "exp": ctx.now + ctx.lifetime,
        "iat": ctx.now,
        "email": user.get("email").and_then(Value::as_str).unwrap_or(""),
        "phone": user.get("phone").and_then(Value::as_str).unwrap_or(""),
        "app_metadata": user.get("app_metadata").cloned().unwrap_or_else(|| json!({})),
        "user_metadata": user.get("user_metadata").cloned().unwrap_or_else(|| json!({})),
        "role": str_or("role", "authenticated"),
        "aal": ctx.aal,
        "amr": ctx.amr.iter().map(|(m, t)| json!({"method": m, "timestamp": t})).collect::<Vec<_>>(),
        "session_id": ctx.session_id,
        "is_anonymous": user.get("is_anonymous").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The GoTrue token response.
pub fn session_response(
    access_token: String,
    refresh_token: String,
    ctx: &TokenContext,
    user: Value,
) -> Value {
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": ctx.lifetime,
        "expires_at": ctx.now + ctx.lifetime,
        "refresh_token": refresh_token,
        "user": user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HsKey {
        HsKey {
            kid: "k1".into(),
            secret: b"a-very-long-secret-of-at-least-32-chars".to_vec(),
        }
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    #[test]
    fn sign_and_verify() {
        let claims = json!({"sub": "u", "role": "authenticated", "exp": now() + 60});
        let t = sign(&key(), &claims).unwrap();
        let header = jsonwebtoken::decode_header(&t).unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(Verifier::new(key()).verify(&t).unwrap(), claims);
    }

    #[test]
    fn rejects_tampering_and_expiry() {
        let v = Verifier::new(key());
        let good = sign(&key(), &json!({"sub": "u", "exp": now() + 60})).unwrap();
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let forged = sign(&key(), &json!({"sub": "admin", "exp": now() + 60})).unwrap();
        parts[1] = forged.split('.').nth(1).unwrap().to_owned();
        let e = v.verify(&parts.join(".")).unwrap_err();
        assert!(e.message().contains("signature"), "{e}");

        let expired = sign(&key(), &json!({"exp": now() - 120})).unwrap();
        assert!(v
            .verify(&expired)
            .unwrap_err()
            .message()
            .contains("expired"));
        let within_leeway = sign(&key(), &json!({"exp": now() - 5})).unwrap();
        assert!(v.verify(&within_leeway).is_ok());
        let future = sign(&key(), &json!({"exp": now() + 600, "nbf": now() + 300})).unwrap();
        assert!(v.verify(&future).unwrap_err().message().contains("nbf"));
        let no_exp = sign(&key(), &json!({"sub": "u"})).unwrap();
        assert!(v.verify(&no_exp).unwrap_err().message().contains("exp"));
        let other = HsKey {
            kid: "k1".into(),
            secret: b"another-secret-another-secret-another".to_vec(),
        };
        assert!(v
            .verify(&sign(&other, &json!({"exp": now() + 60})).unwrap())
            .is_err());
        let other_kid = HsKey {
            kid: "k2".into(),
            secret: key().secret,
        };
        assert!(v
            .verify(&sign(&other_kid, &json!({"exp": now() + 60})).unwrap())
            .unwrap_err()
            .message()
            .contains("kid"));
    }

    #[test]
    fn rejects_garbage_without_echoing_it() {
        let v = Verifier::new(key());
        let none = v.verify("eyJhbGciOiJub25lIn0.e30.").unwrap_err();
        assert!(none.message().contains("algorithm"), "{none}");
        for bad in [
            "",
            "abc",
            "a.b.c",
            "....",
            "eyJhbGciOiJub25lIn0.e30.",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            let e = v.verify(bad).unwrap_err();
            assert_eq!(e.code(), "bad_jwt");
            if bad.len() > 3 {
                assert!(!e.message().contains(bad));
            }
        }
    }

    #[test]
    fn claims_have_gotrue_shape() {
        let user = json!({"id": "u1", "aud": "authenticated", "role": "authenticated",
            "email": "a@b.co", "phone": "", "app_metadata": {"provider": "email"},
            "user_metadata": {"n": 1}, "is_anonymous": false});
        let amr = [("password".to_string(), 100)];
        let ctx = TokenContext {
            issuer: "iss",
            session_id: "s1",
            aal: "aal1",
            amr: &amr,
            now: 1000,
            lifetime: 3600,
            default_aud: "authenticated",
        };
        let c = access_token_claims(&user, &ctx);
        for k in [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "email",
            "phone",
            "app_metadata",
            "user_metadata",
            "role",
            "aal",
            "amr",
            "session_id",
            "is_anonymous",
        ] {
            assert!(c.get(k).is_some(), "missing {k}");
        }
        assert_eq!(c["exp"], 4600);
        assert_eq!(c["amr"][0]["method"], "password");
        let s = session_response("a".into(), "r".into(), &ctx, user);
        assert_eq!(s["token_type"], "bearer");
        assert_eq!(s["expires_at"], 4600);
    }
}
