//! The passkey row's fixtures (bench/run, `mfa` section): N users, each with one passkey, and M
//! signed sign-ins per user, written to stdout as a psql script (COPY data inline).
//!
//! passkey_fixtures --users N --per-user M [--rp-id bench.example.com]
//!                  [--origin https://bench.example.com] [--rp-name Bench]
//!
//! The passkeys are made by core/src/mfa/webauthn.rs's software authenticator (`SoftKey`, behind
//! auth_core's `soft-authenticator` feature, which only this crate enables): each is registered
//! through the real ceremony (`start_registration` / `finish_registration`), so the stored
//! credential is what `auth.passkey_registration_verify` would have stored. The script inserts:
//!
//! - the users (`passkey-<n>@example.com`, email confirmed, no password: they sign in with their
//!   passkey), their email identities and their passkeys (`auth.webauthn_credentials`, counter 0);
//! - N x M sign-in challenges (`auth.webauthn_challenges`, the state of
//!   `start_authentication(rp, Flow::Passkey, &[])`, no user as a sign-in's has none, expiring in
//!   2100: the row measures verification, not expiry);
//! - `public.bench_passkey (k, challenge_id, credential)`: row k (from 1) is the assertion that
//!   answers challenge k, signed by user (k - 1) / M's passkey with counter (k - 1) % M + 1. A
//!   user's assertions are consecutive and their counters increase with k, so a client that walks
//!   its own range of k upwards (bench/pgbench/passkey.sql; ranges made of whole users) presents
//!   each user's counters in increasing order, as the counter check requires.
//!
//! The relying party must be the one the database is configured with (`webauthn_rp_id`,
//! `webauthn_rp_origins`), or every assertion is refused.

use std::io::{BufWriter, Write};

use auth_core::mfa::webauthn::soft::SoftKey;
use auth_core::mfa::webauthn::{self, Flow, RelyingParty};
use uuid::Uuid;

/// The challenges' expiry: far beyond any run (a sign-in challenge's has no user either).
const EXPIRES_AT: &str = "2100-01-01 00:00:00+00";

struct Args {
    users: usize,
    per_user: usize,
    rp_id: String,
    origin: String,
    rp_name: String,
}

fn args() -> Args {
    let mut a = Args {
        users: 0,
        per_user: 0,
        rp_id: "bench.example.com".into(),
        origin: "https://bench.example.com".into(),
        rp_name: "Bench".into(),
    };
    let mut it = std::env::args().skip(1);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        match k.as_str() {
            "--users" => a.users = v.parse().expect("--users"),
            "--per-user" => a.per_user = v.parse().expect("--per-user"),
            "--rp-id" => a.rp_id = v,
            "--origin" => a.origin = v,
            "--rp-name" => a.rp_name = v,
            _ => panic!("unknown flag {k}"),
        }
    }
    assert!(
        a.users > 0 && a.per_user > 0,
        "usage: passkey_fixtures --users N --per-user M [--rp-id ID] [--origin URL] [--rp-name NAME]"
    );
    a
}

