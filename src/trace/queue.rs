//! The queue in shared memory, as plain data and plain functions on it (no FFI, no PostgreSQL
//! calls: everything here runs under the queue's LWLock).
//!
//! A ring of fixed-size entries. An entry's sequence number is its position in the ring's
//! history (`tail` when it was added), so `seq % QUEUE_LEN` is its slot, and the ring is full
//! when `tail - head == QUEUE_LEN`. `head` passes an entry only once it is `FREE` (written or
//! given up), so an entry is done once `seq < head` or its slot is `FREE`.
//!
//! Writers: at most one per database, in a table of [`WRITERS`] slots. A slot is `STARTING`
//! from the moment an enqueuer decides to start a worker (so no second one is started) until
//! that worker claims it (`RUNNING`), and is freed by the worker when it exits.

pub const QUEUE_LEN: usize = 4096;
pub const PAYLOAD_LEN: usize = 384;
pub const WRITERS: usize = 32;
/// How much of the ring entries nobody waits for may take (see [`Queue::push`]).
pub const BEST_EFFORT_LEN: usize = QUEUE_LEN * 3 / 4;
/// A `STARTING` slot whose worker has not claimed it after this long is given up (the fork
/// failed, or the worker died before it could say so).
pub const START_TIMEOUT_MS: i64 = 10_000;

