//! Signing keys: generation, import (JWK, PEM, a legacy HS256 secret), and the public JWK.
//!
//! Private material is normalised to one DER form per algorithm (PKCS#8 for P-256 and Ed25519,
//! PKCS#1 for RSA), which is what `jsonwebtoken`'s RustCrypto backend reads. All parsing and
//! cryptography is done by the RustCrypto crates; this module only picks and converts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

use crate::error::{AuthError, AuthResult};

pub const MIN_RSA_BITS: usize = 2048;
const MAX_KEY_TEXT: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub fn parse(s: &str) -> AuthResult<Alg> {
        match s {
            "HS256" => Ok(Alg::HS256),
            "RS256" => Ok(Alg::RS256),
            "ES256" => Ok(Alg::ES256),
            "EdDSA" => Ok(Alg::EdDSA),
            _ => Err(AuthError::validation(
                "the algorithm must be one of ES256, RS256, EdDSA, HS256",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Alg::HS256 => Algorithm::HS256,
            Alg::RS256 => Algorithm::RS256,
            Alg::ES256 => Algorithm::ES256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// A key as the extension stores it.
#[derive(Clone)]
pub struct KeyMaterial {
    pub alg: Alg,
    /// HS256: the shared secret.
    pub secret: Option<Vec<u8>>,
    /// Asymmetric: the private key in its normalised DER form; `None` for an imported public key.
    pub private_der: Option<Vec<u8>>,
    /// Asymmetric: the public JWK members (`kty`, `crv`, `x`, `y`, `n`, `e`), without kid/alg/use.
    pub public_jwk: Option<Value>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn bad_key(msg: &str) -> AuthError {
    AuthError::validation(format!("the key could not be used: {msg}"))
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(v: Option<&Value>, member: &str) -> AuthResult<Vec<u8>> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| bad_key(&format!("the JWK has no \"{member}\"")))?;
    B64.decode(s.trim_end_matches('='))
        .map_err(|_| bad_key(&format!("\"{member}\" is not base64url")))
}

fn ec_material(
    secret: Option<p256::SecretKey>,
    public: p256::PublicKey,
) -> AuthResult<KeyMaterial> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = public.to_encoded_point(false);
    let (x, y) = (
        point.x().ok_or_else(|| bad_key("EC point"))?,
        point.y().ok_or_else(|| bad_key("EC point"))?,
    );
    let private_der = match secret {
        Some(s) => Some(
            s.to_pkcs8_der()
                .map_err(|_| bad_key("EC key encoding"))?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };
    Ok(KeyMaterial {
        alg: Alg::ES256,
        secret: None,
        private_der,
        public_jwk: Some(json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})),
    })
}

fn ed_material(
    secret: Option<ed25519_dalek::SigningKey>,
    public: ed25519_dalek::VerifyingKey,
) -> AuthResult<KeyMaterial> {
    let private_der = match secret {
        Some(s) => Some(
            s.to_pkcs8_der()
                .map_err(|_| bad_key("Ed25519 key encoding"))?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };
    Ok(KeyMaterial {
        alg: Alg::EdDSA,
        secret: None,
        private_der,
        public_jwk: Some(json!({"kty": "OKP", "crv": "Ed25519", "x": b64(public.as_bytes())})),
    })
}

fn rsa_material(
    secret: Option<rsa::RsaPrivateKey>,
    public: rsa::RsaPublicKey,
) -> AuthResult<KeyMaterial> {
    if public.size() * 8 < MIN_RSA_BITS {
        return Err(AuthError::validation(format!(
            "RSA keys must have at least {MIN_RSA_BITS} bits"
        )));
    }
    let private_der = match secret {
        Some(s) => {
            s.validate()
                .map_err(|_| bad_key("the RSA key is inconsistent"))?;
            Some(
                s.to_pkcs1_der()
                    .map_err(|_| bad_key("RSA key encoding"))?
                    .as_bytes()
                    .to_vec(),
            )
        }
        None => None,
    };
    Ok(KeyMaterial {
        alg: Alg::RS256,
        secret: None,
        private_der,
        public_jwk: Some(
            json!({"kty": "RSA", "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())}),
        ),
    })
}

fn hs_material(secret: Vec<u8>) -> AuthResult<KeyMaterial> {
    if secret.len() < 32 {
        return Err(AuthError::validation(
            "an HS256 secret must have at least 32 bytes",
        ));
    }
    Ok(KeyMaterial {
        alg: Alg::HS256,
        secret: Some(secret),
        private_der: None,
        public_jwk: None,
    })
}

/// A new random key.
pub fn generate(alg: Alg) -> AuthResult<KeyMaterial> {
    let mut rng = rand_core::OsRng;
    match alg {
        Alg::HS256 => hs_material(crate::random::token_string().into_bytes()),
        Alg::ES256 => {
            let s = p256::SecretKey::random(&mut rng);
            let p = s.public_key();
            ec_material(Some(s), p)
        }
        Alg::EdDSA => {
            let s = ed25519_dalek::SigningKey::generate(&mut rng);
            let p = s.verifying_key();
            ed_material(Some(s), p)
        }
        Alg::RS256 => {
            let s =
                rsa::RsaPrivateKey::new(&mut rng, MIN_RSA_BITS).map_err(|_| AuthError::Internal)?;
            let p = s.to_public_key();
            rsa_material(Some(s), p)
        }
    }
}

/// Imports a key given as a JWK (public or private; `kty` EC P-256, RSA, OKP Ed25519 or oct),
/// as PEM (PKCS#8, PKCS#1 or SEC1 private keys; SPKI or PKCS#1 public keys), or, when `alg` is
/// HS256, as a plain secret string of at least 32 characters (what PostgREST's `jwt-secret` holds).
pub fn import(text: &str, alg: Option<Alg>) -> AuthResult<KeyMaterial> {
    if text.len() > MAX_KEY_TEXT {
        return Err(AuthError::validation("the key is too large"));
    }
    let trimmed = text.trim();
    let material = if trimmed.starts_with('{') {
        let jwk: Value = serde_json::from_str(trimmed).map_err(|_| bad_key("not valid JSON"))?;
        import_jwk(&jwk)?
    } else if trimmed.starts_with("-----BEGIN") {
        import_pem(trimmed)?
    } else if alg == Some(Alg::HS256) {
        if text.chars().count() < 32 {
            return Err(AuthError::validation(
                "an HS256 secret must have at least 32 characters",
            ));
        }
        hs_material(text.as_bytes().to_vec())?
    } else {
        return Err(AuthError::validation(
            "the key must be a JWK, a PEM key, or (with alg HS256) a secret of at least 32 characters",
        ));
    };
    if let Some(alg) = alg {
        if alg != material.alg {
            return Err(AuthError::validation(format!(
                "the key is for {}, not {}",
                material.alg.as_str(),
                alg.as_str()
            )));
        }
    }
    Ok(material)
}

fn import_jwk(jwk: &Value) -> AuthResult<KeyMaterial> {
    if let Some(declared) = jwk.get("alg").and_then(Value::as_str) {
        Alg::parse(declared)?;
    }
    let get = |m: &str| jwk.get(m);
    let material = match get("kty").and_then(Value::as_str) {
        Some("EC") => {
            if get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err(bad_key("only the P-256 curve is supported for EC keys"));
            }
            let (x, y) = (unb64(get("x"), "x")?, unb64(get("y"), "y")?);
            let mut sec1 = vec![4u8];
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            let public = p256::PublicKey::from_sec1_bytes(&sec1)
                .map_err(|_| bad_key("not a P-256 point"))?;
            let secret = match get("d") {
                Some(d) => {
                    let s = p256::SecretKey::from_slice(&unb64(Some(d), "d")?)
                        .map_err(|_| bad_key("bad EC private key"))?;
                    if s.public_key() != public {
                        return Err(bad_key("d does not match x and y"));
                    }
                    Some(s)
                }
                None => None,
            };
            ec_material(secret, public)?
        }
        Some("OKP") => {
            if get("crv").and_then(Value::as_str) != Some("Ed25519") {
                return Err(bad_key("only Ed25519 is supported for OKP keys"));
            }
            let x: [u8; 32] = unb64(get("x"), "x")?
                .try_into()
                .map_err(|_| bad_key("x must be 32 bytes"))?;
            let public = ed25519_dalek::VerifyingKey::from_bytes(&x)
                .map_err(|_| bad_key("not an Ed25519 key"))?;
            let secret = match get("d") {
                Some(d) => {
                    let d: [u8; 32] = unb64(Some(d), "d")?
                        .try_into()
                        .map_err(|_| bad_key("d must be 32 bytes"))?;
                    let s = ed25519_dalek::SigningKey::from_bytes(&d);
                    if s.verifying_key() != public {
                        return Err(bad_key("d does not match x"));
                    }
                    Some(s)
                }
                None => None,
            };
            ed_material(secret, public)?
        }
        Some("RSA") => {
            let n = rsa::BigUint::from_bytes_be(&unb64(get("n"), "n")?);
            let e = rsa::BigUint::from_bytes_be(&unb64(get("e"), "e")?);
            let public = rsa::RsaPublicKey::new(n.clone(), e.clone())
                .map_err(|_| bad_key("bad RSA public key"))?;
            let secret = match get("d") {
                Some(d) => {
                    let d = rsa::BigUint::from_bytes_be(&unb64(Some(d), "d")?);
                    let primes = match (get("p"), get("q")) {
                        (Some(p), Some(q)) => vec![
                            rsa::BigUint::from_bytes_be(&unb64(Some(p), "p")?),
                            rsa::BigUint::from_bytes_be(&unb64(Some(q), "q")?),
                        ],
                        _ => return Err(bad_key("an RSA private JWK needs p and q")),
                    };
                    Some(
                        rsa::RsaPrivateKey::from_components(n, e, d, primes)
                            .map_err(|_| bad_key("bad RSA private key"))?,
                    )
                }
                None => None,
            };
            rsa_material(secret, public)?
        }
        Some("oct") => hs_material(unb64(get("k"), "k")?)?,
        _ => return Err(bad_key("kty must be EC, OKP, RSA or oct")),
    };
    if let Some(declared) = jwk.get("alg").and_then(Value::as_str) {
        if declared != material.alg.as_str() {
            return Err(bad_key("the JWK's alg does not match its key type"));
        }
    }
    Ok(material)
}

fn import_pem(pem: &str) -> AuthResult<KeyMaterial> {
    if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        if let Ok(s) = p256::SecretKey::from_pkcs8_pem(pem) {
            let p = s.public_key();
            return ec_material(Some(s), p);
        }
        if let Ok(s) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            let p = s.verifying_key();
            return ed_material(Some(s), p);
        }
        if let Ok(s) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            let p = s.to_public_key();
            return rsa_material(Some(s), p);
        }
        return Err(bad_key("the PKCS#8 key is not P-256, Ed25519 or RSA"));
    }
    if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        let s =
            rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| bad_key("bad PKCS#1 RSA key"))?;
        let p = s.to_public_key();
        return rsa_material(Some(s), p);
    }
    if pem.starts_with("-----BEGIN EC PRIVATE KEY-----") {
        let s = p256::SecretKey::from_sec1_pem(pem)
            .map_err(|_| bad_key("bad SEC1 key (P-256 only)"))?;
        let p = s.public_key();
        return ec_material(Some(s), p);
    }
    if pem.starts_with("-----BEGIN PUBLIC KEY-----") {
        if let Ok(p) = p256::PublicKey::from_public_key_pem(pem) {
            return ec_material(None, p);
        }
        if let Ok(p) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return ed_material(None, p);
        }
        if let Ok(p) = rsa::RsaPublicKey::from_public_key_pem(pem) {
            return rsa_material(None, p);
        }
        return Err(bad_key("the public key is not P-256, Ed25519 or RSA"));
    }
    if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
        let p = rsa::RsaPublicKey::from_pkcs1_pem(pem)
            .map_err(|_| bad_key("bad PKCS#1 RSA public key"))?;
        return rsa_material(None, p);
    }
    Err(bad_key("unsupported PEM type"))
}

