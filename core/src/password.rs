//! Password policy and hashing: argon2id PHC strings, and verification of the bcrypt hashes that
//! Supabase stores, so users moved from Supabase keep their passwords (re-hashed on next sign-in).

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::error::{AuthError, AuthResult};

/// Longer passwords are refused before any hashing, so nobody can make us hash a megabyte.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// argon2id cost; the default is OWASP's m=19456 KiB, t=2, p=1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Cost {
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Argon2Cost {
            m_cost: 19456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl Argon2Cost {
    #[cfg(test)]
    fn hasher(&self) -> AuthResult<Argon2<'static>> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, None)
            .map_err(|_| AuthError::Internal)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// A well-formed hash of these parameters that no password matches. Verifying against it
    /// costs exactly what verifying a real password of the same cost does, which is what an
    /// unknown email is checked against so that timing tells nothing.
    pub fn decoy_hash(&self) -> String {
        format!(
            "$argon2id$v=19$m={},t={},p={}$YXV0aF9leHQgZGVjb3kgc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            self.m_cost, self.t_cost, self.p_cost
        )
    }
}

/// What a new password must satisfy (GoTrue's `checkPasswordStrength`), built from the settings
/// by `Settings::password_policy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// In characters (GoTrue counts bytes; a password of accented letters should not pass
    /// with half as many letters).
    pub min_length: usize,
    /// Sets of which the password needs at least one character each.
    pub required_characters: Vec<String>,
    /// Refuse passwords in the breached list (the caller looks them up).
    pub breached_check: bool,
}

