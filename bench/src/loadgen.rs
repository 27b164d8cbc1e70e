//! Drives sign-in or refresh at a fixed concurrency for a fixed time, either as direct SQL calls
//! (`auth.sign_in_with_password`, `auth.refresh_session` as prepared statements over a pool: the
//! best a direct client can do) or as HTTP requests to the
//! shim, and prints requests/s and latency percentiles as one JSON line.
//!
//! loadgen --mode sql|http --op signin|refresh [--concurrency 8] [--seconds 10]
//!         [--db "host=… dbname=…"] [--url http://127.0.0.1:9999]
//! Each worker uses its own user (bench-<i>@example.com, password bench-password-1, created
//! beforehand), and for refresh its own session, rotating its token on every request.
//!
//! Two paired measurements, one connection, attempts interleaved so that the drift of a shared
//! machine hits both sides alike:
//! loadgen --op signin-vs-argon2 --attempts N   sign-in over SQL vs one argon2id verify of the
//!                                              same cost, timed here, in this process; as
//!                                              bench-0@example.com, or with --users U as N
//!                                              users scattered over grow-1..grow-U
//! loadgen --op failed-signin --attempts N      wrong password vs unknown email
//!
//! Email codes, one connection: loadgen --op otp --attempts N --users U asks for a code for N
//! distinct users scattered over grow-1..grow-U@example.com (auth.sign_in_with_otp, timed), reads each code
//! from the outbox as the superuser (untimed) and signs in with it (auth.verify_otp, timed).
//!
//! The outbox figures' baseline: loadgen --op smtp --attempts N --concurrency C --smtp HOST:PORT
//! sends N mails of 2,000 bytes over C connections as a bare SMTP client would (one write per
//! command, the whole message in one write) and prints messages/s and each mail's latency.

use std::str::FromStr;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::{json, Value};
use tokio_postgres::NoTls;

#[derive(Clone)]
struct Args {
    mode: String,
    op: String,
    concurrency: usize,
    seconds: u64,
    attempts: usize,
    db: String,
    url: String,
    /// The grown population to pick users from (grow-1..grow-N@example.com), if any.
    users: Option<u64>,
    smtp: String,
}

fn args() -> Args {
    let mut a = Args {
        mode: "sql".into(),
        op: "refresh".into(),
        concurrency: 8,
        seconds: 10,
        attempts: 200,
        db: "host=127.0.0.1 port=54331 user=postgres dbname=bench".into(),
        url: "http://127.0.0.1:54399".into(),
        users: None,
        smtp: "127.0.0.1:54398".into(),
    };
    let mut it = std::env::args().skip(1);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        match k.as_str() {
            "--mode" => a.mode = v,
            "--op" => a.op = v,
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency"),
            "--seconds" => a.seconds = v.parse().expect("--seconds"),
            "--attempts" => a.attempts = v.parse().expect("--attempts"),
            "--db" => a.db = v,
            "--url" => a.url = v,
            "--users" => a.users = Some(v.parse().expect("--users")),
            "--smtp" => a.smtp = v,
            _ => panic!("unknown flag {k}"),
        }
    }
    a
}

enum Client {
    /// Over SQL; `true`: as PostgREST calls, with `request.headers` naming a client address, so
    /// the per-IP limits count the call (mode `sql+limits`).
    Sql(Pool, bool),
    Http(reqwest::Client, String),
}

/// The next of 250 client addresses (the per-IP limits count each; the bench raises the limits
/// so that none is reached).
fn next_headers() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 250;
    json!({"x-forwarded-for": format!("10.77.0.{}", n + 1)}).to_string()
}

