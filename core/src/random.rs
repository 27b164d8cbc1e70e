//! Randomness straight from the operating system.
//!
//! Backends are forked from the postmaster, so a user-space generator seeded before the fork would
//! hand every backend the same stream; the OS generator has no such state.

use rand::TryRng;

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::rngs::SysRng
        .try_fill_bytes(&mut buf)
        .expect("the operating system's random number generator failed");
    buf
}

/// 256 random bits as unpadded base64url: 43 characters, usable as a string secret.
pub fn token_string() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}
