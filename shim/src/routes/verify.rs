//! Verification: `POST /verify` (a code or token hash the app sends, answered with a session)
//! and `GET /verify` (the link in a mail, answered with a redirect back to the app).

use std::fmt::Write;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::reply::{ok, see_other, ApiResult};
use crate::db::SqlCall;
use crate::error::ApiError;
use crate::extract::{Ctx, JsonBody, QueryParams};

/// GoTrue's fields: `{type, token, email | phone}` or `{type, token_hash}`. `redirect_to` is the
/// body's (GoTrue refuses it next to a `token_hash`); the query's is not read, as in GoTrue.
#[derive(Deserialize)]
pub struct VerifyBody {
    #[serde(rename = "type")]
    verify_type: Option<String>,
    token: Option<String>,
    token_hash: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    redirect_to: Option<String>,
}

pub async fn verify(ctx: Ctx, JsonBody(body): JsonBody<VerifyBody>) -> ApiResult {
    ok(ctx
        .call(
            SqlCall::new("auth.verify_otp")
                .arg("type", body.verify_type)
                .arg_or_default("token", body.token)
                .arg_or_default("token_hash", body.token_hash)
                .arg_or_default("email", body.email)
                .arg_or_default("phone", body.phone)
                .arg_or_default("redirect_to", body.redirect_to),
        )
        .await?)
}

/// The link's query: `token` is the token hash (`pkce_`-prefixed in the PKCE flow).
#[derive(Deserialize)]
pub struct VerifyLinkQuery {
    token: Option<String>,
    #[serde(rename = "type")]
    link_type: Option<String>,
    redirect_to: Option<String>,
}

/// A token hash issued for the PKCE flow starts with this.
const PKCE_PREFIX: &str = "pkce_";

/// 303 to where the database says (the session in the fragment, or `?code=`). An error, a
/// refusal or a failure alike, also goes back to the app, as GoTrue sends it: to
/// `auth.redirect_target(redirect_to)` with the error in the fragment. Only when that second
/// call fails too (the database is down) does the browser get the JSON error.
pub async fn verify_link(ctx: Ctx, QueryParams(query): QueryParams<VerifyLinkQuery>) -> ApiResult {
    let pkce = query
        .token
        .as_deref()
        .is_some_and(|t| t.starts_with(PKCE_PREFIX));
    let verified = ctx
        .call(
            SqlCall::new("auth.verify_link")
                .arg("token", query.token)
                .arg("type", query.link_type)
                .arg_or_default("redirect_to", query.redirect_to.clone()),
        )
        .await;
    let error = match verified {
        Ok(result) => {
            let location = result
                .as_ref()
                .and_then(|r| r.get("location"))
                .and_then(Value::as_str)
                .ok_or_else(ApiError::internal)?;
            return see_other(location);
        }
        Err(error) => error,
    };
    // The failed call rolled back; this one only reads the settings.
    let target = ctx
        .call_text(SqlCall::new("auth.redirect_target").arg("redirect_to", query.redirect_to))
        .await;
    match target {
        Ok(Some(target)) if !target.is_empty() => see_other(&error_redirect(&target, &error, pkce)),
        _ => Err(error),
    }
}

/// GoTrue's `error` parameter for a status (its OAuth error map); other statuses get none.
fn oauth_error(status: StatusCode) -> Option<&'static str> {
    match status {
        StatusCode::BAD_REQUEST => Some("invalid_request"),
        StatusCode::UNAUTHORIZED => Some("unauthorized_client"),
        StatusCode::FORBIDDEN => Some("access_denied"),
        StatusCode::INTERNAL_SERVER_ERROR => Some("server_error"),
        StatusCode::SERVICE_UNAVAILABLE => Some("temporarily_unavailable"),
        _ => None,
    }
}

