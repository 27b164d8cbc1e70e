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
    /// Not in GoTrue, which audits no failed sign-in; written apart from the failing call
    /// (src/trace/).
    LoginFailed,
    /// A recovery was asked for (also for an unknown address, with no actor id).
    RecoveryRequested,
    UserDeleted,
    UserInvited,
    /// An external identity added to an existing user (automatic linking or linkIdentity).
    IdentityLinked,
    IdentityUnlinked,
    /// A factor enrolled (not yet verified).
    FactorInProgress,
    /// A challenge of a factor made (a phone factor's code sent).
    ChallengeCreated,
    /// A factor's challenge answered rightly (GoTrue writes it only then).
    VerificationAttempted,
    /// A factor removed by its user.
    FactorUnenrolled,
    /// A factor removed by an admin.
    FactorDeleted,
    PasskeyCreated,
    PasskeyUpdated,
    PasskeyDeleted,
    /// A user's recovery codes made (GoTrue's `recovery_codes_generated`).
    RecoveryCodesGenerated,
    /// A user's recovery codes replaced by a new set.
    RecoveryCodesRegenerated,
    /// A recovery code used to reach aal2 (GoTrue writes only the successes).
    RecoveryCodesVerified,
    /// A user's recovery codes removed by the user.
    RecoveryCodesDeleted,
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
            Action::LoginFailed => ("login_failed", "account"),
            Action::RecoveryRequested => ("user_recovery_requested", "user"),
            Action::UserDeleted => ("user_deleted", "team"),
            Action::UserInvited => ("user_invited", "team"),
            Action::IdentityLinked => ("identity_linked", "user"),
            Action::IdentityUnlinked => ("identity_unlinked", "user"),
            Action::FactorInProgress => ("factor_in_progress", "factor"),
            Action::ChallengeCreated => ("challenge_created", "factor"),
            Action::VerificationAttempted => ("verification_attempted", "factor"),
            Action::FactorUnenrolled => ("factor_unenrolled", "factor"),
            Action::FactorDeleted => ("factor_deleted", "factor"),
            Action::PasskeyCreated => ("passkey_created", "user"),
            Action::PasskeyUpdated => ("passkey_updated", "user"),
            Action::PasskeyDeleted => ("passkey_deleted", "user"),
            Action::RecoveryCodesGenerated => ("recovery_codes_generated", "factor"),
            Action::RecoveryCodesRegenerated => ("recovery_codes_regenerated", "factor"),
            Action::RecoveryCodesVerified => ("recovery_codes_verified", "factor"),
            Action::RecoveryCodesDeleted => ("recovery_codes_deleted", "factor"),
        }
    }
}

/// The audit insert on its own (src/sql/audit_insert.sql), also used by the revocation worker.
pub static INSERT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::fragments::expand(crate::fragments::AUDIT_INSERT));

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

/// One audit entry's parameters (`$1` payload, `$2` IP address of [`INSERT`]).
pub struct Entry {
    payload: String,
    ip: String,
}

impl Entry {
    pub fn new(
        action: Action,
        user_id: &str,
        email: Option<&str>,
        traits: serde_json::Value,
        request: &RequestInfo,
    ) -> Entry {
        Entry {
            payload: payload(action, user_id, email, traits),
            ip: request.ip.clone().unwrap_or_default(),
        }
    }

    pub fn payload(&self) -> DatumWithOid<'_> {
        DatumWithOid::from(self.payload.as_str())
    }

    pub fn ip(&self) -> DatumWithOid<'_> {
        DatumWithOid::from(self.ip.as_str())
    }
}

/// [`record`] of an action the caller took on their own account.
pub(crate) fn record_by(
    caller: &crate::caller::Caller,
    action: Action,
    traits: serde_json::Value,
) -> AuthResult<()> {
    record(
        action,
        &caller.user_id.to_string(),
        caller.email.as_deref(),
        traits,
        &crate::request::current(),
    )
}

pub fn record(
    action: Action,
    user_id: &str,
    email: Option<&str>,
    traits: serde_json::Value,
    request: &RequestInfo,
) -> AuthResult<()> {
    let entry = Entry::new(action, user_id, email, traits, request);
    db::exec(INSERT.as_str(), &[entry.payload(), entry.ip()])?;
    Ok(())
}
