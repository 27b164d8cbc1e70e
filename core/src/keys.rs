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
/// The longest `kid` an imported JWK may bring (bytes; kids are printable ASCII).
pub const MAX_KID_LEN: usize = 255;
/// Miller-Rabin rounds of the primality test of an RSA modulus (on top of Baillie-PSW, which
/// `probably_prime` always runs). A prime is always found prime; a composite modulus almost
/// always fails the first round, so the test costs one modular exponentiation.
const PRIME_TEST_ROUNDS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

/// Refuses an RSA modulus or public exponent that cannot belong to a sound key, before the
/// `rsa` crate sees them: an even modulus, or an exponent that is below 3 or even (the crate
/// itself accepts e = 2). The modulus size and primality are checked by [`rsa_material`].
fn check_rsa_parity(n: &rsa::BigUint, e: &rsa::BigUint) -> AuthResult<()> {
    let odd = |x: &rsa::BigUint| x.to_bytes_le().first().is_some_and(|b| b & 1 == 1);
    if !odd(n) {
        return Err(bad_key("the RSA modulus is even"));
    }
    if !odd(e) || *e < rsa::BigUint::from(3u64) {
        return Err(bad_key(
            "the RSA public exponent must be odd and at least 3",
        ));
    }
    Ok(())
}

/// The checks every RSA key passes, generated or imported (JWK or PEM, public or private): a
/// modulus of at least [`MIN_RSA_BITS`] significant bits (leading zero bits do not count), odd
/// and composite, and a public exponent that is odd and at least 3.
fn check_rsa_public(public: &rsa::RsaPublicKey) -> AuthResult<()> {
    check_rsa_parity(public.n(), public.e())?;
    if public.n().bits() < MIN_RSA_BITS {
        return Err(AuthError::validation(format!(
            "RSA keys must have at least {MIN_RSA_BITS} bits"
        )));
    }
    if num_bigint_dig::prime::probably_prime(public.n(), PRIME_TEST_ROUNDS) {
        return Err(bad_key(
            "the RSA modulus is prime; it must be a product of two primes",
        ));
    }
    Ok(())
}

