//! Verifying an identity provider's ID token (OpenID Connect Core 1.0, §3.1.3.7) against the
//! provider's published keys: signature, `iss`, `aud`, `exp`, `iat`, `nonce` and `at_hash`.
//!
//! Only asymmetric keys from the provider's JWKS are used (an `oct` key or an HS256 token is
//! refused: a provider's public JWKS must never be able to supply an HMAC secret), through the
//! same verifier that checks auth_ext's own tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AuthError, AuthResult};
use crate::jwt::{KeyRing, KeyStatus, VerifyOptions};
use crate::keys;

/// A provider's JWKS as it may be cached: at most this many keys are read.
const MAX_KEYS: usize = 32;
/// Clock skew tolerated on `exp` and `iat`, seconds.
const LEEWAY: i64 = 60;

/// What an ID token must say.
pub struct Expected<'a> {
    /// Accepted issuers (exact match; Azure's per-tenant issuer is configured explicitly).
    pub issuers: &'a [String],
    /// Any Azure tenant's issuer is accepted (Azure's multi-tenant endpoints).
    pub any_azure_tenant: bool,
    /// Accepted audiences: the provider's client ids.
    pub audiences: &'a [String],
    /// The nonce the client says it used: compared with the token's `nonce` as given and as the
    /// hex SHA-256 of it (what the clients put in the provider's request, GoTrue's rule).
    pub nonce: Option<&'a str>,
    /// The token's nonce is not checked (the provider's `skip_nonce_check`).
    pub skip_nonce_check: bool,
    /// The access token issued with the ID token, checked against `at_hash` where both exist.
    pub access_token: Option<&'a str>,
    pub now: i64,
}

fn bad(message: &str) -> AuthError {
    AuthError::bad_oidc_token(message)
}

/// The key ring of a provider's JWKS document (`{"keys": [...]}`); keys it cannot use (`oct`,
/// unsupported curves, too short RSA moduli) are skipped; none usable is an error.
pub fn provider_ring(jwks: &Value) -> AuthResult<KeyRing> {
    let list = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the provider's JWKS has no keys"))?;
    let mut entries = Vec::new();
    for (i, jwk) in list.iter().take(MAX_KEYS).enumerate() {
        if jwk.get("kty").and_then(Value::as_str) == Some("oct") {
            continue;
        }
        // Keys for encryption are not for verifying signatures.
        if jwk
            .get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        // Only public members: a private member in a public JWKS is a misconfiguration, and a
        // key with one would be importable as a signing key.
        let Some(public) = public_members(jwk) else {
            continue;
        };
        let Ok(imported) = keys::import_with_kid(&public.to_string(), None) else {
            continue;
        };
        if imported.material.alg == keys::Alg::HS256 {
            continue;
        }
        let kid = imported.kid.unwrap_or_else(|| format!("#{i}"));
        entries.push((kid, KeyStatus::Previous, imported.material));
    }
    if entries.is_empty() {
        return Err(bad("the provider's JWKS has no usable signing key"));
    }
    KeyRing::new(entries)
}

fn public_members(jwk: &Value) -> Option<Value> {
    let object = jwk.as_object()?;
    let mut public = serde_json::Map::new();
    for member in ["kty", "crv", "x", "y", "n", "e", "kid"] {
        if let Some(v) = object.get(member) {
            public.insert(member.to_owned(), v.clone());
        }
    }
    Some(Value::Object(public))
}