/// A private key parsed once into ring's signing form. jsonwebtoken re-parses the DER on every
/// call and signs P-256 in portable code: ~0.4 ms per ES256 token, most of a refresh.
pub enum RingSigner {
    Ecdsa(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
}

impl RingSigner {
    /// The JWS signature of `message` (ES256: the fixed-width r || s form).
    pub fn sign(&self, message: &[u8]) -> AuthResult<Vec<u8>> {
        match self {
            RingSigner::Ecdsa(pair) => pair
                .sign(&ring::rand::SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| AuthError::Internal),
            RingSigner::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl KeyMaterial {
    pub fn can_sign(&self) -> bool {
        self.secret.is_some() || self.private_der.is_some()
    }

    /// ES256 and EdDSA private keys in ring's form (`None` for other keys). ring checks that the
    /// private and public halves belong together.
    pub fn ring_signer(&self) -> AuthResult<Option<RingSigner>> {
        let Some(der) = &self.private_der else {
            return Ok(None);
        };
        match self.alg {
            Alg::ES256 => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let secret = p256::SecretKey::from_pkcs8_der(der)
                    .map_err(|_| bad_key("the stored EC key"))?;
                let public = secret.public_key().to_encoded_point(false);
                ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &secret.to_bytes(),
                    public.as_bytes(),
                    &ring::rand::SystemRandom::new(),
                )
                .map(|pair| Some(RingSigner::Ecdsa(pair)))
                .map_err(|_| bad_key("the stored EC key"))
            }
            Alg::EdDSA => {
                let secret = ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|_| bad_key("the stored Ed25519 key"))?;
                ring::signature::Ed25519KeyPair::from_seed_and_public_key(
                    &secret.to_bytes(),
                    secret.verifying_key().as_bytes(),
                )
                .map(|pair| Some(RingSigner::Ed25519(pair)))
                .map_err(|_| bad_key("the stored Ed25519 key"))
            }
            Alg::HS256 | Alg::RS256 => Ok(None),
        }
    }