/// Runs `call` (a function call with `$1`) over SQL, as PostgREST would when `limits`.
async fn sql_call(pool: &Pool, limits: bool, call: &str, arg: &str) -> Value {
    let c = pool.get().await.expect("pool");
    let text = if limits {
        format!(
            "SELECT {call}::text FROM (SELECT set_config('request.headers', $2, true) OFFSET 0) h"
        )
    } else {
        format!("SELECT {call}::text")
    };
    let stmt = c.prepare_cached(&text).await.unwrap();
    let row = if limits {
        c.query_one(&stmt, &[&arg, &next_headers()]).await
    } else {
        c.query_one(&stmt, &[&arg]).await
    }
    .expect(call);
    serde_json::from_str(row.get::<_, &str>(0)).unwrap()
}

impl Client {
    async fn sign_in(&self, email: &str) -> Value {
        match self {
            Client::Sql(pool, limits) => {
                sql_call(
                    pool,
                    *limits,
                    "auth.sign_in_with_password($1, 'bench-password-1')",
                    email,
                )
                .await
            }
            Client::Http(http, url) => http
                .post(format!("{url}/token?grant_type=password"))
                .json(&json!({"email": email, "password": "bench-password-1"}))
                .send()
                .await
                .expect("sign-in request")
                .error_for_status()
                .expect("sign-in status")
                .json()
                .await
                .unwrap(),
        }
    }

