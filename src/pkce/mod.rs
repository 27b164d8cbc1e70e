//! PKCE (RFC 7636) for the email and phone flows: a flow state when a code is requested with a
//! `code_challenge`, an auth code when its link is verified, and `exchange_code_for_session`
//! (`POST /token?grant_type=pkce`), which gives the session once.

use auth_core::pkce::{self, Method, FLOW_STATE_LIFETIME_SECS};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;

use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance;
use crate::request;
use crate::session_start::start_session_until;

static START_FLOW: &str = include_str!("start_flow.sql");
static ISSUE_CODE: &str = include_str!("issue_code.sql");
static PROVIDER_FLOW: &str = include_str!("provider_flow.sql");
static TAKE_FLOW: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::fragments::expand(include_str!("take_flow.sql")));

/// Auth codes are stored as their hex SHA-256, as refresh tokens are.
fn code_hash(code: &str) -> String {
    auth_core::refresh::hash(code)
}

/// Starts a flow for a user who asked for a code with a PKCE challenge.
pub(crate) fn start_flow(
    user_id: pgrx::Uuid,
    challenge: &str,
    method: Method,
    auth_method: &str,
) -> AuthResult<()> {
    let placeholder = code_hash(&auth_core::random::token_string());
    db::exec(
        START_FLOW,
        &[
            user_id.into(),
            placeholder.as_str().into(),
            method.as_str().into(),
            challenge.into(),
            auth_method.into(),
        ],
    )?;
    Ok(())
}

/// What a sign-in through an identity provider hands to its PKCE exchange.
pub(crate) struct ProviderFlow<'a> {
    pub(crate) challenge: &'a str,
    pub(crate) method: Method,
    /// The identity's provider (`github`, `sso:<id>`), the session's.
    pub(crate) provider: &'a str,
    /// `oauth` or `sso/saml`.
    pub(crate) auth_method: &'a str,
    pub(crate) provider_tokens: (Option<&'a str>, Option<&'a str>),
    /// The session's end (unix seconds), when the provider set one.
    pub(crate) session_not_after: Option<i64>,
}

/// The `?code=` redirect to `to` that ends a sign-in through an identity provider: a flow state
/// the app exchanges with its verifier for the session.
pub(crate) fn provider_code_redirect(
    to: &str,
    user_id: pgrx::Uuid,
    flow: &ProviderFlow,
) -> AuthResult<String> {
    let code = uuid::Uuid::new_v4().to_string();
    db::exec(
        PROVIDER_FLOW,
        &[
            user_id.into(),
            code_hash(&code).as_str().into(),
            flow.method.as_str().into(),
            flow.challenge.into(),
            flow.provider.into(),
            flow.auth_method.into(),
            flow.provider_tokens.0.into(),
            flow.provider_tokens.1.into(),
            flow.session_not_after.map(|t| t as f64).into(),
        ],
    )?;
    Ok(auth_core::redirect::with_query(
        to,
        &[("code", code.as_str())],
    ))
}

/// Issues the auth code of the user's waiting flow (`?code=` of the redirect).
pub(crate) fn issue_auth_code(user_id: pgrx::Uuid, auth_method: &str) -> AuthResult<String> {
    let code = uuid::Uuid::new_v4().to_string();
    db::json(
        ISSUE_CODE,
        &[
            user_id.into(),
            auth_method.into(),
            code_hash(&code).as_str().into(),
        ],
    )?
    .ok_or(AuthError::FlowStateNotFound)?;
    Ok(code)
}

/// GoTrue's authentication method of a flow, by verification type.
pub(crate) fn auth_method(verify_type: auth_core::otp::VerifyType) -> &'static str {
    use auth_core::otp::VerifyType::*;
    match verify_type {
        Signup | Email | Sms => "email/signup",
        Invite => "invite",
        Magiclink => "magiclink",
        Recovery => "recovery",
        EmailChange => "email_change",
        PhoneChange => "phone_change",
    }
}

/// The amr method of a session a flow starts.
fn amr_of(auth_method: &str) -> &'static str {
    match auth_method {
        "recovery" => "recovery",
        "oauth" => "oauth",
        "sso/saml" => "sso/saml",
        _ => "otp",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flow {
    user_id: Option<uuid::Uuid>,
    code_challenge: String,
    code_challenge_method: String,
    authentication_method: String,
    provider_type: String,
    /// A social login's provider tokens, returned once by the exchange (as GoTrue).
    provider_access_token: Option<String>,
    provider_refresh_token: Option<String>,
    /// An SSO sign-in's session ends when the IdP said (SessionNotOnOrAfter).
    session_not_after: Option<i64>,
    age: f64,
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn exchange_code_for_session(auth_code: Option<&str>, code_verifier: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Token, &req)?;
        let (Some(code), Some(verifier)) = (
            auth_code.filter(|c| !c.is_empty()),
            code_verifier.filter(|v| !v.is_empty()),
        ) else {
            return Err(AuthError::validation(
                "invalid request: both auth code and code verifier should be non-empty",
            ));
        };
        if code.len() > 128 {
            return Err(AuthError::FlowStateNotFound);
        }
        let flow: Flow = db::typed(db::json(
            TAKE_FLOW.as_str(),
            &[code_hash(code).as_str().into()],
        )?)?
        .ok_or(AuthError::FlowStateNotFound)?;
        if flow.age > FLOW_STATE_LIFETIME_SECS as f64 {
            return Err(AuthError::FlowStateExpired);
        }
        let method = match flow.code_challenge_method.as_str() {
            "s256" => Method::S256,
            "plain" => Method::Plain,
            _ => return Err(AuthError::Internal),
        };
        if !pkce::verifier_matches(verifier, &flow.code_challenge, method)? {
            return Err(AuthError::BadCodeVerifier);
        }
        let user_id = db::uuid(flow.user_id.ok_or(AuthError::FlowStateNotFound)?);
        // The user may have been banned or deleted since the code was issued.
        let banned = db::json(
            "SELECT to_jsonb(coalesce(banned_until > now(), false)) FROM auth.users \
              WHERE id = $1 AND deleted_at IS NULL",
            &[user_id.into()],
        )?
        .ok_or(AuthError::FlowStateNotFound)?;
        if banned == serde_json::Value::Bool(true) {
            return Err(AuthError::UserBanned);
        }
        let who = crate::user_object::user_json(user_id, true)?;
        let (provider, address) = match db::str_field(&who, "email").filter(|e| !e.is_empty()) {
            Some(e) => ("email", e.to_owned()),
            None => (
                "phone",
                db::str_field(&who, "phone").unwrap_or("").to_owned(),
            ),
        };
        let oauth = flow.authentication_method == "oauth";
        // A social login's or SSO sign-in's session is the provider's (src/external/, src/sso/).
        let provider = if oauth || flow.authentication_method == "sso/saml" {
            flow.provider_type.as_str()
        } else {
            provider
        };
        let mut session = start_session_until(
            &inst,
            user_id,
            &address,
            provider,
            amr_of(&flow.authentication_method),
            flow.session_not_after,
            &req,
        )?;
        if oauth {
            for (key, token) in [
                ("provider_token", &flow.provider_access_token),
                ("provider_refresh_token", &flow.provider_refresh_token),
            ] {
                if let Some(t) = token.as_deref().filter(|t| !t.is_empty()) {
                    session[key] = serde_json::Value::String(t.to_owned());
                }
            }
        }
        Ok(JsonB(session))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "pkce_api",
    requires = [exchange_code_for_session]
);
