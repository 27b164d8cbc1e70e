//! What a handler answers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;

pub type ApiResult = Result<Response, ApiError>;

/// 200 with the function's JSON, `{}` when it returned nothing.
pub fn ok(value: Option<Value>) -> ApiResult {
    Ok((StatusCode::OK, Json(value.unwrap_or_else(|| json!({})))).into_response())
}

/// 303 See Other to `location`, as GoTrue answers a mailed link.
pub fn see_other(location: &str) -> ApiResult {
    let location = HeaderValue::from_str(location).map_err(|_| ApiError::internal())?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}