/// Where a refused link sends the browser, built as GoTrue builds it: `target` with its fragment
/// replaced by `error=…&error_code=…&error_description=…`; the query is kept, and for a PKCE
/// link the same parameters are also set in it (merged with what it held, keys sorted).
fn error_redirect(target: &str, error: &ApiError, pkce: bool) -> String {
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(oauth) = oauth_error(error.status) {
        params.push(("error".into(), oauth.into()));
    }
    params.push(("error_code".into(), error.code.clone()));
    params.push(("error_description".into(), error.message.clone()));

    let without_fragment = target.split_once('#').map_or(target, |(url, _)| url);
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (without_fragment, None),
    };
    let mut url = base.to_owned();
    if pkce {
        let mut merged: Vec<(String, String)> =
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .filter(|(key, _)| params.iter().all(|(set, _)| set != key))
                .collect();
        merged.extend(params.iter().cloned());
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        url.push('?');
        url.push_str(&form_encode(&merged));
    } else if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url.push('#');
    url.push_str(&form_encode(&params));
    url
}

/// `k=v&…`, each escaped as Go's `url.QueryEscape` does (GoTrue's encoder): space as `+`,
/// `A-Z a-z 0-9 - _ . ~` as they are, every other byte `%XX`.
fn form_encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape_into(&mut out, key);
        out.push('=');
        escape_into(&mut out, value);
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str, message: &str) -> ApiError {
        ApiError::new(StatusCode::from_u16(status).unwrap(), code, message)
    }

    #[test]
    fn an_expired_link_is_gotrues_fragment() {
        let error = refusal(403, "otp_expired", "Email link is invalid or has expired");
        assert_eq!(
            error_redirect(
                "https://app.example/welcome?x=1#old=fragment",
                &error,
                false
            ),
            "https://app.example/welcome?x=1#error=access_denied&error_code=otp_expired\
             &error_description=Email+link+is+invalid+or+has+expired"
        );
        assert_eq!(
            error_redirect("http://localhost:3000", &error, false),
            "http://localhost:3000#error=access_denied&error_code=otp_expired\
             &error_description=Email+link+is+invalid+or+has+expired"
        );
    }

    #[test]
    fn the_error_parameter_follows_gotrues_map() {
        let cases = [
            (400, Some("invalid_request")),
            (401, Some("unauthorized_client")),
            (403, Some("access_denied")),
            (404, None),
            (422, None),
            (429, None),
            (500, Some("server_error")),
            (503, Some("temporarily_unavailable")),
        ];
        for (status, expected) in cases {
            let url = error_redirect("https://a.example/", &refusal(status, "c", "m"), false);
            let fragment = url.split_once('#').unwrap().1;
            let expected = match expected {
                Some(e) => format!("error={e}&error_code=c&error_description=m"),
                None => "error_code=c&error_description=m".to_string(),
            };
            assert_eq!(fragment, expected, "{status}");
        }
    }

    #[test]
    fn descriptions_are_escaped_as_go_escapes_a_query() {
        let error = refusal(422, "validation_failed", "it's 100% ~done: a/b (c)+é");
        let url = error_redirect("https://a.example/", &error, false);
        assert_eq!(
            url,
            "https://a.example/#error_code=validation_failed\
             &error_description=it%27s+100%25+~done%3A+a%2Fb+%28c%29%2B%C3%A9"
        );
    }

    #[test]
    fn a_pkce_link_also_carries_the_error_in_the_query() {
        let error = refusal(403, "otp_expired", "Email link is invalid or has expired");
        let url = error_redirect(
            "https://app.example/cb?next=%2Fhome&error=stale&z=1#x",
            &error,
            true,
        );
        let expected_params = "error=access_denied&error_code=otp_expired\
                               &error_description=Email+link+is+invalid+or+has+expired";
        assert_eq!(
            url,
            format!("https://app.example/cb?{expected_params}&next=%2Fhome&z=1#{expected_params}")
        );
        assert_eq!(
            error_redirect("https://app.example/cb", &refusal(422, "c", "m"), true),
            "https://app.example/cb?error_code=c&error_description=m#error_code=c&error_description=m"
        );
    }
}
