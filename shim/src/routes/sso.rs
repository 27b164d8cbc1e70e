//! SAML SSO: `POST /sso` (`signInWithSSO`), `POST /sso/saml/acs`, `GET /sso/saml/metadata` and
//! `/admin/sso/providers`. The database decides (src/sso/); this module does the XML
//! (crate::saml) and fetches IdP metadata (crate::providers).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::external::oauth_error;
use super::reply::{ok, see_other, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody};
use crate::providers::{self, MetadataFetch};
use crate::saml::{self, Expected};

/// GoTrue's `/sso` body.
#[derive(Deserialize)]
pub struct SsoBody {
    provider_id: Option<String>,
    domain: Option<String>,
    redirect_to: Option<String>,
    skip_http_redirect: Option<bool>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// `POST /sso`: `{url}` of the IdP with an AuthnRequest (`skip_http_redirect`, what the
/// clients send), else 303 to it.
pub async fn start(ctx: Ctx, JsonBody(body): JsonBody<SsoBody>) -> ApiResult {
    let started = ctx
        .call(
            SqlCall::new("auth.sso_start")
                .arg_or_default("provider_id", body.provider_id)
                .arg_or_default("domain", body.domain)
                .arg_or_default("redirect_to", body.redirect_to)
                .arg_or_default("code_challenge", body.code_challenge)
                .arg_or_default("code_challenge_method", body.code_challenge_method),
        )
        .await?
        .ok_or_else(ApiError::internal)?;
    let url = saml::authn_request_url(&started).ok_or_else(ApiError::internal)?;
    if body.skip_http_redirect == Some(true) {
        return ok(Some(json!({ "url": url })));
    }
    see_other(&url)
}

/// `GET /sso/saml/metadata` (`?download=true`: as a file).
pub async fn metadata(ctx: Ctx, RawQuery(query): RawQuery) -> ApiResult {
    let sp = ctx
        .call(SqlCall::new("auth.sso_service_provider"))
        .await?
        .ok_or_else(ApiError::internal)?;
    let text = |k: &str| sp.get(k).and_then(Value::as_str).unwrap_or("");
    let xml = saml::sp_metadata(text("entity_id"), text("acs_url"));
    let download = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "download" && v == "true");
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        )],
        xml,
    )
        .into_response();
    if download {
        response.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"metadata.xml\""),
        );
    }
    Ok(response)
}

/// `POST /sso/saml/acs`: the IdP's form post. A session goes to the app (302); every refusal
/// goes to the site's URL with `error`, `error_code` and `error_description` in the query
/// (303), as GoTrue answers.
pub async fn acs(ctx: Ctx, body: Bytes) -> Response {
    let params: Map<String, Value> = form_urlencoded::parse(&body)
        .into_owned()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    match finish_acs(&ctx, &params).await {
        Ok(location) => match HeaderValue::from_str(&location) {
            Ok(l) => (StatusCode::FOUND, [(header::LOCATION, l)]).into_response(),
            Err(_) => ApiError::internal().into_response(),
        },
        Err(error) => {
            let site = ctx
                .call_text(SqlCall::new("auth.redirect_target").arg("redirect_to", None))
                .await;
            match site {
                Ok(Some(site)) if !site.is_empty() => {
                    let location = error_location(&site, &error);
                    see_other(&location).unwrap_or_else(|e| e.into_response())
                }
                _ => error.into_response(),
            }
        }
    }
}

/// `site` with the error in its query (GoTrue's `getErrorQueryString`).
fn error_location(site: &str, error: &ApiError) -> String {
    let (base, query) = site
        .split('#')
        .next()
        .unwrap_or("")
        .split_once('?')
        .map_or((site.split('#').next().unwrap_or(""), ""), |(b, q)| (b, q));
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if !matches!(k.as_ref(), "error" | "error_code" | "error_description") {
            s.append_pair(&k, &v);
        }
    }
    s.append_pair("error", oauth_error(error));
    s.append_pair("error_code", &error.code);
    s.append_pair("error_description", &error.message);
    format!("{base}?{}", s.finish())
}

async fn finish_acs(ctx: &Ctx, params: &Map<String, Value>) -> Result<String, ApiError> {
    let get = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let relay_state = get("RelayState").map(str::to_owned);
    let ours = relay_state.as_deref().is_some_and(|r| {
        r.trim().len() == 36 && r.trim().chars().filter(|c| *c == '-').count() == 4
    });
    if get("SAMLart").is_some() {
        return Err(ApiError::validation(
            "SAML Artifact responses are not supported",
        ));
    }
    let response = get("SAMLResponse")
        .ok_or_else(|| ApiError::validation("SAMLResponse is missing"))?
        .to_owned();
    // Which IdP an unsolicited response claims to come from (verified below, against that
    // IdP's keys only).
    let issuer = saml::peek_issuer(response.clone()).await;
    if !ours && issuer.is_none() {
        return Err(ApiError::validation(
            "SAMLResponse is not a valid XML SAML assertion",
        ));
    }
    let taken = ctx
        .call(
            SqlCall::new("auth.saml_acs_take")
                .arg("relay_state", relay_state.clone())
                .arg_or_default("issuer", issuer),
        )
        .await?
        .ok_or_else(ApiError::internal)?;
    let mut expected = Expected::from_take(&taken).ok_or_else(ApiError::internal)?;
    if let Some(url) = taken.get("refresh_metadata_url").and_then(Value::as_str) {
        let provider = taken.get("sso_provider_id").and_then(Value::as_str);
        if let Some(certificates) = refreshed_certificates(ctx, provider, url).await {
            expected.certificates = certificates;
        }
    }
    let assertion = saml::verify(response, expected).await.map_err(|refusal| {
        // The refusal's kind only: never the document.
        tracing::info!(refusal, "SAML response refused");
        if refusal == "busy" {
            return ApiError::unavailable();
        }
        ApiError::validation("SAML Assertion is not valid")
    })?;
    let answer = ctx
        .call(
            SqlCall::new("auth.saml_acs_finish")
                .arg("relay_state", relay_state)
                .jsonb("assertion", assertion.to_string()),
        )
        .await?
        .ok_or_else(ApiError::internal)?;
    answer
        .get("location")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(ApiError::internal)
}

