//! `auth.refresh_session`: a refresh token for a new access token and, with rotation, a new
//! refresh token; a reused token outside the reuse interval revokes its family (src/revoke.rs).

use std::sync::LazyLock;

use auth_core::refresh::{self, LockedToken, Outcome, Rotation};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::audit::{self, Action};
use crate::db;
use crate::error::guard;
use crate::fragments;
use crate::instance;
use crate::request;
use crate::session_start::token_response;

static LOCK_SESSION: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("lock_session.sql")));
static SESSION_EXISTS: &str = include_str!("session_exists.sql");
static ROTATE: LazyLock<String> = LazyLock::new(|| fragments::expand(include_str!("rotate.sql")));

/// A refresh is two statements on its hot path.
///
/// 1. The session's row is updated (its refresh time) through the presented token's hash: the
///    update takes the row lock that serialises every refresh of one session, and its WHERE
///    clause, rechecked on the newest row version after any wait, holds the expiry checks.
///    Nothing else is locked first, so nothing deadlocks.
/// 2. Under READ COMMITTED a new statement sees what the transactions we waited for committed;
///    this one rotates the token if it is still live (revoking it and inserting the child),
///    writes the audit entry, and returns the token's and user's state with the user object.
///
/// Every outcome other than a new token raises an error, which rolls all of it back.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn refresh_session(refresh_token: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        // The request's headers are read once: for the limit here and the audit entry below.
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Token, &req)?;
        let s = &inst.settings;
        let presented = refresh_token.map(str::trim).unwrap_or("");
        if presented.is_empty() {
            return Err(AuthError::validation("A refresh_token is required"));
        }
        if !refresh::plausible(presented) {
            return Err(AuthError::RefreshTokenNotFound);
        }
        let hash = refresh::hash(presented);
        if db::on_standby() {
            // Nothing can be written here; an unknown token is still said to be unknown.
            db::read_json(
                "SELECT to_jsonb(true) FROM auth.refresh_tokens WHERE token = $1",
                &[hash.as_str().into()],
            )?
            .ok_or(AuthError::RefreshTokenNotFound)?;
            return Err(AuthError::ReadOnly);
        }
        // Matching no row (an unknown token: anyone may call this), it writes nothing and
        // assigns no transaction id (db.rs).
        let locked = db::json(
            LOCK_SESSION.as_str(),
            &[
                hash.as_str().into(),
                s.sessions.sessions_timebox.into(),
                s.sessions.sessions_inactivity_timeout.into(),
                s.sessions.sessions_single_per_user.into(),
            ],
        )?;
        let Some(locked) = db::typed::<LockedToken>(locked)? else {
            // Unknown, signed out meanwhile, or expired: only the last says more.
            let expired = db::json(
                SESSION_EXISTS,
                &[
                    hash.as_str().into(),
                    s.sessions.sessions_single_per_user.into(),
                ],
            )?;
            return Err(match expired {
                Some(serde_json::Value::Bool(true)) => AuthError::SessionEndedByNewerLogin,
                Some(_) => AuthError::SessionExpired,
                None => AuthError::RefreshTokenNotFound,
            });
        };
        let token_id = locked.id;
        let session_uuid = locked.session_id;
        let session_id = &session_uuid.to_string();
        let user_id = locked.user_id.to_string();
        let key = &inst.keys.refresh_chain;
        // The child is derived from its parent, so it is known before we know whether the
        // parent is still live; the statement stores it only if it is.
        let child = s
            .sessions
            .refresh_token_rotation_enabled
            .then(|| refresh::derive_child(key, presented));
        let child_hash = child.as_deref().map(refresh::hash);
        let entry = audit::Entry::new(
            Action::TokenRefreshed,
            &user_id,
            locked.email.as_deref(),
            json!({"session_id": session_id}),
            &req,
        );
        let row = db::json(
            ROTATE.as_str(),
            &[
                entry.payload(),
                entry.ip(),
                db::uuid(session_uuid).into(),
                user_id.as_str().into(),
                token_id.into(),
                child_hash.as_deref().into(),
                hash.as_str().into(),
                (s.sessions.refresh_token_reuse_interval as f64).into(),
            ],
        )?;
        // The token row was deleted while we waited.
        let row = db::typed::<Rotation>(row)?.ok_or(AuthError::RefreshTokenNotFound)?;
        let keys = refresh::ChainKeys {
            key: &inst.keys.refresh_chain,
            legacy: &inst.keys.legacy_refresh_chain,
        };
        let outcome = refresh::decide(&row, presented, &hash, child, &keys)?;
        let token = match outcome {
            Outcome::Issue(token) => token,
            Outcome::AlreadyRevoked => return Err(AuthError::RefreshTokenAlreadyUsed),
            Outcome::Reused => {
                // Committed apart from this call (which the error rolls back); fails closed
                // with PT500 if a live token of the family remains (src/revoke.rs).
                crate::revoke::revoke_family(token_id, session_uuid, &req)?;
                return Err(AuthError::RefreshTokenAlreadyUsed);
            }
        };
        token_response(
            &inst,
            row.user,
            session_id,
            &locked.aal,
            &row.amr,
            token,
            "token_refresh",
        )
        .map(JsonB)
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "refresh_api",
    requires = [refresh_session]
);
