//! The GoTrue endpoints and their error shape (shared/reference/gotrue-http.md).

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde_json::{json, Value};
use tokio_postgres::types::ToSql;

use crate::db::{self, RequestInfo};

/// Bodies larger than this are refused with 413 before they are read.
const MAX_BODY_BYTES: usize = 64 * 1024;
const API_VERSION_HEADER: &str = "x-supabase-api-version";

#[derive(Clone)]
pub struct State {
    pub pool: Pool,
    pub trust_proxy: bool,
}

/// An error as GoTrue sends it: `{code, error_code, message, msg}` (+ `weak_password`).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    reasons: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            reasons: None,
        }
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unexpected_failure",
            "The database is unavailable; retry shortly",
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            "Unexpected failure",
        )
    }

    fn no_authorization() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        )
    }

    fn validation(message: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "validation_failed", message)
    }

    /// The extension's errors carry the HTTP status in the SQLSTATE (`PTxxx`) and the GoTrue code
    /// in DETAIL; anything else is the database failing, never shown to the client.
    pub fn from_db(e: tokio_postgres::Error) -> ApiError {
        let Some(db) = e.as_db_error() else {
            if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
            {
                tracing::warn!(error = %e, "database connection failed");
                return ApiError::unavailable();
            }
            tracing::error!(error = %e, "database call failed");
            return ApiError::internal();
        };
        let sqlstate = db.code().code();
        if let Some(status) = sqlstate
            .strip_prefix("PT")
            .and_then(|s| s.parse::<u16>().ok())
        {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reasons = db
                .hint()
                .and_then(|h| serde_json::from_str::<Value>(h).ok());
            return ApiError {
                status,
                code: db.detail().unwrap_or("unexpected_failure").to_string(),
                message: db.message().to_string(),
                reasons,
            };
        }
        tracing::warn!(sqlstate, "database error");
        match sqlstate {
            "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" => ApiError::unavailable(),
            "57014" => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "The request took too long; retry",
            ),
            "25006" => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unexpected_failure",
                "The database is read-only",
            ),
            _ => ApiError::internal(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "code": self.code, "error_code": self.code, "message": self.message, "msg": self.message,
        });
        if self.code == "weak_password" {
            body["weak_password"] = json!({ "reasons": self.reasons.unwrap_or_else(|| json!([])) });
        }
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn endpoints() -> Router<State> {
    Router::new()
        .route("/signup", post(signup))
        .route("/token", post(token))
        .route("/user", get(get_user).put(update_user))
        .route("/logout", post(logout))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/settings", get(settings))
        .route("/health", get(health))
}

/// The endpoints at the root (GoTrue's own layout) and under `/auth/v1` (where supabase-js looks
/// for them relative to a project URL).
pub fn router(state: State) -> Router {
    Router::new()
        .merge(endpoints())
        .nest("/auth/v1", endpoints())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found") })
        .layer(middleware::from_fn(log_and_echo_version))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .with_state(state)
}

/// Echoes `X-Supabase-Api-Version`, turns a body over the limit into GoTrue's shape, and logs
/// method, path (without the query), status and latency; never headers or bodies.
async fn log_and_echo_version(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let version = request.headers().get(API_VERSION_HEADER).cloned();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            "The request body is too large",
        )
        .into_response();
    }
    if let Some(v) = version {
        response.headers_mut().insert(API_VERSION_HEADER, v);
    }
    tracing::info!(%method, path, status = response.status().as_u16(), latency_ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    response
}

fn request_info(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    peer: SocketAddr,
    trust_proxy: bool,
) -> RequestInfo {
    // The rightmost entry is the one the trusted proxy added; the ones before it are the
    // client's word.
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| trust_proxy && !v.is_empty());
    let ip = forwarded
        .map(str::to_owned)
        .unwrap_or_else(|| peer.ip().to_string());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    RequestInfo {
        method: method.to_string(),
        path: path.to_owned(),
        headers: json!({"x-forwarded-for": ip, "user-agent": user_agent}).to_string(),
    }
}

/// What every handler needs: the pool, the request as the database is told about it, and the
/// headers (for the bearer token and the content type).
struct Ctx {
    pool: Pool,
    info: RequestInfo,
    headers: HeaderMap,
}

impl FromRequestParts<State> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Ctx, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let info = request_info(
            &parts.method,
            parts.uri.path(),
            &parts.headers,
            peer,
            state.trust_proxy,
        );
        Ok(Ctx {
            pool: state.pool.clone(),
            info,
            headers: parts.headers.clone(),
        })
    }
}

