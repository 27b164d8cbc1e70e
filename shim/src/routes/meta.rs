//! What the clients read about the server: `/.well-known/jwks.json`, `/settings`, `/health`.

use axum::http::{header, HeaderValue};
use serde_json::json;

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::extract::Ctx;

pub async fn jwks(ctx: Ctx) -> ApiResult {
    let mut response = ok(ctx.call(SqlCall::new("auth.jwks")).await?)?;
    // Public keys only; the JS client caches them.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    Ok(response)
}

pub async fn settings(ctx: Ctx) -> ApiResult {
    let s = ctx
        .call(SqlCall::new("auth.settings"))
        .await?
        .unwrap_or_default();
    // A setting auth.settings() does not report reads as the value auth_ext has without it.
    let setting = |name: &str, default: bool| s.get(name).cloned().unwrap_or(json!(default));
    ok(Some(json!({
        "external": {
            "email": true,
            "phone": setting("external_phone_enabled", false),
            "anonymous_users": setting("external_anonymous_users_enabled", false),
        },
        "disable_signup": setting("disable_signup", false),
        "mailer_autoconfirm": setting("mailer_autoconfirm", true),
        "phone_autoconfirm": setting("sms_autoconfirm", false),
        "sms_provider": "",
        "saml_enabled": setting("saml_enabled", false),
    })))
}

/// 200 only when the database answers (503 otherwise, from the call).
pub async fn health(ctx: Ctx) -> ApiResult {
    ctx.call(SqlCall::ping()).await?;
    ok(Some(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "name": "auth_ext",
        "description": "GoTrue-compatible HTTP front for the auth_ext PostgreSQL extension",
    })))
}
