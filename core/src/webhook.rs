//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), as Supabase's HTTP hooks
//! use them: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{AuthError, AuthResult};

/// Standard base64 that takes the secret with or without its `=` padding.
const SECRET_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The HMAC key of a secret written as Supabase shows it, `v1,whsec_<base64>`, or as the
/// Standard Webhooks libraries take it, `whsec_<base64>`. The message never repeats the secret.
pub fn secret_key(secret: &str) -> AuthResult<Vec<u8>> {
    let refuse = || AuthError::validation("A webhook secret must be v1,whsec_<base64>");
    let secret = secret.trim();
    let secret = secret.strip_prefix("v1,").unwrap_or(secret);
    let encoded = secret.strip_prefix("whsec_").ok_or_else(refuse)?;
    let key = SECRET_B64.decode(encoded).map_err(|_| refuse())?;
    if key.is_empty() {
        return Err(refuse());
    }
    Ok(key)
}

/// The `webhook-signature` header value for a message: `v1,<base64 signature>`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> AuthResult<String> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| AuthError::Internal)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's example (also in its libraries' tests).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn standard_webhooks_vector() {
        assert_eq!(sign(SECRET, ID, TIMESTAMP, BODY).unwrap(), SIGNATURE);
        let supabase_form = format!("v1,{SECRET}");
        assert_eq!(
            sign(&supabase_form, ID, TIMESTAMP, BODY).unwrap(),
            SIGNATURE
        );
    }

    #[test]
    fn every_part_is_signed() {
        assert_ne!(
            sign(SECRET, "msg_other", TIMESTAMP, BODY).unwrap(),
            SIGNATURE
        );
        assert_ne!(sign(SECRET, ID, TIMESTAMP + 1, BODY).unwrap(), SIGNATURE);
        assert_ne!(sign(SECRET, ID, TIMESTAMP, b"{}").unwrap(), SIGNATURE);
    }

    #[test]
    fn padding_is_optional() {
        // "c2VjcmV0IQ==" is "secret!"
        assert_eq!(
            sign("whsec_c2VjcmV0IQ==", "m", 1, b"x").unwrap(),
            sign("v1,whsec_c2VjcmV0IQ", "m", 1, b"x").unwrap()
        );
    }

    #[test]
    fn bad_secrets_are_refused_without_echo() {
        for bad in [
            "",
            "whsec_",
            "v1,",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "v2,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64!",
            "whsec_%%%%",
        ] {
            let e = sign(bad, ID, TIMESTAMP, BODY).unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}");
            assert!(bad.len() < 8 || !e.message().contains(&bad[6..]), "{bad:?}");
        }
    }
}
