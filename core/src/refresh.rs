//! Refresh tokens: random, stored only as a SHA-256 hash, and rotated along a chain.
//!
//! Each child token is derived from its parent with an HMAC under a private per-instance key.
//! That lets a refresh that lost a race (two tabs, an SSR retry) be answered with the *same*
//! current token the winner received, although the database never holds a token in clear:
//! whoever presents a recently rotated token can be handed its descendant by walking the chain.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Tokens longer than this were never issued by us; they are not even hashed.
pub const MAX_TOKEN_LEN: usize = 255;

/// How far a late refresh may walk the chain to find the current token. Each rotation inside the
/// reuse interval adds one step; more than this many in one interval means something is wrong.
pub const MAX_CHAIN_WALK: usize = 32;

/// A fresh refresh token for a new session: 256 random bits, 43 base64url characters.
pub fn generate() -> String {
    crate::random::token_string()
}

/// What is stored: hex SHA-256 of the token.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The token that replaces `parent` when it is rotated.
pub fn derive_child(key: &[u8], parent: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(b"auth_ext refresh token child v1\0");
    mac.update(parent.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Walks the chain from `presented` looking for the token whose hash is `target_hash`.
/// Returns that token in clear when it is at most [`MAX_CHAIN_WALK`] rotations away.
pub fn find_descendant(key: &[u8], presented: &str, target_hash: &str) -> Option<String> {
    let mut token = presented.to_owned();
    for _ in 0..MAX_CHAIN_WALK {
        token = derive_child(key, &token);
        let h = hash(&token);
        if subtle::ConstantTimeEq::ct_eq(h.as_bytes(), target_hash.as_bytes()).into() {
            return Some(token);
        }
    }
    None
}

/// Shape check before any lookup: empty, oversized or non-printable input is simply not a token.
pub fn plausible(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_LEN && token.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(plausible(&a));
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn chain_walk_finds_descendants_and_nothing_else() {
        let key = [7u8; 32];
        let t0 = generate();
        let t1 = derive_child(&key, &t0);
        let t2 = derive_child(&key, &t1);
        let t3 = derive_child(&key, &t2);
        assert_eq!(
            find_descendant(&key, &t0, &hash(&t1)).as_deref(),
            Some(t1.as_str())
        );
        assert_eq!(
            find_descendant(&key, &t0, &hash(&t3)).as_deref(),
            Some(t3.as_str())
        );
        assert_eq!(
            find_descendant(&key, &t2, &hash(&t3)).as_deref(),
            Some(t3.as_str())
        );
        // never backwards, never itself, never with another key
        assert_eq!(find_descendant(&key, &t3, &hash(&t1)), None);
        assert_eq!(find_descendant(&key, &t1, &hash(&t1)), None);
        assert_eq!(find_descendant(&[8u8; 32], &t0, &hash(&t1)), None);
    }

    #[test]
    fn implausible_tokens() {
        assert!(!plausible(""));
        assert!(!plausible(&"a".repeat(256)));
        assert!(!plausible("has space"));
        assert!(!plausible("nul\0"));
        assert!(!plausible("é"));
    }
}
