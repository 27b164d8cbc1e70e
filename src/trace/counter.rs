//! Per-node counters in shared memory: the state GoTrue keeps per process (rate limits), kept
//! per server here (shared by every connection, pooler and shim in front of it), lost on restart
//! like GoTrue's.
//!
//! A fixed table of [`SLOTS`] counters, keyed by a keyed hash (SHA-256 under a random seed drawn
//! at server start, so keys cannot be chosen to collide), in two halves: per-IP limits in one,
//! accounts in the other, so that addresses' counts (up to 150) can never evict an account's
//! backoff. A key probes [`PROBE`] slots of its half; when all hold other live keys, the one
//! with the lowest count is evicted (the oldest among equals), so flooding the table with fresh
//! keys (one attempt each) evicts other fresh keys before the counters that matter: an address
//! at its limit, an account in backoff.

use sha2::{Digest, Sha256};

use crate::ffi::shmem::Shared;

pub const SLOTS: usize = 65536;
const PROBE: usize = 8;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slot {
    key: u64,
    /// When the slot's state ends: the end of its window, or its idle reset.
    expires_ms: i64,
    /// The last admitted event.
    last_ms: i64,
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
    /// A per-IP limit; the key is the bucket's name and the address.
    IpLimit = 1,
    /// Password attempts on one account (its normalized email or phone), from anywhere.
    AccountSignIn = 2,
    /// Password attempts on one account from an address it has a session from.
    AccountSignInFromKnownIp = 3,
}

fn hash(seed: &[u8; 32], class: Class, key: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed);
    // Per database: each database is its own instance with its own limits.
    h.update(crate::ffi::proc::database().to_le_bytes());
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

/// Admits one event for `(class, key)` if fewer than `max` were admitted in the current fixed
/// window of `window_ms` (which starts at the first event): `Ok(count)` with this one, or
/// `Err(ms)` until the window ends. `None` without shared memory (not preloaded): the caller
/// decides whether that fails open or closed.
pub fn take(class: Class, key: &str, window_ms: i64, max: u32) -> Option<Result<u32, i64>> {
    let now = now_ms();
    with_slot(class, key, now, |s| {
        if s.expires_ms <= now {
            *s = Slot {
                key: s.key,
                expires_ms: now + window_ms,
                last_ms: now,
                count: 0,
            };
        }
        if s.count >= max {
            return Err(s.expires_ms - now);
        }
        s.count += 1;
        s.last_ms = now;
        Ok(s.count)
    })
}

/// Admits one event for `(class, key)` if `gap_ms(admitted so far)` has passed since the last
/// admitted one: `Ok(count)` with this one, or `Err(ms)` to wait. The state is forgotten
/// `idle_ms` after the last admitted event.
pub fn take_spaced(
    class: Class,
    key: &str,
    idle_ms: i64,
    gap_ms: impl Fn(u32) -> i64,
) -> Option<Result<u32, i64>> {
    let now = now_ms();
    with_slot(class, key, now, |s| {
        if s.expires_ms <= now {
            s.count = 0;
        }
        let next = s.last_ms.saturating_add(gap_ms(s.count));
        if s.count > 0 && next > now {
            return Err(next - now);
        }
        s.count = s.count.saturating_add(1);
        s.last_ms = now;
        s.expires_ms = now + idle_ms;
        Ok(s.count)
    })
}

/// Forgets a key (a successful sign-in forgets the account's attempts).
pub fn reset(class: Class, key: &str) -> Option<()> {
    COUNTERS.with(|c| {
        let h = hash(&c.seed, class, key);
        for i in 0..PROBE {
            let s = &mut c.slots[probe(class, h, i)];
            if s.key == h {
                s.key = 0;
                s.count = 0;
                s.expires_ms = 0;
            }
        }
    })
}

/// Runs `f` on the key's slot under the table's lock; a key without a slot gets one, empty,
/// evicting the least valuable slot of its probe range.
/// The slots a key of `class` may use: its half of the table, as (start, length).
fn region(class: Class) -> (usize, usize) {
    match class {
        Class::IpLimit => (0, SLOTS / 2),
        Class::AccountSignIn | Class::AccountSignInFromKnownIp => (SLOTS / 2, SLOTS / 2),
    }
}

/// The index of the `i`-th probe of hash `h` in `class`'s half.
fn probe(class: Class, h: u64, i: usize) -> usize {
    let (start, len) = region(class);
    start + ((h as usize) % len + i) % len
}

fn with_slot<T>(class: Class, key: &str, now: i64, f: impl FnOnce(&mut Slot) -> T) -> Option<T> {
    COUNTERS.with(|c| {
        let h = hash(&c.seed, class, key);
        let base = probe(class, h, 0);
        let free = |s: &Slot| s.key == 0 || s.expires_ms <= now;
        let mut victim = base;
        for i in 0..PROBE {
            let idx = probe(class, h, i);
            let s = c.slots[idx];
            if s.key == h {
                return f(&mut c.slots[idx]);
            }
            let v = c.slots[victim];
            let better = match (free(&s), free(&v)) {
                (true, false) => true,
                (false, true) => false,
                _ => (s.count, s.last_ms) < (v.count, v.last_ms),
            };
            if better {
                victim = idx;
            }
        }
        c.slots[victim] = Slot {
            key: h,
            expires_ms: 0,
            last_ms: 0,
            count: 0,
        };
        f(&mut c.slots[victim])
    })
}
