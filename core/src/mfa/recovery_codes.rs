//! MFA recovery codes: single-use backup codes that raise a session to `aal2` when the user's
//! other factors are out of reach (GoTrue's `recovery_code` factor, `/factors/recovery-codes`;
//! docs/recovery-codes.md has the protocol).
//!
//! A code is [`DEFAULT_LENGTH`] characters of the lower-case RFC 4648 base32 alphabet (`a`-`z`,
//! `2`-`7`: no `0`/`1`/`8`/`9` to misread), 80 random bits, handed out in that canonical form;
//! [`display`] groups it by four for a person. What a person types back is read by [`read_code`]:
//! case, white space and `-` do not matter, as in GoTrue.
//!
//! Only a hash of each code is stored. GoTrue stores an argon2id PHC string per code; with 65 to
//! 160 random bits a code needs no slow hash, so ours is SHA-256, as the refresh tokens', over a
//! fixed prefix, the user's id and the code: a hash means nothing for another user and cannot be
//! looked up in a table made for another purpose. An argon2id hash of GoTrue's (rows imported
//! from a Supabase database) is still accepted by [`find_match`].
//!
//! [`find_match`] compares a typed code with every unused code of the user, the same work
//! whichever matches and whether one does; the caller then consumes the code at the returned
//! index (the stored row, not this list, is what makes it single-use).

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};
use uuid::Uuid;

use crate::error::{AuthError, AuthResult};

/// The code alphabet: RFC 4648 base32, lower case. 32 symbols, so the low five bits of a random
/// byte pick one uniformly.
pub const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Codes in a set (GoTrue's `GOTRUE_MFA_RECOVERY_CODES_COUNT` default, and its bounds).
pub const DEFAULT_COUNT: usize = 10;
pub const MIN_COUNT: usize = 4;
pub const MAX_COUNT: usize = 16;

/// Characters of a code (GoTrue's `GOTRUE_MFA_RECOVERY_CODES_CODE_LENGTH` default, and its
/// bounds): 5 random bits each.
pub const DEFAULT_LENGTH: usize = 16;
pub const MIN_LENGTH: usize = 13;
pub const MAX_LENGTH: usize = 32;

/// Failed verifications that lock verification (GoTrue's
/// `GOTRUE_MFA_RECOVERY_CODES_MAX_VERIFY_ATTEMPTS` default, and its bounds).
pub const DEFAULT_MAX_VERIFY_ATTEMPTS: i64 = 5;
pub const MIN_MAX_VERIFY_ATTEMPTS: i64 = 3;
pub const MAX_MAX_VERIFY_ATTEMPTS: i64 = 15;

/// Seconds verification stays locked (GoTrue's `GOTRUE_MFA_RECOVERY_CODES_LOCKOUT_DURATION`
/// default of 15m, and its bounds of 1m and 24h).
pub const DEFAULT_LOCKOUT_S: i64 = 15 * 60;
pub const MIN_LOCKOUT_S: i64 = 60;
pub const MAX_LOCKOUT_S: i64 = 24 * 60 * 60;

/// Characters of a typed code, separators included, beyond which it is refused unread. A code
/// of [`MAX_LENGTH`] grouped by four with spaces around each dash is 55.
pub const MAX_INPUT_CHARS: usize = 64;

/// The factor's `factor_type` (`auth.factor_type`) and the name it gets without one.
pub const FACTOR_TYPE: &str = "recovery_code";
pub const DEFAULT_FRIENDLY_NAME: &str = "Recovery codes";

/// The `amr` method a verified code adds to the session.
pub const AMR_METHOD: &str = "mfa/recovery_code";

/// Prefix of every stored hash's input; a new scheme takes a new version.
const HASH_DOMAIN: &[u8] = b"auth_ext mfa recovery code v1\0";

/// A new set: the codes, shown once, and their hashes, stored, in the same order.
pub struct NewSet {
    pub codes: Vec<String>,
    pub hashes: Vec<String>,
}

impl std::fmt::Debug for NewSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewSet({} codes)", self.codes.len())
    }
}