/// Decodes `password_required_characters` as GoTrue's `PasswordRequiredCharacters.Decode`:
/// sets are separated by `:`, a set ending in `\` is joined to the next with a literal `:`, empty
/// sets are dropped. Its quirks are kept so that a value means here what it means to GoTrue: a
/// set just made by a join is not joined again (`a\:b\:c` is `a:b\` and `c`), and a trailing `\`
/// on the last set stays.
pub fn decode_required_characters(value: &str) -> Vec<String> {
    let mut parts: Vec<String> = value.split(':').map(str::to_owned).collect();
    for i in 0..parts.len().saturating_sub(1) {
        if parts[i].ends_with('\\') {
            let mut joined = parts[i][..parts[i].len() - 1].to_owned();
            joined.push(':');
            joined.push_str(&parts[i + 1]);
            parts[i] = joined;
            parts[i + 1].clear();
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

const PWNED_MESSAGE: &str =
    "Password is known to be weak and easy to guess, please choose a different one.";

/// Checks a new password against the policy; returns it when acceptable. Every failing rule is
/// reported, in GoTrue's order (`length`, `characters`, `pwned`) and words. `breached` looks the
/// password up in the breached list; it runs only when the policy asks for it and the password
/// could otherwise be stored, and its error (a failed lookup) fails the call: closed, not open.
pub fn check_policy<'a>(
    password: Option<&'a str>,
    policy: &PasswordPolicy,
    breached: impl FnOnce(&str) -> AuthResult<bool>,
) -> AuthResult<&'a str> {
    let password = match password {
        Some(p) if !p.is_empty() => p,
        _ => return Err(AuthError::Unprocessable("A password is required".into())),
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::Unprocessable(format!(
            "Password cannot be longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    let mut messages = Vec::new();
    let mut reasons = Vec::new();
    if password.chars().count() < policy.min_length {
        reasons.push("length");
        messages.push(format!(
            "Password should be at least {} characters.",
            policy.min_length
        ));
    }
    let lacks = |set: &String| !password.chars().any(|c| set.contains(c));
    if policy.required_characters.iter().any(lacks) {
        reasons.push("characters");
        messages.push(format!(
            "Password should contain at least one character of each: {}.",
            policy.required_characters.join(", ")
        ));
    }
    if policy.breached_check && breached(password)? {
        reasons.push("pwned");
        messages.push(PWNED_MESSAGE.into());
    }
    if reasons.is_empty() {
        return Ok(password);
    }
    Err(AuthError::WeakPassword {
        message: messages.join(" "),
        reasons,
    })
}

/// SHA-1 of a password: the key of HIBP's downloadable list, which `auth.breached_passwords`
/// holds (docs/passwords.md).
pub fn breached_list_key(password: &str) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes());
    let mut key = [0u8; 20];
    key.copy_from_slice(digest.as_ref());
    key
}

/// A password offered at sign-in: refused without hashing only when it could never have been set.
pub fn check_attempt(password: Option<&str>) -> AuthResult<&str> {
    match password {
        Some(p) if !p.is_empty() && p.len() <= MAX_PASSWORD_BYTES => Ok(p),
        Some(p) if p.len() > MAX_PASSWORD_BYTES => Err(AuthError::Unprocessable(format!(
            "Password cannot be longer than {MAX_PASSWORD_BYTES} bytes"
        ))),
        _ => Err(AuthError::validation("A password is required")),
    }
}

/// argon2's working memory (`m_cost` KiB of blocks). The argon2 crate allocates it zeroed for
/// every hash, which the OS then faults in page by page (about 4,900 faults, several
/// milliseconds, per sign-in at the default cost); a caller that keeps one between hashes
/// (src/hashing.rs) pays that once. Contents between hashes do not matter: argon2 writes every
/// block before it reads it.
pub type Memory = Vec<Block>;

/// Runs argon2 into `out` with `memory`, grown to the parameters' block count if needed.
fn argon2_into(
    argon: &Argon2,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> AuthResult<()> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        // A stored hash may ask for more memory than there is: refuse it, do not abort.
        memory
            .try_reserve_exact(blocks - memory.len())
            .map_err(|_| AuthError::Internal)?;
        memory.resize(blocks, Block::default());
    }
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        .map_err(|_| AuthError::Internal)
}

/// Hashes with argon2id and a fresh 128-bit salt; returns the PHC string.
pub fn hash(password: &str, cost: Argon2Cost) -> AuthResult<String> {
    hash_in(password, cost, &mut Memory::new())
}

/// [`hash`] with caller-kept working memory.
pub fn hash_in(password: &str, cost: Argon2Cost, memory: &mut Memory) -> AuthResult<String> {
    let salt = crate::random::bytes::<16>();
    let params = Params::new(cost.m_cost, cost.t_cost, cost.p_cost, None)
        .map_err(|_| AuthError::Internal)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        &argon,
        &params,
        password.as_bytes(),
        &salt,
        &mut out,
        memory,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| AuthError::Internal)?,
        salt: Some(Salt::new(&salt).map_err(|_| AuthError::Internal)?),
        hash: Some(Output::new(&out).map_err(|_| AuthError::Internal)?),
    };
    Ok(phc.to_string())
}

/// Verifies against an argon2 PHC string or a bcrypt hash. A malformed or unknown hash never
/// matches. The comparison of digests is constant-time inside both crates.
pub fn verify(password: &str, stored: &str) -> bool {
    verify_in(password, stored, &mut Memory::new())
}

