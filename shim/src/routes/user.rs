//! The signed-in user: `GET /user`, `PUT /user`, `POST /logout`. Each runs as the bearer
//! token's holder, verified by the database.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody, QueryParams};

pub async fn get_user(ctx: Ctx) -> ApiResult {
    ok(ctx
        .call(SqlCall::new("auth.get_user").bearer(ctx.bearer()?))
        .await?)
}

/// The attributes object as the client sent it, unknown keys included: `auth.update_user`
/// decides what it accepts. Only the types of the fields GoTrue knows are checked here, as its
/// decoder does. (JsonBody has made sure it is an object.)
#[derive(Deserialize)]
#[serde(try_from = "Value")]
pub struct UserAttributes(Value);

#[derive(Deserialize)]
struct KnownUserFields {
    #[serde(rename = "email")]
    _email: Option<String>,
    #[serde(rename = "password")]
    _password: Option<String>,
    #[serde(rename = "phone")]
    _phone: Option<String>,
    #[serde(rename = "nonce")]
    _nonce: Option<String>,
    #[serde(rename = "data")]
    _data: Option<Map<String, Value>>,
}

impl TryFrom<Value> for UserAttributes {
    type Error = serde_path_to_error::Error<serde_json::Error>;

    fn try_from(value: Value) -> Result<UserAttributes, Self::Error> {
        serde_path_to_error::deserialize::<_, KnownUserFields>(&value)?;
        Ok(UserAttributes(value))
    }
}

/// The token is looked at before the body, as GoTrue's authentication runs before its handler.
pub async fn update_user(ctx: Ctx, body: Result<JsonBody<UserAttributes>, ApiError>) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(UserAttributes(attributes)) = body?;
    let attributes = attributes.to_string();
    ok(ctx
        .call(
            SqlCall::new("auth.update_user")
                .jsonb("attributes", attributes)
                .bearer(token),
        )
        .await?)
}

#[derive(Deserialize)]
pub struct Scope {
    scope: Option<String>,
}

pub async fn logout(ctx: Ctx, QueryParams(query): QueryParams<Scope>) -> ApiResult {
    let token = ctx.bearer()?;
    let scope = query.scope.unwrap_or_else(|| "global".into());
    ctx.call(
        SqlCall::new("auth.sign_out")
            .arg("scope", scope)
            .bearer(token),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_pass_as_sent_with_gotrues_types_checked() {
        let sent = json!({"data": {"k": 1}, "email": null, "unknown": [1, {"x": 2}]});
        let UserAttributes(passed) = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(passed, sent);
        for bad in [
            json!({"email": 42}),
            json!({"data": "text"}),
            json!({"password": []}),
        ] {
            assert!(serde_json::from_value::<UserAttributes>(bad).is_err());
        }
    }
}
