//! Traces that outlive the caller's rollback (src/trace/): family revocation under 200
//! concurrent reuse detections, an audit row per failed sign-in under a sustained burst with no
//! worker or connection exhaustion, and the reduced mode without preload.
//!
//! The server of `AUTH_EXT_TEST_URL` must have `shared_preload_libraries = 'auth_ext'`
//! (scripts/common.sh sets it). The reduced-mode test needs `AUTH_EXT_NOPRELOAD_URL`, a server
//! without it; it is skipped (with a message) when that is unset.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use auth_ext_tests::*;

const FAMILIES: usize = 200;

fn scalar(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

/// Waits (at most `secs`) until `sql` returns `want`; returns the last value.
fn poll(c: &mut postgres::Client, sql: &str, want: i64, secs: u64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = scalar(c, sql);
        if v == want || Instant::now() > deadline {
            return v;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// One session per family: (token two generations old, the current token, session id).
fn families(url: &str, n: usize, email: &str) -> Vec<(String, String, String)> {
    let mut c = connect(url);
    c.batch_execute("SELECT auth.configure('{\"refresh_token_reuse_interval\": 1}')")
        .unwrap();
    sign_up(&mut c, email, "family-password-1");
    let fams: Vec<_> = (0..n)
        .map(|_| {
            let s = call(
                &mut c,
                "SELECT auth.sign_in_with_password($1, $2)::text",
                &[email, "family-password-1"],
            )
            .unwrap();
            let claims = call(
                &mut c,
                "SELECT auth.verify_jwt($1)::text",
                &[str_of(&s, &["access_token"])],
            )
            .unwrap();
            let r0 = str_of(&s, &["refresh_token"]).to_string();
            let r1 = str_of(&refresh(&mut c, &r0).unwrap(), &["refresh_token"]).to_string();
            let r2 = str_of(&refresh(&mut c, &r1).unwrap(), &["refresh_token"]).to_string();
            (r0, r2, str_of(&claims, &["session_id"]).to_string())
        })
        .collect();
    // past the reuse interval: r0 is now an attacker's copy
    thread::sleep(Duration::from_millis(1500));
    fams
}

fn writers(c: &mut postgres::Client) -> i64 {
    scalar(
        c,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'auth_ext trace writer'
            AND datname = current_database()",
    )
}

#[test]
fn two_hundred_concurrent_reuse_detections_revoke_every_family() {
    let url = fresh_db("trace_reuse");
    let fams = families(&url, FAMILIES, "reused@example.com");
    let barrier = Arc::new(Barrier::new(FAMILIES));
    let handles: Vec<_> = fams
        .iter()
        .map(|(r0, _, _)| {
            let (url, r0, barrier) = (url.clone(), r0.clone(), barrier.clone());
            thread::spawn(move || {
                let mut c = connect(&url);
                barrier.wait();
                refresh(&mut c, &r0).map(|_| ()).map_err(|e| pt_error(&e))
            })
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut tally = std::collections::BTreeMap::new();
    for a in &answers {
        *tally.entry(format!("{a:?}")).or_insert(0) += 1;
    }
    println!("answers: {tally:?}");
    assert!(
        answers.iter().all(|a| a
            == &Err((
                "PT400".to_string(),
                "refresh_token_already_used".to_string()
            ))),
        "every reuse detection answers refresh_token_already_used: {tally:?}"
    );
    let mut c = connect(&url);
    let sids: Vec<String> = fams.iter().map(|f| f.2.clone()).collect();
    let live: i64 = c
        .query_one(
            "SELECT count(*) FROM auth.refresh_tokens
              WHERE session_id::text = ANY($1) AND NOT revoked",
            &[&sids],
        )
        .unwrap()
        .get(0);
    assert_eq!(live, 0, "no token of any family survives");
    for (_, current, _) in &fams {
        let err = refresh(&mut c, current).expect_err("the current token no longer refreshes");
        assert_eq!(pt_error(&err).1, "refresh_token_already_used");
    }
    let revocations = scalar(
        &mut c,
        "SELECT count(DISTINCT payload->'traits'->>'session_id') FROM auth.audit_log_entries
          WHERE payload->>'action' = 'token_revoked'",
    );
    assert_eq!(
        revocations, FAMILIES as i64,
        "one token_revoked row per family"
    );
    assert!(writers(&mut c) <= 1, "at most one writer per database");
}

#[test]
fn a_burst_of_failed_sign_ins_leaves_one_audit_row_each_and_exhausts_nothing() {
    // Thousands of wrong passwords at two addresses: the per-account backoff (tests/reliability/
    // 90-limits) would answer most of them before any audit; off here.
    let (url, mut c) = fresh_db_configured("trace_burst", r#"{"sign_in_backoff_max_seconds": 0}"#);
    let user = sign_up(&mut c, "known@example.com", "the-right-password");
    let user_id = str_of(&user, &["user", "id"]).to_string();
    let before = scalar(&mut c, "SELECT count(*) FROM auth.audit_log_entries");

    let seconds: u64 = std::env::var("AUTH_EXT_BURST_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let clients = 32;
    let target_per_client = 1000.0 / clients as f64; // at most 1,000 failing calls per second
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let known = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (url, stop, calls, known, barrier) = (
                url.clone(),
                stop.clone(),
                calls.clone(),
                known.clone(),
                barrier.clone(),
            );
            thread::spawn(move || {
                let mut c = connect(&url);
                barrier.wait();
                let start = Instant::now();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // half a known email with a wrong password, half unknown emails
                    let email = if n.is_multiple_of(2) {
                        "known@example.com".to_string()
                    } else {
                        format!("nobody-{i}-{n}@example.com")
                    };
                    let err = call(
                        &mut c,
                        "SELECT auth.sign_in_with_password($1, $2)::text",
                        &[&email, "wrong-password-123"],
                    )
                    .expect_err("a wrong password fails");
                    assert_eq!(
                        pt_error(&err),
                        ("PT400".into(), "invalid_credentials".into())
                    );
                    calls.fetch_add(1, Ordering::Relaxed);
                    if n.is_multiple_of(2) {
                        known.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                    let due = Duration::from_secs_f64(n as f64 / target_per_client);
                    if let Some(ahead) = due.checked_sub(start.elapsed()) {
                        thread::sleep(ahead);
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    // During the burst: a plain query and a new connection keep working, and at most one
    // writer serves the database.
    let mut max_writers = 0;
    let mut probes = 0;
    let mut max_bgworkers = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let mut fresh = connect(&url);
        assert_eq!(scalar(&mut fresh, "SELECT 1::bigint"), 1);
        max_writers = max_writers.max(writers(&mut fresh));
        max_bgworkers = max_bgworkers.max(scalar(
            &mut fresh,
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'auth_ext%' AND datname = current_database()",
        ));
        probes += 1;
        thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = calls.load(Ordering::Relaxed) as i64;
    println!(
        "{total} failed sign-ins in {elapsed:.1} s ({:.0}/s) over {clients} connections; \
         {probes} probes, at most {max_writers} writer(s), {max_bgworkers} auth_ext worker(s)",
        total as f64 / elapsed
    );
    assert!(max_writers <= 1, "at most one writer per database");
    assert!(max_bgworkers <= 1, "no worker per failing call");
    let rows = poll(
        &mut c,
        "SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' = 'login_failed'",
        total,
        30,
    );
    assert_eq!(rows, total, "one login_failed row per failed sign-in");
    let known_rows = scalar(
        &mut c,
        &format!(
            "SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' = 'login_failed'
               AND payload->>'actor_id' = '{user_id}' AND payload->>'actor_username' = 'known@example.com'"
        ),
    );
    assert_eq!(known_rows, known.load(Ordering::Relaxed) as i64);
    let shape = scalar(
        &mut c,
        "SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' = 'login_failed'
           AND payload->>'log_type' = 'account'
           AND payload::jsonb->'traits' = '{\"provider\": \"email\", \"error_code\": \"invalid_credentials\"}'::jsonb
           AND (payload->>'actor_id' <> '' OR payload->>'actor_username' LIKE 'nobody-%')
           AND payload::text NOT LIKE '%wrong-password%' AND payload::text NOT LIKE '%argon2%'",
    );
    assert_eq!(shape, total, "GoTrue's shape; never a password or hash");
    let others = scalar(&mut c, "SELECT count(*) FROM auth.audit_log_entries") - before - total;
    assert_eq!(others, 0);
}

#[test]
fn unconfirmed_and_banned_sign_ins_are_audited_with_their_code() {
    let (_url, mut c) = fresh_db_configured("trace_codes", r#"{"mailer_autoconfirm": false}"#);
    sign_up(&mut c, "unconfirmed@example.com", "unconfirmed-password");
    sign_up(&mut c, "banned@example.com", "banned-password-1");
    c.batch_execute(
        "UPDATE auth.users SET email_confirmed_at = now(), banned_until = now() + interval '1 day'
          WHERE email = 'banned@example.com'",
    )
    .unwrap();
    for (email, password, code) in [
        (
            "unconfirmed@example.com",
            "unconfirmed-password",
            "email_not_confirmed",
        ),
        ("banned@example.com", "banned-password-1", "user_banned"),
        (
            "  Unknown@Example.com ",
            "whatever-password",
            "invalid_credentials",
        ),
    ] {
        let err = call(
            &mut c,
            "SELECT auth.sign_in_with_password($1, $2)::text",
            &[email, password],
        )
        .unwrap_err();
        assert_eq!(pt_error(&err).1, code);
    }
    let sql = "SELECT count(*) FROM auth.audit_log_entries a JOIN auth.users u
                 ON a.payload->>'actor_id' = u.id::text AND a.payload->>'actor_username' = u.email
              WHERE a.payload->>'action' = 'login_failed'
                AND a.payload->'traits'->>'error_code' IN ('email_not_confirmed', 'user_banned')";
    assert_eq!(poll(&mut c, sql, 2, 10), 2);
    let unknown = poll(
        &mut c,
        "SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' = 'login_failed'
           AND payload->>'actor_id' = '' AND payload->>'actor_username' = 'unknown@example.com'
           AND payload->'traits'->>'error_code' = 'invalid_credentials'",
        1,
        10,
    );
    assert_eq!(
        unknown, 1,
        "an unknown email is audited normalized, with an empty actor_id"
    );
    // the writer goes away when idle
    assert_eq!(poll(&mut c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'auth_ext trace writer' AND datname = current_database()", 0, 10), 0);
}

/// Without preload: every reuse detection either revokes its family (and says
/// refresh_token_already_used) or fails closed with PT500; none leaves a live family behind an
/// already_used answer. Failed sign-ins still fail as before (no audit row).
#[test]
fn reduced_mode_without_preload_never_skips_a_revocation_silently() {
    let Ok(server) = std::env::var("AUTH_EXT_NOPRELOAD_URL") else {
        println!("skipped: AUTH_EXT_NOPRELOAD_URL (a server without preload) is not set");
        return;
    };
    // fresh_db uses AUTH_EXT_TEST_URL; point it at the other server for this test only
    let mut admin = connect(&format!("{server} dbname=postgres"));
    admin
        .batch_execute("DROP DATABASE IF EXISTS trace_reduced WITH (FORCE)")
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE trace_reduced")
        .unwrap();
    let url = format!("{server} dbname=trace_reduced");
    let mut c = connect(&url);
    let preload = c
        .query_one("SELECT current_setting('shared_preload_libraries')", &[])
        .unwrap()
        .get::<_, String>(0);
    assert!(
        !preload.contains("auth_ext"),
        "AUTH_EXT_NOPRELOAD_URL has auth_ext preloaded"
    );
    c.batch_execute(
        "CREATE EXTENSION auth_ext;
         SELECT auth.configure('{\"argon2_memory_kib\": 1024, \"argon2_iterations\": 1}');",
    )
    .unwrap();
    let n = 40;
    let fams = families(&url, n, "reduced@example.com");
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = fams
        .iter()
        .map(|(r0, _, sid)| {
            let (url, r0, sid, barrier) = (url.clone(), r0.clone(), sid.clone(), barrier.clone());
            thread::spawn(move || {
                let mut c = connect(&url);
                barrier.wait();
                (
                    sid,
                    refresh(&mut c, &r0).map(|_| ()).map_err(|e| pt_error(&e)),
                )
            })
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (mut revoked, mut failed_closed) = (0, 0);
    for (sid, answer) in &answers {
        let live: i64 = c
            .query_one(
                "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid AND NOT revoked",
                &[sid],
            )
            .unwrap()
            .get(0);
        match answer {
            Err((_, code)) if code == "refresh_token_already_used" => {
                assert_eq!(live, 0, "already_used only once the family is revoked");
                revoked += 1;
            }
            Err((state, _)) if state == "PT500" => failed_closed += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    println!("reduced mode: {revoked} revoked, {failed_closed} failed closed (PT500) of {n}");
    let err = call(
        &mut c,
        "SELECT auth.sign_in_with_password($1, $2)::text",
        &["reduced@example.com", "not-the-password"],
    )
    .unwrap_err();
    assert_eq!(pt_error(&err).1, "invalid_credentials");
}