pub const FREE: u8 = 0;
pub const PENDING: u8 = 1;
pub const TAKEN: u8 = 2;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Entry {
    pub seq: u64,
    /// The waiting backend's latch (0: nobody waits).
    pub waiter: usize,
    pub db: u32,
    pub state: u8,
    pub kind: u8,
    pub len: u16,
    pub payload: [u8; PAYLOAD_LEN],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Writer {
    pub state: u8,
    pub db: u32,
    /// Distinguishes successive workers of one slot: a worker started for an abandoned
    /// `STARTING` slot must not claim the slot's next use.
    pub generation: u32,
    pub pid: i32,
    pub latch: usize,
    /// 1 while the writer sleeps with nothing pending: every enqueue wakes it. 0 while it works
    /// or gathers a batch: only entries someone waits for wake it (fewer wake-ups and commits).
    pub idle: u8,
    /// When the slot entered `STARTING` (ms since the epoch).
    pub since_ms: i64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Stats {
    pub enqueued: u64,
    pub full: u64,
    pub written: u64,
    pub failed: u64,
    pub writers_started: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Queue {
    pub head: u64,
    pub tail: u64,
    pub stats: Stats,
    pub writers: [Writer; WRITERS],
    pub entries: [Entry; QUEUE_LEN],
}

pub const W_FREE: u8 = 0;
pub const W_STARTING: u8 = 1;
pub const W_RUNNING: u8 = 2;

/// What an enqueuer must do after releasing the lock.
pub enum AfterEnqueue {
    /// Wake this writer (its latch).
    Wake(usize),
    /// Start a writer for slot `slot`, generation `generation`.
    Start { slot: usize, generation: u32 },
    /// A writer is being started, or every writer slot is busy with other databases: the entry
    /// waits.
    Nothing,
}

impl Queue {
    fn slot(seq: u64) -> usize {
        (seq % QUEUE_LEN as u64) as usize
    }

    /// Adds an entry; `None` when the ring is full. Entries nobody waits for (audit rows) may
    /// fill only [`BEST_EFFORT_LEN`] of it: the rest stays free for the ones a caller waits for
    /// (revocations), so a flood of failed sign-ins cannot make revocations fail closed.
    pub fn push(&mut self, db: u32, kind: u8, payload: &[u8], waiter: usize) -> Option<u64> {
        let room = if waiter != 0 {
            QUEUE_LEN
        } else {
            BEST_EFFORT_LEN
        };
        if self.tail - self.head >= room as u64 || payload.len() > PAYLOAD_LEN {
            self.stats.full += 1;
            return None;
        }
        let seq = self.tail;
        let e = &mut self.entries[Self::slot(seq)];
        e.seq = seq;
        e.waiter = waiter;
        e.db = db;
        e.state = PENDING;
        e.kind = kind;
        e.len = payload.len() as u16;
        e.payload[..payload.len()].copy_from_slice(payload);
        self.tail += 1;
        self.stats.enqueued += 1;
        Some(seq)
    }

    pub fn done(&self, seq: u64) -> bool {
        seq < self.head || {
            let e = &self.entries[Self::slot(seq)];
            e.seq != seq || e.state == FREE
        }
    }

    /// The database of the entry at the head of the ring when it is pending with no writer at
    /// all: its writer was terminated (`DROP DATABASE ... WITH (FORCE)`, `pg_terminate_backend`)
    /// or never started, and the ring cannot advance past it until one runs.
    pub fn stalled_head(&self) -> Option<u32> {
        if self.head >= self.tail {
            return None;
        }
        let e = &self.entries[Self::slot(self.head)];
        (e.seq == self.head && e.state == PENDING && self.writer_of(e.db).is_none()).then_some(e.db)
    }

    fn writer_of(&self, db: u32) -> Option<usize> {
        self.writers
            .iter()
            .position(|w| w.state != W_FREE && w.db == db)
    }

    /// After a push (or while waiting): makes sure a writer serves `db`. `urgent`: a caller
    /// waits for the entry, so wake the writer even while it gathers a batch.
    pub fn ensure_writer(&mut self, db: u32, now_ms: i64, urgent: bool) -> AfterEnqueue {
        if let Some(i) = self.writer_of(db) {
            let w = &mut self.writers[i];
            if w.state == W_RUNNING {
                if urgent || w.idle != 0 {
                    w.idle = 0;
                    return AfterEnqueue::Wake(w.latch);
                }
                return AfterEnqueue::Nothing;
            }
            if now_ms - w.since_ms < START_TIMEOUT_MS {
                return AfterEnqueue::Nothing;
            }
            // Abandoned start: try again with a new generation.
            w.generation = w.generation.wrapping_add(1);
            w.since_ms = now_ms;
            self.stats.writers_started += 1;
            return AfterEnqueue::Start {
                slot: i,
                generation: w.generation,
            };
        }
        let Some(i) = self.writers.iter().position(|w| w.state == W_FREE) else {
            return AfterEnqueue::Nothing;
        };
        let w = &mut self.writers[i];
        w.state = W_STARTING;
        w.db = db;
        w.generation = w.generation.wrapping_add(1);
        w.pid = 0;
        w.latch = 0;
        w.idle = 0;
        w.since_ms = now_ms;
        self.stats.writers_started += 1;
        AfterEnqueue::Start {
            slot: i,
            generation: w.generation,
        }
    }

    /// The worker could not be registered: free the slot so that a later call tries again.
    pub fn start_failed(&mut self, slot: usize, generation: u32) {
        let w = &mut self.writers[slot];
        if w.state == W_STARTING && w.generation == generation {
            w.state = W_FREE;
        }
    }

    /// A worker claims its slot; returns its database, or `None` if the slot moved on.
    /// Entries a previous writer of the database had taken (it died mid-batch) are pending again.
    pub fn claim(&mut self, slot: usize, generation: u32, pid: i32, latch: usize) -> Option<u32> {
        let w = self.writers.get_mut(slot)?;
        if w.state != W_STARTING || w.generation != generation {
            return None;
        }
        w.state = W_RUNNING;
        w.pid = pid;
        w.latch = latch;
        let db = w.db;
        for seq in self.head..self.tail {
            let e = &mut self.entries[Self::slot(seq)];
            if e.db == db && e.state == TAKEN {
                e.state = PENDING;
            }
        }
        Some(db)
    }

    /// Takes up to `max` pending entries of `db`, oldest first, marking them taken.
    pub fn take(&mut self, db: u32, max: usize, out: &mut Vec<Entry>) {
        for seq in self.head..self.tail {
            if out.len() >= max {
                break;
            }
            let e = &mut self.entries[Self::slot(seq)];
            if e.db == db && e.state == PENDING {
                e.state = TAKEN;
                out.push(*e);
            }
        }
    }

    /// Marks entries done, advances `head`, and returns the latches to wake.
    pub fn finish(&mut self, done: &[u64], ok: u64, failed: u64) -> Vec<usize> {
        let mut wake = Vec::new();
        for &seq in done {
            let e = &mut self.entries[Self::slot(seq)];
            if e.seq == seq && e.state != FREE {
                e.state = FREE;
                if e.waiter != 0 {
                    wake.push(e.waiter);
                }
            }
        }
        while self.head < self.tail && self.entries[Self::slot(self.head)].state == FREE {
            self.head += 1;
        }
        self.stats.written += ok;
        self.stats.failed += failed;
        wake
    }

    /// For the writer of `slot`: how many entries of its database are pending and whether a
    /// caller waits for one; marks the writer idle when none is (so the next enqueue wakes it).
    pub fn look(&mut self, slot: usize, db: u32) -> (usize, bool) {
        let (mut n, mut urgent) = (0, false);
        for seq in self.head..self.tail {
            let e = &self.entries[Self::slot(seq)];
            if e.db == db && e.state == PENDING {
                n += 1;
                urgent |= e.waiter != 0;
            }
        }
        self.writers[slot].idle = (n == 0) as u8;
        (n, urgent)
    }

    pub fn pending_for(&self, db: u32) -> usize {
        (self.head..self.tail)
            .filter(|&s| {
                let e = &self.entries[Self::slot(s)];
                e.db == db && e.state == PENDING
            })
            .count()
    }

    /// The writer of `slot` exits: if nothing is pending for its database (or it must go
    /// anyway), frees its slot and gives back any entries it had taken. Returns false when it
    /// should stay (work arrived meanwhile).
    pub fn retire(&mut self, slot: usize, generation: u32, force: bool) -> bool {
        let Some(w) = self.writers.get(slot).copied() else {
            return true;
        };
        if w.state != W_RUNNING || w.generation != generation {
            return true;
        }
        if !force && self.pending_for(w.db) > 0 {
            return false;
        }
        for seq in self.head..self.tail {
            let e = &mut self.entries[Self::slot(seq)];
            if e.db == w.db && e.state == TAKEN {
                e.state = PENDING;
            }
        }
        self.writers[slot].state = W_FREE;
        self.writers[slot].latch = 0;
        self.writers[slot].pid = 0;
        true
    }

    /// A database cannot be connected to (dropped): its entries are given up. Returns how many.
    pub fn drop_db(&mut self, db: u32) -> Vec<u64> {
        (self.head..self.tail)
            .filter(|&s| {
                let e = &self.entries[Self::slot(s)];
                e.db == db && e.state != FREE
            })
            .collect()
    }
}
