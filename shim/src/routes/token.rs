//! Sign-up and the token grants: `POST /signup`,
//! `POST /token?grant_type=password|refresh_token|pkce|id_token`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{typed, Ctx, JsonBody, QueryParams, RedirectTo};

/// GoTrue's sign-up fields; every one optional so that the database words what is missing.
/// `channel` (sms or whatsapp) is for a phone, the code challenge for an email in the PKCE flow.
#[derive(Deserialize)]
pub struct SignupBody {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    channel: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

pub async fn signup(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    JsonBody(body): JsonBody<SignupBody>,
) -> ApiResult {
    let data = body.data.map(|d| Value::Object(d).to_string());
    let blank = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
    if blank(&body.email) && blank(&body.phone) {
        // GoTrue: a sign-up without an address is an anonymous sign-in.
        return ok(ctx
            .call(SqlCall::new("auth.sign_in_anonymously").jsonb_or_default("data", data))
            .await?);
    }
    ok(ctx
        .call(
            SqlCall::new("auth.sign_up")
                .arg("email", body.email)
                .arg("password", body.password)
                .jsonb_or_default("data", data)
                .arg_or_default("phone", body.phone)
                .arg_or_default("channel", body.channel)
                .arg_or_default("redirect_to", query.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?)
}

#[derive(Deserialize)]
pub struct Grant {
    grant_type: Option<String>,
}

#[derive(Deserialize)]
struct PasswordGrant {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
struct RefreshTokenGrant {
    refresh_token: Option<String>,
}

/// The code a PKCE redirect carried (`?code=`) and the verifier the client kept.
#[derive(Deserialize)]
struct PkceGrant {
    auth_code: Option<String>,
    code_verifier: Option<String>,
}

/// The body's type depends on the grant, as in GoTrue: a field another grant uses is not checked.
pub async fn token(
    ctx: Ctx,
    QueryParams(grant): QueryParams<Grant>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult {
    let body = Value::Object(body);
    match grant.grant_type.as_deref() {
        Some("password") => {
            let body: PasswordGrant = typed(body)?;
            ok(ctx
                .call(
                    SqlCall::new("auth.sign_in_with_password")
                        .arg("email", body.email)
                        .arg("password", body.password)
                        .arg_or_default("phone", body.phone),
                )
                .await?)
        }
        Some("refresh_token") => {
            let body: RefreshTokenGrant = typed(body)?;
            ok(ctx
                .call(SqlCall::new("auth.refresh_session").arg("refresh_token", body.refresh_token))
                .await?)
        }
        Some("pkce") => {
            let body: PkceGrant = typed(body)?;
            ok(ctx
                .call(
                    SqlCall::new("auth.exchange_code_for_session")
                        .arg("auth_code", body.auth_code)
                        .arg("code_verifier", body.code_verifier),
                )
                .await?)
        }
        Some("id_token") => super::external::id_token_grant(&ctx, &body).await,
        Some(_) => Err(ApiError::validation("unsupported_grant_type")),
        None => Err(ApiError::validation("grant_type is required")),
    }
}
