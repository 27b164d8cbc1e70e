//! The admin API: `/admin/users[/{id}]`, `/admin/generate_link`, `/invite`, `/admin/audit`.
//! Each call carries the bearer token; the database decides whether its role is an admin's
//! (`jwt_admin_roles`: 403 `not_admin` otherwise). Lists answer with GoTrue's `X-Total-Count`
//! and `Link` headers.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::reply::{ok, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody, QueryParams, RedirectTo};

/// GoTrue's default page size, when `per_page` is absent or empty.
const DEFAULT_PER_PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
    filter: Option<String>,
    query: Option<String>,
}

/// A page parameter: absent or empty (auth-js sends `page=&per_page=`) is the default.
fn number(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            ApiError::validation(&format!(
                "Bad Pagination Parameters: {name} must be a number"
            ))
        }),
    }
}

/// GoTrue's `Link` header: the request's path and query (keys sorted) with `page` set, `next`
/// while there are more pages, then `last`.
fn link_header(
    path: &str,
    raw_query: Option<&str>,
    page: i64,
    per_page: i64,
    total: i64,
) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .filter(|(k, _)| k != "page")
        .collect();
    pairs.sort();
    let url = |page: i64| {
        let mut all = pairs.clone();
        all.push(("page".into(), page.to_string()));
        all.sort();
        let query: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("<{path}?{}>", query.join("&"))
    };
    let pages = (total + per_page - 1) / per_page;
    let mut links = Vec::new();
    if pages > page {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
    }
    links.push(format!("{}; rel=\"last\"", url(pages)));
    links.join(", ")
}

/// A list answer: `body` with the pagination headers.
fn paged(body: Value, total: i64, link: String) -> ApiResult {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static("x-total-count"), total.into());
    let link = HeaderValue::from_str(&link).map_err(|_| ApiError::internal())?;
    headers.insert(HeaderName::from_static("link"), link);
    Ok(response)
}

pub async fn list_users(
    ctx: Ctx,
    RawQuery(raw): RawQuery,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let page = number("page", q.page.as_deref())?;
    let per_page = number("per_page", q.per_page.as_deref())?;
    let mut found = ctx
        .call(
            SqlCall::new("auth.admin_list_users")
                .int_or_default("page", page)
                .int_or_default("per_page", per_page)
                .arg_or_default("filter", q.filter)
                .bearer(token),
        )
        .await?
        .ok_or_else(ApiError::internal)?;
    let total = found.get("total").and_then(Value::as_i64).unwrap_or(0);
    if let Some(map) = found.as_object_mut() {
        map.remove("total");
    }
    let link = link_header(
        "/admin/users",
        raw.as_deref(),
        page.unwrap_or(1),
        per_page.unwrap_or(DEFAULT_PER_PAGE),
        total,
    );
    paged(found, total, link)
}

pub async fn audit(
    ctx: Ctx,
    RawQuery(raw): RawQuery,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let page = number("page", q.page.as_deref())?;
    let per_page = number("per_page", q.per_page.as_deref())?;
    let found = ctx
        .call(
            SqlCall::new("auth.admin_audit_log")
                .int_or_default("page", page)
                .int_or_default("per_page", per_page)
                .arg_or_default("query", q.query)
                .bearer(token),
        )
        .await?
        .ok_or_else(ApiError::internal)?;
    let total = found.get("total").and_then(Value::as_i64).unwrap_or(0);
    let entries = found.get("entries").cloned().unwrap_or_else(|| json!([]));
    let link = link_header(
        "/admin/audit",
        raw.as_deref(),
        page.unwrap_or(1),
        per_page.unwrap_or(DEFAULT_PER_PAGE),
        total,
    );
    paged(entries, total, link)
}

pub async fn create_user(
    ctx: Ctx,
    body: Result<JsonBody<Map<String, Value>>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(attributes) = body?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_create_user")
                .jsonb("attributes", Value::Object(attributes).to_string())
                .bearer(token),
        )
        .await?)
}

pub async fn get_user(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_get_user")
                .arg("id", id)
                .bearer(token),
        )
        .await?)
}

pub async fn update_user(
    ctx: Ctx,
    Path(id): Path<String>,
    body: Result<JsonBody<Map<String, Value>>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(attributes) = body?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_update_user")
                .arg("id", id)
                .jsonb("attributes", Value::Object(attributes).to_string())
                .bearer(token),
        )
        .await?)
}

#[derive(Deserialize, Default)]
pub struct DeleteBody {
    should_soft_delete: Option<bool>,
}

/// The body is optional (GoTrue reads it only when there is one).
pub async fn delete_user(ctx: Ctx, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let token = ctx.bearer()?;
    let body: DeleteBody = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteBody::default()
    } else {
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| ApiError::bad_json(&format!("Could not parse request body as JSON: {e}")))
            .and_then(crate::extract::typed)?
    };
    ok(ctx
        .call(
            SqlCall::new("auth.admin_delete_user")
                .arg("id", id)
                .bool_or_default("should_soft_delete", body.should_soft_delete)
                .bearer(token),
        )
        .await?)
}

/// `generateLink`: auth-js and supabase_auth put `redirect_to` in the query (a body's own
/// `redirect_to` is used when the query has none).
#[derive(Deserialize)]
pub struct GenerateLinkBody {
    #[serde(rename = "type")]
    link_type: Option<String>,
    email: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    new_email: Option<String>,
    redirect_to: Option<String>,
}

pub async fn generate_link(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    body: Result<JsonBody<GenerateLinkBody>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(body) = body?;
    let data = body.data.map(|d| Value::Object(d).to_string());
    ok(ctx
        .call(
            SqlCall::new("auth.admin_generate_link")
                .arg("type", body.link_type)
                .arg("email", body.email)
                .arg_or_default("password", body.password)
                .jsonb_or_default("data", data)
                .arg_or_default("new_email", body.new_email)
                .arg_or_default("redirect_to", query.redirect_to.or(body.redirect_to))
                .bearer(token),
        )
        .await?)
}

#[derive(Deserialize)]
pub struct InviteBody {
    email: Option<String>,
    data: Option<Map<String, Value>>,
}

pub async fn invite(
    ctx: Ctx,
    QueryParams(query): QueryParams<RedirectTo>,
    body: Result<JsonBody<InviteBody>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?;
    let JsonBody(body) = body?;
    let data = body.data.map(|d| Value::Object(d).to_string());
    ok(ctx
        .call(
            SqlCall::new("auth.admin_invite_user")
                .arg("email", body.email)
                .jsonb_or_default("data", data)
                .arg_or_default("redirect_to", query.redirect_to)
                .bearer(token),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::link_header;

    #[test]
    fn links_as_gotrue() {
        assert_eq!(
            link_header("/admin/users", Some("page=1&per_page=1"), 1, 1, 2),
            "</admin/users?page=2&per_page=1>; rel=\"next\", </admin/users?page=2&per_page=1>; rel=\"last\""
        );
        assert_eq!(
            link_header("/admin/users", None, 1, 50, 0),
            "</admin/users?page=0>; rel=\"last\""
        );
        assert_eq!(
            link_header("/admin/users", Some("per_page=&page="), 1, 50, 120),
            "</admin/users?page=2&per_page=>; rel=\"next\", </admin/users?page=3&per_page=>; rel=\"last\""
        );
    }
}
