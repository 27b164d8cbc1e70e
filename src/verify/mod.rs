//! Verifying a one-time code or link: `verify_otp` (`POST /verify`, by address and code or by
//! `token_hash`), `verify_link` (`GET /verify`: where to send the browser), and
//! `redirect_target` (the checked redirect, for the error redirects the shim builds).
//!
//! GoTrue's parameter is `type`, a Rust keyword: the functions here are `_verify_otp` and
//! `_verify_link`, and api.sql declares `auth.verify_otp(type, ...)` and
//! `auth.verify_link(token, type, ...)` over them.

use auth_core::otp::{self, TokenType, VerifyType};
use auth_core::{email, phone, redirect, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};
use crate::one_time::{self, Consumed, Rules};
use crate::request;
use crate::session_start::start_session;

static CONFIRM: &str = include_str!("confirm.sql");

/// GoTrue's answer to the first of the two confirmations of a secure email change.
pub(crate) const FIRST_OF_TWO: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

/// What a verification achieved.
enum Verified {
    /// The user is signed in (as `provider`, the session named by `amr`).
    SignedIn {
        user_id: pgrx::Uuid,
        address: String,
        provider: &'static str,
        pkce: bool,
    },
    /// The first half of a secure email change: the other address must confirm too.
    FirstOfTwo,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirmed {
    email: String,
    phone: String,
    banned: bool,
}

fn rules(inst: &Instance, vtype: VerifyType) -> Rules<'static> {
    let s = &inst.settings;
    Rules {
        types: vtype.token_types(),
        phone: vtype.is_phone(),
        lifetime: if vtype.is_phone() {
            s.phone.sms_otp_exp
        } else {
            s.mailer.mailer_otp_exp
        },
        max_attempts: s.mailer.otp_max_attempts,
    }
}

/// Consumes the token and applies it to its user.
fn verify(
    inst: &Instance,
    vtype: VerifyType,
    token: Option<&str>,
    token_hash: Option<&str>,
    email_addr: Option<&str>,
    phone_no: Option<&str>,
) -> AuthResult<Verified> {
    let rules = rules(inst, vtype);
    let consumed: Consumed = match token_hash.filter(|h| !h.is_empty()) {
        Some(hash) => one_time::consume_hash(hash, &rules)?,
        None => {
            let code = otp::read_code(token)?;
            let address = if vtype.is_phone() {
                phone::normalize(phone_no)?
            } else {
                email::normalize(email_addr).map_err(|_| {
                    AuthError::validation(
                        "Only an email address or phone number should be provided on verify",
                    )
                })?
            };
            one_time::consume_code(inst, &address, &code, &rules)?
        }
    };
    if matches!(
        consumed.token_type,
        TokenType::EmailChangeCurrent | TokenType::EmailChangeNew
    ) {
        // The other half of a secure change still waits: this confirmation is noted (its token
        // is gone) and the change waits for the other.
        let other = db::json(
            "SELECT to_jsonb(count(*)) FROM auth.one_time_tokens \
              WHERE user_id = $1 AND token_type IN ('email_change_token_new', 'email_change_token_current')",
            &[consumed.user_id.into()],
        )?
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
        if other > 0 {
            db::exec(
                "UPDATE auth.users SET email_change_confirm_status = 1, updated_at = now() WHERE id = $1",
                &[consumed.user_id.into()],
            )?;
            return Ok(Verified::FirstOfTwo);
        }
    }
    let confirmed: Confirmed = db::typed(db::json(
        CONFIRM,
        &[
            consumed.user_id.into(),
            consumed.token_type.as_str().into(),
            consumed.relates_to.as_str().into(),
            consumed.issued_at.as_str().into(),
        ],
    )?)?
    .ok_or(AuthError::OtpExpired)?;
    if confirmed.banned {
        return Err(AuthError::UserBanned);
    }
    let (provider, address) = if vtype.is_phone() {
        ("phone", confirmed.phone)
    } else {
        ("email", confirmed.email)
    };
    Ok(Verified::SignedIn {
        user_id: consumed.user_id,
        address,
        provider,
        pkce: consumed.pkce,
    })
}

fn session(inst: &Instance, vtype: VerifyType, v: &Verified) -> AuthResult<Value> {
    match v {
        Verified::SignedIn {
            user_id,
            address,
            provider,
            ..
        } => start_session(
            inst,
            *user_id,
            address,
            provider,
            vtype.amr_method(),
            &request::current(),
        ),
        Verified::FirstOfTwo => Ok(json!({"msg": FIRST_OF_TWO, "code": "200"})),
    }
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn _verify_otp(
    otp_type: Option<&str>,
    token: default!(Option<&str>, "NULL"),
    token_hash: default!(Option<&str>, "NULL"),
    email: default!(Option<&str>, "NULL"),
    phone: default!(Option<&str>, "NULL"),
    redirect_to: default!(Option<&str>, "NULL"),
) -> JsonB {
    let _ = redirect_to;
    guard(move || {
        let inst = instance::get()?;
        crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Verify)?;
        let vtype = VerifyType::parse(otp_type)?;
        let v = verify(&inst, vtype, token, token_hash, email, phone)?;
        session(&inst, vtype, &v).map(JsonB)
    })
}

/// `redirect_to` when it is `site_url` or matches `uri_allow_list`, else `site_url`.
fn target(inst: &Instance, redirect_to: Option<&str>) -> String {
    let s = &inst.settings;
    redirect::allowed_target(redirect_to, &s.signup.site_url, &s.mailer.uri_allow_list)
}

#[pg_extern(schema = "auth", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn redirect_target(redirect_to: Option<&str>) -> String {
    guard(move || Ok(target(&*instance::get()?, redirect_to)))
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn _verify_link(
    token: Option<&str>,
    otp_type: Option<&str>,
    redirect_to: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Verify)?;
        let vtype = VerifyType::parse(otp_type)?;
        if vtype.is_phone() || vtype == VerifyType::Email {
            return Err(AuthError::validation("Invalid email verification type"));
        }
        let to = target(&inst, redirect_to);
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::validation("Verify requires a token or a token_hash"))?;
        let v = verify(
            &inst,
            vtype,
            None,
            Some(&token.replace('-', "")),
            None,
            None,
        )
        .map_err(|e| match e {
            AuthError::OtpExpired => AuthError::LinkExpired,
            e => e,
        })?;
        let location = match &v {
            Verified::SignedIn {
                user_id,
                pkce: true,
                ..
            } => {
                let code = crate::pkce::issue_auth_code(*user_id, crate::pkce::auth_method(vtype))?;
                redirect::with_query(&to, &[("code", code.as_str())])
            }
            Verified::SignedIn { .. } => {
                let s = session(&inst, vtype, &v)?;
                crate::session_start::session_fragment(&to, &s, &[("type", vtype.as_str())])
            }
            Verified::FirstOfTwo => redirect::with_fragment(&to, &[("message", FIRST_OF_TWO)]),
        };
        Ok(JsonB(json!({ "location": location })))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "verify_api",
    requires = [_verify_otp, _verify_link, redirect_target]
);
