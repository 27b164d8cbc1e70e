//! `auth.sign_jwt` and `auth.verify_jwt`: the SQL face of the signing keys.

use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::error::guard;
use crate::instance;

/// Claims larger than this would make tokens that `verify_jwt` refuses.
const MAX_CLAIMS_BYTES: usize = 12 * 1024;

/// Signs arbitrary claims with the current key; `iat` and `exp` are added when missing.
/// Only the extension owner and `service_role` may call it (see sql/finalize.sql).
// Not SECURITY DEFINER: the keys are read as the owner (instance.rs); EXECUTE is what restricts it.
#[pg_extern(schema = "auth")]
fn sign_jwt(claims: Option<JsonB>) -> String {
    guard(move || {
        let inst = instance::get()?;
        let mut claims = match claims {
            Some(JsonB(Value::Object(map))) => map,
            _ => {
                return Err(AuthError::validation(
                    "sign_jwt expects a JSON object of claims",
                ))
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        claims.entry("iat").or_insert(now.into());
        claims
            .entry("exp")
            .or_insert((now + inst.settings.jwt_exp).into());
        let claims = Value::Object(claims);
        if claims.to_string().len() > MAX_CLAIMS_BYTES {
            return Err(AuthError::validation(format!(
                "claims must be at most {MAX_CLAIMS_BYTES} bytes of JSON"
            )));
        }
        inst.ring.sign(&claims)
    })
}

/// Verifies a token with the instance's keys and returns its claims; raises `PT401 bad_jwt`
/// naming the failed check otherwise.
// Not SECURITY DEFINER and no SET clauses: this is the hot path (a per-call settings save and
// restore would triple its cost), and it needs no rights of the caller's.
#[pg_extern(schema = "auth", stable, parallel_safe)]
fn verify_jwt(token: Option<&str>) -> JsonB {
    guard(move || {
        let token = token.ok_or_else(|| AuthError::bad_jwt("the token is missing"))?;
        let inst = instance::get()?;
        inst.ring
            .verify(token, &inst.settings.verify_options(), crate::now())
            .map(JsonB)
    })
}