/// [`verify`] with caller-kept working memory. The argon2 branch is password-hash's own
/// verification (hash again with the stored algorithm, version, parameters and salt, compare
/// the outputs in constant time) with the memory passed in.
pub fn verify_in(password: &str, stored: &str, memory: &mut Memory) -> bool {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version {
        Some(v) => Version::try_from(v),
        None => Ok(Version::default()),
    };
    let (Ok(version), Ok(params)) = (version, Params::try_from(&parsed)) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    if argon2_into(&argon, &params, password.as_bytes(), salt, out, memory).is_err() {
        return false;
    }
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

/// True when a stored hash is not argon2id with exactly the configured cost.
pub fn needs_rehash(stored: &str, cost: Argon2Cost) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => {
            p.m_cost() != cost.m_cost || p.t_cost() != cost.t_cost || p.p_cost() != cost.p_cost
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Cost = Argon2Cost {
        m_cost: 256,
        t_cost: 1,
        p_cost: 1,
    };

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse battery", CHEAP).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!needs_rehash(&h, CHEAP));
        assert!(needs_rehash(&h, Argon2Cost::default()));
    }

    #[test]
    fn kept_memory_agrees_with_the_crates_own_hasher_and_verifier() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = Memory::new();
        let bigger = Argon2Cost {
            m_cost: 1024,
            ..CHEAP
        };
        // One memory through different costs (it grows and is reused, dirty).
        for cost in [CHEAP, bigger, CHEAP] {
            let crate_hash = cost
                .hasher()
                .unwrap()
                .hash_password_with_salt(b"pw-1", b"salt-of-16-bytes")
                .unwrap()
                .to_string();
            assert!(verify_in("pw-1", &crate_hash, &mut memory));
            assert!(!verify_in("pw-2", &crate_hash, &mut memory));
            let ours = hash_in("pw-1", cost, &mut memory).unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(Argon2::default().verify_password(b"pw-1", &parsed).is_ok());
            assert!(Argon2::default().verify_password(b"pw-2", &parsed).is_err());
        }
        assert!(memory.len() >= 1024);
    }

    #[test]
    fn a_stored_hash_asking_for_more_memory_than_exists_does_not_match() {
        // m = 2^32 - 1 KiB (4 TiB): the memory cannot be had, so the verify is false, not an
        // abort of the backend.
        let hostile = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$\
                       AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let parsed = PasswordHash::new(hostile).unwrap();
        assert_eq!(Params::try_from(&parsed).unwrap().m_cost(), u32::MAX);
        assert!(!verify_in("x", hostile, &mut Memory::new()));
    }

    #[test]
    fn default_hash_has_the_documented_cost() {
        let h = hash("pw-default-cost", Argon2Cost::default()).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }

    #[test]
    fn decoy_is_well_formed_and_matches_nothing() {
        let decoy = CHEAP.decoy_hash();
        assert!(PasswordHash::new(&decoy).is_ok());
        assert!(!verify("", &decoy));
        assert!(!verify("anything", &decoy));
        assert!(!needs_rehash(&decoy, CHEAP));
    }

    #[test]
    fn bcrypt_hashes_from_supabase_verify() {
        let h = bcrypt::hash("from-supabase", 4).unwrap();
        assert!(verify("from-supabase", &h));
        assert!(!verify("from-supabasE", &h));
        assert!(needs_rehash(&h, CHEAP));
    }

    #[test]
    fn garbage_hashes_never_match() {
        for stored in ["", "x", "$argon2id$", "$2a$10$short", "plaintext"] {
            assert!(!verify("plaintext", stored));
        }
    }

    fn length_only(min_length: usize) -> PasswordPolicy {
        PasswordPolicy {
            min_length,
            ..PasswordPolicy::default()
        }
    }

    fn never_breached(_: &str) -> AuthResult<bool> {
        Ok(false)
    }

    #[test]
    fn policy() {
        fn check(pw: Option<&str>) -> AuthResult<&str> {
            check_policy(pw, &length_only(8), never_breached)
        }
        assert!(matches!(check(None), Err(AuthError::Unprocessable(_))));
        assert!(matches!(check(Some("")), Err(AuthError::Unprocessable(_))));
        let e = check(Some("short")).unwrap_err();
        assert_eq!(e.code(), "weak_password");
        assert_eq!(e.hint().unwrap(), "[\"length\"]");
        assert_eq!(e.message(), "Password should be at least 8 characters.");
        // length counts characters, not bytes
        assert!(check(Some("ééééééé")).is_err());
        assert!(check(Some("éééééééé")).is_ok());
        let huge = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(check(Some(&huge)).unwrap_err().status(), 422);
        assert!(check(Some(&"a".repeat(MAX_PASSWORD_BYTES))).is_ok());
        assert!(check_attempt(Some(&huge)).is_err());
        assert!(check_attempt(Some("")).is_err());
    }

    /// GoTrue's documented example value.
    const TYPICAL: &str = r#"abcdefghijklmnopqrstuvwxyz:ABCDEFGHIJKLMNOPQRSTUVWXYZ:0123456789:!@#$%^&*()_+-=[]{};'\:"|<>?,./`~"#;

    #[test]
    fn required_characters_decode_as_gotrue() {
        assert_eq!(
            decode_required_characters(TYPICAL),
            [
                "abcdefghijklmnopqrstuvwxyz",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "0123456789",
                r#"!@#$%^&*()_+-=[]{};':"|<>?,./`~"#,
            ]
        );
        assert!(decode_required_characters("").is_empty());
        assert!(decode_required_characters(":::").is_empty());
        assert_eq!(decode_required_characters("ab::cd:"), ["ab", "cd"]);
        assert_eq!(decode_required_characters(r"\:"), [":"]);
        // A set just made by a join is not joined again; a trailing backslash stays.
        assert_eq!(decode_required_characters(r"a\:b\:c"), [r"a:b\", "c"]);
        assert_eq!(decode_required_characters(r"ab\"), [r"ab\"]);
        assert_eq!(decode_required_characters(r"a\::b"), ["a:", "b"]);
    }

    #[test]
    fn every_failing_reason_is_reported_in_gotrue_order_and_words() {
        let policy = PasswordPolicy {
            min_length: 10,
            required_characters: decode_required_characters(TYPICAL),
            breached_check: true,
        };
        let sets = r#"abcdefghijklmnopqrstuvwxyz, ABCDEFGHIJKLMNOPQRSTUVWXYZ, 0123456789, !@#$%^&*()_+-=[]{};':"|<>?,./`~"#;
        let chars_msg = format!("Password should contain at least one character of each: {sets}.");
        let length_msg = "Password should be at least 10 characters.";
        let pwned = |pw: &str| Ok(pw.starts_with("Pwned"));
        let fails = |pw: &str| check_policy(Some(pw), &policy, pwned).unwrap_err();

        assert!(check_policy(Some("Aa1:long-enough"), &policy, pwned).is_ok());
        // the escaped colon counts as a symbol
        assert!(check_policy(Some("Aa1:aaaaaaaa"), &policy, pwned).is_ok());

        let e = fails("Aa1!");
        assert_eq!(
            (e.hint().unwrap(), e.message()),
            (r#"["length"]"#.into(), length_msg.into())
        );
        let e = fails("all-lower-case-1");
        assert_eq!(e.hint().unwrap(), r#"["characters"]"#);
        assert_eq!(e.message(), chars_msg);
        let e = fails("Pwned-Password-1");
        assert_eq!(e.hint().unwrap(), r#"["pwned"]"#);
        assert_eq!(e.message(), PWNED_MESSAGE);
        let e = fails("Pwned");
        assert_eq!(e.hint().unwrap(), r#"["length","characters","pwned"]"#);
        assert_eq!(
            e.message(),
            format!("{length_msg} {chars_msg} {PWNED_MESSAGE}")
        );
        let e = fails("short");
        assert_eq!(e.hint().unwrap(), r#"["length","characters"]"#);
        assert_eq!(e.message(), format!("{length_msg} {chars_msg}"));
        assert_eq!((e.status(), e.code()), (422, "weak_password"));
    }

    #[test]
    fn the_breached_list_is_consulted_only_when_asked_and_fails_closed() {
        let off = length_only(8);
        let unreachable = |_: &str| -> AuthResult<bool> { panic!("looked up") };
        assert!(check_policy(Some("a-good-password"), &off, unreachable).is_ok());
        let on = PasswordPolicy {
            breached_check: true,
            ..off
        };
        // refused before the lookup: nothing to look up
        assert!(check_policy(Some(""), &on, unreachable).is_err());
        let broken = |_: &str| Err(AuthError::Internal);
        assert_eq!(
            check_policy(Some("a-good-password"), &on, broken).unwrap_err(),
            AuthError::Internal
        );
    }

    #[test]
    fn breached_list_key_is_hibps_sha1() {
        let hex: String = breached_list_key("password")
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(hex, "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }
}
