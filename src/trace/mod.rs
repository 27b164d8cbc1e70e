//! Traces that outlive the caller's rollback.
//!
//! Every auth_ext error rolls back the caller's transaction, so a failing call cannot write
//! anything itself. It leaves a *trace* instead: a fixed-size entry in a bounded queue in shared
//! memory (kind, database, ids, a bounded payload; [`queue`]). One long-lived writer background
//! worker per database with pending entries ([`writer`]), started on demand by the first
//! enqueuer when none runs, drains them in batches, each batch in a transaction of its own, and
//! wakes the callers that wait for their entry. Workers are bounded by the number of databases
//! (at most [`queue::WRITERS`]), never by the number of failing calls, and exit when idle.
//!
//! Durable traces (family revocation, failed sign-in audit rows) go through the writer;
//! per-node counters (rate limits, GoTrue's per-process state) live in [`counter`], in memory.
//!
//! Needs `shared_preload_libraries = 'auth_ext'`. Without it ([`available`] is false) callers
//! use their reduced mode: revocation starts one worker per detection and fails closed; failed
//! sign-ins are not audited (logged once per backend).

pub mod counter;
pub mod kinds;
pub mod once;
pub mod queue;
pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::AuthError;

use crate::ffi::{bgw, latch, shmem::Shared};
pub use kinds::Kind;
pub use once::apply_with_one_off_worker;
use queue::{AfterEnqueue, Queue};

pub const MAX_EMAIL: usize = auth_core::email::MAX_EMAIL_LEN;

pub(crate) static QUEUE: Shared<Queue> = Shared::new(c"auth_ext trace queue");

/// Called from `_PG_init`: with preload, requests the shared memory (queue and counters).
pub fn init() {
    if crate::ffi::shmem::preloading() {
        crate::ffi::shmem::install_hooks(
            || {
                QUEUE.request();
                counter::COUNTERS.request();
            },
            || {
                QUEUE.startup(|_| {});
                counter::COUNTERS.startup(counter::init);
            },
        );
    }
}

/// Whether the queue exists (auth_ext is in `shared_preload_libraries`).
pub fn available() -> bool {
    QUEUE.available()
}

#[derive(Debug)]
pub enum Refused {
    /// No shared memory: auth_ext was not preloaded.
    NotPreloaded,
    /// A standby cannot write.
    Standby,
    /// The queue is full.
    Full,
}

/// An enqueued entry, to wait for.
pub struct Ticket {
    seq: u64,
    db: u32,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn my_db() -> u32 {
    crate::ffi::proc::database()
}

/// Logs at most on the 1st, 2nd, 4th, 8th, ... occurrence of a repeated condition in this
/// process, so a flood of failing calls cannot flood the log.
pub(crate) fn log_sparsely(counter: &AtomicU64, message: impl FnOnce(u64) -> String) {
    let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        pgrx::log!("{}", message(n));
    }
}

static START_FAILURES: AtomicU64 = AtomicU64::new(0);

fn act(after: AfterEnqueue, db: u32) {
    match after {
        AfterEnqueue::Wake(l) => latch::set(l),
        AfterEnqueue::Nothing => {}
        AfterEnqueue::Start { slot, generation } => {
            let name = format!("auth_ext trace writer for database {db}");
            let spec = bgw::Spec {
                function: c"auth_ext_trace_writer",
                name: &name,
                kind: writer::BACKEND_TYPE,
                arg: writer::arg(slot, generation),
                extra: &[],
                notify: false,
            };
            if bgw::register(&spec).is_none() {
                QUEUE.with(|q| q.start_failed(slot, generation));
                log_sparsely(&START_FAILURES, |n| {
                    format!(
                        "auth_ext: could not start the trace writer for database {db} \
                         (no free background worker slot; raise max_worker_processes); \
                         its entries wait ({n} such failures in this process)"
                    )
                });
            }
        }
    }
}

