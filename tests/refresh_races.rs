//! Concurrent refreshes of one token, reuse after the interval, and sign-out racing refresh,
//! each over its own real connection, with every transaction committed as a client's would be.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use auth_ext_tests::*;

const CALLERS: usize = 200;

fn session_id(c: &mut postgres::Client, access_token: &str) -> String {
    let claims = call(c, "SELECT auth.verify_jwt($1)::text", &[access_token]).unwrap();
    str_of(&claims, &["session_id"]).to_string()
}

#[test]
fn two_hundred_concurrent_refreshes_of_one_token_all_get_the_same_valid_session() {
    let url = fresh_db("race_refresh");
    let mut c = connect(&url);
    let s = sign_up(&mut c, "tabs@example.com", "many-tabs-password");
    let r0 = str_of(&s, &["refresh_token"]).to_string();
    let sid = session_id(&mut c, str_of(&s, &["access_token"]));

    let barrier = Arc::new(Barrier::new(CALLERS));
    let handles: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (url, r0, barrier) = (url.clone(), r0.clone(), barrier.clone());
            thread::spawn(move || {
                let mut c = connect(&url);
                barrier.wait();
                refresh(&mut c, &r0).map_err(|e| pt_error(&e))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} of {CALLERS} refreshes failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let sessions: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    let r1 = str_of(&sessions[0], &["refresh_token"]).to_string();
    assert_ne!(r1, r0);
    for s in &sessions {
        assert_eq!(
            str_of(s, &["refresh_token"]),
            r1,
            "every caller gets the same current token"
        );
        assert_eq!(
            session_id(&mut c, str_of(s, &["access_token"])),
            sid,
            "and the same session"
        );
    }
    // one rotation happened, not two hundred
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid",
            &[&sid],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    // the user is still signed in: the current token keeps working
    let next = refresh(&mut c, &r1).expect("the current token refreshes");
    assert_eq!(session_id(&mut c, str_of(&next, &["access_token"])), sid);
}

#[test]
fn reuse_after_the_interval_revokes_the_family_exactly_once() {
    let (_url, mut c) = fresh_db_configured("race_reuse", r#"{"refresh_token_reuse_interval": 1}"#);
    let s = sign_up(&mut c, "stolen@example.com", "stolen-token-password");
    let r0 = str_of(&s, &["refresh_token"]).to_string();
    let sid = session_id(&mut c, str_of(&s, &["access_token"]));
    let r1 = str_of(&refresh(&mut c, &r0).unwrap(), &["refresh_token"]).to_string();
    let r2 = str_of(&refresh(&mut c, &r1).unwrap(), &["refresh_token"]).to_string();
    thread::sleep(Duration::from_millis(1500));

    // r0 is two generations old and past the interval: an attacker's copy
    let err = refresh(&mut c, &r0).unwrap_err();
    assert_eq!(
        pt_error(&err),
        ("PT400".into(), "refresh_token_already_used".into())
    );
    // the revocation was committed although the call failed: the legitimate holder is out too
    let live: i64 = c
        .query_one(
            "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid AND NOT revoked",
            &[&sid],
        )
        .unwrap()
        .get(0);
    assert_eq!(live, 0, "no token of the family survives");
    let err = refresh(&mut c, &r2).unwrap_err();
    assert_eq!(pt_error(&err).1, "refresh_token_already_used");
    // presenting old tokens again does not revoke again
    let _ = refresh(&mut c, &r0).unwrap_err();
    let _ = refresh(&mut c, &r1).unwrap_err();
    let revocations: i64 = c
        .query_one(
            "SELECT count(*) FROM auth.audit_log_entries
              WHERE payload->>'action' = 'token_revoked' AND payload->'traits'->>'session_id' = $1",
            &[&sid],
        )
        .unwrap()
        .get(0);
    assert_eq!(revocations, 1);
    // other sessions of the user are untouched
    let other = call(
        &mut c,
        "SELECT auth.sign_in_with_password($1, $2)::text",
        &["stolen@example.com", "stolen-token-password"],
    )
    .unwrap();
    refresh(&mut c, str_of(&other, &["refresh_token"])).expect("a fresh session still refreshes");
}

#[test]
fn the_parent_of_the_current_token_may_retry_after_the_interval() {
    let url = fresh_db("race_parent");
    let mut c = connect(&url);
    c.batch_execute("SELECT auth.configure('{\"refresh_token_reuse_interval\": 1}')")
        .unwrap();
    let s = sign_up(&mut c, "flaky@example.com", "flaky-network-password");
    let r0 = str_of(&s, &["refresh_token"]).to_string();
    let r1 = str_of(&refresh(&mut c, &r0).unwrap(), &["refresh_token"]).to_string();
    thread::sleep(Duration::from_millis(1500));
    let again =
        refresh(&mut c, &r0).expect("the response was lost; the retry gets the current token");
    assert_eq!(str_of(&again, &["refresh_token"]), r1);
}

#[test]
fn sign_out_racing_refreshes_leaves_no_usable_token() {
    let url = fresh_db("race_signout");
    let mut c = connect(&url);
    let s = sign_up(&mut c, "leaving@example.com", "leaving-now-password");
    let access = str_of(&s, &["access_token"]).to_string();
    let sid = session_id(&mut c, &access);
    let claims = call(&mut c, "SELECT auth.verify_jwt($1)::text", &[&access])
        .unwrap()
        .to_string();
    let mut token = str_of(&s, &["refresh_token"]).to_string();

    let barrier = Arc::new(Barrier::new(21));
    let mut handles = Vec::new();
    for _ in 0..20 {
        let (url, t, b) = (url.clone(), token.clone(), barrier.clone());
        handles.push(thread::spawn(move || {
            let mut c = connect(&url);
            b.wait();
            refresh(&mut c, &t)
                .ok()
                .map(|s| str_of(&s, &["refresh_token"]).to_string())
        }));
    }
    let (u2, b2) = (url.clone(), barrier.clone());
    let signer = thread::spawn(move || {
        let mut c = connect(&u2);
        b2.wait();
        let mut tx = c.transaction().unwrap();
        tx.execute(
            "SELECT set_config('request.jwt.claims', $1, true)",
            &[&claims],
        )
        .unwrap();
        tx.execute("SELECT auth.sign_out('local')", &[]).unwrap();
        tx.commit().unwrap();
    });
    signer.join().unwrap();
    let mut issued: Vec<String> = handles
        .into_iter()
        .filter_map(|h| h.join().unwrap())
        .collect();
    issued.push(std::mem::take(&mut token));
    for t in issued {
        let err = refresh(&mut c, &t).expect_err("no refresh token outlives the sign-out");
        assert_eq!(pt_error(&err).1, "refresh_token_not_found");
    }
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid",
            &[&sid],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

/// A transaction that changes a token without the session lock (an operator's UPDATE, or a
/// revocation worker that outlived its caller) while a refresh of it waits: the refresh must not
/// hand out a child token it did not store.
#[test]
fn a_token_revoked_while_its_refresh_waits_yields_no_unstored_child() {
    let url = fresh_db("race_revoked_meanwhile");
    let mut c = connect(&url);
    let s = sign_up(&mut c, "meanwhile@example.com", "meanwhile-password");
    let r0 = str_of(&s, &["refresh_token"]).to_string();

    let mut operator = connect(&url);
    let mut tx = operator.transaction().unwrap();
    tx.execute(
        "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE NOT revoked",
        &[],
    )
    .unwrap();
    let waiting = {
        let (url, r0) = (url.clone(), r0.clone());
        thread::spawn(move || refresh(&mut connect(&url), &r0).map_err(|e| pt_error(&e)))
    };
    // Let the refresh reach the token row the operator holds, then commit the revocation.
    let mut watcher = connect(&url);
    let mut waited = false;
    for _ in 0..250 {
        let waits: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                &[],
            )
            .unwrap()
            .get(0);
        if waits > 0 {
            waited = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    tx.commit().unwrap();
    assert!(
        waited,
        "the refresh never waited on the operator's row lock"
    );

    match waiting.join().unwrap() {
        Err((_, code)) => assert_eq!(code, "refresh_token_already_used"),
        Ok(session) => {
            // Whatever it returned must be a stored, usable token.
            let r1 = str_of(&session, &["refresh_token"]);
            refresh(&mut c, r1).expect("a refresh token handed out must exist");
        }
    }
}
