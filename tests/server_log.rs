//! Nothing secret reaches the server log, and hostile request settings end in PTxxx errors:
//! statements that pass a password, token or secret to auth_ext and fail before its code runs
//! (a malformed argument, permission denied, a wrong argument count, a NUL character), or that
//! `log_statement` records, must not appear in the log with their literals or parameters
//! (`emit_log_hook`, needs `shared_preload_libraries = 'auth_ext'`, as ./test sets).

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::Command;

use auth_ext_tests::*;

/// The test cluster's log: start_cluster writes it beside the data directory.
fn server_log(c: &mut postgres::Client) -> PathBuf {
    let data: String = c
        .query_one("SELECT current_setting('data_directory')", &[])
        .unwrap()
        .get(0);
    PathBuf::from(data).parent().unwrap().join("server.log")
}

fn log_since(path: &PathBuf, offset: u64) -> String {
    let mut f = std::fs::File::open(path).expect("the server log is readable");
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut out = String::new();
    f.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn credentials_in_failing_statements_stay_out_of_the_server_log() {
    let url = fresh_db("server_log");
    let mut c = connect(&url);
    let log = server_log(&mut c);
    let start = std::fs::metadata(&log).unwrap().len();
    c.batch_execute(
        "CREATE ROLE log_probe LOGIN; GRANT anon TO log_probe;
         SELECT auth.sign_up('logged@example.com', 'the-right-password')",
    )
    .unwrap();
    // Each statement fails before auth_ext's code is entered, or is logged by log_statement.
    let failing = [
        "SELECT auth.sign_up('a@example.com', 'SECRET-MALFORMED-DATA', '{not json')",
        "SELECT auth.sign_in_with_password('a@example.com', 'SECRET-WRONG-ARITY', 'extra')",
        "SELECT auth.sign_up('a' || chr(0), 'SECRET-NUL-EMAIL')",
        "SELECT auth_api.refresh_session(1/0 || 'SECRET-DIVISION')",
        // the JSON parser quotes the bad token in DETAIL and the text in CONTEXT
        "SELECT auth.update_user('{\"password\": \"SECRET-JSON-DETAIL\" x}')",
    ];
    for sql in failing {
        // a fresh connection each: the library must already be loaded (preloaded) to redact
        let mut fresh = connect(&url);
        assert!(fresh.batch_execute(sql).is_err(), "{sql} should fail");
    }
    let mut anon = connect(&url.replace("user=postgres", "user=log_probe"));
    assert!(anon
        .batch_execute("SELECT auth_api.update_user('{\"password\": \"SECRET-NO-PRIVILEGE\"}')")
        .is_err());
    // log_statement = all: simple and extended protocol, with bound parameters
    let mut logged = connect(&url);
    logged
        .batch_execute("SET log_statement = 'all'; SET log_parameter_max_length_on_error = -1")
        .unwrap();
    let _ = logged.batch_execute(
        "SELECT auth.sign_in_with_password('logged@example.com', 'SECRET-LOG-STATEMENT')",
    );
    let _ = logged.query(
        "SELECT auth.sign_in_with_password($1, $2)::text",
        &[&"logged@example.com", &"SECRET-BOUND-PARAMETER"],
    );
    // a failing call with its parameters in the error's CONTEXT (log_parameter_max_length_on_error)
    let failed = logged.query(
        "SELECT auth.sign_in_with_password($1, $2)::text",
        &[&"logged@example.com", &"SECRET-PARAMETER-ON-ERROR"],
    );
    let failed = failed.expect_err("a wrong password fails");
    assert_eq!(
        pt_error(&failed).1,
        "invalid_credentials",
        "auth_ext's DETAIL reaches the client"
    );
    logged
        .batch_execute("SELECT 'visible-marker' AS ordinary_statement")
        .unwrap();
    drop(logged);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = log_since(&log, start);
    // The test can fail: the errors and the ordinary statement did reach the log.
    assert!(
        text.contains("invalid input syntax for type json"),
        "log: {text}"
    );
    assert!(text.contains("permission denied"), "log: {text}");
    assert!(
        text.contains("visible-marker"),
        "ordinary statements stay logged: {text}"
    );
    assert!(text.contains("redacted by auth_ext"), "log: {text}");
    let leaked: Vec<&str> = text.lines().filter(|l| l.contains("SECRET-")).collect();
    assert!(
        leaked.is_empty(),
        "a credential reached the server log: {leaked:?}"
    );
    c.batch_execute("DROP OWNED BY log_probe; DROP ROLE log_probe")
        .unwrap();
}

#[test]
fn claims_that_are_not_utf8_are_a_bad_token() {
    // Startup options are not checked against the database encoding: the one way a client can
    // put bytes that are not UTF-8 into request.jwt.claims.
    let url = fresh_db("claims_bytes");
    let pg_bin = std::env::var("AUTH_EXT_PG_BIN")
        .or_else(|_| std::env::var("PG_BIN"))
        .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let mut options = b"-c request.jwt.claims={\"sub\":\"".to_vec();
    options.extend_from_slice(&[0xff, 0xfe]);
    options.extend_from_slice(b"\"}");
    let out = Command::new(format!("{pg_bin}/psql"))
        .args([
            "-X",
            "-At",
            "-v",
            "VERBOSITY=verbose",
            "-d",
            &url,
            "-c",
            "SELECT auth.uid()",
        ])
        .env("PGOPTIONS", OsString::from_vec(options))
        .output()
        .expect("psql runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("PT401"), "{stderr}");
    assert!(stderr.contains("bad_jwt"), "{stderr}");
}