/// `count` distinct codes of `length` characters from the operating system's generator, in
/// canonical form. Both are brought within their bounds ([`MIN_COUNT`]..=[`MAX_COUNT`],
/// [`MIN_LENGTH`]..=[`MAX_LENGTH`]); the settings refuse values outside them.
pub fn generate(count: usize, length: usize) -> Vec<String> {
    let count = count.clamp(MIN_COUNT, MAX_COUNT);
    let length = length.clamp(MIN_LENGTH, MAX_LENGTH);
    let mut codes: Vec<String> = Vec::with_capacity(count);
    while codes.len() < count {
        let random = crate::random::bytes::<MAX_LENGTH>();
        let code: String = random[..length]
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        // A repeat (2^-80 at the default length) is drawn again, as GoTrue does.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// [`generate`] and the hash of each code for `user_id`.
pub fn new_set(user_id: &Uuid, count: usize, length: usize) -> NewSet {
    let codes = generate(count, length);
    let hashes = codes.iter().map(|c| hash(user_id, c)).collect();
    NewSet { codes, hashes }
}

/// A code as a person reads it: groups of four joined by `-` (`k4m9-x7qp-2ab8-ht3z`), the form
/// auth-js suggests. The API itself returns codes ungrouped; [`read_code`] accepts either.
pub fn display(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 4);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// The canonical form of what a person typed: every `-` and white-space character dropped, the
/// rest lower-cased one character for one (Go's `strings.ToLower`, so `İ` is `i` and the Kelvin
/// sign `k`). Refused, 400 `validation_failed`, without being counted as a failed attempt: no
/// code (absent, empty, only separators), as GoTrue; longer than [`MAX_INPUT_CHARS`], ours.
/// Anything else is read as given and simply matches no code.
pub fn read_code(typed: Option<&str>) -> AuthResult<String> {
    let typed = typed.unwrap_or("");
    if typed.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(AuthError::validation(format!(
            "Code must be at most {MAX_INPUT_CHARS} characters"
        )));
    }
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    if code.is_empty() {
        return Err(AuthError::validation("Code needs to be non-empty"));
    }
    Ok(code)
}

/// What is stored for `code` (canonical) of `user_id`: hex SHA-256 of a fixed prefix, the id's
/// 16 bytes and the code. 64 lower-case hex digits.
pub fn hash(user_id: &Uuid, code: &str) -> String {
    let mut sha = Sha256::new();
    sha.update(HASH_DOMAIN);
    sha.update(user_id.as_bytes());
    sha.update(code.as_bytes());
    let mut out = String::with_capacity(64);
    for b in sha.finalize() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// The index in `stored` (the user's unused codes' hashes) of the one `code` (canonical, from
/// [`read_code`]) is, or `None`. Every entry is compared, in constant time, with no early exit:
/// the time says neither whether nor where a code matched. With a hash repeated, the first.
///
/// An entry in GoTrue's argon2id PHC form is verified with argon2 (its cost varies with its
/// parameters, which are no secret); any other entry that is not our hash matches nothing.
pub fn find_match<S: AsRef<str>>(user_id: &Uuid, code: &str, stored: &[S]) -> Option<usize> {
    let ours = hash(user_id, code);
    let mut argon2_memory = crate::password::Memory::new();
    let mut found = Choice::from(0);
    let mut index = 0u64;
    for (i, entry) in stored.iter().enumerate() {
        let entry = entry.as_ref();
        let matched = if entry.starts_with("$argon2id$") {
            Choice::from(u8::from(crate::password::verify_in(
                code,
                entry,
                &mut argon2_memory,
            )))
        } else {
            entry.as_bytes().ct_eq(ours.as_bytes())
        };
        let first = matched & !found;
        index.conditional_assign(&(i as u64), first);
        found |= matched;
    }
    Option::<u64>::from(CtOption::new(index, found)).map(|i| i as usize)
}

/// [`read_code`] then [`find_match`]: `Err` is a malformed code (400, not an attempt),
/// `Ok(None)` a wrong or used one (count it: 422 `mfa_verification_failed`), `Ok(Some(i))` the
/// unused code `stored[i]`, to be consumed.
pub fn verify<S: AsRef<str>>(
    user_id: &Uuid,
    typed: Option<&str>,
    stored: &[S],
) -> AuthResult<Option<usize>> {
    let code = read_code(typed)?;
    Ok(find_match(user_id, &code, stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn user(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    fn in_alphabet(code: &str) -> bool {
        code.bytes().all(|b| ALPHABET.contains(&b))
    }

    #[test]
    fn a_default_set_is_ten_distinct_codes_of_sixteen_base32_characters() {
        let codes = generate(DEFAULT_COUNT, DEFAULT_LENGTH);
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 16, "{code}");
            assert!(in_alphabet(code), "{code}");
            assert_eq!(read_code(Some(code)).as_deref(), Ok(code.as_str()));
        }
        // Two sets share no code.
        let other = generate(DEFAULT_COUNT, DEFAULT_LENGTH);
        assert!(codes.iter().all(|c| !other.contains(c)));
    }

    #[test]
    fn count_and_length_are_kept_within_gotrues_bounds() {
        let small = generate(0, 0);
        assert_eq!(small.len(), MIN_COUNT);
        assert!(small.iter().all(|c| c.len() == MIN_LENGTH));
        let big = generate(usize::MAX, usize::MAX);
        assert_eq!(big.len(), MAX_COUNT);
        assert!(big.iter().all(|c| c.len() == MAX_LENGTH && in_alphabet(c)));
        let custom = generate(12, 20);
        assert_eq!(custom.len(), 12);
        assert!(custom.iter().all(|c| c.len() == 20));
    }

    #[test]
    fn every_symbol_of_the_alphabet_is_drawn() {
        // 3,200 characters over 32 symbols: a symbol never drawn would be a biased or truncated
        // mapping, not chance (the odds are below 10^-40).
        let seen: HashSet<u8> = (0..20)
            .flat_map(|_| generate(10, 16))
            .flat_map(String::into_bytes)
            .collect();
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn a_new_set_hashes_each_code_in_order() {
        let u = user(1);
        let set = new_set(&u, DEFAULT_COUNT, DEFAULT_LENGTH);
        assert_eq!(set.codes.len(), set.hashes.len());
        for (code, h) in set.codes.iter().zip(&set.hashes) {
            assert_eq!(*h, hash(&u, code));
        }
        assert_eq!(format!("{set:?}"), "NewSet(10 codes)");
    }

    #[test]
    fn display_groups_by_four_and_reads_back() {
        assert_eq!(display("abcdefghijklmnop"), "abcd-efgh-ijkl-mnop");
        assert_eq!(display("abcdefghijklm"), "abcd-efgh-ijkl-m");
        assert_eq!(display("abcd"), "abcd");
        assert_eq!(display(""), "");
        for code in generate(MAX_COUNT, MAX_LENGTH) {
            let shown = display(&code);
            assert_eq!(shown.len(), 39);
            assert_eq!(read_code(Some(&shown)), Ok(code.clone()));
            assert_eq!(read_code(Some(&shown.to_uppercase())), Ok(code));
        }
    }

    #[test]
    fn typed_codes_are_normalised_as_gotrue_normalises_them() {
        let cases = [
            (" AbCD EfgH-JKLM NP27 ", "abcdefghjklmnp27"),
            ("ABCD-EFGH-JKLM-NP27", "abcdefghjklmnp27"),
            ("abcdefghjklmnp27", "abcdefghjklmnp27"),
            ("\tabcd efgh\njklm np27\r", "abcdefghjklmnp27"),
            ("abcd\u{a0}efgh\u{2003}jklm\u{3000}np27", "abcdefghjklmnp27"),
            ("abcd--efgh - jklm", "abcdefghjklm"),
            // One character for one, as Go's ToLower: the Kelvin sign is k, dotted I is i.
            ("\u{212a}4M9", "k4m9"),
            ("\u{130}x", "ix"),
            // Not separators: kept, and then matching no code.
            ("abcd_efgh.ijkl", "abcd_efgh.ijkl"),
            ("ab\u{200b}cd", "ab\u{200b}cd"),
        ];
        for (typed, canonical) in cases {
            assert_eq!(
                read_code(Some(typed)).as_deref(),
                Ok(canonical),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn no_code_and_overlong_input_are_validation_errors() {
        for typed in [None, Some(""), Some("----"), Some(" -- - "), Some("\n\t")] {
            let err = read_code(typed).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "validation_failed"));
            assert_eq!(err.message(), "Code needs to be non-empty");
        }
        let at_limit = "a".repeat(MAX_INPUT_CHARS);
        assert_eq!(read_code(Some(&at_limit)), Ok(at_limit.clone()));
        let spaced = format!("{}{}", " ".repeat(MAX_INPUT_CHARS - 4), "abcd");
        assert_eq!(read_code(Some(&spaced)).as_deref(), Ok("abcd"));
        for over in [
            "a".repeat(MAX_INPUT_CHARS + 1),
            "-".repeat(MAX_INPUT_CHARS + 1),
            "é".repeat(MAX_INPUT_CHARS + 1),
        ] {
            let err = read_code(Some(&over)).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "validation_failed"));
            assert_eq!(err.message(), "Code must be at most 64 characters");
        }
        // 64 two-byte characters are 64 characters, not 128.
        assert!(read_code(Some(&"é".repeat(MAX_INPUT_CHARS))).is_ok());
    }

    #[test]
    fn the_hash_is_hex_sha256_of_prefix_user_id_and_code() {
        // sha256(b"auth_ext mfa recovery code v1\0" + bytes(range(16)) + b"abcdefghijklmnop"),
        // computed independently with Python's hashlib.
        let u = Uuid::from_bytes(std::array::from_fn(|i| i as u8));
        assert_eq!(
            hash(&u, "abcdefghijklmnop"),
            "fedb97153de44f8d76fc5c4d4ba514844d6badc8eafe908ecb05dcfc2ebeee3d"
        );
        let h = hash(&user(1), "abcdefghijklmnop");
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b"0123456789abcdef".contains(&b)));
        assert_ne!(h, hash(&user(2), "abcdefghijklmnop"), "bound to the user");
        assert_ne!(
            h,
            crate::refresh::hash("abcdefghijklmnop"),
            "not a bare SHA-256"
        );
    }

    #[test]
    fn a_typed_code_finds_its_index_however_it_was_typed() {
        let u = user(3);
        let set = new_set(&u, DEFAULT_COUNT, DEFAULT_LENGTH);
        for (i, code) in set.codes.iter().enumerate() {
            assert_eq!(verify(&u, Some(code), &set.hashes), Ok(Some(i)));
            let typed = format!("  {} ", display(code).to_uppercase());
            assert_eq!(verify(&u, Some(&typed), &set.hashes), Ok(Some(i)));
        }
    }

    #[test]
    fn wrong_codes_and_other_users_codes_match_nothing() {
        let u = user(4);
        let set = new_set(&u, DEFAULT_COUNT, DEFAULT_LENGTH);
        for wrong in generate(MAX_COUNT, DEFAULT_LENGTH) {
            assert_eq!(verify(&u, Some(&wrong), &set.hashes), Ok(None));
        }
        // A prefix or an extension of a code is not the code.
        let code = &set.codes[0];
        assert_eq!(find_match(&u, &code[..15], &set.hashes), None);
        assert_eq!(find_match(&u, &format!("{code}a"), &set.hashes), None);
        // The right code against another user's hashes, or another user's code.
        let other = user(5);
        assert_eq!(find_match(&other, code, &set.hashes), None);
        let theirs = new_set(&other, DEFAULT_COUNT, DEFAULT_LENGTH);
        assert_eq!(find_match(&u, &theirs.codes[0], &set.hashes), None);
    }

    #[test]
    fn a_used_code_is_gone_once_its_row_is() {
        // The caller passes the unused codes only and consumes the one at the returned index;
        // the same code then matches nothing, and the others still match where they now are.
        let u = user(6);
        let set = new_set(&u, DEFAULT_COUNT, DEFAULT_LENGTH);
        let mut unused = set.hashes.clone();
        let i = verify(&u, Some(&set.codes[3]), &unused).unwrap().unwrap();
        assert_eq!(i, 3);
        unused.remove(i);
        assert_eq!(verify(&u, Some(&set.codes[3]), &unused), Ok(None));
        assert_eq!(verify(&u, Some(&set.codes[4]), &unused), Ok(Some(3)));
        assert_eq!(verify(&u, Some(&set.codes[2]), &unused), Ok(Some(2)));
        // Use them all: nothing left matches anything.
        for code in &set.codes {
            if let Some(i) = verify(&u, Some(code), &unused).unwrap() {
                unused.remove(i);
            }
        }
        assert!(unused.is_empty());
        assert_eq!(verify(&u, Some(&set.codes[0]), &unused), Ok(None));
    }

    #[test]
    fn a_repeated_hash_reports_its_first_place() {
        let u = user(7);
        let h = hash(&u, "abcdefghijklmnop");
        let stored = ["x".to_string(), h.clone(), "y".into(), h];
        assert_eq!(find_match(&u, "abcdefghijklmnop", &stored), Some(1));
    }

    #[test]
    fn hostile_input_and_stored_garbage_do_not_panic() {
        let u = user(8);
        let set = new_set(&u, MIN_COUNT, MIN_LENGTH);
        let empty: [&str; 0] = [];
        assert_eq!(verify(&u, Some(&set.codes[0]), &empty), Ok(None));
        let huge = "A".repeat(1 << 20);
        assert!(verify(&u, Some(&huge), &set.hashes).is_err());
        for typed in [
            "\u{0}",
            "é🙂\u{0}\u{202e}",
            "\u{fffd}\u{fffd}",
            "ＡＢＣＤ",
            "' or 1=1 --",
            "$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$AAAA",
        ] {
            assert_eq!(verify(&u, Some(typed), &set.hashes), Ok(None), "{typed:?}");
        }
        let garbage = [
            String::new(),
            "zz".into(),
            "$argon2id$".into(),
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            "$2a$10$short".into(),
            "f".repeat(1 << 16),
            hash(&u, &set.codes[0]).to_uppercase(),
        ];
        assert_eq!(find_match(&u, &set.codes[0], &garbage), None);
        let mut mixed = garbage.to_vec();
        mixed.push(set.hashes[0].clone());
        assert_eq!(find_match(&u, &set.codes[0], &mixed), Some(garbage.len()));
    }

    #[test]
    fn gotrues_argon2id_hashes_still_verify() {
        // GoTrue's PHC shape ($argon2id$v=19$m=..,t=..,p=..$salt$hash, unpadded base64) over the
        // canonical code; a cheap cost here, GoTrue's m=19456,t=1,p=1 in a real import.
        let cost = crate::password::Argon2Cost {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let u = user(9);
        let codes = generate(MIN_COUNT, DEFAULT_LENGTH);
        let mut stored: Vec<String> = codes
            .iter()
            .map(|c| crate::password::hash(c, cost).unwrap())
            .collect();
        assert!(stored
            .iter()
            .all(|h| h.starts_with("$argon2id$v=19$m=64,t=1,p=1$")));
        stored.push(hash(&u, "abcdefghijklmnop"));
        for (i, code) in codes.iter().enumerate() {
            let typed = display(code).to_uppercase();
            assert_eq!(verify(&u, Some(&typed), &stored), Ok(Some(i)));
        }
        assert_eq!(
            find_match(&u, "abcdefghijklmnop", &stored),
            Some(codes.len())
        );
        assert_eq!(find_match(&u, "abcdefghijklmnoq", &stored), None);
        // Only argon2id is read: a bcrypt hash of a code is garbage here.
        let bcrypt = bcrypt::hash(&codes[0], 4).unwrap();
        assert_eq!(find_match(&u, &codes[0], &[bcrypt]), None);
    }

    #[test]
    fn names_as_gotrue_spells_them() {
        assert_eq!(FACTOR_TYPE, "recovery_code");
        assert_eq!(AMR_METHOD, "mfa/recovery_code");
        assert_eq!(DEFAULT_FRIENDLY_NAME, "Recovery codes");
        assert_eq!((DEFAULT_COUNT, DEFAULT_LENGTH), (10, 16));
        assert_eq!((DEFAULT_MAX_VERIFY_ATTEMPTS, DEFAULT_LOCKOUT_S), (5, 900));
    }

    #[test]
    fn errors_carry_gotrue_statuses_codes_and_messages() {
        let cases = [
            (
                AuthError::mfa_recovery_code_verification_failed(),
                422,
                "mfa_verification_failed",
                "Invalid recovery code entered",
            ),
            (
                AuthError::mfa_recovery_codes_locked(),
                429,
                "mfa_recovery_codes_locked",
                "Too many failed verification attempts, try again later",
            ),
            (
                AuthError::mfa_recovery_codes_not_enrolled(),
                404,
                "mfa_factor_not_found",
                "The user has not enrolled recovery codes",
            ),
            (
                AuthError::mfa_recovery_codes_already_enrolled(),
                422,
                "mfa_verified_factor_exists",
                "Recovery codes are already enrolled for this user, use regenerate to rotate them",
            ),
            (
                AuthError::mfa_recovery_codes_sole_factor(),
                422,
                "mfa_recovery_codes_sole_factor",
                "At least one other verified factor is required to generate recovery codes",
            ),
            (
                AuthError::mfa_recovery_codes_last_other_factor(),
                422,
                "mfa_recovery_codes_sole_factor",
                "Recovery codes cannot be the only verified factor. Please enroll another factor \
                 before unenrolling this one or delete your recovery codes.",
            ),
            (
                AuthError::mfa_recovery_codes_unenroll_elsewhere(),
                422,
                "validation_failed",
                "Recovery codes cannot be unenrolled with this endpoint, use DELETE \
                 /factors/recovery-codes",
            ),
            (
                AuthError::mfa_recovery_codes_enroll_not_enabled(),
                422,
                "mfa_recovery_codes_enroll_not_enabled",
                "MFA enroll is disabled for recovery codes",
            ),
            (
                AuthError::mfa_recovery_codes_verify_not_enabled(),
                422,
                "mfa_recovery_codes_verify_not_enabled",
                "MFA verification is disabled for recovery codes",
            ),
            (
                AuthError::insufficient_aal_for_recovery_codes("generate"),
                403,
                "insufficient_aal",
                "AAL2 required to generate recovery codes",
            ),
            (
                AuthError::insufficient_aal_for_recovery_codes("regenerate"),
                403,
                "insufficient_aal",
                "AAL2 required to regenerate recovery codes",
            ),
            (
                AuthError::insufficient_aal_for_recovery_codes("delete"),
                403,
                "insufficient_aal",
                "AAL2 required to delete recovery codes",
            ),
        ];
        for (e, status, code, message) in cases {
            assert_eq!(
                (e.status(), e.code(), e.message().as_str()),
                (status, code, message)
            );
        }
    }
}
