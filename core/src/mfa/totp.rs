//! RFC 6238 time-based one-time passwords, as GoTrue's TOTP factors use them (pquerna/otp's
//! defaults: HMAC-SHA1, 6 digits, 30-second steps, one step of skew either side).
//!
//! The codes themselves come from the `totp-rs` crate; this module adds what GoTrue does around
//! them (secret generation, the `otpauth://` URI) and what it does not: a code is compared in
//! constant time, and a code whose time step is not after the factor's last used step is
//! refused, so an observed code cannot be replayed within its window.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per time step.
pub const PERIOD_S: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps accepted before and after the current one.
pub const SKEW_STEPS: i64 = 1;
/// Random bytes of a new secret (pquerna/otp's default `SecretSize`).
pub const SECRET_BYTES: usize = 20;

/// Why [`verify`] refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRefusal {
    /// Not exactly six ASCII digits (after trimming surrounding white space, as GoTrue does).
    Malformed,
    /// Six digits, but not the code of any accepted step (or the stored secret is unusable).
    Wrong,
    /// The right code, but of a step at or before the last one used: a replay.
    Reused,
}

/// A new secret: 20 random bytes, base32 (RFC 4648, upper case, no padding), 32 characters,
/// as `totp.Generate` makes them for GoTrue.
pub fn new_secret() -> String {
    match Secret::Raw(crate::random::bytes::<SECRET_BYTES>().to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded returns the encoded form"),
    }
}

/// The `otpauth://` URI of a secret, byte for byte as GoTrue returns it (`key.URL()` of
/// pquerna/otp's `totp.Generate`): `otpauth://totp/<issuer>:<account>?algorithm=SHA1&digits=6&
/// issuer=<issuer>&period=30&secret=<secret>`, the label escaped as Go escapes a URL path and
/// the query as `url.Values.Encode` does (keys sorted, `+` for a space).
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
    let mut uri = String::from("otpauth://totp/");
    go_escape(&format!("{issuer}:{account}"), Mode::Path, &mut uri);
    uri.push_str("?algorithm=SHA1&digits=6&issuer=");
    go_escape(issuer, Mode::Query, &mut uri);
    uri.push_str("&period=30&secret=");
    go_escape(secret_b32, Mode::Query, &mut uri);
    uri
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Go's `url.URL.EscapedPath` (`encodePath`): only `?` of the reserved characters escaped.
    Path,
    /// Go's `url.QueryEscape` (`encodeQueryComponent`): every reserved character escaped, space
    /// as `+`.
    Query,
}

