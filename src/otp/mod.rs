//! Passwordless sign-in and resending codes: `sign_in_with_otp` (`POST /otp`: a magic link and
//! code by email, a code by SMS) and `resend` (`POST /resend`).

use auth_core::otp::TokenType;
use auth_core::{pkce, user, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance::{self, Instance};
use crate::one_time::{self, Code, Lineage};
use crate::signup::{
    existing_user, insert_user, link_target, read_address, send_confirmation, Address, NewUser,
};

/// GoTrue's answer: `{}` for an email, the message id for an SMS.
fn answer(address: &Address, id: i64) -> Value {
    match address {
        Address::Email(_) => json!({}),
        Address::Phone(_) => json!({"message_id": id.to_string()}),
    }
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_in_with_otp(
    email: default!(Option<&str>, "NULL"),
    phone: default!(Option<&str>, "NULL"),
    create_user: default!(Option<bool>, "true"),
    data: default!(Option<JsonbArg>, "'{}'"),
    channel: default!(Option<&str>, "'sms'"),
    redirect_to: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Otp)?;
        let address = read_address(&inst, email, phone, channel, false)?;
        let data = data.map(|d| d.to_value("data")).transpose()?;
        let data = user::check_metadata(data.as_ref())?;
        let challenge = pkce::read_challenge(code_challenge, code_challenge_method)?;
        let target = link_target(&inst, redirect_to);
        let id = match existing_user(&address)? {
            Some(existing) if existing.banned => return Err(AuthError::UserBanned),
            Some(existing) if existing.confirmed && matches!(address, Address::Email(_)) => {
                magic_link(
                    &inst,
                    db::uuid(existing.id),
                    &address,
                    &target,
                    challenge.as_ref(),
                )?
            }
            Some(existing) => send_confirmation(
                &inst,
                db::uuid(existing.id),
                &address,
                &target,
                challenge.as_ref(),
                Lineage::New,
            )?,
            None => {
                if !create_user.unwrap_or(true) || inst.settings.signup.disable_signup {
                    return Err(AuthError::OtpDisabled);
                }
                let user_id = insert_user(
                    &inst,
                    NewUser {
                        address: &address,
                        hash: "",
                        data,
                        confirmed: false,
                    },
                )?
                // Taken between the lookup and the insert: a concurrent request; retry.
                .ok_or(AuthError::Conflict)?;
                send_confirmation(
                    &inst,
                    user_id,
                    &address,
                    &target,
                    challenge.as_ref(),
                    Lineage::New,
                )?
            }
        };
        Ok(JsonB(answer(&address, id)))
    })
}

fn magic_link(
    inst: &Instance,
    user_id: pgrx::Uuid,
    address: &Address,
    target: &str,
    challenge: Option<&(String, pkce::Method)>,
) -> AuthResult<i64> {
    one_time::send_code(
        inst,
        &Code {
            user_id,
            token_type: TokenType::Recovery,
            channel: address.channel(),
            address: address.as_str(),
            action: "magiclink",
            redirect_to: target,
            pkce: challenge.map(|(c, m)| (c.as_str(), *m, "magiclink")),
        },
    )
}

/// What a resend of `otp_type` sends again, if the user has one pending.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn _resend(
    otp_type: Option<&str>,
    email: default!(Option<&str>, "NULL"),
    phone: default!(Option<&str>, "NULL"),
    redirect_to: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Otp)?;
        let challenge = pkce::read_challenge(code_challenge, code_challenge_method)?;
        let target = link_target(&inst, redirect_to);
        let kind = otp_type.unwrap_or("");
        let address = match kind {
            "signup" | "email_change" => read_address(&inst, email, None, None, false)?,
            "sms" | "phone_change" => read_address(&inst, None, phone, None, false)?,
            _ => {
                return Err(AuthError::validation(
                    "Missing one of these types: signup, email_change, sms, phone_change",
                ))
            }
        };
        let id = match kind {
            "signup" | "sms" => match existing_user(&address)? {
                Some(u) if !u.confirmed && !u.banned => send_confirmation(
                    &inst,
                    db::uuid(u.id),
                    &address,
                    &target,
                    challenge.as_ref(),
                    Lineage::Continued,
                )?,
                // Nothing to resend: the same answer as a resend, without a message.
                _ => 0,
            },
            _ => crate::user::resend_change(&inst, &address, &target, challenge.as_ref())?,
        };
        Ok(JsonB(answer(&address, id)))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "otp_api",
    requires = [sign_in_with_otp, _resend]
);