/// Verifies `token` with `ring` and the expectations; returns its claims.
pub fn verify(token: &str, ring: &KeyRing, expected: &Expected) -> AuthResult<Value> {
    let options = VerifyOptions {
        leeway: LEEWAY,
        audience: None,
        issuer: None,
        require_exp: true,
    };
    let claims = ring
        .verify(token, &options, expected.now)
        .map_err(|e| match e {
            AuthError::BadJwt(m) => bad(&m),
            other => other,
        })?;
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let issuer_ok = expected.issuers.iter().any(|i| i == issuer)
        || (expected.any_azure_tenant && super::providers::is_azure_tenant_issuer(issuer));
    if !issuer_ok {
        return Err(bad("the ID token's issuer is not the provider's"));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => expected.audiences.iter().any(|c| c == a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| expected.audiences.iter().any(|c| c == a)),
        _ => false,
    };
    if !audience_ok {
        return Err(bad(
            "the ID token's audience is not one of the provider's client ids",
        ));
    }
    if claims.get("iat").and_then(Value::as_f64).is_none() {
        return Err(bad("the ID token has no iat claim"));
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("the ID token has no subject"));
    }
    check_nonce(&claims, expected)?;
    if let (Some(at_hash), Some(access_token)) = (
        claims.get("at_hash").and_then(Value::as_str),
        expected.access_token.filter(|t| !t.is_empty()),
    ) {
        if !at_hash_matches(at_hash, access_token) {
            return Err(bad(
                "the access token does not match the ID token's at_hash",
            ));
        }
    }
    Ok(claims)
}

/// GoTrue's nonce rule: a nonce given must match the token's (the token carries the hex SHA-256
/// of what the client holds); a token with a nonce needs one given, unless the check is skipped.
fn check_nonce(claims: &Value, expected: &Expected) -> AuthResult<()> {
    let in_token = claims
        .get("nonce")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let given = expected.nonce.filter(|n| !n.is_empty());
    match (given, in_token) {
        (Some(given), Some(in_token)) => {
            let hashed = hex(&Sha256::digest(given.as_bytes()));
            let matches: bool = hashed.as_bytes().ct_eq(in_token.as_bytes()).into();
            if matches {
                Ok(())
            } else {
                Err(bad("Nonces mismatch"))
            }
        }
        (Some(_), None) => Err(bad("Nonces mismatch")),
        (None, Some(_)) if !expected.skip_nonce_check => Err(bad(
            "Passed nonce and nonce in id_token should either both exist or not.",
        )),
        _ => Ok(()),
    }
}

