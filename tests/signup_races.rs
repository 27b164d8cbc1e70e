//! Two hundred concurrent sign-ups of one email make exactly one user; the rest get
//! `user_already_exists`, never a raw unique-violation.

use std::sync::{Arc, Barrier};
use std::thread;

use auth_ext_tests::*;

#[test]
fn concurrent_sign_ups_of_one_email_make_one_user() {
    const CALLERS: usize = 200;
    let url = fresh_db("race_signup");
    let barrier = Arc::new(Barrier::new(CALLERS));
    let handles: Vec<_> = (0..CALLERS)
        .map(|i| {
            let (url, barrier) = (url.clone(), barrier.clone());
            thread::spawn(move || {
                let mut c = connect(&url);
                // the same address in different spellings
                let email = if i % 2 == 0 {
                    "Twin@Example.com"
                } else {
                    " twin@example.com"
                };
                barrier.wait();
                call(
                    &mut c,
                    "SELECT auth.sign_up($1, $2)::text",
                    &[email, "twin-password-1"],
                )
                .map_err(|e| pt_error(&e))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one sign-up succeeds");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r, &("PT422".to_string(), "user_already_exists".to_string()));
    }
    let mut c = connect(&url);
    let users: i64 = c
        .query_one("SELECT count(*) FROM auth.users", &[])
        .unwrap()
        .get(0);
    let identities: i64 = c
        .query_one("SELECT count(*) FROM auth.identities", &[])
        .unwrap()
        .get(0);
    let sessions: i64 = c
        .query_one("SELECT count(*) FROM auth.sessions", &[])
        .unwrap()
        .get(0);
    assert_eq!((users, identities, sessions), (1, 1, 1));
}
