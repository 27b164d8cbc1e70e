//! Sign-up and the token grants: `POST /signup`, `POST /token?grant_type=password|refresh_token`.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{typed, Ctx, JsonBody, QueryParams};

/// GoTrue's sign-up fields; every one optional so that the database words what is missing.
#[derive(Deserialize)]
pub struct SignupBody {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
}

pub async fn signup(ctx: Ctx, JsonBody(body): JsonBody<SignupBody>) -> ApiResult {
    if body.email.is_none() {
        if body.phone.is_some() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "phone_provider_disabled",
                "Phone signups are disabled",
            ));
        }
        if body.password.is_none() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            ));
        }
    }
    let data = body.data.map(|d| Value::Object(d).to_string());
    ok(ctx
        .call(
            SqlCall::new("auth.sign_up")
                .arg("email", body.email)
                .arg("password", body.password)
                .jsonb("data", data),
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
            if body.email.is_none() && body.phone.is_some() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "phone_provider_disabled",
                    "Phone logins are disabled",
                ));
            }
            ok(ctx
                .call(
                    SqlCall::new("auth.sign_in_with_password")
                        .arg("email", body.email)
                        .arg("password", body.password),
                )
                .await?)
        }
        Some("refresh_token") => {
            let body: RefreshTokenGrant = typed(body)?;
            ok(ctx
                .call(SqlCall::new("auth.refresh_session").arg("refresh_token", body.refresh_token))
                .await?)
        }
        Some(_) => Err(ApiError::validation("unsupported_grant_type")),
        None => Err(ApiError::validation("grant_type is required")),
    }
}
