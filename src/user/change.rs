//! Changing the email address or the phone number: nothing changes until the new address is
//! confirmed by a code (and, with `mailer_secure_email_change_enabled`, the current one too);
//! `reauthenticate()`'s nonce for password changes.

use auth_core::otp::TokenType;
use auth_core::pkce::Method;
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::json;

use crate::caller::signed_in_caller;
use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};
use crate::one_time::{self, Channel, Code, Lineage, Rules};
use crate::signup::Address;
use crate::user_object::user_json;

static PENDING_CHANGE: &str = include_str!("pending_change.sql");

/// Starts an email change of `user_id` from `current` (may be empty) to `new`.
pub(crate) fn start_email_change(
    inst: &Instance,
    user_id: pgrx::Uuid,
    current: &str,
    new: &str,
    target: &str,
    challenge: Option<&(String, Method)>,
) -> AuthResult<i64> {
    let taken = db::json(
        "SELECT to_jsonb(true) FROM auth.users WHERE lower(email) = $1 AND id <> $2 AND is_sso_user = false",
        &[new.into(), user_id.into()],
    )?;
    if taken.is_some() {
        return Err(AuthError::EmailExists);
    }
    db::exec(
        "UPDATE auth.users SET email_change = $2, email_change_confirm_status = 0, updated_at = now() WHERE id = $1",
        &[user_id.into(), new.into()],
    )?;
    one_time::may_send(inst, user_id, TokenType::EmailChangeNew, Channel::Email)?;
    let pkce = challenge.is_some();
    let fresh = one_time::issue(
        inst,
        user_id,
        TokenType::EmailChangeNew,
        new,
        Channel::Email,
        pkce,
        Lineage::New,
    )?;
    let secure = inst.settings.mailer.mailer_secure_email_change_enabled && !current.is_empty();
    let old = if secure {
        Some(one_time::issue(
            inst,
            user_id,
            TokenType::EmailChangeCurrent,
            current,
            Channel::Email,
            pkce,
            Lineage::New,
        )?)
    } else {
        db::exec(
            "DELETE FROM auth.one_time_tokens WHERE user_id = $1 AND token_type = 'email_change_token_current'",
            &[user_id.into()],
        )?;
        None
    };
    if let Some((c, m)) = challenge {
        crate::pkce::start_flow(user_id, c, *m, "email_change")?;
    }
    let user = user_json(user_id, true)?;
    let payload = json!({
        "user": user,
        "email_data": {
            "token": old.as_ref().map(|o| o.code.as_str()).unwrap_or(""),
            "token_hash": old.as_ref().map(|o| o.hash.as_str()).unwrap_or(""),
            "token_new": fresh.code, "token_hash_new": fresh.hash,
            "redirect_to": target, "email_action_type": "email_change",
            "site_url": inst.settings.signup.site_url, "old_email": current,
        },
    });
    let id = crate::outbox::queue(
        inst,
        Channel::Email,
        "email_change_new",
        new,
        user_id,
        payload.clone(),
    )?;
    if secure {
        crate::outbox::queue(
            inst,
            Channel::Email,
            "email_change_current",
            current,
            user_id,
            payload,
        )?;
    }
    Ok(id)
}

/// Starts a phone change of `user_id` to `new`.
pub(crate) fn start_phone_change(
    inst: &Instance,
    user_id: pgrx::Uuid,
    new: &str,
) -> AuthResult<i64> {
    if !inst.settings.phone.external_phone_enabled {
        return Err(AuthError::ProviderDisabled {
            email: false,
            signup: false,
        });
    }
    let taken = db::json(
        "SELECT to_jsonb(true) FROM auth.users WHERE phone = $1 AND id <> $2",
        &[new.into(), user_id.into()],
    )?;
    if taken.is_some() {
        return Err(AuthError::PhoneExists);
    }
    db::exec(
        "UPDATE auth.users SET phone_change = $2, updated_at = now() WHERE id = $1",
        &[user_id.into(), new.into()],
    )?;
    one_time::send_code(
        inst,
        &Code {
            user_id,
            token_type: TokenType::PhoneChange,
            channel: Channel::Sms,
            address: new,
            action: "phone_change",
            redirect_to: "",
            pkce: None,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    id: uuid::Uuid,
    email: String,
    email_change: String,
    phone_change: String,
}

/// `resend` of `email_change` (by the current email) or `phone_change` (by the new number):
/// the pending change's codes again; 0 when none is pending (the same answer, nothing sent).
pub(crate) fn resend_change(
    inst: &Instance,
    address: &Address,
    target: &str,
    challenge: Option<&(String, Method)>,
) -> AuthResult<i64> {
    let pending: Option<Pending> = db::typed(db::json(
        PENDING_CHANGE,
        &[address.email().into(), address.phone().into()],
    )?)?;
    let Some(p) = pending else { return Ok(0) };
    let user_id = db::uuid(p.id);
    match address {
        Address::Email(_) if !p.email_change.is_empty() => {
            start_email_change(inst, user_id, &p.email, &p.email_change, target, challenge)
        }
        Address::Phone(_) if !p.phone_change.is_empty() => {
            start_phone_change(inst, user_id, &p.phone_change)
        }
        _ => Ok(0),
    }
}

/// Checks `reauthenticate()`'s nonce for the user's address; consumed once.
pub(crate) fn check_nonce(
    inst: &Instance,
    address: &str,
    by_phone: bool,
    nonce: &str,
) -> AuthResult<()> {
    let s = &inst.settings;
    let rules = Rules {
        types: &[TokenType::Reauthentication],
        phone: by_phone,
        lifetime: if by_phone {
            s.phone.sms_otp_exp
        } else {
            s.mailer.mailer_otp_exp
        },
        max_attempts: s.mailer.otp_max_attempts,
    };
    let code =
        auth_core::otp::read_code(Some(nonce)).map_err(|_| AuthError::ReauthenticationNotValid)?;
    match one_time::consume_code(inst, address, &code, &rules) {
        Ok(_) => Ok(()),
        Err(AuthError::OtpExpired) => Err(AuthError::ReauthenticationNotValid),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Addresses {
    email: String,
    phone: String,
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn reauthenticate() -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        let inst = instance::get()?;
        let who: Addresses = db::typed(db::json(
            "SELECT jsonb_build_object('email', coalesce(email, ''), 'phone', coalesce(phone, '')) \
               FROM auth.users WHERE id = $1 AND deleted_at IS NULL",
            &[caller.user_id.into()],
        )?)?
        .ok_or(AuthError::UserNotFound)?;
        let (channel, address) = if !who.email.is_empty() {
            (Channel::Email, who.email)
        } else if !who.phone.is_empty() {
            (Channel::Sms, who.phone)
        } else {
            return Err(AuthError::validation(
                "Reauthentication requires the user to have an email or a phone number",
            ));
        };
        one_time::send_code(
            &inst,
            &Code {
                user_id: caller.user_id,
                token_type: TokenType::Reauthentication,
                channel,
                address: &address,
                action: "reauthentication",
                redirect_to: "",
                pkce: None,
            },
        )?;
        Ok(JsonB(json!({})))
    })
}
