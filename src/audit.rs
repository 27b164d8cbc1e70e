//! Audit entries in `auth.audit_log_entries`, shaped as GoTrue writes them. Payloads carry ids,
//! emails and actions; never a token, a hash or a password.

use pgrx::datum::DatumWithOid;
use serde_json::json;

use crate::db;
use crate::error::AuthResult;
use crate::request::RequestInfo;

#[derive(Clone, Copy)]
pub enum Action {
    UserSignedUp,
    Login,
    Logout,
    TokenRefreshed,
    TokenRevoked,
    UserModified,
}

impl Action {
    fn name_and_type(self) -> (&'static str, &'static str) {
        match self {
            Action::UserSignedUp => ("user_signedup", "team"),
            Action::Login => ("login", "account"),
            Action::Logout => ("logout", "account"),
            Action::TokenRefreshed => ("token_refreshed", "token"),
            Action::TokenRevoked => ("token_revoked", "token"),
            Action::UserModified => ("user_modified", "user"),
        }
    }
}

/// The statement, shared with the revocation worker.
pub const INSERT: &str =
    "INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
     VALUES ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), $1::json, now(), $2)";

pub fn payload(
    action: Action,
    user_id: &str,
    email: Option<&str>,
    traits: serde_json::Value,
) -> String {
    let (name, log_type) = action.name_and_type();
    json!({
        "actor_id": user_id,
        "actor_username": email.unwrap_or(""),
        "actor_via_sso": false,
        "action": name,
        "log_type": log_type,
        "traits": traits,
    })
    .to_string()
}

pub fn record(
    action: Action,
    user_id: &str,
    email: Option<&str>,
    traits: serde_json::Value,
    request: &RequestInfo,
) -> AuthResult<()> {
    let payload = payload(action, user_id, email, traits);
    let ip = request.ip.as_deref().unwrap_or("");
    db::exec(
        INSERT,
        &[DatumWithOid::from(payload.as_str()), DatumWithOid::from(ip)],
    )?;
    Ok(())
}
