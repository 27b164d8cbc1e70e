//! Refresh tokens: random, stored only as a SHA-256 hash, and rotated along a chain.
//!
//! Each child token is derived from its parent with an HMAC under a private per-instance key.
//! That lets a refresh that lost a race (two tabs, an SSR retry) be answered with the *same*
//! current token the winner received, although the database never holds a token in clear:
//! whoever presents a recently rotated token can be handed its descendant by walking the chain.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
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

/// [`find_descendant`] for a chain begun before 0.4.0, when the master secret itself derived
/// the children: some links under `legacy`, then (after the upgrade) links under `key`. Tried
/// only after the plain walk failed (a reuse, or an old chain); at most about 600 HMACs.
pub fn find_descendant_across_upgrade(
    legacy: &[u8],
    key: &[u8],
    presented: &str,
    target_hash: &str,
) -> Option<String> {
    let mut token = presented.to_owned();
    for legacy_links in 1..=MAX_CHAIN_WALK {
        token = derive_child(legacy, &token);
        if subtle::ConstantTimeEq::ct_eq(hash(&token).as_bytes(), target_hash.as_bytes()).into() {
            return Some(token);
        }
        let mut rest = token.clone();
        for _ in legacy_links..MAX_CHAIN_WALK {
            rest = derive_child(key, &rest);
            if subtle::ConstantTimeEq::ct_eq(hash(&rest).as_bytes(), target_hash.as_bytes()).into()
            {
                return Some(rest);
            }
        }
    }
    None
}

/// The token and session a presented refresh token resolved to, read while the session's row
/// is locked (the first statement of a refresh).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedToken {
    pub id: i64,
    pub session_id: uuid::Uuid,
    pub user_id: uuid::Uuid,
    pub aal: String,
    #[serde(deserialize_with = "crate::rows::required")]
    pub email: Option<String>,
}

/// What the rotation statement found (the second statement of a refresh).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The presented token was already rotated (or revoked) when we looked.
    pub revoked: bool,
    /// This statement rotated it.
    pub rotated: bool,
    /// It was rotated within the reuse interval.
    pub recent: bool,
    pub user_gone: bool,
    pub banned: bool,
    /// The session's live token, when the presented one was revoked.
    #[serde(deserialize_with = "crate::rows::required")]
    pub active: Option<ActiveToken>,
    pub user: serde_json::Value,
    /// The session's authentication methods and their times, newest first.
    pub amr: Vec<(String, i64)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveToken {
    /// Its hash.
    pub token: String,
    #[serde(deserialize_with = "crate::rows::required")]
    pub parent: Option<String>,
}

/// What a presented refresh token resolves to.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Hand out this refresh token: the new child, the same token (rotation disabled), or the
    /// current descendant (a retry within the reuse interval).
    Issue(String),
    /// Reuse outside the interval: the session's tokens must be revoked.
    Reused,
    /// Reuse of a family that is already revoked.
    AlreadyRevoked,
}

/// The chain keys: today's, and the one chains begun before 0.4.0 used.
pub struct ChainKeys<'a> {
    pub key: &'a [u8],
    pub legacy: &'a [u8],
}

