//! Helpers for the client-side tests: a fresh database with auth_ext per test, connections, and
//! reading the PTxxx errors the way a client sees them.
//!
//! The server comes from `./test`, which exports `AUTH_EXT_TEST_URL` (a libpq key=value string
//! without dbname).

use postgres::{Client, NoTls};
use serde_json::Value;

pub fn server_url() -> String {
    std::env::var("AUTH_EXT_TEST_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=54330 user=postgres".to_string())
}

/// Creates (or recreates) database `name` with auth_ext installed and cheap argon2 settings
/// (the cost is tested in pg_test/); returns its connection string.
pub fn fresh_db(name: &str) -> String {
    let mut admin = Client::connect(&format!("{} dbname=postgres", server_url()), NoTls)
        .expect("connect to the test server");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = format!("{} dbname={name}", server_url());
    let mut c = connect(&url);
    c.batch_execute(
        "CREATE EXTENSION auth_ext;
         SELECT auth.configure('{\"argon2_memory_kib\": 1024, \"argon2_iterations\": 1}');",
    )
    .unwrap();
    url
}

/// [`fresh_db`] with `settings` applied (`auth.configure`), and a connection to it.
pub fn fresh_db_configured(name: &str, settings: &str) -> (String, Client) {
    let url = fresh_db(name);
    let mut c = connect(&url);
    c.execute("SELECT auth.configure($1::text::jsonb)", &[&settings])
        .expect("configure");
    (url, c)
}

pub fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).expect("connect")
}

/// Calls a jsonb-returning function with text arguments.
pub fn call(c: &mut Client, sql: &str, args: &[&str]) -> Result<Value, postgres::Error> {
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args.iter().map(|a| a as _).collect();
    let row = c.query_one(sql, &params)?;
    let text: String = row.get(0);
    Ok(serde_json::from_str(&text).unwrap())
}

/// `(SQLSTATE, DETAIL)` of a database error.
pub fn pt_error(e: &postgres::Error) -> (String, String) {
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {e}"));
    (
        db.code().code().to_string(),
        db.detail().unwrap_or("").to_string(),
    )
}

pub fn sign_up(c: &mut Client, email: &str, password: &str) -> Value {
    call(c, "SELECT auth.sign_up($1, $2)::text", &[email, password]).unwrap()
}

pub fn refresh(c: &mut Client, token: &str) -> Result<Value, postgres::Error> {
    call(c, "SELECT auth.refresh_session($1)::text", &[token])
}

pub fn str_of<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("{path:?} missing in {v}"))
}
