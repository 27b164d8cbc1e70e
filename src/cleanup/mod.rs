//! `auth.cleanup`: deletes what the flows leave behind once it can no longer matter (ended
//! sessions, spent refresh tokens, expired one-time tokens, flow states and social-login states,
//! sent mail, old audit
//! entries),
//! in bounded batches that concurrent runs share without waiting on each other.

use std::sync::LazyLock;

use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::db;
use crate::error::guard;
use crate::fragments;
use crate::instance;

// Each statement locks its batch in a subselect and deletes `id = ANY (ARRAY(batch))`, through
// the primary key: `id IN (batch)` may be planned as a hash join over the whole table.
static SESSIONS: &str = include_str!("sessions.sql");
static REFRESH_TOKENS: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("refresh_tokens.sql")));
static ONE_TIME_TOKENS: &str = include_str!("one_time_tokens.sql");
static FLOW_STATE: &str = include_str!("flow_state.sql");
static OAUTH_STATES: &str = include_str!("oauth_states.sql");
static SAML_RELAY_STATES: &str = include_str!("saml_relay_states.sql");
static SAML_ASSERTIONS_SEEN: &str = include_str!("saml_assertions_seen.sql");
static MFA: &str = include_str!("mfa.sql");
static WEBAUTHN_CHALLENGES: &str = include_str!("webauthn_challenges.sql");
static AUDIT_LOG_ENTRIES: &str = include_str!("audit_log_entries.sql");
static OUTBOX: &str = include_str!("outbox.sql");

/// How long past the longest code lifetime a one-time token is kept: a verification that read it
/// just in time has long finished, and clocks that disagree a little change nothing.
const ONE_TIME_MARGIN_SECS: i64 = 3600;

/// The largest batch: one call stays a short transaction whatever it is given.
const MAX_ROWS: i32 = 100_000;

/// `auth.cleanup(max_rows)`: deletes at most `max_rows` rows from each table, oldest first, and
/// returns how many went from each (`{"sessions": n, "refresh_tokens": n, "one_time_tokens": n,
/// "flow_state": n, "oauth_states": n, "saml_relay_states": n, "saml_assertions_seen": n,
/// "mfa_challenges": n, "mfa_factors": n, "webauthn_challenges": n, "outbox": n,
/// "audit_log_entries": n}`; a session's refresh tokens, which go with it, are not counted). Rows that a concurrent run has locked are skipped (`FOR UPDATE SKIP LOCKED`),
/// so runs never wait on each other; a backlog takes several calls. Schedule it with pg_cron:
///
/// ```sql
/// SELECT cron.schedule('auth-cleanup', '*/5 * * * *', 'SELECT auth.cleanup()');
/// ```
///
/// docs/cleanup.md says what each table keeps.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn cleanup(max_rows: default!(Option<i32>, 1000)) -> JsonB {
    guard(move || {
        let max_rows = match max_rows {
            Some(n) if (1..=MAX_ROWS).contains(&n) => i64::from(n),
            _ => {
                return Err(AuthError::validation(format!(
                    "max_rows must be between 1 and {MAX_ROWS}"
                )))
            }
        };
        let inst = instance::get()?;
        let s = &inst.settings;
        let sessions = db::exec(
            SESSIONS,
            &[
                max_rows.into(),
                s.sessions.sessions_timebox.into(),
                s.sessions.sessions_inactivity_timeout.into(),
            ],
        )?;
        if sessions > 0 {
            // The current claims' session may have been one of them.
            crate::claims::forget_session_checks();
        }
        let refresh_tokens = db::exec(
            REFRESH_TOKENS.as_str(),
            &[
                max_rows.into(),
                s.sessions.sessions_timebox.into(),
                s.sessions.sessions_inactivity_timeout.into(),
            ],
        )?;
        let code_lifetime = s.mailer.mailer_otp_exp.max(s.phone.sms_otp_exp);
        let one_time_tokens = db::exec(
            ONE_TIME_TOKENS,
            &[
                max_rows.into(),
                ((code_lifetime + ONE_TIME_MARGIN_SECS) as f64).into(),
            ],
        )?;
        let flow_state = db::exec(FLOW_STATE, &[max_rows.into()])?;
        let oauth_states = db::exec(OAUTH_STATES, &[max_rows.into()])?;
        let relay_state_age = (s.sso.saml_relay_state_validity_period + 3600) as f64;
        let saml_relay_states = db::exec(
            SAML_RELAY_STATES,
            &[max_rows.into(), relay_state_age.into()],
        )?;
        let saml_assertions_seen = db::exec(SAML_ASSERTIONS_SEEN, &[max_rows.into()])?;
        let mfa = db::json(MFA, &[max_rows.into()])?.unwrap_or_default();
        let webauthn_challenges = db::exec(WEBAUTHN_CHALLENGES, &[max_rows.into()])?;
        let outbox = db::exec(OUTBOX, &[max_rows.into()])?;
        let retention_days = s.retention.audit_log_retention_days;
        let audit_log_entries = if retention_days > 0 {
            db::exec(
                AUDIT_LOG_ENTRIES,
                &[max_rows.into(), (retention_days as i32).into()],
            )?
        } else {
            0
        };
        Ok(JsonB(json!({
            "sessions": sessions,
            "refresh_tokens": refresh_tokens,
            "one_time_tokens": one_time_tokens,
            "flow_state": flow_state,
            "oauth_states": oauth_states,
            "saml_relay_states": saml_relay_states,
            "saml_assertions_seen": saml_assertions_seen,
            "mfa_challenges": mfa["mfa_challenges"],
            "mfa_factors": mfa["mfa_factors"],
            "webauthn_challenges": webauthn_challenges,
            "outbox": outbox,
            "audit_log_entries": audit_log_entries,
        })))
    })
}

pgrx::extension_sql_file!("api.sql", name = "cleanup_api", requires = [cleanup]);