/// Decides a refresh from what the rotation statement found. `child`: the child the statement
/// was asked to store (`None` with rotation disabled).
pub fn decide(
    row: &Rotation,
    presented: &str,
    presented_hash: &str,
    child: Option<String>,
    keys: &ChainKeys,
) -> Result<Outcome, crate::AuthError> {
    use crate::AuthError;
    if row.user_gone {
        return Err(AuthError::RefreshTokenNotFound);
    }
    if row.banned {
        return Err(AuthError::UserBanned);
    }
    if !row.revoked {
        return match child {
            // Live in our snapshot but not rotated: a transaction that does not take the
            // session lock (a revocation outliving its caller, an operator's UPDATE or DELETE)
            // changed the token meanwhile. Its child was not stored.
            Some(_) if !row.rotated => Err(AuthError::RefreshTokenAlreadyUsed),
            Some(child) => Ok(Outcome::Issue(child)),
            None => Ok(Outcome::Issue(presented.to_owned())),
        };
    }
    let Some(active) = &row.active else {
        return Ok(Outcome::AlreadyRevoked);
    };
    // The parent of the current token (a client that lost the response) may always retry;
    // older tokens only within the reuse interval.
    let is_parent = active.parent.as_deref() == Some(presented_hash);
    if !(is_parent || row.recent) {
        return Ok(Outcome::Reused);
    }
    let found = find_descendant(keys.key, presented, &active.token).or_else(|| {
        find_descendant_across_upgrade(keys.legacy, keys.key, presented, &active.token)
    });
    Ok(found.map_or(Outcome::Reused, Outcome::Issue))
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
    fn chains_that_cross_the_upgrade_are_walked() {
        let (legacy, key) = ([7u8; 32], [9u8; 32]);
        let t0 = generate();
        // two rotations before the upgrade, two after
        let t1 = derive_child(&legacy, &t0);
        let t2 = derive_child(&legacy, &t1);
        let t3 = derive_child(&key, &t2);
        let t4 = derive_child(&key, &t3);
        assert_eq!(find_descendant(&key, &t0, &hash(&t4)), None);
        for (from, to) in [(&t0, &t2), (&t0, &t4), (&t1, &t3), (&t1, &t4)] {
            assert_eq!(
                find_descendant_across_upgrade(&legacy, &key, from, &hash(to)).as_deref(),
                Some(to.as_str())
            );
        }
        // never backwards, never itself, nothing with other keys
        assert_eq!(
            find_descendant_across_upgrade(&legacy, &key, &t4, &hash(&t1)),
            None
        );
        assert_eq!(
            find_descendant_across_upgrade(&legacy, &key, &t2, &hash(&t2)),
            None
        );
        assert_eq!(
            find_descendant_across_upgrade(&key, &legacy, &t0, &hash(&t4)),
            None
        );
    }

    fn rotation(revoked: bool, rotated: bool, recent: bool) -> serde_json::Value {
        serde_json::json!({"revoked": revoked, "rotated": rotated, "recent": recent,
                           "user_gone": false, "banned": false, "active": null,
                           "user": {"id": "u"}, "amr": [["password", 1]]})
    }

    #[test]
    fn refresh_decisions() {
        let keys = ChainKeys {
            key: &[9u8; 32],
            legacy: &[7u8; 32],
        };
        let t0 = generate();
        let t1 = derive_child(keys.key, &t0);
        let t2 = derive_child(keys.key, &t1);
        let read = |v| crate::rows::read::<Rotation>(v).unwrap();
        let fresh = read(rotation(false, true, false));
        assert_eq!(
            decide(&fresh, &t0, &hash(&t0), Some(t1.clone()), &keys).unwrap(),
            Outcome::Issue(t1.clone())
        );
        assert_eq!(
            decide(&fresh, &t0, &hash(&t0), None, &keys).unwrap(),
            Outcome::Issue(t0.clone()),
            "rotation off"
        );
        let raced = read(rotation(false, false, false));
        assert_eq!(
            decide(&raced, &t0, &hash(&t0), Some(t1.clone()), &keys)
                .unwrap_err()
                .code(),
            "refresh_token_already_used"
        );
        let mut retried = rotation(true, false, true);
        retried["active"] = serde_json::json!({"token": hash(&t2), "parent": hash(&t1)});
        assert_eq!(
            decide(&read(retried.clone()), &t0, &hash(&t0), None, &keys).unwrap(),
            Outcome::Issue(t2.clone()),
            "within the interval: the current descendant"
        );
        retried["recent"] = false.into();
        assert_eq!(
            decide(&read(retried.clone()), &t0, &hash(&t0), None, &keys).unwrap(),
            Outcome::Reused,
            "outside the interval: reuse"
        );
        assert_eq!(
            decide(&read(retried), &t1, &hash(&t1), None, &keys).unwrap(),
            Outcome::Issue(t2),
            "the parent of the current token may always retry"
        );
        assert_eq!(
            decide(
                &read(rotation(true, false, true)),
                &t0,
                &hash(&t0),
                None,
                &keys
            )
            .unwrap(),
            Outcome::AlreadyRevoked
        );
        let mut banned = rotation(false, true, false);
        banned["banned"] = true.into();
        assert_eq!(
            decide(&read(banned), &t0, &hash(&t0), Some(t1), &keys)
                .unwrap_err()
                .code(),
            "user_banned"
        );
    }

    #[test]
    fn refresh_rows_missing_a_field_are_refused() {
        for field in [
            "revoked",
            "rotated",
            "recent",
            "user_gone",
            "banned",
            "active",
            "user",
            "amr",
        ] {
            let mut r = rotation(false, true, false);
            r.as_object_mut().unwrap().remove(field);
            assert!(crate::rows::read::<Rotation>(r).is_err(), "{field}");
        }
        let locked = serde_json::json!({"id": 1, "session_id": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11",
            "user_id": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11", "aal": "aal1", "email": null});
        assert!(crate::rows::read::<LockedToken>(locked.clone()).is_ok());
        for field in ["id", "session_id", "user_id", "aal", "email"] {
            let mut r = locked.clone();
            r.as_object_mut().unwrap().remove(field);
            assert!(crate::rows::read::<LockedToken>(r).is_err(), "{field}");
        }
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
