//! One-time codes and links: what is mailed or texted, what is stored, which stored token a
//! verification of each type may use, and how a session it starts is named.
//!
//! The code and the link carry the same secret. Only a hash of it is stored, in GoTrue's shape
//! (56 hex digits of SHA-224 over `email_or_phone + code`), so `token_hash` links and templates
//! made for GoTrue keep working; a link of the PKCE flow carries the hash prefixed with `pkce_`.
//!
//! Unlike GoTrue's plain `sha224`, the hash is keyed (HMAC-SHA-224 with the instance's one-time
//! code key): with the plain formula anyone who knows an address can compute the million
//! `token_hash`es of its 6-digit code and try them on the `token_hash` path, where a miss names
//! no token to count it against. Keyed, a `token_hash` cannot be derived without the code's mail.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha224;
use subtle::ConstantTimeEq;

use crate::error::{AuthError, AuthResult};

/// The prefix of a stored hash (and of its link) whose token belongs to the PKCE flow.
pub const PKCE_PREFIX: &str = "pkce_";

/// The kinds of stored one-time token (`auth.one_time_token_type`, Supabase's enum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    Confirmation,
    Reauthentication,
    Recovery,
    EmailChangeNew,
    EmailChangeCurrent,
    PhoneChange,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Confirmation => "confirmation_token",
            TokenType::Reauthentication => "reauthentication_token",
            TokenType::Recovery => "recovery_token",
            TokenType::EmailChangeNew => "email_change_token_new",
            TokenType::EmailChangeCurrent => "email_change_token_current",
            TokenType::PhoneChange => "phone_change_token",
        }
    }
}

/// The `type` of a verification (`verify_otp`, the `/verify` link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyType {
    Signup,
    Invite,
    Magiclink,
    Recovery,
    EmailChange,
    /// An emailed code of any kind that signs in: sign-up confirmation or magic link.
    Email,
    Sms,
    PhoneChange,
}