    async fn refresh(&self, token: &str) -> Value {
        match self {
            Client::Sql(pool, limits) => {
                sql_call(pool, *limits, "auth.refresh_session($1)", token).await
            }
            Client::Http(http, url) => http
                .post(format!("{url}/token?grant_type=refresh_token"))
                .json(&json!({"refresh_token": token}))
                .send()
                .await
                .expect("refresh request")
                .error_for_status()
                .expect("refresh status")
                .json()
                .await
                .unwrap(),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p) as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn summary(mut times: Vec<Duration>) -> Value {
    times.sort();
    json!({"attempts": times.len(), "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99)})
}

/// Alternates two timed actions `attempts` times each and prints both summaries and the ratio
/// of medians (`b` over `a`).
async fn paired<A, B>(op: &str, names: (&str, &str), attempts: usize, mut a: A, mut b: B)
where
    A: AsyncFnMut() -> (),
    B: AsyncFnMut() -> (),
{
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..attempts * 2 {
        let started = Instant::now();
        if i % 2 == 0 {
            a().await;
            ta.push(started.elapsed());
        } else {
            b().await;
            tb.push(started.elapsed());
        }
    }
    let (sa, sb) = (summary(ta), summary(tb));
    let ratio = sb["p50_ms"].as_f64().unwrap() / sa["p50_ms"].as_f64().unwrap();
    println!(
        "{}",
        json!({"op": op, names.0: sa, names.1: sb, "ratio": ratio})
    );
}

/// `n` users of grow-1..grow-`users`@example.com, scattered over the population (and so over the
/// table's pages): the i-th is 1 + (start + i * 2654435761) mod users, a step coprime with every
/// population of the form 2^a 5^b, so none repeats before all were visited. Consecutive users of a
/// small stride would lie in neighbouring pages, which a sequential scan that resumes where the
/// last one stopped (synchronize_seqscans) finds at once.
fn scattered_users(users: u64, n: usize) -> Vec<String> {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (0..n as u64)
        .map(|i| format!("grow-{}@example.com", 1 + (start + i * 2654435761) % users))
        .collect()
}

async fn connect(db: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(db, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

/// Sign-in over SQL against one argon2id verify of the server's cost in this process, with its
/// working memory kept between verifies as the backends keep theirs (src/hashing.rs): the
/// baseline is argon2's computation, not page faults or zeroing.
async fn signin_vs_argon2(a: &Args) {
    let c = connect(&a.db).await;
    let cost: Value = serde_json::from_str(
        c.query_one("SELECT auth.settings()::text", &[])
            .await
            .unwrap()
            .get::<_, &str>(0),
    )
    .unwrap();
    let cost = auth_core::password::Argon2Cost {
        m_cost: cost["argon2_memory_kib"].as_u64().unwrap() as u32,
        t_cost: cost["argon2_iterations"].as_u64().unwrap() as u32,
        p_cost: cost["argon2_parallelism"].as_u64().unwrap_or(1) as u32,
    };
    let hash = auth_core::password::hash("bench-password-1", cost).unwrap();
    let memory = std::cell::RefCell::new(auth_core::password::Memory::new());
    let emails = match a.users {
        Some(users) => scattered_users(users, a.attempts + 1),
        None => vec!["bench-0@example.com".to_string(); a.attempts + 1],
    };
    let next = std::cell::Cell::new(0);
    let email = || {
        next.set(next.get() + 1);
        emails[next.get() - 1].clone()
    };
    let stmt = c
        .prepare("SELECT auth.sign_in_with_password($1, 'bench-password-1')::text")
        .await
        .unwrap();
    c.query_one(&stmt, &[&email()]).await.expect("sign-in");
    paired(
        "signin-vs-argon2",
        ("argon2_verify", "signin"),
        a.attempts,
        async || {
            let mut memory = memory.borrow_mut();
            assert!(auth_core::password::verify_in(
                "bench-password-1",
                &hash,
                &mut memory
            ))
        },
        async || {
            let email = email();
            c.query_one(&stmt, &[&email]).await.expect("sign-in");
        },
    )
    .await;
}

/// Wrong password for a real user against an email nobody has: both must fail the same way.
async fn failed_signin(a: &Args) {
    let c = connect(&a.db).await;
    let wrong = c
        .prepare("SELECT auth.sign_in_with_password('bench-0@example.com', 'not-the-password')")
        .await
        .unwrap();
    let unknown = c
        .prepare("SELECT auth.sign_in_with_password('nobody-here@example.com', 'not-the-password')")
        .await
        .unwrap();
    let fails = |r: Result<tokio_postgres::Row, tokio_postgres::Error>| {
        let e = r.expect_err("a failed sign-in");
        let db = e.as_db_error().expect("a database error");
        assert_eq!(
            (db.code().code(), db.detail()),
            ("PT400", Some("invalid_credentials"))
        );
    };
    paired(
        "failed-signin",
        ("wrong_password", "unknown_email"),
        a.attempts,
        async || fails(c.query_one(&wrong, &[]).await),
        async || fails(c.query_one(&unknown, &[]).await),
    )
    .await;
}

/// An email code asked for and then used, for `attempts` distinct users scattered over the grown
/// population.
async fn otp(a: &Args) {
    let c = connect(&a.db).await;
    let request = c
        .prepare("SELECT auth.sign_in_with_otp(email => $1)::text")
        .await
        .unwrap();
    // The code just queued is the newest row; its address is checked, not assumed.
    let code = c
        .prepare(
            "SELECT payload->'email_data'->>'token' FROM auth.outbox \
              WHERE id = (SELECT max(id) FROM auth.outbox) AND recipient = $1",
        )
        .await
        .unwrap();
    let verify = c
        .prepare("SELECT auth.verify_otp('email', $2, email => $1)->>'refresh_token'")
        .await
        .unwrap();
    let users = a.users.expect("--users");
    let (mut requested, mut verified) = (Vec::new(), Vec::new());
    for email in scattered_users(users, a.attempts) {
        let started = Instant::now();
        c.query_one(&request, &[&email])
            .await
            .expect("a code request");
        requested.push(started.elapsed());
        let row = c
            .query_one(&code, &[&email])
            .await
            .expect("the queued code");
        let token: &str = row.get(0);
        let started = Instant::now();
        let row = c
            .query_one(&verify, &[&email, &token])
            .await
            .expect("a verification");
        verified.push(started.elapsed());
        assert!(row.get::<_, Option<&str>>(0).is_some(), "a session");
    }
    println!(
        "{}",
        json!({"op": "otp", "users": users, "otp_request": summary(requested), "otp_verify": summary(verified)})
    );
}

/// A bare SMTP client: `concurrency` connections, `attempts` mails in all, each command one write
/// and each message one write, every reply awaited (no pipelining).
async fn smtp(a: &Args) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, line: &mut String) {
        loop {
            line.clear();
            assert!(
                r.read_line(line).await.expect("a reply") > 0,
                "the sink closed"
            );
            assert!(line.starts_with(['2', '3']), "the sink refused: {line}");
            if line.as_bytes().get(3) != Some(&b'-') {
                return;
            }
        }
    }
    let body = format!(
        "From: bench <noreply@example.com>\r\nSubject: Your Magic Link\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n.\r\n",
        "a line of a mail of 2,000 bytes, as long as a magic-link mail with its two parts\r\n"
            .repeat(23)
    );
    let per_worker = a.attempts.div_ceil(a.concurrency);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..a.concurrency {
        let (target, body) = (a.smtp.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&target)
                .await
                .expect("connect");
            stream.set_nodelay(true).unwrap();
            let (r, mut wr) = stream.into_split();
            let (mut r, mut line) = (BufReader::new(r), String::new());
            reply(&mut r, &mut line).await;
            wr.write_all(b"EHLO bench\r\n").await.unwrap();
            reply(&mut r, &mut line).await;
            let mut latencies = Vec::new();
            for i in 0..per_worker {
                let t = Instant::now();
                for command in [
                    "MAIL FROM:<noreply@example.com>\r\n".to_string(),
                    format!("RCPT TO:<bare-{w}-{i}@example.com>\r\n"),
                    "DATA\r\n".to_string(),
                    body.clone(),
                ] {
                    wr.write_all(command.as_bytes()).await.unwrap();
                    reply(&mut r, &mut line).await;
                }
                latencies.push(t.elapsed());
            }
            wr.write_all(b"QUIT\r\n").await.unwrap();
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = all.len();
    println!(
        "{}",
        json!({"op": "smtp", "concurrency": a.concurrency, "messages": n, "bytes": body.len(),
               "rate": n as f64 / elapsed, "latency": summary(all)})
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    match a.op.as_str() {
        "signin-vs-argon2" => return signin_vs_argon2(&a).await,
        "failed-signin" => return failed_signin(&a).await,
        "otp" => return otp(&a).await,
        "smtp" => return smtp(&a).await,
        _ => {}
    }
    let client = std::sync::Arc::new(match a.mode.as_str() {
        "sql" | "sql+limits" => {
            let pg = tokio_postgres::Config::from_str(&a.db).expect("db");
            let mgr = Manager::from_config(
                pg,
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Client::Sql(
                Pool::builder(mgr)
                    .max_size(a.concurrency)
                    .runtime(Runtime::Tokio1)
                    .build()
                    .unwrap(),
                a.mode == "sql+limits",
            )
        }
        "http" => Client::Http(
            reqwest::Client::builder()
                .pool_max_idle_per_host(a.concurrency)
                .build()
                .unwrap(),
            a.url.clone(),
        ),
        m => panic!("unknown mode {m}"),
    });
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut workers = Vec::new();
    for i in 0..a.concurrency {
        let (client, op) = (client.clone(), a.op.clone());
        workers.push(tokio::spawn(async move {
            let email = format!("bench-{i}@example.com");
            let mut token = client.sign_in(&email).await["refresh_token"]
                .as_str()
                .unwrap()
                .to_string();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                match op.as_str() {
                    "signin" => {
                        client.sign_in(&email).await;
                    }
                    _ => {
                        let s = client.refresh(&token).await;
                        token = s["refresh_token"]
                            .as_str()
                            .expect("a refresh token")
                            .to_string();
                    }
                }
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut all: Vec<Duration> = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| percentile(&all, p);
    println!(
        "{}",
        json!({"mode": a.mode, "op": a.op, "concurrency": a.concurrency, "requests": all.len(),
               "rps": all.len() as f64 / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99)})
    );
}
