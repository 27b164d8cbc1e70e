//! Phone factors: a code sent by SMS through the outbox at each challenge (GoTrue's
//! `mfa_phone_*` settings, off by default). Only the code's keyed hash is stored, in the
//! challenge; the outbox row loses the code once sent.

use auth_core::AuthError;
use serde_json::json;

use super::{Enrolment, Factor};
use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;
use crate::one_time::Channel;

/// Seconds since the last phone-factor code to $2 for user $1, within the last $3 seconds.
static LAST_SENT: &str = "\
    SELECT to_jsonb(extract(epoch FROM now() - max(created_at))::float8) FROM auth.outbox \
     WHERE channel = 'sms' AND created_at > now() - make_interval(secs => $3) \
       AND action = 'mfa' AND user_id = $1 AND recipient = $2";

/// The number in E.164 form; the answer echoes it as given (GoTrue's).
pub(super) fn enrolment(inst: &Instance, phone: Option<&str>) -> AuthResult<Enrolment> {
    if !inst.settings.mfa.mfa_phone_enroll_enabled {
        return Err(AuthError::mfa_phone_enroll_not_enabled());
    }
    let given = phone.map(str::trim).unwrap_or("");
    if given.is_empty() {
        return Err(AuthError::validation(
            "Phone number required to enroll Phone factor",
        ));
    }
    let number = auth_core::phone::normalize(Some(given))
        .map_err(|_| AuthError::validation("Invalid phone number format (E.164 required)"))?;
    Ok(Enrolment {
        secret: None,
        phone: Some(number),
        answer: json!({"phone": given.chars().take(32).collect::<String>()}),
    })
}

pub(super) fn require_verify_enabled(inst: &Instance) -> AuthResult<()> {
    if inst.settings.mfa.mfa_phone_verify_enabled {
        Ok(())
    } else {
        Err(AuthError::mfa_phone_verify_not_enabled())
    }
}

/// What a code's hash is over: the challenge's id, so that no other code's hash matches.
fn identity(challenge_id: &uuid::Uuid) -> String {
    format!("mfa:{challenge_id}")
}

/// Checks the channel and the frequency limits, and queues the SMS for challenge
/// `challenge_id`; answers the code's hash to store with it.
pub(super) fn send_code(
    inst: &Instance,
    f: &Factor,
    user_id: pgrx::Uuid,
    challenge_id: &uuid::Uuid,
    channel: Option<&str>,
) -> AuthResult<String> {
    let m = &inst.settings.mfa;
    // The outbox delivers SMS; GoTrue takes `whatsapp` only through Twilio.
    match channel.map(str::trim).filter(|c| !c.is_empty()) {
        None | Some("sms") => {}
        Some(_) => {
            return Err(AuthError::validation(
                "Invalid channel, supported values are 'sms' or 'whatsapp'",
            ))
        }
    }
    let phone = f.phone.as_deref().ok_or(AuthError::Internal)?;
    // The last code to this number for this user, by this factor or an earlier one of the same
    // number (enrolling it again must not reset the wait).
    let last_sent = db::json(
        LAST_SENT,
        &[
            user_id.into(),
            phone.into(),
            (m.mfa_phone_max_frequency as f64).into(),
        ],
    )?
    .and_then(|v| v.as_f64());
    if let Some(ago) = [f.challenged_ago, last_sent]
        .into_iter()
        .flatten()
        .reduce(f64::min)
    {
        let wait = m.mfa_phone_max_frequency as f64 - ago;
        if wait > 0.0 {
            return Err(AuthError::OverSmsSendRateLimit(Some(wait.ceil() as i64)));
        }
    }
    crate::outbox::within_hourly_limit(inst, Channel::Sms)?;
    let code = auth_core::otp::generate_code(m.mfa_phone_otp_length as usize);
    let hash = auth_core::otp::token_hash(&inst.keys.one_time_code, &identity(challenge_id), &code);
    let user = crate::user_object::user_json(user_id, true)?;
    crate::outbox::queue(
        inst,
        Channel::Sms,
        "mfa",
        phone,
        user_id,
        json!({"user": user, "sms": {"otp": code, "sms_type": "mfa", "phone": phone}}),
    )?;
    Ok(hash)
}

/// Whether `code` is the one sent for the challenge (compared as hashes, in constant time).
pub(super) fn check(
    inst: &Instance,
    challenge_id: &uuid::Uuid,
    stored: Option<&str>,
    code: Option<&str>,
) -> bool {
    let Some(stored) = stored else { return false };
    let code = code.unwrap_or("").trim();
    if code.is_empty() || code.len() > 64 {
        return false;
    }
    let hash = auth_core::otp::token_hash(&inst.keys.one_time_code, &identity(challenge_id), code);
    auth_core::otp::hashes_match(stored, &hash)
}
