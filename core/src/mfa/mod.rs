//! Multi-factor authentication: the pure half of GoTrue's `/factors` endpoints.
//!
//! GoTrue lets a user enrol up to [`MAX_FACTORS`] second factors (`auth.mfa_factors`), ask a
//! challenge of one (`auth.mfa_challenges`, valid [`CHALLENGE_LIFETIME_S`] seconds, bound to the
//! IP address that asked it) and verify the challenge with a code, which raises the session to
//! `aal2`. Only TOTP factors are implemented here:
//!
//! - [`totp`]: secrets, the `otpauth://` URI and RFC 6238 code checks, with replay refusal;
//! - [`secret_box`]: the secret's encryption at rest under the `totp_encryption` purpose key;
//! - [`qr`]: the enrolment QR code (SVG).
//! - [`webauthn`]: WebAuthn registration and sign-in ceremonies, for webauthn factors and
//!   passkeys (options, stored state, credential checks); its `soft` module, a software
//!   authenticator for tests and benchmarks only, exists with the `soft-authenticator` feature.
//! - [`recovery_codes`]: single-use backup codes (generation, what a person types, the stored
//!   hash, a constant-time match against the unused ones).
//!
//! Their refusals are the `mfa_*`, `too_many_enrolled_mfa_factors` and `insufficient_aal`
//! constructors of [`crate::AuthError`].

pub mod qr;
pub mod recovery_codes;
pub mod secret_box;
pub mod totp;
pub mod webauthn;

use crate::error::AuthError;

/// Factors a user may hold, verified or not (GoTrue's `MFA_MAX_ENROLLED_FACTORS` default).
pub const MAX_FACTORS: usize = 10;
/// Seconds a challenge can be verified after it was made (GoTrue's
/// `MFA_CHALLENGE_EXPIRY_DURATION` default).
pub const CHALLENGE_LIFETIME_S: i64 = 300;
/// Characters of a factor's friendly name.
pub const MAX_FRIENDLY_NAME: usize = 256;

/// A factor's kind: the values of GoTrue's `auth.factor_type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactorType {
    Totp,
    Phone,
    Webauthn,
    /// The user's set of recovery codes ([`recovery_codes`]): verified from the start, used only
    /// through `/factors/recovery-codes`, never challenged.
    RecoveryCode,
}

impl FactorType {
    /// The enum value as GoTrue spells it (`totp`, `phone`, `webauthn`, `recovery_code`); exact,
    /// case-sensitive.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totp" => Some(FactorType::Totp),
            "phone" => Some(FactorType::Phone),
            "webauthn" => Some(FactorType::Webauthn),
            recovery_codes::FACTOR_TYPE => Some(FactorType::RecoveryCode),
            _ => None,
        }
    }

    /// The `amr` method a verification of this factor adds to the session (GoTrue's names: TOTP
    /// keeps its older, unprefixed one).
    pub fn amr_method(self) -> &'static str {
        match self {
            FactorType::Totp => "totp",
            FactorType::Phone => "mfa/phone",
            FactorType::Webauthn => "mfa/webauthn",
            FactorType::RecoveryCode => recovery_codes::AMR_METHOD,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FactorType::Totp => "totp",
            FactorType::Phone => "phone",
            FactorType::Webauthn => "webauthn",
            FactorType::RecoveryCode => recovery_codes::FACTOR_TYPE,
        }
    }
}

impl std::fmt::Display for FactorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `friendly_name` as it will be stored: trimmed, `None` when absent or blank, refused (400
/// `validation_failed`) when longer than [`MAX_FRIENDLY_NAME`] characters or holding a control
/// character (line breaks, NUL, escape sequences, ...).
pub fn check_friendly_name(name: Option<&str>) -> Result<Option<String>, AuthError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_FRIENDLY_NAME {
        return Err(AuthError::validation(format!(
            "friendly_name must be at most {MAX_FRIENDLY_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::validation(
            "friendly_name must not contain control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_types_round_trip() {
        for t in [
            FactorType::Totp,
            FactorType::Phone,
            FactorType::Webauthn,
            FactorType::RecoveryCode,
        ] {
            assert_eq!(FactorType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!(FactorType::RecoveryCode.amr_method(), "mfa/recovery_code");
        for bad in ["", "TOTP", "sms", "webAuthn", " totp", "recovery_codes"] {
            assert_eq!(FactorType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn friendly_names() {
        assert_eq!(check_friendly_name(None), Ok(None));
        assert_eq!(check_friendly_name(Some("")), Ok(None));
        assert_eq!(check_friendly_name(Some(" \t ")), Ok(None));
        assert_eq!(
            check_friendly_name(Some("  My phone ")),
            Ok(Some("My phone".into()))
        );
        let max = "é".repeat(MAX_FRIENDLY_NAME);
        assert_eq!(check_friendly_name(Some(&max)), Ok(Some(max.clone())));
        let over = "a".repeat(MAX_FRIENDLY_NAME + 1);
        assert_eq!(check_friendly_name(Some(&over)).unwrap_err().status(), 400);
        for bad in ["a\nb", "a\u{0}b", "a\u{1b}[31mb", "a\u{7f}", "a\u{85}b"] {
            let err = check_friendly_name(Some(bad)).unwrap_err();
            assert_eq!(err.code(), "validation_failed", "{bad:?}");
        }
    }

    #[test]
    fn constants() {
        assert_eq!(MAX_FACTORS, 10);
        assert_eq!(CHALLENGE_LIFETIME_S, 300);
        assert_eq!(MAX_FRIENDLY_NAME, 256);
    }
}