    pub fn encoding_key(&self) -> AuthResult<EncodingKey> {
        match (self.alg, &self.secret, &self.private_der) {
            (Alg::HS256, Some(s), _) => Ok(EncodingKey::from_secret(s)),
            (Alg::ES256, _, Some(d)) => Ok(EncodingKey::from_ec_der(d)),
            (Alg::EdDSA, _, Some(d)) => Ok(EncodingKey::from_ed_der(d)),
            (Alg::RS256, _, Some(d)) => Ok(EncodingKey::from_rsa_der(d)),
            _ => Err(AuthError::validation(
                "this key has no private part and cannot sign",
            )),
        }
    }

    pub fn decoding_key(&self) -> AuthResult<DecodingKey> {
        let jwk = self.public_jwk.as_ref();
        let member = |m: &str| {
            jwk.and_then(|j| j.get(m))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let key = match self.alg {
            Alg::HS256 => Ok(DecodingKey::from_secret(
                self.secret.as_deref().ok_or(AuthError::Internal)?,
            )),
            Alg::ES256 => DecodingKey::from_ec_components(member("x"), member("y")),
            // jsonwebtoken takes the first 32 bytes when it verifies, and panics on fewer:
            // stored material without a 32-byte x is refused here, when the ring loads.
            Alg::EdDSA => match B64.decode(member("x")) {
                Ok(x) if x.len() == 32 => DecodingKey::from_ed_components(member("x")),
                _ => return Err(AuthError::Internal),
            },
            Alg::RS256 => DecodingKey::from_rsa_components(member("n"), member("e")),
        };
        key.map_err(|_| AuthError::Internal)
    }

    /// The public JWK as published in a JWKS; `None` for HS256, which is never published.
    pub fn public_jwk(&self, kid: &str) -> Option<Value> {
        let mut jwk = self.public_jwk.clone()?;
        let obj = jwk.as_object_mut()?;
        obj.insert("kid".into(), kid.into());
        obj.insert("alg".into(), self.alg.as_str().into());
        obj.insert("use".into(), "sig".into());
        obj.insert("key_ops".into(), json!(["verify"]));
        Some(jwk)
    }

    /// The JWK PostgREST needs to verify with this key (HS256 included, as `oct`).
    pub fn verification_jwk(&self, kid: &str) -> Option<Value> {
        match self.alg {
            Alg::HS256 => Some(
                json!({"kty": "oct", "k": b64(self.secret.as_deref()?), "kid": kid, "alg": "HS256"}),
            ),
            _ => self.public_jwk(kid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_every_algorithm_and_round_trip_through_sign_and_verify() {
        for alg in [Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256] {
            let k = generate(alg).unwrap();
            assert!(k.can_sign());
            let sig = jsonwebtoken::crypto::sign(b"message", &k.encoding_key().unwrap(), alg.jwt())
                .unwrap();
            assert!(jsonwebtoken::crypto::verify(
                &sig,
                b"message",
                &k.decoding_key().unwrap(),
                alg.jwt()
            )
            .unwrap());
            assert!(!jsonwebtoken::crypto::verify(
                &sig,
                b"massage",
                &k.decoding_key().unwrap(),
                alg.jwt()
            )
            .unwrap());
            match alg {
                Alg::HS256 => assert!(k.public_jwk("k").is_none(), "no oct key is ever published"),
                _ => {
                    let jwk = k.public_jwk("k1").unwrap();
                    assert_eq!(jwk["kid"], "k1");
                    assert_eq!(jwk["alg"], alg.as_str());
                    assert!(jwk.get("d").is_none(), "no private member");
                    // a public JWK imports back to a verify-only key of the same algorithm
                    let back = import(&jwk.to_string(), Some(alg)).unwrap();
                    assert!(!back.can_sign());
                    assert!(jsonwebtoken::crypto::verify(
                        &sig,
                        b"message",
                        &back.decoding_key().unwrap(),
                        alg.jwt()
                    )
                    .unwrap());
                }
            }
        }
    }

    #[test]
    fn stored_eddsa_key_without_a_32_byte_x_is_refused_at_load() {
        // found by fuzzing (core/fuzz/regressions/import_key): verifying with it panicked
        for x in [None, Some(""), Some("AAAA"), Some(&*"A".repeat(44))] {
            let stored = KeyMaterial {
                alg: Alg::EdDSA,
                secret: None,
                private_der: None,
                public_jwk: x.map(|x| json!({"kty": "OKP", "crv": "Ed25519", "x": x})),
            };
            assert!(stored.decoding_key().is_err(), "{x:?}");
        }
        assert!(generate(Alg::EdDSA).unwrap().decoding_key().is_ok());
    }

    #[test]
    fn import_refuses_bad_keys() {
        assert!(import("short", Some(Alg::HS256)).is_err());
        assert!(
            import(&"x".repeat(40), None).is_err(),
            "a bare secret needs alg HS256"
        );
        assert!(import(
            "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}",
            None
        )
        .is_err());
        assert!(
            import("{\"kty\":\"oct\",\"k\":\"c2hvcnQ\"}", None).is_err(),
            "a 5-byte oct key"
        );
        assert!(import(
            "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----",
            None
        )
        .is_err());
        assert!(import("{not json", None).is_err());
        let ec = generate(Alg::ES256).unwrap().public_jwk("k").unwrap();
        assert!(
            import(&ec.to_string(), Some(Alg::RS256)).is_err(),
            "alg must match the key type"
        );
        let e = import(&"s".repeat(40), Some(Alg::HS256)).unwrap();
        assert_eq!(e.secret.as_deref(), Some("s".repeat(40).as_bytes()));
    }
}