fn rsa_material(
    secret: Option<rsa::RsaPrivateKey>,
    public: rsa::RsaPublicKey,
) -> AuthResult<KeyMaterial> {
    check_rsa_public(&public)?;
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
/// A JWK's `kid`, if it has one, must be valid ([`check_kid`]); [`import_with_kid`] returns it.
pub fn import(text: &str, alg: Option<Alg>) -> AuthResult<KeyMaterial> {
    import_with_kid(text, alg).map(|imported| imported.material)
}

/// An imported key and the `kid` its JWK names (`None` for a JWK without one, a PEM key or a
/// plain secret: the key ring then gives it a new one).
#[derive(Clone, Debug)]
pub struct Imported {
    pub material: KeyMaterial,
    pub kid: Option<String>,
}

/// [`import`], keeping the JWK's `kid`: tokens minted elsewhere with that kid must find the key.
pub fn import_with_kid(text: &str, alg: Option<Alg>) -> AuthResult<Imported> {
    if text.len() > MAX_KEY_TEXT {
        return Err(AuthError::validation("the key is too large"));
    }
    let trimmed = text.trim();
    let mut kid = None;
    let material = if trimmed.starts_with('{') {
        let jwk: Value = serde_json::from_str(trimmed).map_err(|_| bad_key("not valid JSON"))?;
        kid = jwk_kid(&jwk)?;
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
    Ok(Imported { material, kid })
}

/// Whether `kid` may name a key: 1 to [`MAX_KID_LEN`] printable ASCII characters (spaces
/// allowed, but not at either end). It goes into token headers, the JWKS and the key
/// listings, so no control characters, no invisible Unicode, no lookalikes of another kid.
/// The message never repeats the kid.
pub fn check_kid(kid: &str) -> AuthResult<()> {
    let printable = kid.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if kid.is_empty()
        || kid.len() > MAX_KID_LEN
        || !printable
        || kid.starts_with(' ')
        || kid.ends_with(' ')
    {
        return Err(AuthError::validation(format!(
            "the JWK's kid must be 1 to {MAX_KID_LEN} printable ASCII characters, without spaces at either end"
        )));
    }
    Ok(())
}

/// The `kid` member of a JWK, checked; `None` when there is none.
fn jwk_kid(jwk: &Value) -> AuthResult<Option<String>> {
    match jwk.get("kid") {
        None => Ok(None),
        Some(Value::String(kid)) => check_kid(kid).map(|()| Some(kid.clone())),
        Some(_) => Err(AuthError::validation("the JWK's kid must be a string")),
    }
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
            check_rsa_parity(&n, &e)?;
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

    /// A 2048-bit prime (`openssl prime -generate -bits 2048`), base64url: an RSA "modulus" that
    /// is prime makes the private exponent computable from the public key alone.
    const PRIME_2048: &str = "x6XibwL29uQdyxHeD40y7HrSUNJVTHspjVicCNGQARVyEVYKFlfhxlAqY5ThLzzj_OZQW9QrxAMAlbf3X5l6jkyc2LtjFfsBSS2qv4YSSH9C_RHt3B44aw0yluUOgMaOxEeqVkEWvX38-nxDwek3bOnVODhp_qg4DMfbUC8_OvWzKDjE3wrnmNutEPcbtincGUKHAfwcFADO7Sz1SBwDpYxS_gS9Pb7kk_fP-NhD0uLg6YDWpqKC4uF2WXGYYIKKdI3FBsAtO_2VsXYdG6JfE7ZTWUbMHnfrRVElDbmNeQgY9v9r3SytdS7yGEBR9DMEHIFDwTX6N2lYf3YusWwQuQ";

    /// 2^(bits-1) + 1: odd, exactly `bits` bits, and composite for the sizes used here
    /// (2^2040+1 is a multiple of 257, 2^2046+1 of 5, 2^2047+1 of 3).
    fn composite(bits: usize) -> rsa::BigUint {
        (rsa::BigUint::from(1u64) << (bits - 1)) + rsa::BigUint::from(1u64)
    }

    /// A public RSA JWK of `n`, left-padded with zero bytes to `width` bytes.
    fn rsa_jwk(n: &rsa::BigUint, width: usize, e: &str) -> String {
        let n = n.to_bytes_be();
        let mut padded = vec![0u8; width.saturating_sub(n.len())];
        padded.extend_from_slice(&n);
        json!({"kty": "RSA", "n": b64(&padded), "e": e}).to_string()
    }

    fn message(r: AuthResult<KeyMaterial>) -> String {
        r.map(|_| ()).unwrap_err().message()
    }

    #[test]
    fn rsa_modulus_size_counts_bits_not_bytes() {
        for (bits, width, ok) in [
            (2041, 256, false), // 256 bytes, but 2041 bits: the byte count passed it before
            (2047, 256, false),
            (2041, 300, false), // leading zero bytes do not count
            (2048, 256, true),
            (2048, 257, true),
            (3072, 384, true),
        ] {
            let n = composite(bits);
            assert_eq!(n.bits(), bits);
            let r = import(&rsa_jwk(&n, width, "AQAB"), Some(Alg::RS256));
            assert_eq!(r.is_ok(), ok, "{bits} bits in {width} bytes");
            if !ok {
                assert!(message(r).contains("at least 2048 bits"));
            }
        }
    }

    #[test]
    fn rsa_keys_below_2048_bits_are_refused_in_every_form() {
        let mut rng = rand_core::OsRng;
        let small = rsa::RsaPrivateKey::new(&mut rng, 2047).unwrap();
        assert_eq!(small.n().bits(), 2047);
        let public = small.to_public_key();
        use rsa::pkcs1::{EncodeRsaPublicKey, LineEnding};
        use rsa::pkcs8::EncodePublicKey;
        let forms = [
            small.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            small.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
            public.to_public_key_pem(LineEnding::LF).unwrap(),
            public.to_pkcs1_pem(LineEnding::LF).unwrap(),
            rsa_jwk(public.n(), 256, &b64(&public.e().to_bytes_be())),
        ];
        for form in &forms {
            let r = import(form, None);
            assert!(message(r).contains("at least 2048 bits"), "{form:.40}");
        }
        // and a generated key has the full 2048 bits
        let generated = generate(Alg::RS256).unwrap();
        let n = B64
            .decode(
                generated.public_jwk.as_ref().unwrap()["n"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(rsa::BigUint::from_bytes_be(&n).bits(), MIN_RSA_BITS);
    }

    #[test]
    fn rsa_prime_modulus_even_modulus_and_weak_exponents_are_refused() {
        let prime = rsa::BigUint::from_bytes_be(&B64.decode(PRIME_2048).unwrap());
        assert_eq!(prime.bits(), 2048);
        let r = import(&rsa_jwk(&prime, 256, "AQAB"), None);
        let msg = message(r);
        assert!(msg.contains("prime"), "{msg}");
        assert!(
            !msg.contains(&PRIME_2048[..16]),
            "the message shows the key"
        );
        // the same prime as a PEM public key
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let pem = rsa::RsaPublicKey::new(prime.clone(), rsa::BigUint::from(65537u64))
            .unwrap()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        assert!(message(import(&pem, None)).contains("prime"));

        let n = composite(2048);
        assert!(import(&rsa_jwk(&n, 256, "AQAB"), None).is_ok());
        let even = n.clone() + rsa::BigUint::from(1u64);
        assert!(message(import(&rsa_jwk(&even, 256, "AQAB"), None)).contains("even"));
        for e in [0u64, 1, 2, 4, 65536] {
            let e = b64(&rsa::BigUint::from(e).to_bytes_be());
            let msg = message(import(&rsa_jwk(&n, 256, &e), None));
            assert!(msg.contains("exponent"), "e = {e}: {msg}");
        }
        assert!(import(&rsa_jwk(&n, 256, "Aw"), None).is_ok(), "e = 3");
    }

    #[test]
    fn a_jwk_kid_is_kept_and_checked() {
        let jwk = generate(Alg::ES256).unwrap().public_jwk("x").unwrap();
        let with = |kid: Value| {
            let mut jwk = jwk.clone();
            jwk["kid"] = kid;
            import_with_kid(&jwk.to_string(), None)
        };
        for kid in [
            "minted-elsewhere".to_string(),
            "2011-04-29".into(),
            "Public key used in JWS spec Appendix A.3 example".into(),
            "k".into(),
            "k".repeat(MAX_KID_LEN),
        ] {
            let imported = with(kid.clone().into()).unwrap();
            assert_eq!(imported.kid.as_deref(), Some(kid.as_str()));
            assert!(!imported.material.can_sign());
        }
        let refused = [
            json!(""),
            json!(" leading"),
            json!("trailing "),
            json!("new\nline"),
            json!("tab\there"),
            json!("nul\u{0}byte"),
            json!("del\u{7f}"),
            json!("caf\u{e9}-key"),
            json!("zero\u{200b}width"),
            json!("k".repeat(MAX_KID_LEN + 1)),
            json!(42),
            json!(null),
            json!(["k"]),
        ];
        for kid in refused {
            let e = with(kid.clone()).unwrap_err();
            assert_eq!(e.code(), "validation_failed");
            assert!(e.message().contains("kid"), "{kid}: {}", e.message());
            if let Some(s) = kid.as_str().filter(|s| s.len() > 3) {
                assert!(!e.message().contains(s), "the message repeats the kid");
            }
        }
        // without a kid (a JWK without one, PEM, a plain secret): none; the ring makes one
        let plain = import_with_kid(
            &jwk.as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.remove("kid");
                    Value::Object(o)
                })
                .unwrap()
                .to_string(),
            None,
        )
        .unwrap();
        assert_eq!(plain.kid, None);
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----";
        assert_eq!(import_with_kid(pem, None).unwrap().kid, None);
        assert_eq!(
            import_with_kid(&"s".repeat(40), Some(Alg::HS256))
                .unwrap()
                .kid,
            None
        );
        // an oct JWK keeps its kid too, and import() still checks it
        let oct = json!({"kty": "oct", "k": b64(&[7u8; 32]), "kid": "hs-legacy"}).to_string();
        assert_eq!(
            import_with_kid(&oct, None).unwrap().kid.as_deref(),
            Some("hs-legacy")
        );
        let bad = json!({"kty": "oct", "k": b64(&[7u8; 32]), "kid": ""}).to_string();
        assert!(import(&bad, None).is_err());
    }
}
