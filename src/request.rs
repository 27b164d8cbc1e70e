//! What the HTTP layer tells us about the request: PostgREST (and the shim) put the headers in
//! `request.headers` as JSON with lower-cased names. The client's address follows the one rule
//! of `auth_core::client_ip` under the instance's `client_ip_header` /
//! `client_ip_trusted_proxies` settings, and only from a trusted session (`trust`).

use serde_json::Value;

use auth_core::settings::ClaimsTrust;

use crate::ffi::guc;
use crate::instance;

#[derive(Default)]
pub struct RequestInfo {
    /// The call came over HTTP (PostgREST or the shim set `request.headers`).
    pub http: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn current() -> RequestInfo {
    let Some(text) = guc::get(c"request.headers") else {
        return RequestInfo::default();
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        // What a transaction-local `request.headers` leaves behind: no request.
        return RequestInfo::default();
    }
    let Ok(headers) = serde_json::from_slice::<Value>(text) else {
        // Headers that cannot be read still came with a request, from an address unknown.
        return RequestInfo {
            http: true,
            ..RequestInfo::default()
        };
    };
    let header = |name: &str| headers.get(name).and_then(Value::as_str);
    let ip = instance::get().ok().and_then(|inst| {
        // Anyone can set request.headers; under claims_trust 'verified' only a trusted session
        // (PostgREST, the shim's role) says who the client is.
        let trusted = inst.settings.trust.claims_trust == ClaimsTrust::Any
            || crate::trust::is_trusted_role(&inst).unwrap_or(false);
        if !trusted {
            return None;
        }
        let rule = inst.settings.ip_rule();
        let value = rule.header.as_deref().and_then(header);
        auth_core::client_ip::resolve(&rule, value).map(|ip| ip.to_string())
    });
    // Text columns cannot hold NUL, which JSON can carry.
    let user_agent =
        header("user-agent").map(|ua| ua.chars().filter(|c| *c != '\0').take(512).collect());
    RequestInfo {
        http: true,
        ip,
        user_agent,
    }
}