/// OIDC Core §3.1.3.6: the base64url of the left half of the SHA-256 of the access token (the
/// hash of the token's RS256/ES256 family; EdDSA providers use SHA-512, not supported here, so
/// a mismatch there is refused rather than guessed).
fn at_hash_matches(at_hash: &str, access_token: &str) -> bool {
    let digest = Sha256::digest(access_token.as_bytes());
    let expected = B64.encode(&digest[..16]);
    expected.as_bytes().ct_eq(at_hash.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{generate, Alg};
    use serde_json::json;

    struct Provider {
        ring: KeyRing,
        jwks: Value,
    }

    fn provider(alg: Alg) -> Provider {
        let material = generate(alg).unwrap();
        let ring = KeyRing::new(vec![("k1".into(), KeyStatus::Current, material)]).unwrap();
        let jwks = ring.jwks();
        Provider { ring, jwks }
    }

    fn expected<'a>(issuers: &'a [String], audiences: &'a [String]) -> Expected<'a> {
        Expected {
            issuers,
            any_azure_tenant: false,
            audiences,
            nonce: None,
            skip_nonce_check: false,
            access_token: None,
            now: 1_000_000,
        }
    }

    fn claims(extra: Value) -> Value {
        let mut c = json!({"iss": "https://idp.example", "aud": "client-1", "sub": "s1",
                           "iat": 1_000_000, "exp": 1_000_600, "email": "a@b.co"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    }

    fn lists() -> (Vec<String>, Vec<String>) {
        (
            vec!["https://idp.example".into()],
            vec!["other".into(), "client-1".into()],
        )
    }

    #[test]
    fn a_token_of_the_provider_passes() {
        for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
            let p = provider(alg);
            let token = p.ring.sign(&claims(json!({}))).unwrap();
            let ring = provider_ring(&p.jwks).unwrap();
            let (iss, aud) = lists();
            let c = verify(&token, &ring, &expected(&iss, &aud)).unwrap();
            assert_eq!(c["sub"], "s1");
        }
    }

    #[test]
    fn wrong_issuer_audience_expiry_or_key_fail() {
        let p = provider(Alg::ES256);
        let ring = provider_ring(&p.jwks).unwrap();
        let (iss, aud) = lists();
        for bad_claims in [
            json!({"iss": "https://evil.example"}),
            json!({"aud": "client-2"}),
            json!({"aud": ["client-2", "x"]}),
            json!({"exp": 999_000}),
            json!({"sub": ""}),
        ] {
            let token = p.ring.sign(&claims(bad_claims.clone())).unwrap();
            let e = verify(&token, &ring, &expected(&iss, &aud)).unwrap_err();
            assert_eq!(e.code(), "bad_oidc_token", "{bad_claims}");
        }
        // Signed by a key the provider does not publish.
        let stranger = provider(Alg::ES256);
        let token = stranger.ring.sign(&claims(json!({}))).unwrap();
        assert!(verify(&token, &ring, &expected(&iss, &aud)).is_err());
    }

    #[test]
    fn an_hmac_key_in_the_jwks_is_never_used() {
        let hs = generate(Alg::HS256).unwrap();
        let secret = B64.encode(hs.secret.as_ref().unwrap());
        let jwks = json!({"keys": [{"kty": "oct", "k": secret, "kid": "h"}]});
        assert!(provider_ring(&jwks).is_err());
        // A token signed with that secret, against a JWKS holding it and a real key.
        let p = provider(Alg::RS256);
        let mut keys = p.jwks["keys"].as_array().unwrap().clone();
        keys.push(json!({"kty": "oct", "k": secret, "kid": "h"}));
        let ring = provider_ring(&json!({ "keys": keys })).unwrap();
        let hs_ring = KeyRing::new(vec![("h".into(), KeyStatus::Current, hs)]).unwrap();
        let token = hs_ring.sign(&claims(json!({}))).unwrap();
        let (iss, aud) = lists();
        assert!(verify(&token, &ring, &expected(&iss, &aud)).is_err());
    }

    #[test]
    fn nonces_are_compared_hashed() {
        let p = provider(Alg::RS256);
        let ring = provider_ring(&p.jwks).unwrap();
        let (iss, aud) = lists();
        let raw = "raw-nonce-123";
        let hashed = hex(&Sha256::digest(raw.as_bytes()));
        let token = p.ring.sign(&claims(json!({ "nonce": hashed }))).unwrap();
        let mut e = expected(&iss, &aud);
        e.nonce = Some(raw);
        assert!(verify(&token, &ring, &e).is_ok());
        e.nonce = Some("another");
        assert!(verify(&token, &ring, &e).is_err());
        // The hash itself is not accepted as the nonce.
        e.nonce = Some(&hashed);
        assert!(verify(&token, &ring, &e).is_err());
        // A token with a nonce needs one given, unless skipped.
        e.nonce = None;
        assert!(verify(&token, &ring, &e).is_err());
        e.skip_nonce_check = true;
        assert!(verify(&token, &ring, &e).is_ok());
        // A nonce given for a token without one.
        let plain = p.ring.sign(&claims(json!({}))).unwrap();
        e.nonce = Some(raw);
        assert!(verify(&plain, &ring, &e).is_err());
    }

    #[test]
    fn at_hash_is_checked_where_both_exist() {
        let p = provider(Alg::RS256);
        let ring = provider_ring(&p.jwks).unwrap();
        let (iss, aud) = lists();
        let access = "ya29.access-token";
        let at_hash = B64.encode(&Sha256::digest(access.as_bytes())[..16]);
        let token = p.ring.sign(&claims(json!({ "at_hash": at_hash }))).unwrap();
        let mut e = expected(&iss, &aud);
        assert!(verify(&token, &ring, &e).is_ok());
        e.access_token = Some(access);
        assert!(verify(&token, &ring, &e).is_ok());
        e.access_token = Some("another");
        assert!(verify(&token, &ring, &e).is_err());
    }
}
