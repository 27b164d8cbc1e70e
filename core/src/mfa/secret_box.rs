//! TOTP secrets at rest: ChaCha20-Poly1305 (RFC 8439, `ring::aead`) under the instance's
//! `totp_encryption` purpose key ([`crate::derived_keys::DerivedKeys`]).
//!
//! The stored text is `v1:` followed by the standard base64 (padded) of a random 96-bit nonce,
//! the ciphertext and the 16-byte tag. The factor's id is the associated data: a sealed secret
//! copied into another factor's row (or another user's) does not open there.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};

/// The version prefix of the stored form; a new scheme gets a new prefix.
const PREFIX: &str = "v1:";
const TAG_LEN: usize = 16;

fn key_of(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, key).expect("a 32-byte key is ChaCha20's key length"),
    )
}

/// Encrypts `plaintext` for the factor `factor_id` (its UUID's 16 bytes).
pub fn seal(key: &[u8; 32], factor_id: &[u8; 16], plaintext: &str) -> String {
    let nonce_bytes = crate::random::bytes::<NONCE_LEN>();
    let mut buf = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    buf.extend_from_slice(&nonce_bytes);
    buf.extend_from_slice(plaintext.as_bytes());
    let mut body = buf.split_off(NONCE_LEN);
    key_of(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(factor_id),
            &mut body,
        )
        .expect("a TOTP secret is far below ChaCha20-Poly1305's length limit");
    buf.extend_from_slice(&body);
    format!("{PREFIX}{}", STANDARD.encode(&buf))
}

/// Decrypts what [`seal`] made for this key and factor; `None` for anything else (another key,
/// another factor, altered or truncated text, an unknown version, not UTF-8).
pub fn open(key: &[u8; 32], factor_id: &[u8; 16], sealed: &str) -> Option<String> {
    let raw = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
    if raw.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, body) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = key_of(key)
        .open_in_place(nonce, Aad::from(factor_id), &mut body)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const FACTOR: [u8; 16] = [1; 16];
    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn round_trip() {
        let sealed = seal(&KEY, &FACTOR, SECRET);
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains(SECRET));
        assert_eq!(open(&KEY, &FACTOR, &sealed).as_deref(), Some(SECRET));
        assert_eq!(
            open(&KEY, &FACTOR, &seal(&KEY, &FACTOR, "")).as_deref(),
            Some("")
        );
    }

    #[test]
    fn fresh_nonce_each_time() {
        let a = seal(&KEY, &FACTOR, SECRET);
        let b = seal(&KEY, &FACTOR, SECRET);
        assert_ne!(a, b);
        assert_eq!(open(&KEY, &FACTOR, &b).as_deref(), Some(SECRET));
    }

    #[test]
    fn wrong_key() {
        let sealed = seal(&KEY, &FACTOR, SECRET);
        assert_eq!(open(&[8; 32], &FACTOR, &sealed), None);
    }

    #[test]
    fn wrong_factor_id() {
        let sealed = seal(&KEY, &FACTOR, SECRET);
        let mut other = FACTOR;
        other[15] ^= 1;
        assert_eq!(open(&KEY, &other, &sealed), None);
    }

    #[test]
    fn tampered_text() {
        let sealed = seal(&KEY, &FACTOR, SECRET);
        let mut raw = STANDARD.decode(&sealed[3..]).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 0x01;
            let altered = format!("v1:{}", STANDARD.encode(&raw));
            assert_eq!(open(&KEY, &FACTOR, &altered), None, "byte {i}");
            raw[i] ^= 0x01;
        }
        // Truncated, extended, or under another version.
        let short = format!("v1:{}", STANDARD.encode(&raw[..raw.len() - 1]));
        assert_eq!(open(&KEY, &FACTOR, &short), None);
        let mut long = raw.clone();
        long.push(0);
        assert_eq!(
            open(&KEY, &FACTOR, &format!("v1:{}", STANDARD.encode(&long))),
            None
        );
        assert_eq!(open(&KEY, &FACTOR, &sealed.replacen("v1:", "v2:", 1)), None);
        // The untouched text still opens.
        assert_eq!(open(&KEY, &FACTOR, &sealed).as_deref(), Some(SECRET));
    }

    #[test]
    fn garbage() {
        for text in [
            "",
            "v1:",
            "v1:!!!!",
            "v1:AAAA",
            "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            SECRET,
            "v1:\u{e9}",
        ] {
            assert_eq!(open(&KEY, &FACTOR, text), None, "{text:?}");
        }
    }
}
