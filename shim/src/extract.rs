//! What handlers take from a request: the context every call needs ([`Ctx`]) and a typed JSON
//! body ([`JsonBody`]), both rejecting with the shim's own [`ApiError`].

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use deadpool_postgres::Pool;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::db::{self, RequestInfo, SqlCall};
use crate::error::ApiError;

/// Never passed to the database: they are credentials, and `request.headers` is readable by
/// any SQL in the transaction. (The bearer token reaches `auth.authenticate()` as a parameter.)
const SECRET_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "apikey"];
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The pool, the request as the database is told about it, and the bearer token if any.
pub struct Ctx {
    pool: Pool,
    info: RequestInfo,
    bearer: Option<String>,
}

impl<S> FromRequestParts<S> for Ctx
where
    Pool: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Ctx, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(Ctx {
            pool: Pool::from_ref(state),
            info: RequestInfo {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                headers: headers_json(&parts.headers, peer),
            },
            bearer: bearer(&parts.headers),
        })
    }
}

impl Ctx {
    pub async fn call(&self, call: SqlCall) -> Result<Option<Value>, ApiError> {
        db::call(&self.pool, &self.info, &call).await
    }

    /// A call of a function that returns text.
    pub async fn call_text(&self, call: SqlCall) -> Result<Option<String>, ApiError> {
        db::call_text(&self.pool, &self.info, &call).await
    }

    /// The bearer token, or GoTrue's 401 `no_authorization`.
    pub fn bearer(&self) -> Result<&str, ApiError> {
        self.bearer
            .as_deref()
            .ok_or_else(ApiError::no_authorization)
    }
}

/// The token of a well-formed `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// `request.headers` as PostgREST sets it: an object of lower-cased names, repeated headers
/// joined with ", ", without the secrets and without values that are not UTF-8. The shim is a
/// proxy to the database, so `x-forwarded-for` carries the socket peer appended to what the
/// client sent; the database's rule (auth_core::client_ip) takes the entry its trusted proxies
/// added, never the client's.
/// Headers that name the client's address but that the shim, as the proxy in front of the
/// database, neither sets nor checks: passed on they would be the client's own word to a
/// database configured with `client_ip_header = 'x-real-ip'` (say). Behind the shim only
/// `x-forwarded-for`, with the peer appended, says who the client is.
const CLIENT_WRITTEN_IP_HEADERS: [&str; 7] = [
    "x-real-ip",
    "cf-connecting-ip",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "forwarded",
];

fn headers_json(headers: &HeaderMap, peer: IpAddr) -> String {
    let joined = |name: &str| {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let mut map = Map::new();
    for name in headers.keys() {
        let name = name.as_str();
        if SECRET_HEADERS.contains(&name)
            || CLIENT_WRITTEN_IP_HEADERS.contains(&name)
            || name == FORWARDED_FOR
        {
            continue;
        }
        if let Some(value) = joined(name) {
            map.insert(name.to_owned(), Value::String(value));
        }
    }
    let forwarded = auth_core::client_ip::append_peer(joined(FORWARDED_FOR).as_deref(), peer);
    map.insert(FORWARDED_FOR.to_owned(), Value::String(forwarded));
    Value::Object(map).to_string()
}

/// A JSON object body deserialised into `T`. Unknown fields are ignored (the clients send
/// `gotrue_meta_security`, `code_challenge`, …); an empty body is `{}`; a field of the wrong
/// type is 400 `bad_json`, as GoTrue's decoder answers it.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large()
                } else {
                    ApiError::bad_json("Could not read the request body")
                }
            })?;
        parse_body(is_json, &body).map(JsonBody)
    }
}

fn parse_body<T: DeserializeOwned>(is_json: bool, body: &[u8]) -> Result<T, ApiError> {
    let value = if body.is_empty() {
        Value::Object(Map::new())
    } else if !is_json {
        return Err(ApiError::bad_json(
            "The body must be JSON (Content-Type: application/json)",
        ));
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return Err(ApiError::bad_json("The body must be a JSON object")),
            Err(_) => return Err(ApiError::bad_json("Could not parse request body as JSON")),
        }
    };
    typed(value)
}