/// Queues a trace for this database. `wait`: the caller will [`wait`] for it (its latch is set
/// when the entry is written).
pub fn enqueue(kind: Kind, payload: &[u8], wait: bool) -> Result<Ticket, Refused> {
    if !available() {
        return Err(Refused::NotPreloaded);
    }
    if crate::db::on_standby() {
        return Err(Refused::Standby);
    }
    let db = my_db();
    let waiter = if wait { latch::own() } else { 0 };
    let now = now_ms();
    let (pushed, stalled) = QUEUE
        .with(|q| {
            // An entry of another database at the head holds the whole ring back: start a
            // writer for it (one that cannot connect, the database being gone, gives its
            // entries up), also when this push finds the ring full.
            let stalled = q
                .stalled_head()
                .filter(|d| *d != db)
                .map(|d| (d, q.ensure_writer(d, now, false)));
            let pushed = q
                .push(db, kind as u8, payload, waiter)
                .map(|seq| (seq, q.ensure_writer(db, now, wait)));
            (pushed, stalled)
        })
        .ok_or(Refused::Full)?;
    if let Some((d, after @ AfterEnqueue::Start { .. })) = stalled {
        act(after, d);
    }
    let (seq, after) = pushed.ok_or(Refused::Full)?;
    act(after, db);
    Ok(Ticket { seq, db })
}

/// Waits until the writer has handled the entry (committed it, or given up and logged why), at
/// most `timeout`. Interruptible (a cancel raises its error). Returns whether it was handled.
/// Restarts the database's writer if it went away meanwhile.
pub fn wait(ticket: &Ticket, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let now = now_ms();
        let state = QUEUE.with(|q| {
            if q.done(ticket.seq) {
                None
            } else {
                Some(q.ensure_writer(ticket.db, now, false))
            }
        });
        match state {
            None => return false,
            Some(None) => return true,
            Some(Some(after)) => {
                // Only (re)start or wake here; a running writer is woken by the enqueue already.
                if let AfterEnqueue::Start { .. } = after {
                    act(after, ticket.db);
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        latch::wait(left.as_millis().clamp(1, 50) as i64);
    }
}

static SESSIONS_NOT_ENDED: AtomicU64 = AtomicU64::new(0);

/// Ends a user's sessions apart from the current call (which its error rolls back), and waits
/// for it a little so that the caller's answer comes after. Without the queue (not preloaded,
/// a standby, full) it is logged and skipped.
pub fn end_sessions(user_id: pgrx::Uuid) {
    let payload = kinds::end_sessions(*user_id.as_bytes());
    match enqueue(Kind::EndSessions, &payload, true) {
        Ok(ticket) => {
            wait(&ticket, Duration::from_secs(2));
        }
        Err(_) => log_sparsely(&SESSIONS_NOT_ENDED, |n| {
            format!(
                "auth_ext: a verification attempt hook asked to end a user's sessions; the \
                 trace queue is unavailable, so they were not ended ({n} in this process)"
            )
        }),
    }
}

static NOT_AUDITED: AtomicU64 = AtomicU64::new(0);

/// Records a failed sign-in (an audit row `login_failed`, written by the writer) and returns the
/// error. The same work whether the email belongs to a user (`user_id`) or not.
pub fn sign_in_failed(err: AuthError, user_id: Option<&str>, email: Option<&str>) -> AuthError {
    let Some(code) = kinds::login_error_code(&err) else {
        return err;
    };
    let user = user_id
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .map(|u| *u.as_bytes())
        .unwrap_or([0; 16]);
    let req = crate::request::current();
    let payload = kinds::login_failed(code, user, email.unwrap_or(""), req.ip.as_deref());
    if let Err(why) = enqueue(Kind::LoginFailed, &payload, false) {
        log_sparsely(&NOT_AUDITED, |n| match why {
            Refused::NotPreloaded => format!(
                "auth_ext: failed sign-ins are not audited: add auth_ext to \
                 shared_preload_libraries ({n} skipped in this process)"
            ),
            Refused::Standby => {
                format!("auth_ext: failed sign-ins on a standby are not audited ({n} skipped)")
            }
            Refused::Full => format!(
                "auth_ext: the trace queue is full; a failed sign-in's audit row was dropped \
                 ({n} in this process)"
            ),
        });
    }
    err
}
