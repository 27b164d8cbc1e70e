//! Who the current request's claims name: the user, their session, their email.

use auth_core::{claims, AuthError};
use serde_json::Value;

use crate::db;
use crate::error::AuthResult;

/// The user and session named by the current request's claims.
pub(crate) struct Caller {
    pub(crate) user_id: pgrx::Uuid,
    pub(crate) session_id: Option<pgrx::Uuid>,
    pub(crate) email: Option<String>,
    /// The token says the user signed in anonymously.
    pub(crate) is_anonymous: bool,
}

impl Caller {
    /// GoTrue's `requireNotAnonymous` (the `/factors` API, passkey registration): an account
    /// with no way in of its own has nothing for a second factor to protect.
    pub(crate) fn require_not_anonymous(&self) -> AuthResult<()> {
        if self.is_anonymous {
            Err(AuthError::anonymous_not_allowed())
        } else {
            Ok(())
        }
    }
}

/// The caller as the claims name them (`NoAuthorization` without claims or `sub`).
pub(crate) fn caller() -> AuthResult<Caller> {
    let claims = crate::claims::current()?.ok_or(AuthError::NoAuthorization)?;
    let sub = claims.sub.as_deref().ok_or(AuthError::NoAuthorization)?;
    let user_id = db::uuid(claims::parse_uuid("sub", sub)?);
    let session_id = match claims.raw.get("session_id").and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Some(db::uuid(claims::parse_uuid("session_id", s)?)),
        _ => None,
    };
    Ok(Caller {
        user_id,
        session_id,
        email: claims.email.clone(),
        is_anonymous: claims.raw.get("is_anonymous") == Some(&Value::Bool(true)),
    })
}

/// The caller, checked to still exist with the session their token names.
pub(crate) fn signed_in_caller() -> AuthResult<Caller> {
    let caller = caller()?;
    if let Some(session_id) = caller.session_id {
        let exists = db::read_json(
            "SELECT to_jsonb(true) FROM auth.sessions WHERE id = $1 AND user_id = $2",
            &[session_id.into(), caller.user_id.into()],
        )?;
        if exists.is_none() {
            return Err(AuthError::SessionNotFound);
        }
    }
    Ok(caller)
}