/// Go's `net/url` `escape`: unreserved bytes (ALPHA, DIGIT, `-_.~`) stay, the reserved ones
/// `$&+,/:;=@` stay in a path, space is `+` in a query, everything else is `%XX` (upper case).
fn go_escape(s: &str, mode: Mode, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (mode == Mode::Path
                && matches!(
                    b,
                    b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@'
                ));
        if keep {
            out.push(b as char);
        } else if b == b' ' && mode == Mode::Query {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// The TOTP of a stored secret: decoded as pquerna/otp decodes it (surrounding white space
/// ignored, lower case accepted, padding optional); `None` if it is not base32 or shorter than
/// RFC 4226's 128 bits (an empty secret would make codes anyone can compute).
fn totp_of(secret_b32: &str) -> Option<TOTP> {
    let normalized = secret_b32.trim().trim_end_matches('=').to_ascii_uppercase();
    let bytes = Secret::Encoded(normalized).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 0, PERIOD_S as u64, bytes).ok()
}

/// The code of the step holding `unix` (for tests and tools: the extension never shows one).
/// `None` for an unusable secret or a time before 1970.
pub fn code_at(secret_b32: &str, unix: i64) -> Option<String> {
    let totp = totp_of(secret_b32)?;
    u64::try_from(unix).ok().map(|t| totp.generate(t))
}

/// Checks `code` against the steps `now-1`, `now` and `now+1` (step = floor(t / 30)) and returns
/// the step it matched, to be stored as the factor's last used step.
///
/// The code is trimmed of surrounding white space (pquerna/otp's `strings.TrimSpace`) and must
/// then be exactly six ASCII digits. All three candidates are compared, in constant time, whatever
/// matches. A code matching a step at or before `last_used_step` is [`TotpRefusal::Reused`]; if
/// it matches two steps (a one-in-a-million coincidence) the later eligible step is returned, so
/// that the same code cannot be accepted again in the other.
pub fn verify(
    secret_b32: &str,
    code: &str,
    now_unix: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpRefusal> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpRefusal::Malformed);
    }
    let Some(totp) = totp_of(secret_b32) else {
        return Err(TotpRefusal::Wrong);
    };
    let now_step = now_unix.div_euclid(PERIOD_S);
    let mut matched_any = false;
    let mut accepted: Option<i64> = None;
    for step in (now_step - SKEW_STEPS)..=(now_step + SKEW_STEPS) {
        let Some(t) = step
            .checked_mul(PERIOD_S)
            .and_then(|t| u64::try_from(t).ok())
        else {
            continue;
        };
        let expected = totp.generate(t);
        let matches: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if matches {
            matched_any = true;
            if last_used_step.is_none_or(|last| step > last) {
                accepted = Some(step);
            }
        }
    }
    match accepted {
        Some(step) => Ok(step),
        None if matched_any => Err(TotpRefusal::Reused),
        None => Err(TotpRefusal::Wrong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890", in base32.
    const RFC_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    /// RFC 6238 Appendix B, SHA-1 column: (time, 8-digit TOTP).
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];

    #[test]
    fn rfc6238_vectors_through_totp_rs_with_8_digits() {
        let totp = TOTP::new(Algorithm::SHA1, 8, 1, 30, b"12345678901234567890".to_vec()).unwrap();
        for (t, expected) in RFC_VECTORS {
            assert_eq!(totp.generate(t), expected, "t = {t}");
        }
    }

    #[test]
    fn our_six_digit_codes_are_the_last_six_digits_of_the_rfc_vectors() {
        for (t, expected) in RFC_VECTORS {
            let six = &expected[2..];
            assert_eq!(code_at(RFC_SEED_B32, t as i64).unwrap(), six, "t = {t}");
            let step = t as i64 / 30;
            assert_eq!(verify(RFC_SEED_B32, six, t as i64, None), Ok(step));
        }
    }

    #[test]
    fn one_step_of_skew_either_side_and_no_more() {
        let t = 1111111111;
        let code = code_at(RFC_SEED_B32, t).unwrap();
        let step = t / 30;
        assert_eq!(verify(RFC_SEED_B32, &code, t - 30, None), Ok(step));
        assert_eq!(verify(RFC_SEED_B32, &code, t + 30, None), Ok(step));
        assert_eq!(
            verify(RFC_SEED_B32, &code, t - 60, None),
            Err(TotpRefusal::Wrong)
        );
        assert_eq!(
            verify(RFC_SEED_B32, &code, t + 60, None),
            Err(TotpRefusal::Wrong)
        );
    }

    #[test]
    fn a_used_step_and_older_ones_are_refused_as_reused() {
        let t = 1234567890;
        let step = t / 30;
        let code = code_at(RFC_SEED_B32, t).unwrap();
        assert_eq!(
            verify(RFC_SEED_B32, &code, t, Some(step)),
            Err(TotpRefusal::Reused)
        );
        assert_eq!(
            verify(RFC_SEED_B32, &code, t, Some(step + 1)),
            Err(TotpRefusal::Reused)
        );
        assert_eq!(verify(RFC_SEED_B32, &code, t, Some(step - 1)), Ok(step));
        // The next step's code is still good after this one was used.
        let next = code_at(RFC_SEED_B32, t + 30).unwrap();
        assert_eq!(
            verify(RFC_SEED_B32, &next, t + 30, Some(step)),
            Ok(step + 1)
        );
        // A wrong code stays wrong, whatever was used.
        let wrong = if code == "000000" { "000001" } else { "000000" };
        assert_eq!(
            verify(RFC_SEED_B32, wrong, t, Some(step)),
            Err(TotpRefusal::Wrong)
        );
    }

    #[test]
    fn malformed_codes() {
        let t = 59;
        for code in [
            "",
            "12345",
            "1234567",
            "28708a",
            "28 708",
            "２８７０８２",
            "+87082",
            "-87082",
            "287082\u{0}",
        ] {
            assert_eq!(
                verify(RFC_SEED_B32, code, t, None),
                Err(TotpRefusal::Malformed),
                "{code:?}"
            );
        }
        // Surrounding white space is ignored, as pquerna/otp does.
        assert_eq!(verify(RFC_SEED_B32, " 287082\n", t, None), Ok(1));
    }

    #[test]
    fn unusable_secrets_refuse_every_code() {
        for secret in ["", "not base32!", "GEZDGNBV"] {
            assert_eq!(code_at(secret, 59), None, "{secret:?}");
            assert_eq!(
                verify(secret, "287082", 59, None),
                Err(TotpRefusal::Wrong),
                "{secret:?}"
            );
        }
        // Lower case and padding are accepted, as pquerna/otp accepts them.
        let lower = RFC_SEED_B32.to_ascii_lowercase();
        assert_eq!(verify(&lower, "287082", 59, None), Ok(1));
    }

    #[test]
    fn times_before_1970_do_not_panic() {
        let code = code_at(RFC_SEED_B32, 0).unwrap();
        assert_eq!(verify(RFC_SEED_B32, &code, -1, None), Ok(0));
        assert_eq!(code_at(RFC_SEED_B32, -1), None);
        assert!(verify(RFC_SEED_B32, &code, i64::MIN, None).is_err());
        assert!(verify(RFC_SEED_B32, &code, i64::MAX, None).is_err());
    }

    #[test]
    fn new_secrets_are_32_base32_characters_of_20_random_bytes() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        for s in [&a, &b] {
            assert_eq!(s.len(), 32);
            assert!(s
                .bytes()
                .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
            assert_eq!(Secret::Encoded(s.clone()).to_bytes().unwrap().len(), 20);
        }
        let now = 1_700_000_000;
        let code = code_at(&a, now).unwrap();
        assert_eq!(verify(&a, &code, now, None), Ok(now / 30));
    }

    #[test]
    fn otpauth_uri_as_pquerna_otp_builds_it() {
        assert_eq!(
            otpauth_uri("JBSWY3DPEHPK3PXP", "localhost:3000", "alice@example.com"),
            "otpauth://totp/localhost:3000:alice@example.com?algorithm=SHA1&digits=6\
             &issuer=localhost%3A3000&period=30&secret=JBSWY3DPEHPK3PXP"
        );
        // Go's path escaping: space as %20, `?`, `#`, `%` and non-ASCII escaped, `+` and `&`
        // kept; its query escaping: space as `+`, every reserved character escaped.
        assert_eq!(
            otpauth_uri("S", "My App?#%", "a+b&c é"),
            "otpauth://totp/My%20App%3F%23%25:a+b&c%20%C3%A9?algorithm=SHA1&digits=6\
             &issuer=My+App%3F%23%25&period=30&secret=S"
        );
    }

    #[test]
    fn otpauth_uri_parses_back_with_the_same_parameters() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "example.com", "bob+mfa@example.com");
        let url = url::Url::parse(&uri).unwrap();
        assert_eq!(url.scheme(), "otpauth");
        assert_eq!(url.host_str(), Some("totp"));
        assert_eq!(url.path(), "/example.com:bob+mfa@example.com");
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("secret"), Some(secret.as_str()));
        assert_eq!(get("issuer"), Some("example.com"));
        assert_eq!(get("algorithm"), Some("SHA1"));
        assert_eq!(get("digits"), Some("6"));
        assert_eq!(get("period"), Some("30"));
    }
}
