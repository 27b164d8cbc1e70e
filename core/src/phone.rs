//! Phone numbers, the way GoTrue's `validatePhone` accepts them.

use crate::error::{AuthError, AuthResult};

/// GoTrue's message for a number that is not E.164 (400 `validation_failed`).
pub const INVALID: &str = "Invalid phone number format (E.164 required)";

/// The stored form of a phone number: GoTrue's `formatPhoneNumber` (one leading `+` removed,
/// then every ASCII space) followed by its E.164 check `^[1-9][0-9]{1,14}$`. Stored without `+`.
///
/// As in GoTrue, only a `+` in first position is removed (" +1…" keeps its `+` and fails) and
/// only spaces are removed (a tab, a dash or brackets fail). A missing or empty number fails
/// with the same message.
pub fn normalize(phone: Option<&str>) -> AuthResult<String> {
    let raw = phone.unwrap_or("");
    let raw = raw.strip_prefix('+').unwrap_or(raw);
    let digits: String = raw.chars().filter(|&c| c != ' ').collect();
    let bytes = digits.as_bytes();
    let valid = (2..=15).contains(&bytes.len())
        && (b'1'..=b'9').contains(&bytes[0])
        && bytes.iter().all(u8::is_ascii_digit);
    if valid {
        Ok(digits)
    } else {
        Err(AuthError::validation(INVALID))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_with_or_without_plus_and_spaces() {
        for (input, want) in [
            ("15551234567", "15551234567"),
            ("+15551234567", "15551234567"),
            ("+1 555 123 4567", "15551234567"),
            (" 1555 1234567 ", "15551234567"),
            ("12", "12"),
            ("123456789012345", "123456789012345"),
            ("+44 20 7946 0958", "442079460958"),
        ] {
            assert_eq!(normalize(Some(input)).as_deref(), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn refuses_what_gotrue_refuses() {
        for input in [
            "",
            " ",
            "+",
            "1",
            "01555123456",
            "+0155512345",
            "1234567890123456",
            "++15551234567",
            " +15551234567",
            "1555-123-4567",
            "(555) 1234567",
            "1555\t1234567",
            "1555.123.4567",
            "+1555123456７",
            "١٢٣٤٥٦",
            "15551234567\n",
            "phone",
        ] {
            let e = normalize(Some(input)).unwrap_err();
            assert_eq!(e, AuthError::validation(INVALID), "{input:?}");
            assert_eq!(e.status(), 400);
        }
        assert_eq!(normalize(None), Err(AuthError::validation(INVALID)));
    }
}
