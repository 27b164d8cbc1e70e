//! Social login: `GET /authorize`, `GET|POST /callback`, `GET /user/identities/authorize`,
//! `DELETE /user/identities/{id}` and the `id_token` grant. The database decides; this module
//! carries its requests to the provider (crate::providers) and the answers back.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::Ctx;
use crate::providers::{self, Exchange, ProviderFailure};

/// The query parameters `/authorize` reads itself; every other one is passed to the provider
/// (the database drops the reserved ones).
const OWN_PARAMS: [&str; 6] = [
    "provider",
    "redirect_to",
    "scopes",
    "code_challenge",
    "code_challenge_method",
    "skip_http_redirect",
];
/// How many provider documents one call may need (a custom provider's discovery, then its keys).
const MAX_FETCHES: usize = 2;

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// 302 to `location` (GoTrue's answer for the provider flows).
fn found(location: &str) -> ApiResult {
    let location = HeaderValue::from_str(location).map_err(|_| ApiError::internal())?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// Runs `call` (rebuilt by `make` for each attempt) and, while the database answers
/// `{"fetch": ...}`, fetches the provider document it names, stores it and calls again.
async fn with_documents(ctx: &Ctx, make: impl Fn() -> SqlCall) -> Result<Option<Value>, ApiError> {
    for _ in 0..=MAX_FETCHES {
        let answer = ctx.call(make()).await?;
        let Some(fetch) = answer.as_ref().and_then(|a| a.get("fetch")) else {
            return Ok(answer);
        };
        let text = |k: &str| fetch.get(k).and_then(Value::as_str).map(str::to_owned);
        let url = text("url").ok_or_else(ApiError::internal)?;
        let (document, max_age) = providers::document(&url).await.map_err(provider_failed)?;
        ctx.call(
            SqlCall::new("auth.provider_document_store")
                .arg("provider", text("provider"))
                .arg("kind", text("kind"))
                .jsonb("document", document.to_string())
                .arg_or_default("max_age", max_age.map(|a| a.to_string())),
        )
        .await?;
    }
    Err(ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "unexpected_failure",
        "the provider's documents could not be used",
    ))
}

/// A linking call runs as the bearer's holder; the others as nobody (the flow names no user).
fn as_caller_if(link: bool, ctx: &Ctx, call: SqlCall) -> SqlCall {
    match (link, ctx.bearer()) {
        (true, Ok(token)) => call.bearer(token),
        _ => call,
    }
}

fn provider_failed(f: ProviderFailure) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "unexpected_failure", f.0)
}

