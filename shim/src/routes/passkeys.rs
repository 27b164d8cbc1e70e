//! Passkeys: `POST /passkeys/registration/options|verify` and `GET|PATCH|DELETE /passkeys[/{id}]`
//! as the bearer's holder; `POST /passkeys/authentication/options|verify` for anyone (a new
//! session); `GET|DELETE /admin/users/{id}/passkeys[/{passkey_id}]` for admins. The database
//! runs the ceremonies and decides (src/passkeys/).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::extract::{Ctx, JsonBody};

pub async fn registration_options(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.passkey_registration_options").bearer(token))
        .await?)
}

/// GoTrue's verify body: the challenge and the browser's credential (its `toJSON()`).
#[derive(Deserialize)]
pub struct VerifyBody {
    challenge_id: Option<String>,
    credential: Option<Value>,
}

pub async fn registration_verify(ctx: Ctx, JsonBody(body): JsonBody<VerifyBody>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.passkey_registration_verify")
                .arg("challenge_id", body.challenge_id)
                .jsonb_or_default("credential", body.credential.map(|c| c.to_string()))
                .bearer(token),
        )
        .await?)
}

pub async fn authentication_options(ctx: Ctx) -> ApiResult {
    ok(ctx
        .call(SqlCall::new("auth.passkey_authentication_options"))
        .await?)
}

pub async fn authentication_verify(ctx: Ctx, JsonBody(body): JsonBody<VerifyBody>) -> ApiResult {
    ok(ctx
        .call(
            SqlCall::new("auth.passkey_authentication_verify")
                .arg("challenge_id", body.challenge_id)
                .jsonb_or_default("credential", body.credential.map(|c| c.to_string())),
        )
        .await?)
}

pub async fn list(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.passkeys_list").bearer(token))
        .await?)
}

#[derive(Deserialize)]
pub struct UpdateBody {
    friendly_name: Option<String>,
}

pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.passkey_update")
                .arg("passkey_id", id)
                .arg("friendly_name", body.friendly_name)
                .bearer(token),
        )
        .await?)
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ctx.call(
        SqlCall::new("auth.passkey_delete")
            .arg("passkey_id", id)
            .bearer(token),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /admin/users/{id}/passkeys`.
pub async fn admin_list(ctx: Ctx, Path(user_id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_list_passkeys")
                .arg("user_id", user_id)
                .bearer(token),
        )
        .await?)
}

/// `DELETE /admin/users/{id}/passkeys/{passkey_id}`.
pub async fn admin_delete(
    ctx: Ctx,
    Path((user_id, passkey_id)): Path<(String, String)>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ctx.call(
        SqlCall::new("auth.admin_delete_passkey")
            .arg("user_id", user_id)
            .arg("passkey_id", passkey_id)
            .bearer(token),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
