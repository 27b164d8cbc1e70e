//! Per-node counters in shared memory: the state GoTrue keeps per process (rate limits), kept
//! per server here, lost on restart like GoTrue's. Not used yet; the API the next issues need
//! (rate limits per IP or email; attempt counts).
//!
//! A fixed table of [`SLOTS`] counters, keyed by a keyed hash (SHA-256 under a random seed drawn
//! at server start, so keys cannot be chosen to collide). A key probes [`PROBE`] slots; when all
//! hold other live keys, the one whose window started first is evicted (the table is bounded;
//! an attacker flooding it with keys resets old counters early, which a rate limit must accept
//! or size [`SLOTS`] against).

#![allow(dead_code)] // the API the next issues (rate limits, code attempts) use

use sha2::{Digest, Sha256};

use crate::ffi::shmem::Shared;

pub const SLOTS: usize = 8192;
const PROBE: usize = 8;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slot {
    key: u64,
    window_start_ms: i64,
    count: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Counters {
    seed: [u8; 32],
    slots: [Slot; SLOTS],
}

pub(crate) static COUNTERS: Shared<Counters> = Shared::new(c"auth_ext counters");

pub(crate) fn init(c: &mut Counters) {
    if !crate::ffi::proc::strong_random(&mut c.seed) {
        // Unkeyed hashing still counts correctly; it only makes collisions choosable.
        c.seed = [0x5a; 32];
    }
}

thread_local! {
    static NONCE: std::cell::OnceCell<[u8; 8]> = const { std::cell::OnceCell::new() };
}

/// A value drawn anew each time shared memory is made (server start, crash restart), read once
/// per backend; zero when auth_ext is not preloaded. Derived from the counters' seed, which it
/// does not reveal.
pub fn server_nonce() -> [u8; 8] {
    NONCE.with(|n| {
        *n.get_or_init(|| {
            COUNTERS
                .with(|c| {
                    let d = Sha256::new()
                        .chain_update(b"auth_ext server nonce\0")
                        .chain_update(c.seed)
                        .finalize();
                    let mut out = [0u8; 8];
                    out.copy_from_slice(&d[..8]);
                    out
                })
                .unwrap_or([0; 8])
        })
    })
}

/// What a counter is for; part of the key, so classes never share a counter.
#[repr(u8)]
#[derive(Clone, Copy, Debug)]
pub enum Class {
    /// Failed sign-ins per IP address or email (a future rate limit).
    SignIn = 1,
    /// Attempts on a one-time code.
    OneTimeCode = 2,
}

fn hash(seed: &[u8; 32], class: Class, key: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed);
    h.update([class as u8]);
    h.update(key.as_bytes());
    let d = h.finalize();
    // 0 marks an empty slot.
    u64::from_le_bytes(d[..8].try_into().unwrap()).max(1)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Counts one event for `(class, key)` in a fixed window of `window_ms` and returns the count in
/// the current window, this event included. `None` without shared memory (not preloaded): the
/// caller decides whether that fails open or closed.
pub fn hit(class: Class, key: &str, window_ms: i64) -> Option<u32> {
    update(class, key, window_ms, 1)
}

/// The current count without counting.
pub fn peek(class: Class, key: &str, window_ms: i64) -> Option<u32> {
    update(class, key, window_ms, 0)
}

/// Forgets a key (a successful sign-in resets its failures).
pub fn reset(class: Class, key: &str) -> Option<()> {
    let now = now_ms();
    COUNTERS.with(|c| {
        let h = hash(&c.seed, class, key);
        let base = (h as usize) % SLOTS;
        for i in 0..PROBE {
            let s = &mut c.slots[(base + i) % SLOTS];
            if s.key == h {
                *s = Slot {
                    key: 0,
                    window_start_ms: now,
                    count: 0,
                };
            }
        }
    })
}

fn update(class: Class, key: &str, window_ms: i64, add: u32) -> Option<u32> {
    let now = now_ms();
    // Hash outside the lock would need the seed; it is read under it (cheap).
    COUNTERS.with(|c| {
        let h = hash(&c.seed, class, key);
        let base = (h as usize) % SLOTS;
        let mut victim = base;
        for i in 0..PROBE {
            let idx = (base + i) % SLOTS;
            let s = c.slots[idx];
            if s.key == h {
                victim = idx;
                break;
            }
            let expired = s.key == 0 || now - s.window_start_ms >= window_ms;
            let v = c.slots[victim];
            let v_expired = v.key == 0 || now - v.window_start_ms >= window_ms;
            if expired && !v_expired
                || (expired == v_expired && s.window_start_ms < v.window_start_ms)
            {
                victim = idx;
            }
        }
        let s = &mut c.slots[victim];
        if s.key != h || now - s.window_start_ms >= window_ms {
            *s = Slot {
                key: h,
                window_start_ms: now,
                count: 0,
            };
        }
        s.count = s.count.saturating_add(add);
        s.count
    })
}
