//! Starting a session, for any provider and authentication method, and the GoTrue token
//! response every session-issuing flow returns.

use std::sync::LazyLock;

use auth_core::jwt::{self, TokenContext};
use auth_core::{refresh, AuthError};
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::db;
use crate::error::AuthResult;
use crate::fragments;
use crate::instance::Instance;
use crate::now;
use crate::request::RequestInfo;

static START_SESSION: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("sql/start_session.sql")));

/// Mints the access token for `user` in `session_id` and wraps it in the GoTrue token response.
pub(crate) fn token_response(
    inst: &Instance,
    user: Value,
    session_id: &str,
    aal: &str,
    amr: &[(String, i64)],
    refresh_token: String,
    authentication_method: &str,
) -> AuthResult<Value> {
    let s = &inst.settings;
    let ctx = TokenContext {
        issuer: &s.tokens.jwt_issuer,
        session_id,
        aal,
        amr,
        now: now(),
        lifetime: s.tokens.jwt_exp,
        default_aud: &s.tokens.jwt_aud,
    };
    let claims = jwt::access_token_claims(&user, &ctx);
    // The owner's custom access token hook, at every minting (checked: auth_core::hooks).
    let claims = crate::hooks::access_token_claims(inst, claims, authentication_method)?;
    let access_token = inst.ring.sign(&claims)?;
    Ok(jwt::session_response(
        access_token,
        refresh_token,
        &ctx,
        user,
    ))
}

/// Creates a session and its first refresh token for a user who just authenticated with
/// `provider` by `method`, records the login, and returns the token response.
///
/// With `sessions_single_per_user` the user's other sessions end here, and a refresh refuses a
/// session that is not the user's newest (src/refresh/lock_session.sql; that also covers two
/// sign-ins racing, which cannot see each other's new session). GoTrue only does the latter,
/// among sessions of one tag: its older sessions live on until their access tokens expire and
/// merely fail to refresh. Ending them at once is simpler and stronger (with
/// `revocable_access_tokens` their access tokens stop working at once too).
pub(crate) fn start_session(
    inst: &Instance,
    user_id: pgrx::Uuid,
    email: &str,
    provider: &str,
    method: &str,
    req: &RequestInfo,
) -> AuthResult<Value> {
    start_session_until(inst, user_id, email, provider, method, None, req)
}

/// `start_session` for a session that ends at `not_after` (unix seconds) at the latest: an SSO
/// identity provider's `SessionNotOnOrAfter`.
pub(crate) fn start_session_until(
    inst: &Instance,
    user_id: pgrx::Uuid,
    email: &str,
    provider: &str,
    method: &str,
    not_after: Option<i64>,
    req: &RequestInfo,
) -> AuthResult<Value> {
    let s = &inst.settings;
    let session_id = uuid::Uuid::new_v4();
    let refresh_token = refresh::generate();
    let entry = audit::Entry::new(
        Action::Login,
        &user_id.to_string(),
        Some(email),
        json!({"provider": provider}),
        req,
    );
    let row = db::json(
        START_SESSION.as_str(),
        &[
            entry.payload(),
            entry.ip(),
            db::uuid(session_id).into(),
            user_id.into(),
            refresh::hash(&refresh_token).as_str().into(),
            req.user_agent.as_deref().into(),
            req.ip.as_deref().into(),
            db::INSTANCE_ID.into(),
            method.into(),
            provider.into(),
            s.sessions.sessions_single_per_user.into(),
            not_after.map(|t| t as f64).into(),
        ],
    )?
    .ok_or(AuthError::UserNotFound)?;
    if s.sessions.sessions_single_per_user {
        // A session ended above may be the one this transaction's claims name.
        crate::claims::forget_session_checks();
    }
    let user = row["user"].clone();
    let created = row["created"].as_i64().unwrap_or_else(now);
    token_response(
        inst,
        user,
        &session_id.to_string(),
        "aal1",
        &[(method.to_owned(), created)],
        refresh_token,
        method,
    )
}

/// The implicit flow's redirect: `to` with the session in its fragment (GoTrue's
/// `AsRedirectURL`: `access_token`, `expires_at`, `expires_in`, `refresh_token`,
/// `token_type`, then `extra`, sorted by key).
pub(crate) fn session_fragment(to: &str, session: &Value, extra: &[(&str, &str)]) -> String {
    let field = |k: &str| match &session[k] {
        Value::String(t) => t.clone(),
        other => other.to_string(),
    };
    let (at, rt, ei, ea) = (
        field("access_token"),
        field("refresh_token"),
        field("expires_in"),
        field("expires_at"),
    );
    let mut pairs = vec![
        ("access_token", at.as_str()),
        ("expires_at", ea.as_str()),
        ("expires_in", ei.as_str()),
        ("refresh_token", rt.as_str()),
        ("token_type", "bearer"),
    ];
    pairs.extend_from_slice(extra);
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    auth_core::redirect::with_fragment(to, &pairs)
}
