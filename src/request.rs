//! What the HTTP layer tells us about the request: PostgREST (and the shim) put the headers in
//! `request.headers` as JSON with lower-cased names. Used for sessions and audit entries only,
//! never for a security decision.

use std::ffi::CStr;
use std::net::IpAddr;

use pgrx::pg_sys;
use serde_json::Value;

#[derive(Default)]
pub struct RequestInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn current() -> RequestInfo {
    let ptr = unsafe { pg_sys::GetConfigOption(c"request.headers".as_ptr(), true, false) };
    if ptr.is_null() {
        return RequestInfo::default();
    }
    let text = unsafe { CStr::from_ptr(ptr) }.to_string_lossy();
    let Ok(headers) = serde_json::from_str::<Value>(&text) else {
        return RequestInfo::default();
    };
    let header = |name: &str| headers.get(name).and_then(Value::as_str);
    let ip = header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .or_else(|| header("x-real-ip"))
        .and_then(|v| v.parse::<IpAddr>().ok())
        .map(|ip| ip.to_string());
    // Text columns cannot hold NUL, which JSON can carry.
    let user_agent =
        header("user-agent").map(|ua| ua.chars().filter(|c| *c != '\0').take(512).collect());
    RequestInfo { ip, user_agent }
}
