//! `auth.sign_jwt` and `auth.verify_jwt`: the SQL face of the signing keys.

use auth_core::jwt::json::{self, Captured};
use auth_core::AuthError;
use pgrx::prelude::*;

use crate::error::guard;
use crate::ffi::jsonb::{JsonbArg, JsonbBuilder, RawJsonb};
use crate::instance;

/// Claims larger than this would make tokens that `verify_jwt` refuses.
const MAX_CLAIMS_BYTES: usize = 12 * 1024;

/// Signs arbitrary claims with the current key; `iat` and `exp` are added when missing.
/// Only the extension owner and `service_role` may call it (see api.sql).
// Not SECURITY DEFINER: the keys are read as the owner (instance.rs); EXECUTE is what restricts it.
// The claims are signed as jsonb prints them, with `iat`/`exp` spliced in when missing: no
// round trip through serde_json (which cannot hold every jsonb number).
#[pg_extern(schema = "auth")]
fn sign_jwt(claims: Option<JsonbArg>) -> String {
    guard(move || {
        let inst = instance::get()?;
        let claims = match claims {
            Some(c) if c.is_object() => c,
            _ => {
                return Err(AuthError::validation(
                    "sign_jwt expects a JSON object of claims",
                ))
            }
        };
        let now = crate::now();
        let mut added = String::new();
        if !claims.has_key("iat") {
            added.push_str(&format!("\"iat\": {now}, "));
        }
        if !claims.has_key("exp") {
            added.push_str(&format!(
                "\"exp\": {}, ",
                now + inst.settings.tokens.jwt_exp
            ));
        }
        let text = claims.to_text();
        let payload = match (added.is_empty(), text.strip_prefix('{')) {
            (true, _) => text,
            (false, Some("}")) => format!("{{{}}}", added.trim_end_matches(", ")),
            (false, Some(rest)) => format!("{{{added}{rest}"),
            (false, None) => return Err(AuthError::Internal),
        };
        // What verify_jwt would refuse is not signed: numbers beyond double precision's range.
        let checked = json::parse_object(
            payload.as_bytes(),
            &mut json::Discard,
            &mut Captured::new(&[]),
        );
        if checked.is_err() {
            return Err(AuthError::validation(
                "claims must be JSON that a token can carry (numbers within double precision)",
            ));
        }
        if payload.len() > MAX_CLAIMS_BYTES {
            return Err(AuthError::validation(format!(
                "claims must be at most {MAX_CLAIMS_BYTES} bytes of JSON"
            )));
        }
        inst.ring.sign_payload(payload.as_bytes())
    })
}

/// Verifies a token with the instance's keys and returns its claims; raises `PT401 bad_jwt`
/// naming the failed check otherwise.
// Not SECURITY DEFINER and no SET clauses: this is the hot path (a per-call settings save and
// restore would triple its cost), and it needs no rights of the caller's.
// The claims are parsed once, straight into the returned jsonb (src/jsonb.rs).
#[pg_extern(schema = "auth", stable, parallel_safe)]
fn verify_jwt(token: Option<&str>) -> RawJsonb {
    guard(move || {
        let token = token.ok_or_else(|| AuthError::bad_jwt("the token is missing"))?;
        let inst = instance::get()?;
        let mut claims = JsonbBuilder::for_text(token.len());
        inst.ring
            .verify_into(token, &inst.verify_options, crate::now(), &mut claims)?;
        claims
            .finish()
            .ok_or_else(|| AuthError::bad_jwt("the token's claims contain a NUL character"))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "jwt_api",
    requires = [sign_jwt, verify_jwt]
);
