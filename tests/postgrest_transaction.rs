//! PostgREST's per-request transaction, reproduced over a real connection as its login role
//! `authenticator` (shared/reference/postgrest.md): one statement of set_config(..., true) for
//! search_path, role, request.jwt.claims, request.method, request.path and request.headers,
//! then the RPC call or the table query, then COMMIT. Several requests share one connection, as
//! in PostgREST's pool, so claims must never leak from one to the next.

use auth_ext_tests::*;
use postgres::Client;
use serde_json::{json, Value};

/// One PostgREST request: `claims` of None means no bearer token (db-anon-role).
fn request(
    c: &mut Client,
    claims: Option<&Value>,
    path: &str,
    sql: &str,
    args: &[&str],
) -> Result<Vec<String>, (String, String)> {
    let (role, claims_text) = match claims {
        Some(cl) => (cl["role"].as_str().unwrap().to_string(), cl.to_string()),
        None => ("anon".to_string(), json!({"role": "anon"}).to_string()),
    };
    let mut tx = c.transaction().unwrap();
    tx.execute(
        "SELECT set_config('search_path', 'auth_api, public', true), set_config('role', $1, true),
                set_config('request.jwt.claims', $2, true), set_config('request.method', 'POST', true),
                set_config('request.path', $3, true),
                set_config('request.headers', '{\"user-agent\":\"postgrest-test\"}', true)",
        &[&role, &claims_text, &path],
    )
    .unwrap();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args.iter().map(|a| a as _).collect();
    match tx.query(sql, &params) {
        Ok(rows) => {
            tx.commit().unwrap();
            Ok(rows
                .iter()
                .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
                .collect())
        }
        Err(e) => Err(pt_error(&e)),
    }
}

fn verify(c: &mut Client, token: &str) -> Value {
    // PostgREST verifies the JWT itself with the shared secret; auth.verify_jwt is the same check.
    call(c, "SELECT auth.verify_jwt($1)::text", &[token]).unwrap()
}