/// A value for COPY's text format: backslash, tab, newline and carriage return escaped.
fn copy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// A bytea value for COPY's text format (`\x` hex, its backslash escaped).
fn copy_bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(3 + 2 * bytes.len());
    out.push_str("\\\\x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// One user's lines: its row for the staging table, its challenges' and assertions' rows.
struct UserRows {
    user: String,
    challenges: Vec<String>,
    assertions: Vec<String>,
}

/// User `n` (0-based): a passkey registered through the real ceremony, then `per_user` sign-ins.
fn user_rows(rp: &RelyingParty, a: &Args, n: usize) -> UserRows {
    let id = Uuid::new_v4();
    let email = format!("passkey-{n}@example.com");
    let mut key = SoftKey::new(&a.rp_id, &a.origin);
    let started = webauthn::start_registration(rp, Flow::Passkey, id, &email, "", &[])
        .expect("registration options");
    let stored = webauthn::finish_registration(rp, &started.state, &key.register(&started.options))
        .expect("the software authenticator registers");
    let user = [
        id.to_string(),
        email,
        copy_bytea(&stored.credential_id_bytes().expect("credential id")),
        copy_bytea(&stored.public_key_bytes().expect("public key")),
        copy_text(&stored.attestation_type),
        stored
            .aaguid
            .map_or_else(|| "\\N".to_owned(), |u| u.to_string()),
        stored.sign_count.to_string(),
        copy_text(&serde_json::to_string(&stored.transports).expect("JSON")),
        stored.backup_eligible.to_string(),
        stored.backed_up.to_string(),
    ]
    .join("\t");

    let handle = id.to_string();
    let mut challenges = Vec::with_capacity(a.per_user);
    let mut assertions = Vec::with_capacity(a.per_user);
    for j in 0..a.per_user {
        let k = n * a.per_user + j + 1;
        let started =
            webauthn::start_authentication(rp, Flow::Passkey, &[]).expect("sign-in options");
        let response = key.sign_in(&started.options, Some(handle.as_bytes()), 1);
        let challenge_id = Uuid::new_v4();
        challenges.push(format!(
            "{challenge_id}\tauthentication\t{}\t{EXPIRES_AT}",
            copy_text(&started.state.to_string())
        ));
        assertions.push(format!("{k}\t{challenge_id}\t{}", copy_text(&response)));
    }
    UserRows {
        user,
        challenges,
        assertions,
    }
}

fn main() {
    let a = args();
    let rp = RelyingParty::new(&a.rp_id, &a.rp_name, &[a.origin.as_str()])
        .expect("a valid relying party");

    // The signatures are the work: the users shared out among the cores, kept in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = a.users.div_ceil(threads);
    let rows: Vec<UserRows> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.users)
            .step_by(chunk)
            .map(|first| {
                let (rp, a) = (&rp, &a);
                s.spawn(move || {
                    (first..(first + chunk).min(a.users))
                        .map(|n| user_rows(rp, a, n))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a fixture thread"))
            .collect()
    });

    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let w = &mut out;
    writeln!(
        w,
        "-- bench/src/passkey_fixtures.rs: {} users x {} passkey sign-ins, relying party {} ({})\n\
         \\set ON_ERROR_STOP on\n\
         BEGIN;\n\
         CREATE TEMP TABLE passkey_users (id uuid, email text, credential_id bytea, public_key bytea,\n\
         \x20   attestation_type text, aaguid uuid, sign_count bigint, transports jsonb,\n\
         \x20   backup_eligible boolean, backed_up boolean) ON COMMIT DROP;\n\
         COPY passkey_users FROM stdin;",
        a.users, a.per_user, a.rp_id, a.origin
    )
    .unwrap();
    for r in &rows {
        writeln!(w, "{}", r.user).unwrap();
    }
    writeln!(
        w,
        "\\.\n\
         INSERT INTO auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,\n\
         \x20                       raw_app_meta_data, raw_user_meta_data, created_at, updated_at)\n\
         SELECT id, 'authenticated', 'authenticated', email, '', now(),\n\
         \x20      '{{\"provider\": \"email\", \"providers\": [\"email\"]}}', '{{}}', now(), now() FROM passkey_users;\n\
         INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)\n\
         SELECT id::text, id, jsonb_build_object('sub', id::text, 'email', email), 'email', now(), now() FROM passkey_users;\n\
         INSERT INTO auth.webauthn_credentials (id, user_id, credential_id, public_key, attestation_type,\n\
         \x20   aaguid, sign_count, transports, backup_eligible, backed_up)\n\
         SELECT gen_random_uuid(), id, credential_id, public_key, attestation_type, aaguid, sign_count,\n\
         \x20      transports, backup_eligible, backed_up FROM passkey_users;\n\
         COPY auth.webauthn_challenges (id, challenge_type, session_data, expires_at) FROM stdin;"
    )
    .unwrap();
    for r in &rows {
        for line in &r.challenges {
            writeln!(w, "{line}").unwrap();
        }
    }
    writeln!(
        w,
        "\\.\n\
         CREATE TABLE public.bench_passkey (k int PRIMARY KEY, challenge_id uuid NOT NULL, credential jsonb NOT NULL);\n\
         COPY public.bench_passkey FROM stdin;"
    )
    .unwrap();
    for r in &rows {
        for line in &r.assertions {
            writeln!(w, "{line}").unwrap();
        }
    }
    writeln!(w, "\\.\nCOMMIT;").unwrap();
    w.flush().unwrap();
}