impl Ctx {
    async fn call(
        &self,
        bearer: Option<&str>,
        expr: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Value>, ApiError> {
        db::call(&self.pool, &self.info, bearer, expr, params).await
    }

    fn body(&self, body: &Bytes) -> Result<Value, ApiError> {
        json_body(&self.headers, body)
    }

    fn bearer(&self) -> Result<&str, ApiError> {
        bearer(&self.headers)
    }
}

/// The bearer token, if the request has a well-formed one.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(ApiError::no_authorization)?;
    let value = value.to_str().map_err(|_| ApiError::no_authorization())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::no_authorization)?;
    Ok(token)
}

/// A JSON object body; unknown fields are the caller's business and are ignored.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            "The body must be JSON (Content-Type: application/json)",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            "The body must be a JSON object",
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            "Could not parse request body as JSON",
        )),
    }
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn ok(value: Option<Value>) -> ApiResult {
    Ok((StatusCode::OK, Json(value.unwrap_or_else(|| json!({})))).into_response())
}

async fn signup(ctx: Ctx, body: Bytes) -> ApiResult {
    let body = ctx.body(&body)?;
    if text(&body, "email").is_none() {
        if text(&body, "phone").is_some() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "phone_provider_disabled",
                "Phone signups are disabled",
            ));
        }
        if text(&body, "password").is_none() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            ));
        }
    }
    let data = body
        .get("data")
        .filter(|d| !d.is_null())
        .map(Value::to_string);
    let (email, password) = (text(&body, "email"), text(&body, "password"));
    ok(ctx
        .call(
            None,
            "auth.sign_up($5, $6, coalesce($7::text::jsonb, '{}'))::text",
            &[&email, &password, &data],
        )
        .await?)
}

#[derive(serde::Deserialize)]
struct GrantType {
    grant_type: Option<String>,
}

async fn token(ctx: Ctx, Query(query): Query<GrantType>, body: Bytes) -> ApiResult {
    let body = ctx.body(&body)?;
    match query.grant_type.as_deref() {
        Some("password") => {
            if text(&body, "email").is_none() && text(&body, "phone").is_some() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "phone_provider_disabled",
                    "Phone logins are disabled",
                ));
            }
            let (email, password) = (text(&body, "email"), text(&body, "password"));
            ok(ctx
                .call(
                    None,
                    "auth.sign_in_with_password($5, $6)::text",
                    &[&email, &password],
                )
                .await?)
        }
        Some("refresh_token") => {
            let refresh_token = text(&body, "refresh_token");
            ok(ctx
                .call(None, "auth.refresh_session($5)::text", &[&refresh_token])
                .await?)
        }
        Some(_) => Err(ApiError::validation("unsupported_grant_type")),
        None => Err(ApiError::validation("grant_type is required")),
    }
}

async fn get_user(ctx: Ctx) -> ApiResult {
    ok(ctx
        .call(Some(ctx.bearer()?), "auth.get_user()::text", &[])
        .await?)
}

async fn update_user(ctx: Ctx, body: Bytes) -> ApiResult {
    let token = ctx.bearer()?;
    let body = ctx.body(&body)?.to_string();
    ok(ctx
        .call(
            Some(token),
            "auth.update_user($5::text::jsonb)::text",
            &[&body],
        )
        .await?)
}

#[derive(serde::Deserialize)]
struct Scope {
    scope: Option<String>,
}

async fn logout(ctx: Ctx, Query(query): Query<Scope>) -> ApiResult {
    let scope = query.scope.unwrap_or_else(|| "global".into());
    ctx.call(Some(ctx.bearer()?), "auth.sign_out($5)::text", &[&scope])
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn jwks(ctx: Ctx) -> ApiResult {
    let mut response = ok(ctx.call(None, "auth.jwks()::text", &[]).await?)?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    Ok(response)
}

async fn settings(ctx: Ctx) -> ApiResult {
    let s = ctx
        .call(None, "auth.settings()::text", &[])
        .await?
        .unwrap_or_default();
    ok(Some(json!({
        "external": {"email": true, "phone": false, "anonymous_users": false},
        "disable_signup": s.get("disable_signup").cloned().unwrap_or(json!(false)),
        "mailer_autoconfirm": s.get("mailer_autoconfirm").cloned().unwrap_or(json!(true)),
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
    })))
}

async fn health(ctx: Ctx) -> ApiResult {
    ctx.call(None, "NULL::text", &[]).await?;
    ok(Some(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "name": "auth_ext",
        "description": "GoTrue-compatible HTTP front for the auth_ext PostgreSQL extension",
    })))
}
