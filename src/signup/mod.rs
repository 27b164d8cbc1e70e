//! `auth.sign_up`: a new user with an email or a phone and a password. Confirmed at once
//! (`mailer_autoconfirm` / `sms_autoconfirm`) they are signed in; otherwise a confirmation code
//! goes out through the outbox and the answer is the user without a session. Also the building
//! blocks other flows create users with (`sign_in_with_otp`).

use auth_core::{email, phone, pkce, redirect, user, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::hashing;
use crate::instance::{self, Instance};
use crate::one_time::{self, Channel, Code, Lineage};
use crate::request;
use crate::session_start::start_session;
use crate::user_object::user_json;
use auth_core::otp::TokenType;

static INSERT_USER: &str = include_str!("insert_user.sql");
static EXISTING_USER_BY_EMAIL: &str = include_str!("existing_user_by_email.sql");
static EXISTING_USER_BY_PHONE: &str = include_str!("existing_user_by_phone.sql");
static OBFUSCATED_USER: &str = include_str!("obfuscated_user.sql");

/// The address a flow is for: a normalized email or an E.164 phone number (without `+`).
pub(crate) enum Address {
    Email(String),
    Phone(String),
}

impl Address {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Address::Email(a) | Address::Phone(a) => a,
        }
    }
    pub(crate) fn email(&self) -> Option<&str> {
        match self {
            Address::Email(a) => Some(a),
            Address::Phone(_) => None,
        }
    }
    pub(crate) fn phone(&self) -> Option<&str> {
        match self {
            Address::Phone(a) => Some(a),
            Address::Email(_) => None,
        }
    }
    pub(crate) fn channel(&self) -> Channel {
        match self {
            Address::Email(_) => Channel::Email,
            Address::Phone(_) => Channel::Sms,
        }
    }
    pub(crate) fn provider(&self) -> &'static str {
        match self {
            Address::Email(_) => "email",
            Address::Phone(_) => "phone",
        }
    }
}

/// Exactly one of `email` and `phone`, normalized, its provider enabled (`signup`: the refusal
/// names sign-ups, as GoTrue's).
pub(crate) fn read_address(
    inst: &Instance,
    email_in: Option<&str>,
    phone_in: Option<&str>,
    channel: Option<&str>,
    signup: bool,
) -> AuthResult<Address> {
    let s = &inst.settings;
    let given = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    match (given(email_in), given(phone_in)) {
        (true, true) => Err(AuthError::validation(
            "Only an email address or phone number should be provided",
        )),
        (true, false) => {
            if !s.mailer.external_email_enabled {
                return Err(AuthError::ProviderDisabled {
                    email: true,
                    signup,
                });
            }
            Ok(Address::Email(email::normalize(email_in)?))
        }
        (false, true) => {
            if !s.phone.external_phone_enabled {
                return Err(AuthError::ProviderDisabled {
                    email: false,
                    signup,
                });
            }
            match channel.unwrap_or("sms") {
                "sms" => {}
                "whatsapp" => {
                    return Err(AuthError::validation(
                        "WhatsApp codes are not supported; use the sms channel",
                    ))
                }
                _ => return Err(AuthError::validation("Invalid channel")),
            }
            Ok(Address::Phone(phone::normalize(phone_in)?))
        }
        (false, false) => Err(AuthError::validation(
            "An email address or phone number is required",
        )),
    }
}

/// A new user; `None` when the address is taken.
pub(crate) struct NewUser<'a> {
    pub(crate) address: &'a Address,
    /// The password hash, `""` for none.
    pub(crate) hash: &'a str,
    pub(crate) data: Value,
    pub(crate) confirmed: bool,
}

pub(crate) fn insert_user(inst: &Instance, new: NewUser) -> AuthResult<Option<pgrx::Uuid>> {
    let user_id = db::uuid(uuid::Uuid::new_v4());
    crate::hooks::before_user_created(
        inst,
        crate::hooks::new_user_object(
            user_id,
            &inst.settings.tokens.jwt_aud,
            new.address.email(),
            new.address.phone(),
            Some(new.address.provider()),
            &new.data,
            false,
        ),
    )?;
    let created = db::json(
        INSERT_USER,
        &[
            user_id.into(),
            inst.settings.tokens.jwt_aud.as_str().into(),
            new.address.email().into(),
            new.hash.into(),
            new.confirmed.into(),
            db::INSTANCE_ID.into(),
            JsonB(new.data).into(),
            new.address.phone().into(),
        ],
    )?;
    Ok(created.map(|_| user_id))
}

/// The user an address names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Existing {
    pub(crate) id: uuid::Uuid,
    pub(crate) confirmed: bool,
    pub(crate) banned: bool,
}

pub(crate) fn existing_user(address: &Address) -> AuthResult<Option<Existing>> {
    let lookup = match address {
        Address::Email(_) => EXISTING_USER_BY_EMAIL,
        Address::Phone(_) => EXISTING_USER_BY_PHONE,
    };
    db::typed(db::json(lookup, &[address.as_str().into()])?)
}

