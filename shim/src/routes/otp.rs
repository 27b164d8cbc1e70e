//! What sends a one-time code or link: `POST /otp`, `POST /magiclink`, `POST /recover`,
//! `POST /resend`. The database queues the message (the outbox) and answers `{}`, or
//! `{"message_id": …}` for an SMS, as GoTrue does.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::extract::{Ctx, JsonBody, QueryParams, RedirectTo};

/// GoTrue's `/otp` fields: an email (a magic link or code) or a phone (a code by `channel`).
#[derive(Deserialize)]
pub struct OtpBody {
    email: Option<String>,
    phone: Option<String>,
    create_user: Option<bool>,
    data: Option<Map<String, Value>>,
    channel: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

pub async fn otp(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    JsonBody(body): JsonBody<OtpBody>,
) -> ApiResult {
    let data = body.data.map(|d| Value::Object(d).to_string());
    ok(ctx
        .call(
            SqlCall::new("auth.sign_in_with_otp")
                .arg_or_default("email", body.email)
                .arg_or_default("phone", body.phone)
                .bool_or_default("create_user", body.create_user)
                .jsonb_or_default("data", data)
                .arg_or_default("channel", body.channel)
                .arg_or_default("redirect_to", query.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?)
}

/// GoTrue's older `/magiclink`: `/otp` for an email only.
#[derive(Deserialize)]
pub struct MagicLinkBody {
    email: Option<String>,
    data: Option<Map<String, Value>>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

pub async fn magiclink(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    JsonBody(body): JsonBody<MagicLinkBody>,
) -> ApiResult {
    let data = body.data.map(|d| Value::Object(d).to_string());
    ok(ctx
        .call(
            SqlCall::new("auth.sign_in_with_otp")
                .arg_or_default("email", body.email)
                .jsonb_or_default("data", data)
                .arg_or_default("redirect_to", query.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?)
}

#[derive(Deserialize)]
pub struct RecoverBody {
    email: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// A password-recovery link; `{}` whether or not the address is known.
pub async fn recover(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    JsonBody(body): JsonBody<RecoverBody>,
) -> ApiResult {
    ok(ctx
        .call(
            SqlCall::new("auth.reset_password_for_email")
                .arg("email", body.email)
                .arg_or_default("redirect_to", query.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?)
}

/// `type`: signup, email_change, sms or phone_change (the database refuses others).
#[derive(Deserialize)]
pub struct ResendBody {
    #[serde(rename = "type")]
    resend_type: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

pub async fn resend(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    JsonBody(body): JsonBody<ResendBody>,
) -> ApiResult {
    ok(ctx
        .call(
            SqlCall::new("auth.resend")
                .arg("type", body.resend_type)
                .arg_or_default("email", body.email)
                .arg_or_default("phone", body.phone)
                .arg_or_default("redirect_to", query.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?)
}
