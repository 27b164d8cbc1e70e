//! Through PgBouncer in transaction mode, where consecutive transactions of one client land on
//! different server connections and one server connection serves many clients: claims
//! established for one transaction (by `auth.authenticate()` or PostgREST-style `set_config`)
//! must never be seen by another. 10,000 interleaved requests as different users; leaks must be 0.
//!
//! `./test` starts PgBouncer and exports AUTH_EXT_POOLER_URL; the database `pooler` behind it has
//! auth_ext with `claims_trust = 'verified'`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use auth_ext_tests::*;

const CLIENTS: usize = 8;
const REQUESTS: usize = 10_000;

#[test]
fn claims_never_leak_between_pooled_transactions() {
    let Ok(pooler) = std::env::var("AUTH_EXT_POOLER_URL") else {
        panic!("AUTH_EXT_POOLER_URL is not set: run through ./test, which starts PgBouncer");
    };
    let direct = format!("{} dbname=pooler", server_url());
    let mut admin = connect(&direct);
    // one user and access token per client
    let tokens: Vec<(String, String)> = (0..CLIENTS)
        .map(|i| {
            let s = sign_up(
                &mut admin,
                &format!("pooled-{i}@example.com"),
                "pooled-password",
            );
            (
                str_of(&s, &["user", "id"]).to_string(),
                str_of(&s, &["access_token"]).to_string(),
            )
        })
        .collect();
    let tokens = Arc::new(tokens);
    let (done, leaks) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (pooler, tokens, done, leaks) =
                (pooler.clone(), tokens.clone(), done.clone(), leaks.clone());
            thread::spawn(move || {
                let mut c = connect(&format!("{pooler} dbname=pooler"));
                let mut n = 0usize;
                while done.fetch_add(1, Ordering::SeqCst) < REQUESTS {
                    // rotate through the users so neighbouring transactions carry different claims
                    let (uid, token) = &tokens[(i + n) % CLIENTS];
                    n += 1;
                    let mut tx = c.transaction().unwrap();
                    tx.execute("SELECT auth.authenticate($1)", &[token])
                        .unwrap();
                    let seen: Option<String> =
                        tx.query_one("SELECT auth.uid()::text", &[]).unwrap().get(0);
                    tx.commit().unwrap();
                    if seen.as_deref() != Some(uid.as_str()) {
                        leaks.fetch_add(1, Ordering::SeqCst);
                    }
                    // the next transaction, on whatever server connection, has no claims at all
                    // (simple protocol: PgBouncer 1.18 keeps no prepared statements outside a
                    // transaction)
                    let after = c
                        .simple_query("SELECT auth.uid()::text")
                        .unwrap()
                        .into_iter()
                        .find_map(|m| match m {
                            postgres::SimpleQueryMessage::Row(r) => {
                                Some(r.get(0).map(str::to_owned))
                            }
                            _ => None,
                        })
                        .flatten();
                    if after.is_some() {
                        leaks.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let leaks = leaks.load(Ordering::SeqCst);
    println!("pooler: {REQUESTS} requests through PgBouncer (transaction mode), {leaks} leaks");
    assert_eq!(leaks, 0);
}