async fn authorize_url(
    ctx: &Ctx,
    query: &HashMap<String, String>,
    link: bool,
) -> Result<String, ApiError> {
    let get = |k: &str| query.get(k).cloned();
    let extra: serde_json::Map<String, Value> = query
        .iter()
        .filter(|(k, _)| !OWN_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let extra = Value::Object(extra).to_string();
    let answer = with_documents(ctx, || {
        let call = SqlCall::new("auth.oauth_authorize")
            .arg("provider", get("provider"))
            .arg_or_default("redirect_to", get("redirect_to"))
            .arg_or_default("scopes", get("scopes"))
            .arg_or_default("code_challenge", get("code_challenge"))
            .arg_or_default("code_challenge_method", get("code_challenge_method"))
            .jsonb("params", extra.clone())
            .bool_or_default("link", Some(link));
        as_caller_if(link, ctx, call)
    })
    .await?;
    answer
        .as_ref()
        .and_then(|a| a.get("url"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(ApiError::internal)
}

/// `GET /authorize`: 302 to the provider.
pub async fn authorize(ctx: Ctx, RawQuery(query): RawQuery) -> ApiResult {
    let query = query_map(query.as_deref());
    found(&authorize_url(&ctx, &query, false).await?)
}

/// `GET /user/identities/authorize` (`linkIdentity`): the provider's URL for the signed-in
/// caller, as JSON with `skip_http_redirect=true` (what the clients send), else a 302.
pub async fn link_identity(ctx: Ctx, RawQuery(query): RawQuery) -> ApiResult {
    ctx.bearer()?;
    let query = query_map(query.as_deref());
    let url = authorize_url(&ctx, &query, true).await?;
    if query.get("skip_http_redirect").map(String::as_str) == Some("true") {
        return ok(Some(serde_json::json!({ "url": url })));
    }
    found(&url)
}

/// `DELETE /user/identities/{id}` (`unlinkIdentity`).
pub async fn unlink_identity(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?.to_owned();
    ok(ctx
        .call(
            SqlCall::new("auth.unlink_identity")
                .arg("identity_id", id)
                .bearer(&token),
        )
        .await?)
}

/// `POST /token?grant_type=id_token` (`signInWithIdToken`).
pub async fn id_token_grant(ctx: &Ctx, body: &Value) -> ApiResult {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let link = body
        .get("link_identity")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let answer = with_documents(ctx, || {
        let call = SqlCall::new("auth.sign_in_with_id_token")
            .arg("provider", text("provider"))
            .arg("id_token", text("id_token"))
            .arg_or_default("nonce", text("nonce"))
            .arg_or_default("access_token", text("access_token"))
            .bool_or_default("link_identity", Some(link));
        as_caller_if(link, ctx, call)
    })
    .await?;
    if let Some(refusal) = answer.as_ref().and_then(|a| a.get("refusal")) {
        return Err(refusal_error(refusal));
    }
    ok(answer)
}

fn refusal_error(refusal: &Value) -> ApiError {
    let status = refusal
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let text = |k: &str| refusal.get(k).and_then(Value::as_str).unwrap_or("");
    ApiError::new(status, text("code"), text("message"))
}

/// GoTrue's `error` for a refusal in a redirect: `access_denied` for the refusals of the user,
/// else by status (its OAuth map; anything else is `server_error`).
pub(super) fn oauth_error(error: &ApiError) -> &'static str {
    match error.code.as_str() {
        "signup_disabled" | "user_banned" | "provider_email_needs_verification" => {
            return "access_denied"
        }
        _ => {}
    }
    match error.status {
        StatusCode::BAD_REQUEST => "invalid_request",
        StatusCode::UNAUTHORIZED => "unauthorized_client",
        StatusCode::FORBIDDEN => "access_denied",
        StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
        _ => "server_error",
    }
}

/// `target` with `params` set in its query (others kept) and as its fragment, as GoTrue's
/// callback reports an error.
fn error_location(target: &str, params: &[(&str, &str)]) -> String {
    let without_fragment = target.split('#').next().unwrap_or("");
    let (base, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| params.iter().all(|(p, _)| p != k))
        .collect();
    pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let encode = |pairs: &mut dyn Iterator<Item = (&str, &str)>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    };
    let query = encode(&mut pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let fragment = encode(&mut params.iter().copied());
    format!("{base}?{query}#{fragment}")
}

fn error_redirect(target: &str, error: &ApiError) -> ApiResult {
    found(&error_location(
        target,
        &[
            ("error", oauth_error(error)),
            ("error_code", &error.code),
            ("error_description", &error.message),
        ],
    ))
}

/// `GET|POST /callback`: the provider sends the browser back with `code` and `state` (Apple
/// posts them as a form).
pub async fn callback(ctx: Ctx, RawQuery(query): RawQuery, body: Bytes) -> ApiResult {
    let mut params = query_map(query.as_deref());
    if !body.is_empty() {
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let get = |k: &str| params.get(k).cloned().filter(|v| !v.is_empty());
    let taken = ctx
        .call(SqlCall::new("auth.oauth_callback_take").arg("state", get("state")))
        .await;
    let taken = match taken {
        Ok(Some(t)) => t,
        Ok(None) => return Err(ApiError::internal()),
        Err(error) => {
            // No flow, so no app to go back to: the site's own URL (GoTrue's rule).
            let site = ctx
                .call_text(SqlCall::new("auth.redirect_target").arg("redirect_to", None))
                .await;
            return match site {
                Ok(Some(site)) if !site.is_empty() => error_redirect(&site, &error),
                _ => Err(error),
            };
        }
    };
    let field = |k: &str| taken.get(k).and_then(Value::as_str).map(str::to_owned);
    let target = field("redirect_to").unwrap_or_default();
    match finish_callback(&ctx, &taken, &params).await {
        Ok(location) => found(&location),
        Err(Refused::Provider { error, description }) => found(&error_location(
            &target,
            &[("error", &error), ("error_description", &description)],
        )),
        Err(Refused::Api(error)) => error_redirect(&target, &error),
    }
}

enum Refused {
    /// The provider said no (`?error=` on the callback): passed on as it said it.
    Provider {
        error: String,
        description: String,
    },
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Api(e)
    }
}

async fn finish_callback(
    ctx: &Ctx,
    taken: &Value,
    params: &HashMap<String, String>,
) -> Result<String, Refused> {
    if let Some(error) = params.get("error") {
        return Err(Refused::Provider {
            error: error.clone(),
            description: params.get("error_description").cloned().unwrap_or_default(),
        });
    }
    let field = |k: &str| taken.get(k).and_then(Value::as_str);
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_oauth_callback",
            "OAuth callback with missing authorization code",
        )
        .into());
    };
    let exchange = Exchange {
        token_url: field("token_url").unwrap_or(""),
        client_id: field("client_id").unwrap_or(""),
        client_secret: field("client_secret").unwrap_or(""),
        basic_auth: field("token_auth") == Some("client_secret_basic"),
        redirect_uri: field("redirect_uri").unwrap_or(""),
        code,
        code_verifier: field("code_verifier"),
    };
    let tokens = providers::exchange_code(&exchange).await.map_err(|f| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            &format!("Unable to exchange external code: {}", f.0),
        )
    })?;
    let token = |k: &str| tokens.get(k).and_then(Value::as_str).map(str::to_owned);
    let access_token = token("access_token").unwrap_or_default();
    let id_token = token("id_token");
    let oidc = taken.get("oidc").and_then(Value::as_bool).unwrap_or(false);
    let profile_failed = |f: ProviderFailure| {
        Refused::Api(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            &format!("Error getting user profile from external provider: {}", f.0),
        ))
    };
    let mut userinfo = None;
    let mut emails = None;
    if !oidc || id_token.is_none() {
        if let Some(url) = field("userinfo_url") {
            userinfo = Some(
                providers::user_api(url, &access_token)
                    .await
                    .map_err(profile_failed)?,
            );
        }
        if let Some(url) = field("emails_url") {
            emails = Some(
                providers::user_api(url, &access_token)
                    .await
                    .map_err(profile_failed)?,
            );
        }
    }
    let state = params.get("state").cloned();
    let answer = with_documents(ctx, || {
        SqlCall::new("auth.oauth_callback_finish")
            .arg("state", state.clone())
            .arg_or_default("id_token", id_token.clone())
            .jsonb_or_default("userinfo", userinfo.as_ref().map(Value::to_string))
            .jsonb_or_default("emails", emails.as_ref().map(Value::to_string))
            .arg_or_default("provider_access_token", Some(access_token.clone()))
            .arg_or_default("provider_refresh_token", token("refresh_token"))
    })
    .await?
    .ok_or_else(ApiError::internal)?;
    if let Some(refusal) = answer.get("refusal") {
        return Err(refusal_error(refusal).into());
    }
    answer
        .get("location")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_go_in_the_query_and_the_fragment() {
        let e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "signup_disabled",
            "Signups not allowed",
        );
        let resp = error_location(
            "https://app.example/cb?next=%2Fhome&error=old#x",
            &[
                ("error", oauth_error(&e)),
                ("error_code", &e.code),
                ("error_description", &e.message),
            ],
        );
        assert_eq!(
            resp,
            "https://app.example/cb?next=%2Fhome&error=access_denied&error_code=signup_disabled\
             &error_description=Signups+not+allowed#error=access_denied&error_code=signup_disabled\
             &error_description=Signups+not+allowed"
        );
        let e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "x", "y");
        assert_eq!(oauth_error(&e), "server_error");
    }
}