/// Sends the confirmation code (and link) of a new or unconfirmed user; `resend` continues the
/// pending one's lineage ([`Lineage::Continued`]), every other sender starts a new one.
pub(crate) fn send_confirmation(
    inst: &Instance,
    user_id: pgrx::Uuid,
    address: &Address,
    redirect_to: &str,
    challenge: Option<&(String, pkce::Method)>,
    lineage: Lineage,
) -> AuthResult<i64> {
    let code = Code {
        user_id,
        token_type: TokenType::Confirmation,
        channel: address.channel(),
        address: address.as_str(),
        action: match address {
            Address::Email(_) => "signup",
            Address::Phone(_) => "sms",
        },
        redirect_to,
        pkce: challenge.map(|(c, m)| (c.as_str(), *m, "email/signup")),
    };
    one_time::send(inst, &code, lineage)
}

/// `redirect_to` if the allow list admits it, else `site_url`.
pub(crate) fn link_target(inst: &Instance, redirect_to: Option<&str>) -> String {
    let s = &inst.settings;
    redirect::allowed_target(redirect_to, &s.signup.site_url, &s.mailer.uri_allow_list)
}

/// `auth.sign_up`, GoTrue's `POST /signup`.
#[allow(clippy::too_many_arguments)]
#[pg_extern(schema = "auth", name = "sign_up", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_up_user(
    email: default!(Option<&str>, "NULL"),
    password: default!(Option<&str>, "NULL"),
    data: default!(Option<JsonbArg>, "'{}'"),
    phone: default!(Option<&str>, "NULL"),
    channel: default!(Option<&str>, "'sms'"),
    redirect_to: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        sign_up_body(
            email,
            password,
            data,
            phone,
            channel,
            redirect_to,
            code_challenge,
            code_challenge_method,
        )
        .map(JsonB)
    })
}

/// The entry point that releases before 0.5.0 declared as `auth.sign_up(email, password, data)`
/// (its C symbol): a database whose extension is not yet updated still calls it with three
/// arguments. No SQL is generated for it.
#[pg_extern(sql = false)]
fn sign_up(email: Option<&str>, password: Option<&str>, data: Option<JsonbArg>) -> JsonB {
    guard(move || {
        sign_up_body(email, password, data, None, Some("sms"), None, None, None).map(JsonB)
    })
}

#[allow(clippy::too_many_arguments)]
fn sign_up_body(
    email: Option<&str>,
    password: Option<&str>,
    data: Option<JsonbArg>,
    phone: Option<&str>,
    channel: Option<&str>,
    redirect_to: Option<&str>,
    code_challenge: Option<&str>,
    code_challenge_method: Option<&str>,
) -> AuthResult<Value> {
    let inst = instance::get()?;
    crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Otp)?;
    let s = &inst.settings;
    if s.signup.disable_signup {
        return Err(AuthError::SignupDisabled);
    }
    let address = read_address(&inst, email, phone, channel, true)?;
    let password = crate::password_policy::check(&inst, password)?;
    let data = data.map(|d| d.to_value("data")).transpose()?;
    let data = user::check_metadata(data.as_ref())?;
    let challenge = pkce::read_challenge(code_challenge, code_challenge_method)?;
    let confirm_now = match address {
        Address::Email(_) => s.signup.mailer_autoconfirm,
        Address::Phone(_) => s.phone.sms_autoconfirm,
    };
    let hash = hashing::hash(password, s.argon2_cost())?;
    let target = link_target(&inst, redirect_to);
    let created = insert_user(
        &inst,
        NewUser {
            address: &address,
            hash: &hash,
            data: data.clone(),
            confirmed: confirm_now,
        },
    )?;
    let Some(user_id) = created else {
        if confirm_now {
            return Err(AuthError::UserAlreadyExists);
        }
        // Confirmations on: the same answer for a taken address as for a new one (GoTrue's
        // obfuscated user); an unconfirmed owner of the address gets the confirmation again.
        if let Some(existing) = existing_user(&address)? {
            if !existing.confirmed && !existing.banned {
                send_confirmation(
                    &inst,
                    db::uuid(existing.id),
                    &address,
                    &target,
                    challenge.as_ref(),
                    Lineage::New,
                )?;
            }
        }
        return db::json(
            OBFUSCATED_USER,
            &[
                s.tokens.jwt_aud.as_str().into(),
                address.email().into(),
                address.phone().into(),
                JsonB(data).into(),
            ],
        )?
        .ok_or(AuthError::Internal);
    };
    let req = request::current();
    audit::record(
        Action::UserSignedUp,
        &user_id.to_string(),
        address.email(),
        json!({"provider": address.provider()}),
        &req,
    )?;
    if confirm_now {
        start_session(
            &inst,
            user_id,
            address.as_str(),
            address.provider(),
            "password",
            &req,
        )
    } else {
        send_confirmation(
            &inst,
            user_id,
            &address,
            &target,
            challenge.as_ref(),
            Lineage::New,
        )?;
        user_json(user_id, true)
    }
}

pgrx::extension_sql_file!("api.sql", name = "signup_api", requires = [sign_up_user]);
