//! The writer: a background worker serving one database's pending traces, started on demand by
//! an enqueuer (src/trace/mod.rs), exiting after [`IDLE_MS`] without work.
//!
//! It drains up to [`BATCH`] entries at a time in one transaction; if that transaction fails
//! (a lock timeout on one family, say), it retries each entry in a transaction of its own, so
//! one bad entry costs only itself, and logs every failure with its context (ids, SQLSTATE;
//! never a token, a hash or a password). Then it marks the entries done and sets the latches of
//! the callers waiting for them.
//!
//! Deadlocks: a revocation's caller holds its session row's lock while it waits; the writer
//! touches only `auth.refresh_tokens` rows (not the session row) and audit rows, and waits for
//! any row lock at most 200 ms in a batch and 2 s alone, so a caller that somehow holds one of the family's
//! token rows costs a timeout, not a hang.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::kinds;
use super::queue::{Entry, WRITERS};
use super::QUEUE;
use crate::ffi::{bgw, latch};

pub const BACKEND_TYPE: &str = "auth_ext trace writer";
pub const BATCH: usize = 64;
pub const IDLE_MS: i64 = 2_000;
/// Entries nobody waits for (audit rows) are gathered this long before a batch is written, so a
/// steady stream of failed sign-ins costs a commit per window, not per call. An entry a caller
/// waits for (a revocation) is written at once.
pub const GATHER_MS: u128 = 20;

pub fn arg(slot: usize, generation: u32) -> i64 {
    ((generation as i64) << 8) | slot as i64
}

fn unpack(arg: i64) -> (usize, u32) {
    ((arg & 0xff) as usize, (arg >> 8) as u32)
}

thread_local! {
    static CONNECTED: Cell<bool> = const { Cell::new(false) };
    static DB: Cell<u32> = const { Cell::new(0) };
}

static FAILURES: AtomicU64 = AtomicU64::new(0);

