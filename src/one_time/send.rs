//! Sending a code: the checks, the token, the PKCE flow state, and the message in the outbox,
//! all in the caller's transaction.

use auth_core::otp::TokenType;
use auth_core::pkce::Method;
use serde_json::json;

use super::{issue, may_send, Channel, Issued, Lineage};
use crate::error::AuthResult;
use crate::instance::Instance;
use crate::user_object::user_json;

/// One code to send.
pub(crate) struct Code<'a> {
    pub(crate) user_id: pgrx::Uuid,
    pub(crate) token_type: TokenType,
    pub(crate) channel: Channel,
    /// The address the code goes to (and its hash is over).
    pub(crate) address: &'a str,
    /// The outbox action (`signup`, `magiclink`, `recovery`, `sms`, ...).
    pub(crate) action: &'a str,
    /// Where the mailed link leads, already checked against the allow list.
    pub(crate) redirect_to: &'a str,
    /// The PKCE challenge, with GoTrue's authentication method of the flow (`email/signup`, ...).
    pub(crate) pkce: Option<(&'a str, Method, &'a str)>,
}

/// [`send`] of a token that starts a lineage of its own: every sender but `resend`.
pub(crate) fn send_code(inst: &Instance, code: &Code) -> AuthResult<i64> {
    send(inst, code, Lineage::New)
}

/// Checks the frequency and hourly limits, issues the token, starts the PKCE flow when asked,
/// and queues the message. Returns the outbox id. With [`Lineage::Continued`] (`resend`) a
/// token that replaces a pending one of the same kind keeps its lineage (when it was first
/// issued), so the sign-up's own confirmation sent again still counts as the sign-up's
/// (src/verify/confirm.sql).
pub(crate) fn send(inst: &Instance, code: &Code, lineage: Lineage) -> AuthResult<i64> {
    may_send(inst, code.user_id, code.token_type, code.channel)?;
    let Issued { code: otp, hash } = issue(
        inst,
        code.user_id,
        code.token_type,
        code.address,
        code.channel,
        code.pkce.is_some(),
        lineage,
    )?;
    if let Some((challenge, method, auth_method)) = code.pkce {
        crate::pkce::start_flow(code.user_id, challenge, method, auth_method)?;
    }
    let user = user_json(code.user_id, true)?;
    let payload = match code.channel {
        Channel::Email => json!({
            "user": user,
            "email_data": {
                "token": otp, "token_hash": hash, "redirect_to": code.redirect_to,
                "email_action_type": code.action, "site_url": inst.settings.signup.site_url,
                "token_new": "", "token_hash_new": "",
            },
        }),
        Channel::Sms => json!({
            "user": user,
            "sms": {"otp": otp, "sms_type": code.action, "phone": code.address},
        }),
    };
    crate::outbox::queue(
        inst,
        code.channel,
        code.action,
        code.address,
        code.user_id,
        payload,
    )
}
