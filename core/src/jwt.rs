//! Signing and verifying access tokens, and the GoTrue shapes built around them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::sync::Mutex;

use crate::error::{AuthError, AuthResult};
use crate::keys::{Alg, KeyMaterial, RingSigner};

pub mod json;
use json::{Captured, JsonError, JsonSink, ValueSink};

/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default clock skew tolerated on `exp`, `nbf` and `iat`, as PostgREST.
pub const DEFAULT_LEEWAY_SECONDS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// Published and verifying, not yet signing: what a rotation moves to `Current`.
    Standby,
    /// The one key that signs.
    Current,
    /// Verifies only: tokens it signed stay valid until they expire.
    Previous,
    /// Rejected.
    Revoked,
}

impl KeyStatus {
    pub fn parse(s: &str) -> AuthResult<KeyStatus> {
        match s {
            "standby" => Ok(KeyStatus::Standby),
            "current" => Ok(KeyStatus::Current),
            "previous" => Ok(KeyStatus::Previous),
            "revoked" => Ok(KeyStatus::Revoked),
            _ => Err(AuthError::validation(
                "the status must be one of standby, current, previous, revoked",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Standby => "standby",
            KeyStatus::Current => "current",
            KeyStatus::Previous => "previous",
            KeyStatus::Revoked => "revoked",
        }
    }
}

pub struct RingKey {
    pub kid: String,
    pub status: KeyStatus,
    pub material: KeyMaterial,
    decoding: DecodingKey,
    /// HS256 keys: the HMAC state after absorbing the key, cloned per token (saves two of the
    /// SHA-256 compressions per verify).
    hmac: Option<HmacSha256>,
    /// ES256 keys: ring's P-256 verifier (assembly; RustCrypto's p256 took ~6x longer, which put
    /// ES256 verification at ~60x the cost of HS256).
    p256: Option<UnparsedPublicKey<Vec<u8>>>,
    /// ES256 and EdDSA private keys, parsed once into ring's form for signing.
    signer: Option<RingSigner>,
    /// Other keys with a private part (RS256): parsed once for jsonwebtoken.
    encoding: Option<EncodingKey>,
    /// The base64url header this key signs with.
    header: String,
}

type HmacSha256 = Hmac<Sha256>;

/// The checks beyond the signature.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub leeway: i64,
    /// When set, `aud` (a string or an array) must contain it.
    pub audience: Option<String>,
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
    /// Refuse a token without `exp` (`jwt_require_exp`).
    pub require_exp: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            leeway: DEFAULT_LEEWAY_SECONDS,
            audience: None,
            issuer: None,
            require_exp: true,
        }
    }
}

/// All keys of the instance, parsed once: what signs, what verifies, what is published.
pub struct KeyRing {
    keys: Vec<RingKey>,
    /// Headers already parsed and checked, by their base64url text: every token one key signs
    /// carries the same header, so the hot path skips decoding and parsing it.
    headers: Mutex<Vec<(String, HeaderInfo)>>,
}

/// How many distinct headers [`KeyRing`] remembers (a few per key is the normal case).
const HEADER_CACHE: usize = 16;

fn bad(msg: &str) -> AuthError {
    AuthError::bad_jwt(msg)
}

fn decode_part(part: &str, what: &str) -> AuthResult<Vec<u8>> {
    B64.decode(part)
        .map_err(|_| bad(&format!("the token's {what} is not valid base64url")))
}

/// Parses a token part as a strict JSON object into `sink`, capturing the named members.
fn parse_part(
    bytes: &[u8],
    what: &str,
    sink: &mut impl JsonSink,
    captured: &mut Captured,
) -> AuthResult<()> {
    json::parse_object(bytes, sink, captured).map_err(|e| match e {
        JsonError::NotAnObject => bad(&format!("the token's {what} is not a JSON object")),
        JsonError::DuplicateKey => bad(&format!("the token's {what} has a duplicate key")),
        JsonError::Invalid => bad(&format!("the token's {what} is not valid JSON")),
        JsonError::Nul => bad(&format!(
            "the token's {what} contain a NUL character (\\u0000), which text cannot hold"
        )),
    })
}

fn parse_json_object(bytes: &[u8], what: &str) -> AuthResult<Map<String, Value>> {
    let mut sink = ValueSink::default();
    parse_part(bytes, what, &mut sink, &mut Captured::new(&[]))?;
    match sink.into_value() {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(AuthError::Internal),
    }
}

/// What a token header says, once it has passed the header checks.
#[derive(Clone)]
struct HeaderInfo {
    alg: Alg,
    /// Shared with the cache: a hit costs a reference count, not a copy.
    kid: Option<std::sync::Arc<str>>,
}

