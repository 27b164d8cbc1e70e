//! TOTP factors (RFC 6238): enrolment hands out the secret, its `otpauth://` URI and a QR code;
//! a code is checked against the sealed secret, a step used once never again.

use auth_core::mfa::{qr, secret_box, totp};
use auth_core::AuthError;
use serde_json::json;

use super::{Enrolment, Factor};
use crate::caller::Caller;
use crate::error::AuthResult;
use crate::instance::Instance;

/// The issuer an authenticator app shows: given, else the site's host (GoTrue's default).
fn issuer(inst: &Instance, given: Option<&str>) -> String {
    if let Some(i) = given.map(str::trim).filter(|i| !i.is_empty()) {
        return i.chars().take(255).collect();
    }
    let site = &inst.settings.signup.site_url;
    let host = site
        .split("://")
        .nth(1)
        .unwrap_or(site)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    host.to_owned()
}

/// A new secret for factor `id`, sealed for the table, and the `totp` object of the answer.
pub(super) fn enrolment(
    inst: &Instance,
    caller: &Caller,
    id: uuid::Uuid,
    issuer: Option<&str>,
) -> AuthResult<Enrolment> {
    if !inst.settings.mfa.mfa_totp_enroll_enabled {
        return Err(AuthError::mfa_totp_enroll_not_enabled());
    }
    let account = caller
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| caller.user_id.to_string());
    let issuer = self::issuer(inst, issuer);
    let secret = totp::new_secret();
    let uri = totp::otpauth_uri(&secret, &issuer, &account);
    let sealed = secret_box::seal(&inst.keys.totp_encryption, id.as_bytes(), &secret);
    let qr_code = qr::svg(&uri).ok_or(AuthError::Internal)?;
    Ok(Enrolment {
        secret: Some(sealed),
        phone: None,
        answer: json!({"totp": {"qr_code": qr_code, "secret": secret, "uri": uri}}),
    })
}

pub(super) fn require_verify_enabled(inst: &Instance) -> AuthResult<()> {
    if inst.settings.mfa.mfa_totp_verify_enabled {
        Ok(())
    } else {
        Err(AuthError::mfa_totp_verify_not_enabled())
    }
}

/// Whether `code` is the factor's code now (and not a step it used before): the step matched.
pub(super) fn check(inst: &Instance, f: &Factor, code: Option<&str>) -> AuthResult<Option<i64>> {
    let secret = f
        .secret
        .as_deref()
        .and_then(|s| secret_box::open(&inst.keys.totp_encryption, f.id.as_bytes(), s))
        .ok_or(AuthError::Internal)?;
    Ok(totp::verify(&secret, code.unwrap_or(""), crate::now(), f.last_used_step).ok())
}
