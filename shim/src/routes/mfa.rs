//! MFA: `POST /factors` (`mfa.enroll`), `POST /factors/{id}/challenge`,
//! `POST /factors/{id}/verify` and `DELETE /factors/{id}` (`mfa.unenroll`), each as the bearer's
//! holder; the recovery codes' `GET`/`POST`/`DELETE /factors/recovery-codes` and
//! `POST /factors/recovery-codes/verify` and `/regenerate` (`mfa.recoveryCodes.*`), likewise;
//! `GET /admin/users/{id}/factors` and `DELETE /admin/users/{id}/factors/{factor_id}` for
//! admins. The database decides (src/mfa/).

use axum::extract::Path;
use serde::Deserialize;

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::extract::{Ctx, JsonBody};

/// GoTrue's enroll body.
#[derive(Deserialize)]
pub struct EnrollBody {
    factor_type: Option<String>,
    friendly_name: Option<String>,
    issuer: Option<String>,
    phone: Option<String>,
}

pub async fn enroll(ctx: Ctx, JsonBody(body): JsonBody<EnrollBody>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_enroll")
                .arg("factor_type", body.factor_type)
                .arg_or_default("friendly_name", body.friendly_name)
                .arg_or_default("issuer", body.issuer)
                .arg_or_default("phone", body.phone)
                .bearer(token),
        )
        .await?)
}

/// GoTrue's challenge body (optional): the channel of a phone factor's code; a WebAuthn
/// factor's relying party details.
#[derive(Deserialize)]
pub struct ChallengeBody {
    channel: Option<String>,
    webauthn: Option<serde_json::Value>,
}

pub async fn challenge(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ChallengeBody>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_challenge")
                .arg("factor_id", id)
                .arg_or_default("channel", body.channel)
                .jsonb_or_default("webauthn", body.webauthn.map(|v| v.to_string()))
                .bearer(token),
        )
        .await?)
}

/// GoTrue's verify body: a code, or a WebAuthn factor's credential response.
#[derive(Deserialize)]
pub struct VerifyBody {
    challenge_id: Option<String>,
    code: Option<String>,
    webauthn: Option<serde_json::Value>,
}

pub async fn verify(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<VerifyBody>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_verify")
                .arg("factor_id", id)
                .arg("challenge_id", body.challenge_id)
                .arg("code", body.code)
                .jsonb_or_default("webauthn", body.webauthn.map(|v| v.to_string()))
                .bearer(token),
        )
        .await?)
}

pub async fn unenroll(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_unenroll")
                .arg("factor_id", id)
                .bearer(token),
        )
        .await?)
}

/// `GET /admin/users/{id}/factors`.
pub async fn admin_list(ctx: Ctx, Path(user_id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_list_factors")
                .arg("user_id", user_id)
                .bearer(token),
        )
        .await?)
}

/// `DELETE /admin/users/{id}/factors/{factor_id}`.
pub async fn admin_delete(
    ctx: Ctx,
    Path((user_id, factor_id)): Path<(String, String)>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_delete_factor")
                .arg("user_id", user_id)
                .arg("factor_id", factor_id)
                .bearer(token),
        )
        .await?)
}

/// `GET /factors/recovery-codes`: `{id, type, total, remaining}`.
pub async fn recovery_codes_status(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.mfa_recovery_codes_status").bearer(token))
        .await?)
}

/// GoTrue's generate body (optional: auth-js sends one only with a name).
#[derive(Deserialize)]
pub struct RecoveryCodesGenerateBody {
    friendly_name: Option<String>,
}

/// `POST /factors/recovery-codes`: the codes, once.
pub async fn recovery_codes_generate(
    ctx: Ctx,
    JsonBody(body): JsonBody<RecoveryCodesGenerateBody>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_recovery_codes_generate")
                .arg_or_default("friendly_name", body.friendly_name)
                .bearer(token),
        )
        .await?)
}

/// GoTrue's recovery-code verify body.
#[derive(Deserialize)]
pub struct RecoveryCodesVerifyBody {
    code: Option<String>,
}

/// `POST /factors/recovery-codes/verify`: the session, raised to aal2.
pub async fn recovery_codes_verify(
    ctx: Ctx,
    JsonBody(body): JsonBody<RecoveryCodesVerifyBody>,
) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.mfa_recovery_codes_verify")
                .arg("code", body.code)
                .bearer(token),
        )
        .await?)
}

/// `POST /factors/recovery-codes/regenerate`: new codes for the same factor, once.
pub async fn recovery_codes_regenerate(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.mfa_recovery_codes_regenerate").bearer(token))
        .await?)
}

/// `DELETE /factors/recovery-codes`: `{id}`.
pub async fn recovery_codes_delete(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.mfa_recovery_codes_delete").bearer(token))
        .await?)
}
