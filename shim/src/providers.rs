//! The shim's side of social login: the network. It talks to identity providers for the
//! database (the token exchange, the user API, discovery and JWKS documents) and returns their
//! answers as they are; what they mean is decided in the database (src/external/).
//!
//! Every request has a deadline and a size limit, follows no redirects, and never logs what it
//! carries (codes, secrets, tokens).

use std::sync::LazyLock;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, USER_AGENT};
use serde_json::Value;

/// A provider that does not answer within this is treated as failed (GoTrue: 10 s).
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a provider.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
const AGENT: &str = concat!("auth-ext-shim/", env!("CARGO_PKG_VERSION"));

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
});

/// Why a provider's answer could not be used; the message is safe to show (no secrets).
#[derive(Debug)]
pub struct ProviderFailure(pub &'static str);

async fn read_json(response: reqwest::Response) -> Result<(Value, Option<i64>), ProviderFailure> {
    let max_age = response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| ProviderFailure("the provider's answer could not be read"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(ProviderFailure("the provider's answer is too large"));
        }
    }
    let value = serde_json::from_slice(&body)
        .or_else(|_| form_answer(&body))
        .map_err(|_| ProviderFailure("the provider's answer is not JSON"))?;
    Ok((value, max_age))
}

/// GitHub answers a token request without `Accept: application/json` as a form.
fn form_answer(body: &[u8]) -> Result<Value, ()> {
    let text = std::str::from_utf8(body).map_err(|_| ())?;
    if !text.contains('=') || text.trim_start().starts_with('<') {
        return Err(());
    }
    let map: serde_json::Map<String, Value> = form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Ok(Value::Object(map))
}

fn max_age(cache_control: &str) -> Option<i64> {
    cache_control
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.parse().ok())
}

fn failed(e: reqwest::Error) -> ProviderFailure {
    if e.is_timeout() {
        ProviderFailure("the provider did not answer in time")
    } else {
        ProviderFailure("the provider could not be reached")
    }
}

/// What `auth.oauth_callback_take` hands over for the token exchange.
pub struct Exchange<'a> {
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    /// `client_secret_post` or `client_secret_basic`.
    pub basic_auth: bool,
    pub redirect_uri: &'a str,
    pub code: &'a str,
    pub code_verifier: Option<&'a str>,
}

/// The provider's tokens for an authorization code (RFC 6749 §4.1.3).
pub async fn exchange_code(x: &Exchange<'_>) -> Result<Value, ProviderFailure> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", x.code),
        ("redirect_uri", x.redirect_uri),
    ];
    if let Some(v) = x.code_verifier {
        form.push(("code_verifier", v));
    }
    let mut request = CLIENT
        .post(x.token_url)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, AGENT);
    if x.basic_auth {
        request = request.basic_auth(form_escape(x.client_id), Some(form_escape(x.client_secret)));
    } else {
        form.push(("client_id", x.client_id));
        form.push(("client_secret", x.client_secret));
    }
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    let (answer, _) = read_json(response).await?;
    // GitHub refuses with 200 and an `error` member.
    if !status.is_success() || answer.get("error").is_some() {
        return Err(ProviderFailure(
            "the provider refused the authorization code",
        ));
    }
    if answer.get("access_token").and_then(Value::as_str).is_none() {
        return Err(ProviderFailure(
            "the provider's token answer has no access token",
        ));
    }
    Ok(answer)
}

/// RFC 6749 §2.3.1: client credentials are form-encoded before Basic authentication.
fn form_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A GET of a provider's JSON.
fn get_json(url: &str) -> reqwest::RequestBuilder {
    CLIENT
        .get(url)
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, AGENT)
}

/// A user API's answer (userinfo, GitHub's /user and /user/emails), with the provider's access
/// token.
pub async fn user_api(url: &str, access_token: &str) -> Result<Value, ProviderFailure> {
    let response = get_json(url)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(failed)?;
    if !response.status().is_success() {
        return Err(ProviderFailure(
            "the provider refused to give the user's profile",
        ));
    }
    Ok(read_json(response).await?.0)
}

/// A public document (discovery, JWKS) and how long it may be kept (Cache-Control max-age).
pub async fn document(url: &str) -> Result<(Value, Option<i64>), ProviderFailure> {
    let response = get_json(url).send().await.map_err(failed)?;
    if !response.status().is_success() {
        return Err(ProviderFailure(
            "the provider's document could not be fetched",
        ));
    }
    read_json(response).await
}

/// Why a SAML IdP's metadata could not be fetched; GoTrue's `saml_metadata_fetch_failed` when
/// the IdP answered with another status.
#[derive(Debug)]
pub enum MetadataFetch {
    Status(u16),
    Failed(ProviderFailure),
}

/// A SAML IdP's metadata document (`metadata_url`, HTTPS only: the database checks it first).
pub async fn saml_metadata(url: &str) -> Result<String, MetadataFetch> {
    let response = CLIENT
        .get(url)
        .header(ACCEPT, "application/xml;charset=UTF-8")
        .header(USER_AGENT, AGENT)
        .send()
        .await
        .map_err(|e| MetadataFetch::Failed(failed(e)))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(MetadataFetch::Status(response.status().as_u16()));
    }
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| {
        MetadataFetch::Failed(ProviderFailure("the IdP's metadata could not be read"))
    })? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(MetadataFetch::Failed(ProviderFailure(
                "the IdP's metadata is too large",
            )));
        }
    }
    String::from_utf8(body).map_err(|_| {
        MetadataFetch::Failed(ProviderFailure(
            "SAML Metadata XML contains invalid UTF-8 characters, which are not supported at this time",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        assert_eq!(max_age("public, max-age=3600, must-revalidate"), Some(3600));
        assert_eq!(max_age("no-store"), None);
    }

    #[test]
    fn form_answers() {
        let v = form_answer(b"access_token=gho_1&scope=user%3Aemail&token_type=bearer").unwrap();
        assert_eq!(v["access_token"], "gho_1");
        assert_eq!(v["scope"], "user:email");
        assert!(form_answer(b"<html>oops</html>").is_err());
    }
}