impl VerifyType {
    pub fn parse(s: Option<&str>) -> AuthResult<Self> {
        Ok(match s.unwrap_or("") {
            "signup" => VerifyType::Signup,
            "invite" => VerifyType::Invite,
            "magiclink" => VerifyType::Magiclink,
            "recovery" => VerifyType::Recovery,
            "email_change" => VerifyType::EmailChange,
            "email" => VerifyType::Email,
            "sms" => VerifyType::Sms,
            "phone_change" => VerifyType::PhoneChange,
            "" => return Err(AuthError::validation("Verify requires a verification type")),
            _ => {
                return Err(AuthError::validation(
                    "Verify requires a valid verification type",
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VerifyType::Signup => "signup",
            VerifyType::Invite => "invite",
            VerifyType::Magiclink => "magiclink",
            VerifyType::Recovery => "recovery",
            VerifyType::EmailChange => "email_change",
            VerifyType::Email => "email",
            VerifyType::Sms => "sms",
            VerifyType::PhoneChange => "phone_change",
        }
    }

    /// Verified with a phone number rather than an email address.
    pub fn is_phone(self) -> bool {
        matches!(self, VerifyType::Sms | VerifyType::PhoneChange)
    }

    /// The stored tokens a verification of this type may consume.
    pub fn token_types(self) -> &'static [TokenType] {
        use TokenType::*;
        match self {
            VerifyType::Signup | VerifyType::Invite | VerifyType::Sms => &[Confirmation],
            VerifyType::Magiclink | VerifyType::Recovery => &[Recovery],
            VerifyType::Email => &[Confirmation, Recovery],
            VerifyType::EmailChange => &[EmailChangeCurrent, EmailChangeNew],
            VerifyType::PhoneChange => &[PhoneChange],
        }
    }

    /// The `amr` method of the session a verification starts: `recovery` for a recovery (apps
    /// offer a new password in it), `otp` for the others, as GoTrue.
    pub fn amr_method(self) -> &'static str {
        match self {
            VerifyType::Recovery => "recovery",
            _ => "otp",
        }
    }
}

/// A code of `length` decimal digits, uniformly drawn from the operating system's generator.
pub fn generate_code(length: usize) -> String {
    let mut code = String::with_capacity(length);
    while code.len() < length {
        // 250 is the largest multiple of 10 below 256: rejecting bytes above it keeps every digit
        // equally likely.
        for b in crate::random::bytes::<16>() {
            if b < 250 && code.len() < length {
                code.push(char::from(b'0' + b % 10));
            }
        }
    }
    code
}

/// The stored form of a code: `hex(hmac_sha224(key, email_or_phone + code))`, GoTrue's shape.
pub fn token_hash(key: &[u8; 32], identity: &str, code: &str) -> String {
    let mut mac =
        <Hmac<Sha224> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(identity.as_bytes());
    mac.update(code.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a token issued for `identity`, prefixed in the PKCE flow.
pub fn stored_hash(key: &[u8; 32], identity: &str, code: &str, pkce: bool) -> String {
    let hash = token_hash(key, identity, code);
    if pkce {
        format!("{PKCE_PREFIX}{hash}")
    } else {
        hash
    }
}

/// Whether `candidate` (a hash the caller sent or computed from its code) is `stored`, compared
/// in constant time; a stored PKCE hash also matches its bare form, as a code typed by hand
/// cannot carry the prefix.
pub fn hashes_match(stored: &str, candidate: &str) -> bool {
    let bare = stored.strip_prefix(PKCE_PREFIX).unwrap_or(stored);
    let cand = candidate.strip_prefix(PKCE_PREFIX).unwrap_or(candidate);
    bool::from(bare.as_bytes().ct_eq(cand.as_bytes()))
}

/// A code as a person typed it: GoTrue drops dashes; spaces around it are dropped too. Refuses
/// what cannot be a code at all, before any lookup.
pub fn read_code(token: Option<&str>) -> AuthResult<String> {
    let code: String = token
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if code.is_empty() {
        return Err(AuthError::validation(
            "Verify requires a token or a token_hash",
        ));
    }
    if code.len() > 64 {
        return Err(AuthError::OtpExpired);
    }
    Ok(code)
}

/// A `token_hash` as sent: hex SHA-224, optionally PKCE-prefixed. Anything else cannot match.
pub fn read_token_hash(hash: &str) -> AuthResult<String> {
    let h = hash.trim();
    let bare = h.strip_prefix(PKCE_PREFIX).unwrap_or(h);
    if bare.len() == 56 && bare.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(h.to_ascii_lowercase())
    } else {
        Err(AuthError::OtpExpired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_length_and_only_digits() {
        for len in 6..=10 {
            let c = generate_code(len);
            assert_eq!(c.len(), len);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_ne!(generate_code(10), generate_code(10));
    }

    #[test]
    fn digits_are_roughly_uniform() {
        let mut counts = [0usize; 10];
        for _ in 0..2000 {
            for b in generate_code(10).bytes() {
                counts[(b - b'0') as usize] += 1;
            }
        }
        // 20,000 digits: each about 2,000; a biased generator lands far outside.
        assert!(
            counts.iter().all(|&n| (1700..2300).contains(&n)),
            "{counts:?}"
        );
    }

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn hash_is_keyed_in_gotrues_shape() {
        // hmac_sha224(32 x 0x07, "a@example.com" + "123456"), computed independently with
        // Python's hmac and hashlib.
        assert_eq!(
            token_hash(&KEY, "a@example.com", "123456"),
            "57fc59c5c5ee7747a81ba0c1a43838d0aa1ce074937bad2e92d333f9"
        );
        // Not GoTrue's plain hex(sha224("a@example.com123456")): that one anyone can compute.
        assert_ne!(
            token_hash(&KEY, "a@example.com", "123456"),
            "a1828f725cbf9d6eecc3a3afeb2d88a886ccb3280cc2dc88aafb5c82"
        );
        assert_ne!(
            token_hash(&[8u8; 32], "a@example.com", "123456"),
            token_hash(&KEY, "a@example.com", "123456")
        );
        assert_eq!(token_hash(&KEY, "a@example.com", "123456").len(), 56);
        assert!(stored_hash(&KEY, "x", "1", true).starts_with(PKCE_PREFIX));
    }

    #[test]
    fn matching_ignores_only_the_pkce_prefix() {
        let h = token_hash(&KEY, "a@example.com", "123456");
        let p = format!("{PKCE_PREFIX}{h}");
        assert!(hashes_match(&h, &h));
        assert!(hashes_match(&p, &h));
        assert!(hashes_match(&p, &p));
        assert!(!hashes_match(
            &h,
            &token_hash(&KEY, "a@example.com", "123457")
        ));
        assert!(!hashes_match(&h, &h[..55]));
        assert!(!hashes_match(&h, ""));
    }

    #[test]
    fn types_name_their_tokens() {
        assert_eq!(
            VerifyType::parse(Some("email")).unwrap().token_types(),
            &[TokenType::Confirmation, TokenType::Recovery]
        );
        assert_eq!(
            VerifyType::parse(Some("recovery")).unwrap().amr_method(),
            "recovery"
        );
        assert!(VerifyType::parse(Some("sms")).unwrap().is_phone());
        for t in [
            "signup",
            "invite",
            "magiclink",
            "recovery",
            "email_change",
            "email",
            "sms",
            "phone_change",
        ] {
            assert_eq!(VerifyType::parse(Some(t)).unwrap().as_str(), t);
        }
        for bad in [
            None,
            Some(""),
            Some("SIGNUP"),
            Some("token"),
            Some("email\0"),
        ] {
            assert_eq!(
                VerifyType::parse(bad).unwrap_err().code(),
                "validation_failed"
            );
        }
    }

    #[test]
    fn codes_and_hashes_are_read_strictly() {
        assert_eq!(read_code(Some(" 123-456 ")).unwrap(), "123456");
        assert!(read_code(Some("")).is_err());
        assert!(read_code(None).is_err());
        assert_eq!(
            read_code(Some(&"1".repeat(65))).unwrap_err().code(),
            "otp_expired"
        );
        let h = token_hash(&KEY, "a", "b");
        assert_eq!(read_token_hash(&h.to_uppercase()).unwrap(), h);
        assert!(read_token_hash(&format!("{PKCE_PREFIX}{h}")).is_ok());
        for bad in ["", "zz", &h[..55], &format!("{h}0"), "pkce_"] {
            assert_eq!(
                read_token_hash(bad).unwrap_err().code(),
                "otp_expired",
                "{bad}"
            );
        }
    }
}