fn parse_header(part: &str) -> AuthResult<HeaderInfo> {
    let header = parse_json_object(&decode_part(part, "header")?, "header")?;
    if header.contains_key("crit") {
        return Err(bad("the token has a crit header, which is not supported"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the token's header has no alg"))?;
    let alg = Alg::parse(alg).map_err(|_| bad("the token's algorithm is not accepted"))?;
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(std::sync::Arc::from(kid.as_str())),
        Some(_) => return Err(bad("the token's kid is not a string")),
        None => None,
    };
    Ok(HeaderInfo { alg, kid })
}

/// The registered claims `verify` checks, captured while the claims stream to their sink.
const CHECKED_CLAIMS: [&str; 5] = ["exp", "nbf", "iat", "aud", "iss"];

fn number(claims: &Captured, name: &str) -> AuthResult<Option<f64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad(&format!("the {name} claim is not a number"))),
    }
}

impl KeyRing {
    pub fn new(entries: Vec<(String, KeyStatus, KeyMaterial)>) -> AuthResult<KeyRing> {
        let mut keys = Vec::with_capacity(entries.len());
        for (kid, status, material) in entries {
            let decoding = material.decoding_key()?;
            let hmac = match (material.alg, material.secret.as_deref()) {
                (Alg::HS256, Some(secret)) => {
                    Some(HmacSha256::new_from_slice(secret).map_err(|_| AuthError::Internal)?)
                }
                _ => None,
            };
            let signer = material.ring_signer()?;
            let encoding = match signer {
                Some(_) => None,
                None => material.encoding_key().ok(),
            };
            let p256 = match (material.alg, &material.public_jwk) {
                (Alg::ES256, Some(jwk)) => {
                    let coordinate = |m: &str| {
                        jwk.get(m)
                            .and_then(Value::as_str)
                            .and_then(|c| B64.decode(c).ok())
                            .filter(|c| c.len() == 32)
                            .ok_or(AuthError::Internal)
                    };
                    // SEC1 uncompressed point: 0x04 || x || y
                    let mut point = vec![4u8];
                    point.extend(coordinate("x")?);
                    point.extend(coordinate("y")?);
                    Some(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point))
                }
                _ => None,
            };
            let header = json!({"alg": material.alg.as_str(), "kid": kid, "typ": "JWT"});
            let header = B64.encode(header.to_string());
            keys.push(RingKey {
                kid,
                status,
                material,
                decoding,
                hmac,
                p256,
                signer,
                encoding,
                header,
            });
        }
        Ok(KeyRing {
            keys,
            headers: Mutex::new(Vec::new()),
        })
    }

    pub fn keys(&self) -> &[RingKey] {
        &self.keys
    }

    /// The key that signs.
    pub fn current(&self) -> AuthResult<&RingKey> {
        self.keys
            .iter()
            .find(|k| k.status == KeyStatus::Current)
            .ok_or(AuthError::Internal)
    }

    /// Signs claims with the current key; header `{alg, kid, typ: "JWT"}`.
    pub fn sign(&self, claims: &Value) -> AuthResult<String> {
        let payload = serde_json::to_vec(claims).map_err(|_| AuthError::Internal)?;
        self.sign_payload(&payload)
    }

    /// Signs claims given as JSON text, which the caller guarantees is one JSON object.
    pub fn sign_payload(&self, payload: &[u8]) -> AuthResult<String> {
        let key = self.current()?;
        let mut token =
            String::with_capacity(key.header.len() + 1 + payload.len().div_ceil(3) * 4 + 1 + 86);
        token.push_str(&key.header);
        token.push('.');
        B64.encode_string(payload, &mut token);
        let signature = match &key.hmac {
            Some(hmac) => {
                let mut mac = hmac.clone();
                mac.update(token.as_bytes());
                B64.encode(mac.finalize().into_bytes())
            }
            None if key.signer.is_some() => {
                let signer = key.signer.as_ref().ok_or(AuthError::Internal)?;
                B64.encode(signer.sign(token.as_bytes())?)
            }
            None => {
                let encoding = key.encoding.as_ref().ok_or(AuthError::Internal)?;
                jsonwebtoken::crypto::sign(token.as_bytes(), encoding, key.material.alg.jwt())
                    .map_err(|_| AuthError::Internal)?
            }
        };
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }

    /// The header of a token, from the cache when this exact header was seen before.
    fn header(&self, part: &str) -> AuthResult<HeaderInfo> {
        let mut cache = self.headers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, info)) = cache.iter().find(|(text, _)| text == part) {
            return Ok(info.clone());
        }
        let info = parse_header(part)?;
        if cache.len() >= HEADER_CACHE {
            cache.remove(0);
        }
        cache.push((part.to_owned(), info.clone()));
        Ok(info)
    }

    /// Checks the header and the signature; returns the raw payload. The key is chosen by `kid`
    /// and the algorithm comes from the key: a header's `alg` only has to agree.
    pub fn verify_signature(&self, token: &str) -> AuthResult<Vec<u8>> {
        if token.is_empty() {
            return Err(bad("the token is empty"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad(&format!(
                "the token is larger than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        // Three parts: the signature after the last dot, the header before the first, and no
        // dot in between (base64url has none).
        let parts = token
            .split_once('.')
            .and_then(|(h, rest)| rest.rsplit_once('.').map(|(p, s)| (h, p, s)))
            .filter(|(h, p, _)| !h.is_empty() && !p.is_empty() && !p.as_bytes().contains(&b'.'));
        let Some((header, payload, signature)) = parts else {
            return Err(bad(
                "the token is malformed (it must be three base64url parts)",
            ));
        };
        let HeaderInfo { alg, kid } = self.header(header)?;
        if signature.is_empty() {
            return Err(bad("the token has no signature"));
        }
        // The keys to try, without collecting them (this is the per-request path).
        let mut by_kid = None;
        let mut by_alg = None;
        let candidates: &mut dyn Iterator<Item = &RingKey> = match &kid {
            Some(kid) => {
                let key = self
                    .keys
                    .iter()
                    .find(|k| *k.kid == **kid)
                    .ok_or_else(|| bad("the token's signing key (kid) is unknown"))?;
                if key.status == KeyStatus::Revoked {
                    return Err(bad("the token's signing key has been revoked"));
                }
                if key.material.alg != alg {
                    return Err(bad("the token's algorithm does not match its signing key"));
                }
                by_kid.insert(std::iter::once(key))
            }
            // Tokens minted elsewhere (PostgREST recipes, old Supabase keys) often carry no kid:
            // every live key of the header's algorithm is tried.
            None => {
                let keys = by_alg.insert(
                    self.keys
                        .iter()
                        .filter(move |k| k.material.alg == alg && k.status != KeyStatus::Revoked)
                        .peekable(),
                );
                if keys.peek().is_none() {
                    return Err(bad("no signing key matches the token's algorithm"));
                }
                keys
            }
        };
        let message = &token.as_bytes()[..header.len() + 1 + payload.len()];
        let mut signed = false;
        for key in candidates {
            signed = match (&key.hmac, &key.p256) {
                (_, Some(p256)) => {
                    let mut sig = [0u8; 64];
                    match B64.decode_slice(signature, &mut sig) {
                        Ok(64) => p256.verify(message, &sig).is_ok(),
                        _ => false,
                    }
                }
                (Some(hmac), _) => {
                    let mut sig = [0u8; 64];
                    let Ok(n) = B64.decode_slice(signature, &mut sig) else {
                        break;
                    };
                    let mut mac = hmac.clone();
                    mac.update(message);
                    // constant-time comparison (hmac's verify_slice)
                    mac.verify_slice(&sig[..n]).is_ok()
                }
                (None, None) => {
                    jsonwebtoken::crypto::verify(signature, message, &key.decoding, alg.jwt())
                        .unwrap_or(false)
                }
            };
            if signed {
                break;
            }
        }
        if !signed {
            return Err(bad("the signature does not match"));
        }
        decode_part(payload, "payload")
    }

    /// Verifies a token at time `now` (unix seconds) and returns its claims.
    pub fn verify(&self, token: &str, opts: &VerifyOptions, now: i64) -> AuthResult<Value> {
        let mut sink = ValueSink::default();
        self.verify_into(token, opts, now, &mut sink)?;
        sink.into_value().ok_or(AuthError::Internal)
    }

    /// Verifies a token at time `now` (unix seconds), streaming its claims into `sink` as they
    /// are parsed. On an error the sink holds a partial document and must be discarded.
    pub fn verify_into(
        &self,
        token: &str,
        opts: &VerifyOptions,
        now: i64,
        sink: &mut impl JsonSink,
    ) -> AuthResult<()> {
        let payload = self.verify_signature(token)?;
        let mut claims = Captured::new(&CHECKED_CLAIMS);
        parse_part(&payload, "claims", sink, &mut claims)?;
        let (now, leeway) = (now as f64, opts.leeway as f64);
        match number(&claims, "exp")? {
            None if opts.require_exp => return Err(bad("the token has no exp claim")),
            None => {}
            Some(exp) if now > exp + leeway => return Err(bad("the token has expired (exp)")),
            Some(_) => {}
        }
        if let Some(nbf) = number(&claims, "nbf")? {
            if now + leeway < nbf {
                return Err(bad("the token is not valid yet (nbf)"));
            }
        }
        if let Some(iat) = number(&claims, "iat")? {
            if iat > now + leeway {
                return Err(bad("the token was issued in the future (iat)"));
            }
        }
        if let Some(want) = &opts.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => a == want,
                Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(want)),
                _ => false,
            };
            if !ok {
                return Err(bad("the token's audience (aud) is not accepted"));
            }
        }
        if let Some(want) = &opts.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(want.as_str()) {
                return Err(bad("the token's issuer (iss) is not accepted"));
            }
        }
        Ok(())
    }

    /// The public JWKS: every non-revoked asymmetric key; never an `oct` key.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|k| k.status != KeyStatus::Revoked)
            .filter_map(|k| k.material.public_jwk(&k.kid))
            .collect();
        json!({ "keys": keys })
    }

    /// What PostgREST's `jwt-secret` needs to accept every non-revoked key, HS256 included.
    pub fn verification_jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|k| k.status != KeyStatus::Revoked)
            .filter_map(|k| k.material.verification_jwk(&k.kid))
            .collect();
        json!({ "keys": keys })
    }
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
mod tests;
