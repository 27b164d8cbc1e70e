//! Password policy and hashing: argon2id PHC strings, and verification of the bcrypt hashes that
//! Supabase stores, so users moved from Supabase keep their passwords (re-hashed on next sign-in).

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

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

/// Checks a new password against the policy; returns it when acceptable.
pub fn check_policy(password: Option<&str>, min_length: usize) -> AuthResult<&str> {
    let password = match password {
        Some(p) if !p.is_empty() => p,
        _ => return Err(AuthError::Unprocessable("A password is required".into())),
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::Unprocessable(format!(
            "Password cannot be longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.chars().count() < min_length {
        return Err(AuthError::WeakPassword {
            message: format!("Password should be at least {min_length} characters."),
            reasons: vec!["length"],
        });
    }
    Ok(password)
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

/// Hashes with argon2id and a fresh 128-bit salt; returns the PHC string.
pub fn hash(password: &str, cost: Argon2Cost) -> AuthResult<String> {
    let salt = crate::random::bytes::<16>();
    let hash = cost
        .hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| AuthError::Internal)?;
    Ok(hash.to_string())
}

/// Verifies against an argon2 PHC string or a bcrypt hash. A malformed or unknown hash never
/// matches. The comparison of digests is constant-time inside both crates.
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
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

    #[test]
    fn policy() {
        assert!(matches!(
            check_policy(None, 8),
            Err(AuthError::Unprocessable(_))
        ));
        assert!(matches!(
            check_policy(Some(""), 8),
            Err(AuthError::Unprocessable(_))
        ));
        let e = check_policy(Some("short"), 8).unwrap_err();
        assert_eq!(e.code(), "weak_password");
        assert_eq!(e.hint().unwrap(), "[\"length\"]");
        // length counts characters, not bytes
        assert!(check_policy(Some("ééééééé"), 8).is_err());
        assert!(check_policy(Some("éééééééé"), 8).is_ok());
        let huge = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(check_policy(Some(&huge), 8).unwrap_err().status(), 422);
        assert!(check_policy(Some(&"a".repeat(MAX_PASSWORD_BYTES)), 8).is_ok());
        assert!(check_attempt(Some(&huge)).is_err());
        assert!(check_attempt(Some("")).is_err());
    }
}