#[pg_guard]
unsafe extern "C-unwind" fn on_exit(_code: i32, arg: pg_sys::Datum) {
    let (slot, generation) = unpack(arg.value() as i64);
    let db = DB.with(Cell::get);
    let connected = CONNECTED.with(Cell::get);
    let wake = QUEUE.with(|q| {
        // Could not connect (the database was dropped, or refuses connections): its entries
        // would wait forever; give them up, loudly.
        let dropped = if connected { Vec::new() } else { q.drop_db(db) };
        let wake = q.finish(&dropped, 0, dropped.len() as u64);
        q.retire(slot, generation, true);
        (dropped.len(), wake, q.pending_for(db))
    });
    if let Some((dropped, wake, pending)) = wake {
        for l in wake {
            latch::set(l);
        }
        if dropped > 0 {
            pgrx::log!(
                "auth_ext: trace writer could not connect to database {db}; {dropped} entries given up"
            );
        } else if pending > 0 {
            pgrx::log!(
                "auth_ext: trace writer for database {db} stopped with {pending} entries pending; \
                 the next caller restarts it"
            );
        }
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn auth_ext_trace_writer(arg: pg_sys::Datum) {
    let (slot, generation) = unpack(arg.value() as i64);
    bgw::init_signals();
    if slot >= WRITERS {
        pgrx::warning!("auth_ext: trace writer started with slot {slot} out of range");
        return;
    }
    let pid = crate::ffi::proc::pid();
    let Some(Some(db)) = QUEUE.with(|q| q.claim(slot, generation, pid, latch::own())) else {
        // Superseded (its start was given up as too slow) or no shared memory: nothing to do.
        pgrx::debug1!("auth_ext: trace writer for slot {slot} superseded; exiting");
        return;
    };
    DB.with(|d| d.set(db));
    bgw::on_exit(on_exit, arg.value() as i64);
    bgw::connect(db);
    CONNECTED.with(|c| c.set(true));
    let mut idle_since = std::time::Instant::now();
    let mut gathering: Option<std::time::Instant> = None;
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
    loop {
        if bgw::terminating() {
            return; // on_exit hands the slot back
        }
        let (pending, urgent) = QUEUE.with(|q| q.look(slot, db)).unwrap_or((0, false));
        if pending == 0 {
            let idle = idle_since.elapsed().as_millis() as i64;
            if idle >= IDLE_MS && QUEUE.with(|q| q.retire(slot, generation, false)) == Some(true) {
                return;
            }
            bgw::report_activity(false, c"waiting for traces");
            latch::wait((IDLE_MS - idle).clamp(10, 1000));
            continue;
        }
        if !urgent && pending < BATCH {
            let since = *gathering.get_or_insert_with(std::time::Instant::now);
            let waited = since.elapsed().as_millis();
            if waited < GATHER_MS {
                latch::wait((GATHER_MS - waited).max(1) as i64);
                continue;
            }
        }
        gathering = None;
        batch.clear();
        QUEUE.with(|q| q.take(db, BATCH, &mut batch));
        if batch.is_empty() {
            continue;
        }
        bgw::report_activity(true, c"writing traces");
        let (ok, failed) = write(db, &batch);
        let seqs: Vec<u64> = batch.iter().map(|e| e.seq).collect();
        if let Some(wake) = QUEUE.with(|q| q.finish(&seqs, ok, failed)) {
            for l in wake {
                latch::set(l);
            }
        }
        idle_since = std::time::Instant::now();
    }
}

/// Row locks a batch waits for at most: a batch fails fast if one entry waits (a caller's own
/// uncommitted change to a token row of its family), and its entries are retried one by one.
const BATCH_LOCK_TIMEOUT: &str = "200ms";
/// What a single entry waits for at most, on its last try.
const ENTRY_LOCK_TIMEOUT: &str = "2s";

fn in_transaction(batch: &[&Entry], lock_timeout: &str) -> Result<(), bgw::Failure> {
    bgw::transaction(|| {
        Spi::get_one_with_args::<String>(
            "SELECT set_config('lock_timeout', $1, true)",
            &[lock_timeout.into()],
        )
        .map_err(|e| e.to_string())?;
        for e in batch {
            kinds::apply(e.kind, &e.payload[..e.len as usize])?;
        }
        Ok(())
    })
}

/// Writes a batch; returns (entries written, entries given up). One transaction for the batch;
/// if it fails, each entry alone with the short lock timeout, then the ones that failed again
/// with the long one, so one entry waiting on a lock delays the others by at most the short
/// timeout.
fn write(db: u32, batch: &[Entry]) -> (u64, u64) {
    let all: Vec<&Entry> = batch.iter().collect();
    match in_transaction(&all, BATCH_LOCK_TIMEOUT) {
        Ok(()) => return (batch.len() as u64, 0),
        Err(f) => pgrx::debug1!(
            "auth_ext: trace batch of {} failed ({}: {}); retrying one by one",
            batch.len(),
            f.sqlstate,
            f.message
        ),
    }
    let mut ok = 0;
    let mut again = Vec::new();
    for e in &all {
        match in_transaction(&[e], BATCH_LOCK_TIMEOUT) {
            Ok(()) => ok += 1,
            Err(_) => again.push(*e),
        }
    }
    let mut failed = 0;
    for e in again {
        let kind = kinds::Kind::from_u8(e.kind);
        match in_transaction(&[e], ENTRY_LOCK_TIMEOUT) {
            Ok(()) => ok += 1,
            Err(f) => {
                failed += 1;
                pgrx::debug1!("auth_ext: trace writer error text: {}", f.message);
                let why = format!("SQLSTATE {}: {}", f.sqlstate, first_words(&f.message));
                let n = FAILURES.fetch_add(1, Ordering::Relaxed) + 1;
                pgrx::warning!(
                    "auth_ext: trace writer for database {db} could not write a {kind:?} entry \
                     (seq {}): {why}; {n} failures so far",
                    e.seq
                );
            }
        }
    }
    (ok, failed)
}

/// Our own failure reasons carry ids only; PostgreSQL's messages could quote values, so only the
/// SQLSTATE goes to the log at WARNING for those (their text at debug1).
fn first_words(message: &str) -> &str {
    if message.starts_with("revocation of")
        || message.starts_with("audit")
        || message.starts_with("malformed")
        || message.starts_with("unknown")
    {
        message
    } else {
        "see debug1 for the text"
    }
}