/// Deserialises a body already known to be a JSON object (a handler that picks its type from
/// the query, as `/token` does). Through a Value: a repeated key is the last one, as in GoTrue's
/// decoder.
pub fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| ApiError::bad_json(&format!("Could not parse request body as JSON: {e}")))
}

/// `?redirect_to=`: where the clients put the address a mailed link leads back to (GoTrue reads
/// it from the query, never from a JSON body).
#[derive(serde::Deserialize)]
pub struct RedirectTo {
    pub redirect_to: Option<String>,
}

/// Query parameters deserialised into `T`, rejecting with a 400 in GoTrue's shape.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<QueryParams<T>, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryParams(q))
            .map_err(|e| ApiError::validation(&e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        email: Option<String>,
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn json_of(h: &HeaderMap) -> Value {
        serde_json::from_str(&headers_json(h, IpAddr::from([198, 51, 100, 4]))).unwrap()
    }

    #[test]
    fn headers_without_secrets_and_the_peer_appended() {
        let h = headers(&[
            ("User-Agent", b"ua/1"),
            ("Authorization", b"Bearer secret"),
            ("Cookie", b"sb=secret"),
            ("apikey", b"anon"),
            ("X-Forwarded-For", b"6.6.6.6"),
            ("X-Forwarded-For", b"7.7.7.7"),
            ("X-Odd", b"caf\xc3\xa9"),
            ("X-Binary", b"\xff\xfe"),
            ("X-Real-IP", b"6.6.6.6"),
            ("CF-Connecting-IP", b"6.6.6.6"),
            ("Forwarded", b"for=6.6.6.6"),
        ]);
        let j = json_of(&h);
        assert_eq!(j["user-agent"], "ua/1");
        assert_eq!(j["x-forwarded-for"], "6.6.6.6, 7.7.7.7, 198.51.100.4");
        assert_eq!(j["x-odd"], "café");
        for absent in [
            "authorization",
            "cookie",
            "apikey",
            "x-binary",
            "x-real-ip",
            "cf-connecting-ip",
            "forwarded",
        ] {
            assert!(j.get(absent).is_none(), "{absent}");
        }
        let rule = auth_core::client_ip::IpRule {
            header: Some(FORWARDED_FOR.into()),
            trusted_proxies: 1,
        };
        let ip = auth_core::client_ip::resolve(&rule, j["x-forwarded-for"].as_str());
        assert_eq!(ip, Some(IpAddr::from([198, 51, 100, 4])));
    }

    #[test]
    fn no_or_binary_forwarded_for_is_the_peer_alone() {
        assert_eq!(
            json_of(&HeaderMap::new())["x-forwarded-for"],
            "198.51.100.4"
        );
        let h = headers(&[("x-forwarded-for", b"\xff")]);
        assert_eq!(json_of(&h)["x-forwarded-for"], "198.51.100.4");
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(
            bearer(&headers(&[("authorization", b"Bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", b"bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", b"Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", b"Bearer  ")])), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    fn parsed(is_json: bool, body: &str) -> Result<Body, ApiError> {
        parse_body(is_json, body.as_bytes())
    }

    #[test]
    fn bodies() {
        assert_eq!(parsed(false, "").unwrap().email, None);
        assert_eq!(
            parsed(true, r#"{"email":"a","x":1}"#)
                .unwrap()
                .email
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            parsed(true, r#"{"email":"a","email":"b"}"#)
                .unwrap()
                .email
                .as_deref(),
            Some("b")
        );
        assert_eq!(parsed(true, r#"{"email":null}"#).unwrap().email, None);
        let messages = [
            (false, "{}", "The body must be JSON (Content-Type: application/json)"),
            (true, "{not json", "Could not parse request body as JSON"),
            (true, "[1]", "The body must be a JSON object"),
            (
                true,
                r#"{"email":42}"#,
                "Could not parse request body as JSON: email: invalid type: integer `42`, expected a string",
            ),
        ];
        for (is_json, body, message) in messages {
            let e = parsed(is_json, body).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (StatusCode::BAD_REQUEST, "bad_json")
            );
            assert_eq!(e.message, message, "{body}");
        }
    }
}