#[test]
fn rls_through_postgrest_requests() {
    let url = fresh_db("postgrest_flow");
    let mut admin = connect(&url);
    admin
        .batch_execute(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
                     CREATE ROLE authenticator LOGIN NOINHERIT;
                 END IF;
             END $$;
             GRANT anon, authenticated, service_role TO authenticator;
             CREATE TABLE public.todos (id serial PRIMARY KEY, user_id uuid NOT NULL DEFAULT auth.uid(), task text);
             ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own ON public.todos TO authenticated USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
             GRANT SELECT, INSERT ON public.todos TO authenticated, service_role;
             GRANT USAGE, SELECT ON SEQUENCE public.todos_id_seq TO authenticated, service_role;",
        )
        .unwrap();
    let mut c = connect(&format!("{url} user=authenticator"));

    // POST /rpc/sign_up and /rpc/sign_in_with_password without a token
    let body =
        |r: Result<Vec<String>, _>| -> Value { serde_json::from_str(&r.unwrap()[0]).unwrap() };
    body(request(
        &mut c,
        None,
        "/rpc/sign_up",
        "SELECT sign_up($1, $2)::text",
        &["ann@example.com", "anns-password"],
    ));
    let bob = body(request(
        &mut c,
        None,
        "/rpc/sign_up",
        "SELECT sign_up($1, $2)::text",
        &["bob@example.com", "bobs-password"],
    ));
    let ann = body(request(
        &mut c,
        None,
        "/rpc/sign_in_with_password",
        "SELECT sign_in_with_password($1, $2)::text",
        &["ann@example.com", "anns-password"],
    ));
    let ann_claims = verify(&mut admin, str_of(&ann, &["access_token"]));
    let bob_claims = verify(&mut admin, str_of(&bob, &["access_token"]));

    // each user writes todos through the table (POST /todos); user_id defaults to auth.uid()
    for (claims, task) in [
        (&ann_claims, "ann 1"),
        (&ann_claims, "ann 2"),
        (&bob_claims, "bob 1"),
    ] {
        request(
            &mut c,
            Some(claims),
            "/todos",
            "INSERT INTO todos (task) VALUES ($1) RETURNING task",
            &[task],
        )
        .unwrap();
    }
    // writing a row for someone else is refused by the policy
    let forged = request(
        &mut c,
        Some(&ann_claims),
        "/todos",
        "INSERT INTO todos (user_id, task) VALUES ($1::text::uuid, 'forged') RETURNING task",
        &[str_of(&bob_claims, &["sub"])],
    );
    assert_eq!(forged.unwrap_err().0, "42501");

    // GET /todos, interleaved on one connection: each request sees only its own user's rows
    for _ in 0..3 {
        let rows = request(
            &mut c,
            Some(&ann_claims),
            "/todos",
            "SELECT task FROM todos ORDER BY id",
            &[],
        )
        .unwrap();
        assert_eq!(rows, vec!["ann 1", "ann 2"]);
        let rows = request(
            &mut c,
            Some(&bob_claims),
            "/todos",
            "SELECT task FROM todos ORDER BY id",
            &[],
        )
        .unwrap();
        assert_eq!(rows, vec!["bob 1"]);
        let rows = request(
            &mut c,
            None,
            "/todos",
            "SELECT task FROM todos ORDER BY id",
            &[],
        );
        assert_eq!(
            rows.unwrap_err().0,
            "42501",
            "anon has no grant on todos at all"
        );
        let service = json!({"role": "service_role"});
        let rows = request(
            &mut c,
            Some(&service),
            "/todos",
            "SELECT task FROM todos ORDER BY id",
            &[],
        )
        .unwrap();
        assert_eq!(rows.len(), 3, "service_role sees everything");
        // after each request the claims are gone: a request without a token has no uid
        let uid = request(&mut c, None, "/rpc/x", "SELECT auth.uid()::text", &[]).unwrap();
        assert_eq!(uid, vec![String::new()]);
    }

    // POST /rpc/get_user with and without a token
    let me = request(
        &mut c,
        Some(&bob_claims),
        "/rpc/get_user",
        "SELECT get_user()::text",
        &[],
    )
    .unwrap();
    assert_eq!(
        str_of(&serde_json::from_str(&me[0]).unwrap(), &["email"]),
        "bob@example.com"
    );
    let anon = request(
        &mut c,
        None,
        "/rpc/get_user",
        "SELECT get_user()::text",
        &[],
    );
    assert_eq!(anon.unwrap_err().0, "42501");

    // errors arrive as PTxxx with the GoTrue code in DETAIL, which PostgREST maps to HTTP
    let wrong = request(
        &mut c,
        None,
        "/rpc/sign_in_with_password",
        "SELECT sign_in_with_password($1, $2)::text",
        &["ann@example.com", "not-anns-password"],
    );
    assert_eq!(
        wrong.unwrap_err(),
        ("PT400".to_string(), "invalid_credentials".to_string())
    );
    let weak = request(
        &mut c,
        None,
        "/rpc/sign_up",
        "SELECT sign_up($1, $2)::text",
        &["cy@example.com", "short"],
    );
    assert_eq!(
        weak.unwrap_err(),
        ("PT422".to_string(), "weak_password".to_string())
    );

    // POST /rpc/sign_out as bob, then his token's session is gone for get_user
    request(
        &mut c,
        Some(&bob_claims),
        "/rpc/sign_out",
        "SELECT sign_out('global')::text",
        &[],
    )
    .unwrap();
    let gone = request(
        &mut c,
        Some(&bob_claims),
        "/rpc/get_user",
        "SELECT get_user()::text",
        &[],
    );
    assert_eq!(
        gone.unwrap_err(),
        ("PT403".to_string(), "session_not_found".to_string())
    );
}
