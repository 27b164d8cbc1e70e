//! The shim's one error type, sent the way GoTrue sends errors (shared/reference/gotrue-http.md):
//! `{code, error_code, message, msg}`, plus `weak_password.reasons` for a weak password.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    reasons: Option<Value>,
    /// Seconds for `Retry-After` (a rate limit).
    retry_after: Option<u64>,
}

/// How GoTrue words a token it could not verify; the reason follows.
const BAD_JWT_PREFIX: &str = "invalid JWT: unable to parse or verify signature, ";

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            reasons: None,
            retry_after: None,
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

    /// No usable `Authorization: Bearer` header (GoTrue's words).
    pub fn no_authorization() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_authorization",
            "This endpoint requires a Bearer token",
        )
    }

    pub fn validation(message: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "validation_failed", message)
    }

    pub fn bad_json(message: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_json", message)
    }

    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            "The request body is too large",
        )
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    /// The extension's errors carry the HTTP status in the SQLSTATE (`PTxxx`), the GoTrue code in
    /// DETAIL and the weak-password reasons in HINT; anything else is the database failing,
    /// never shown to the client.
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
            // HINT: the weak-password reasons (an array) or `{"retry_after": seconds}`.
            let hint: Option<Value> = db.hint().and_then(|h| serde_json::from_str(h).ok());
            let retry_after = hint
                .as_ref()
                .and_then(|h| h.get("retry_after"))
                .and_then(Value::as_u64);
            return ApiError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code: db.detail().unwrap_or("unexpected_failure").to_string(),
                message: db.message().to_string(),
                reasons: hint.filter(Value::is_array),
                retry_after,
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
            // A NUL character in a JSON string (`\u0000`): PostgreSQL's text cannot hold it,
            // so the value is refused on the way in, as GoTrue refuses what it cannot store.
            "22021" | "22P05" => ApiError::new(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "Text fields must not contain NUL characters",
            ),
            _ => ApiError::internal(),
        }
    }

    /// For a call made with the caller's bearer token: GoTrue answers a token it cannot verify
    /// with 403 and its own wording (the clients' tests look for it), where the database says
    /// 401 `bad_jwt` "invalid JWT: <reason>".
    pub fn for_bearer(self) -> ApiError {
        if self.status != StatusCode::UNAUTHORIZED || self.code != "bad_jwt" {
            return self;
        }
        let reason = self
            .message
            .strip_prefix("invalid JWT: ")
            .unwrap_or(&self.message);
        ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_jwt",
            &format!("{BAD_JWT_PREFIX}{reason}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "code": self.code, "error_code": self.code, "message": self.message, "msg": self.message,
        });
        // The Python client fails on a weak_password error without the reasons.
        if self.code == "weak_password" {
            body["weak_password"] = json!({ "reasons": self.reasons.unwrap_or_else(|| json!([])) });
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unverifiable_token_is_gotrues_403() {
        let e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_jwt",
            "invalid JWT: the token has expired (exp)",
        )
        .for_bearer();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code, "bad_jwt");
        assert_eq!(
            e.message,
            "invalid JWT: unable to parse or verify signature, the token has expired (exp)"
        );
    }

    #[test]
    fn other_errors_pass_unchanged() {
        for (status, code) in [
            (StatusCode::UNAUTHORIZED, "no_authorization"),
            (StatusCode::FORBIDDEN, "session_not_found"),
            (StatusCode::BAD_REQUEST, "bad_jwt"),
        ] {
            let e = ApiError::new(status, code, "m").for_bearer();
            assert_eq!(
                (e.status, e.code.as_str(), e.message.as_str()),
                (status, code, "m")
            );
        }
    }
}