/// A stale provider's metadata fetched again and stored; its certificates, or `None` (the
/// stored ones are used) when the IdP or the document fails, as GoTrue carries on.
async fn refreshed_certificates(
    ctx: &Ctx,
    provider: Option<&str>,
    url: &str,
) -> Option<Vec<String>> {
    if !url.starts_with("https://") {
        return None;
    }
    let xml = match providers::saml_metadata(url).await {
        Ok(xml) => xml,
        Err(_) => {
            tracing::warn!("SAML metadata could not be fetched again; the stored copy is used");
            return None;
        }
    };
    let stored = ctx
        .call(
            SqlCall::new("auth.saml_metadata_refresh")
                .arg("sso_provider_id", provider.map(str::to_owned))
                .arg("metadata_xml", xml),
        )
        .await;
    match stored {
        Ok(Some(answer)) => answer.get("certificates")?.as_array().map(|certs| {
            certs
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        }),
        _ => {
            tracing::warn!("the fetched SAML metadata was refused; the stored copy is used");
            None
        }
    }
}

/// The metadata document behind a body's `metadata_url` (HTTPS only; anything else is left
/// to the database to refuse).
async fn fetched_metadata(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let xml = body
        .get("metadata_xml")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(url) = body
        .get("metadata_url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") && xml.is_empty())
    else {
        return Ok(None);
    };
    match providers::saml_metadata(url).await {
        Ok(text) => Ok(Some(text)),
        Err(MetadataFetch::Status(status)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "saml_metadata_fetch_failed",
            &format!("HTTP {status} error fetching SAML Metadata from URL '{url}'"),
        )),
        Err(MetadataFetch::Failed(f)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "saml_metadata_fetch_failed",
            f.0,
        )),
    }
}

pub async fn list_providers(ctx: Ctx) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(SqlCall::new("auth.admin_sso_providers").bearer(token))
        .await?)
}

pub async fn create_provider(
    ctx: Ctx,
    body: Result<JsonBody<Map<String, Value>>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?.to_owned();
    let JsonBody(body) = body?;
    // Only an admin's request makes the shim fetch anything (no unauthenticated requests to
    // addresses of the caller's choosing): the database says who the caller is first.
    ctx.call(SqlCall::new("auth.admin_sso_providers").bearer(&token))
        .await?;
    let fetched = fetched_metadata(&body).await?;
    let created = ctx
        .call(
            SqlCall::new("auth.admin_create_sso_provider")
                .jsonb("params", Value::Object(body).to_string())
                .arg_or_default("fetched_metadata", fetched)
                .bearer(&token),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(created.unwrap_or_else(|| json!({}))),
    )
        .into_response())
}

pub async fn get_provider(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_sso_provider")
                .arg("id", id)
                .bearer(token),
        )
        .await?)
}

pub async fn update_provider(
    ctx: Ctx,
    Path(id): Path<String>,
    body: Result<JsonBody<Map<String, Value>>, ApiError>,
) -> ApiResult {
    let token = ctx.bearer()?.to_owned();
    let JsonBody(body) = body?;
    // An admin's, and a provider that exists, before anything is fetched.
    ctx.call(
        SqlCall::new("auth.admin_sso_provider")
            .arg("id", id.clone())
            .bearer(&token),
    )
    .await?;
    let fetched = fetched_metadata(&body).await?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_update_sso_provider")
                .arg("id", id)
                .jsonb("params", Value::Object(body).to_string())
                .arg_or_default("fetched_metadata", fetched)
                .bearer(&token),
        )
        .await?)
}

pub async fn delete_provider(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let token = ctx.bearer()?;
    ok(ctx
        .call(
            SqlCall::new("auth.admin_delete_sso_provider")
                .arg("id", id)
                .bearer(token),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acs_errors_go_to_the_site_in_the_query() {
        let e = ApiError::validation("SAML Assertion is not valid");
        assert_eq!(
            error_location("http://localhost:3000/?x=1&error=old#frag", &e),
            "http://localhost:3000/?x=1&error=invalid_request&error_code=validation_failed\
             &error_description=SAML+Assertion+is+not+valid"
        );
    }
}
