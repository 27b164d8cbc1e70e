//! Signing and verifying access tokens, and the GoTrue shapes built around them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{DecodingKey, Header};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value};

use crate::error::{AuthError, AuthResult};
use crate::keys::{Alg, KeyMaterial};

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
}

/// The checks beyond the signature.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub leeway: i64,
    /// When set, `aud` (a string or an array) must contain it.
    pub audience: Option<String>,
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            leeway: DEFAULT_LEEWAY_SECONDS,
            audience: None,
            issuer: None,
        }
    }
}

/// All keys of the instance, parsed once: what signs, what verifies, what is published.
pub struct KeyRing {
    keys: Vec<RingKey>,
}

fn bad(msg: &str) -> AuthError {
    AuthError::bad_jwt(msg)
}

/// JSON that refuses duplicate object keys at any depth (serde_json keeps the last one, which
/// lets a token say two things to two parsers).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom("duplicate key"));
            }
            let Strict(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

fn decode_part(part: &str, what: &str) -> AuthResult<Vec<u8>> {
    B64.decode(part)
        .map_err(|_| bad(&format!("the token's {what} is not valid base64url")))
}

fn parse_json_object(bytes: &[u8], what: &str) -> AuthResult<Map<String, Value>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Strict::deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    match parsed {
        Ok(Strict(Value::Object(m))) => Ok(m),
        Ok(_) => Err(bad(&format!("the token's {what} is not a JSON object"))),
        Err(e) if e.to_string().starts_with("duplicate key") => {
            Err(bad(&format!("the token's {what} has a duplicate key")))
        }
        Err(_) => Err(bad(&format!("the token's {what} is not valid JSON"))),
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> AuthResult<Option<f64>> {
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
            keys.push(RingKey {
                kid,
                status,
                material,
                decoding,
            });
        }
        Ok(KeyRing { keys })
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

    /// Signs claims with the current key; header `{alg, typ: "JWT", kid}`.
    pub fn sign(&self, claims: &Value) -> AuthResult<String> {
        let key = self.current()?;
        let mut header = Header::new(key.material.alg.jwt());
        header.typ = Some("JWT".into());
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.material.encoding_key()?)
            .map_err(|_| AuthError::Internal)
    }

    /// Checks the header and the signature; returns the header and the raw payload. The key is
    /// chosen by `kid` and the algorithm comes from the key: a header's `alg` only has to agree.
    pub fn verify_signature(&self, token: &str) -> AuthResult<(Map<String, Value>, Vec<u8>)> {
        if token.is_empty() {
            return Err(bad("the token is empty"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad(&format!(
                "the token is larger than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
            return Err(bad(
                "the token is malformed (it must be three base64url parts)",
            ));
        }
        let header = parse_json_object(&decode_part(parts[0], "header")?, "header")?;
        if header.contains_key("crit") {
            return Err(bad("the token has a crit header, which is not supported"));
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the token's header has no alg"))?;
        let alg = Alg::parse(alg).map_err(|_| bad("the token's algorithm is not accepted"))?;
        if parts[2].is_empty() {
            return Err(bad("the token has no signature"));
        }
        let candidates: Vec<&RingKey> = match header.get("kid") {
            Some(Value::String(kid)) => {
                let key = self
                    .keys
                    .iter()
                    .find(|k| &k.kid == kid)
                    .ok_or_else(|| bad("the token's signing key (kid) is unknown"))?;
                if key.status == KeyStatus::Revoked {
                    return Err(bad("the token's signing key has been revoked"));
                }
                if key.material.alg != alg {
                    return Err(bad("the token's algorithm does not match its signing key"));
                }
                vec![key]
            }
            Some(_) => return Err(bad("the token's kid is not a string")),
            // Tokens minted elsewhere (PostgREST recipes, old Supabase keys) often carry no kid:
            // every live key of the header's algorithm is tried.
            None => self
                .keys
                .iter()
                .filter(|k| k.material.alg == alg && k.status != KeyStatus::Revoked)
                .collect(),
        };
        if candidates.is_empty() {
            return Err(bad("no signing key matches the token's algorithm"));
        }
        let message = &token[..parts[0].len() + 1 + parts[1].len()];
        let signed = candidates.iter().any(|k| {
            jsonwebtoken::crypto::verify(parts[2], message.as_bytes(), &k.decoding, alg.jwt())
                .unwrap_or(false)
        });
        if !signed {
            return Err(bad("the signature does not match"));
        }
        Ok((header, decode_part(parts[1], "payload")?))
    }

    /// Verifies a token at time `now` (unix seconds) and returns its claims.
    pub fn verify(&self, token: &str, opts: &VerifyOptions, now: i64) -> AuthResult<Value> {
        let (_, payload) = self.verify_signature(token)?;
        let claims = parse_json_object(&payload, "claims")?;
        let (now, leeway) = (now as f64, opts.leeway as f64);
        match number(&claims, "exp")? {
            None => return Err(bad("the token has no exp claim")),
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
        Ok(Value::Object(claims))
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
