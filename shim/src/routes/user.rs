//! The signed-in user: `GET /user`, `PUT /user`, `GET /reauthenticate`, `POST /logout`. Each
//! runs as the bearer token's holder, verified by the database.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody, QueryParams, RedirectTo};

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
    #[serde(rename = "channel")]
    _channel: Option<String>,
    #[serde(rename = "code_challenge")]
    _code_challenge: Option<String>,
    #[serde(rename = "code_challenge_method")]
    _code_challenge_method: Option<String>,
}

impl TryFrom<Value> for UserAttributes {
    type Error = serde_path_to_error::Error<serde_json::Error>;

    fn try_from(value: Value) -> Result<UserAttributes, Self::Error> {
        serde_path_to_error::deserialize::<_, KnownUserFields>(&value)?;
        Ok(UserAttributes(value))
    }
}

impl UserAttributes {
    /// `redirect_to` is the query's (where the email-change link leads back to): GoTrue never
    /// reads it from the body, so a body's own is dropped.
    fn with_redirect_to(mut self, redirect_to: Option<String>) -> UserAttributes {
        if let Value::Object(map) = &mut self.0 {
            match redirect_to {
                Some(url) => map.insert("redirect_to".into(), Value::String(url)),
                None => map.remove("redirect_to"),
            };
        }
        self
    }
}

/// The token is looked at before the body, as GoTrue's authentication runs before its handler.
pub async fn update_user(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    body: Result<JsonBody<UserAttributes>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(attributes) = body?;
    let UserAttributes(attributes) = attributes.with_redirect_to(query.redirect_to);
    let attributes = attributes.to_string();
    ok(ctx
        .call(
            SqlCall::new("auth.update_user")
                .jsonb("attributes", attributes)
                .bearer(token),
        )
        .await?)
}

/// Sends the signed-in user a nonce (to their email, else their phone) that a password change
/// may require.
pub async fn reauthenticate(ctx: Ctx) -> ApiResult {
    ok(ctx
        .call(SqlCall::new("auth.reauthenticate").bearer(ctx.bearer()?))
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
            json!({"code_challenge": 1}),
            json!({"channel": {}}),
        ] {
            assert!(serde_json::from_value::<UserAttributes>(bad).is_err());
        }
    }

    #[test]
    fn redirect_to_is_the_querys() {
        let sent = json!({"email": "new@example.com", "redirect_to": "https://evil.example"});
        let attributes: UserAttributes = serde_json::from_value(sent).unwrap();
        let UserAttributes(without) = attributes.with_redirect_to(None);
        assert_eq!(without, json!({"email": "new@example.com"}));
        let attributes: UserAttributes = serde_json::from_value(without).unwrap();
        let UserAttributes(with) =
            attributes.with_redirect_to(Some("https://app.example/done".into()));
        assert_eq!(
            with,
            json!({"email": "new@example.com", "redirect_to": "https://app.example/done"})
        );
    }
}
