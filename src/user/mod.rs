//! The signed-in user's own record: `auth.get_user`, `auth.update_user` (metadata, password,
//! and email or phone changes confirmed by code: change.rs) and `auth.reauthenticate`.

mod change;

pub(crate) use change::resend_change;

use std::sync::LazyLock;

use auth_core::user::UserChanges;
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::caller::signed_in_caller;
use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;
use crate::fragments;
use crate::hashing;
use crate::instance;
use crate::request;
use crate::user_object::user_json;

static LOCK_USER: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("lock_user.sql")));
static UPDATE_USER: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("update_user.sql")));

#[pg_extern(schema = "auth", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn get_user() -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        user_json(caller.user_id, false).map(JsonB)
    })
}

/// The user's current email, phone and password hash, read strictly, and the age of the
/// caller's session.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedUser {
    #[serde(deserialize_with = "auth_core::rows::required")]
    email: Option<String>,
    #[serde(deserialize_with = "auth_core::rows::required")]
    phone: Option<String>,
    #[serde(deserialize_with = "auth_core::rows::required")]
    hash: Option<String>,
    #[serde(deserialize_with = "auth_core::rows::required")]
    session_age: Option<f64>,
    is_anonymous: bool,
    is_sso_user: bool,
    has_verified_factor: bool,
    session_aal2: bool,
}

/// GoTrue: a password change needs the reauthentication nonce when the session is older than
/// this (and `update_password_require_reauthentication` is on).
const REAUTHENTICATION_AFTER_SECS: f64 = 24.0 * 3600.0;

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn update_user(attributes: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let attributes = attributes
            .map(|a| a.to_value("the attributes"))
            .transpose()?;
        let attributes = match attributes {
            Some(v @ Value::Object(_)) => v,
            _ => {
                return Err(AuthError::validation(
                    "update_user expects a JSON object of attributes",
                ))
            }
        };
        let caller = signed_in_caller()?;
        let inst = instance::get()?;
        let s = &inst.settings;
        let current: LockedUser = db::typed(db::json(
            LOCK_USER.as_str(),
            &[caller.user_id.into(), caller.session_id.into()],
        )?)?
        .ok_or(AuthError::UserNotFound)?;
        let current_email = current.email.as_deref().filter(|e| !e.is_empty());
        let current_phone = current.phone.as_deref().filter(|p| !p.is_empty());
        let changes = UserChanges::read(&attributes, current_email, current_phone)?;
        // An SSO user's address, phone and password are the IdP's to manage (GoTrue's rule).
        if current.is_sso_user
            && (changes.password.is_some() || changes.email.is_some() || changes.phone.is_some())
        {
            return Err(AuthError::user_sso_managed());
        }
        // Step-up (GoTrue's rule): with a verified factor, the address and password change only
        // from an aal2 session.
        if current.has_verified_factor
            && !current.session_aal2
            && (changes.password.is_some() || changes.email.is_some())
        {
            return Err(AuthError::insufficient_aal());
        }
        if current.is_anonymous
            && changes.password.is_some()
            && changes.email.is_none()
            && changes.phone.is_none()
        {
            return Err(AuthError::Unprocessable(
                "Updating password of an anonymous user without an email or phone is not allowed"
                    .into(),
            ));
        }
        if changes.email.is_some() || changes.phone.is_some() {
            // It sends a code: GoTrue's `PUT /user` shares the limit of the requests that do.
            crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Otp)?;
        }
        if changes.password.is_some()
            && s.passwords.update_password_require_reauthentication
            && current
                .session_age
                .is_none_or(|age| age > REAUTHENTICATION_AFTER_SECS)
        {
            let nonce = changes
                .nonce
                .as_deref()
                .ok_or(AuthError::ReauthenticationNeeded)?;
            match (current_email, current_phone) {
                (Some(e), _) => change::check_nonce(&inst, e, false, nonce)?,
                (None, Some(p)) => change::check_nonce(&inst, p, true, nonce)?,
                (None, None) => return Err(AuthError::ReauthenticationNotValid),
            }
        }
        let new_hash = match changes.password.as_deref() {
            None => None,
            Some(p) => {
                let p = crate::password_policy::check(&inst, Some(p))?;
                if let Some(old) = current.hash.as_deref().filter(|h| !h.is_empty()) {
                    if hashing::verify(p, old) {
                        return Err(AuthError::SamePassword);
                    }
                }
                Some(hashing::hash(p, s.argon2_cost())?)
            }
        };
        let str_attr = |k: &str| attributes.get(k).and_then(Value::as_str);
        if let Some(new_email) = changes.email.as_deref() {
            let target = crate::signup::link_target(&inst, str_attr("redirect_to"));
            let challenge = auth_core::pkce::read_challenge(
                str_attr("code_challenge"),
                str_attr("code_challenge_method"),
            )?;
            change::start_email_change(
                &inst,
                caller.user_id,
                current_email.unwrap_or(""),
                new_email,
                &target,
                challenge.as_ref(),
            )?;
        }
        if let Some(new_phone) = changes.phone.as_deref() {
            change::start_phone_change(&inst, caller.user_id, new_phone)?;
        }
        if changes.data.is_none() && new_hash.is_none() {
            let fresh = changes.email.is_some() || changes.phone.is_some();
            return user_json(caller.user_id, fresh).map(JsonB);
        }
        let user = db::json(
            UPDATE_USER.as_str(),
            &[
                caller.user_id.into(),
                changes.data.map(JsonB).into(),
                new_hash.as_deref().into(),
            ],
        )?
        .ok_or(AuthError::UserNotFound)?;
        if new_hash.is_some() {
            // As GoTrue: a new password ends the user's other sessions, so a stolen refresh
            // token does not outlive the password it was obtained with.
            db::exec(
                "DELETE FROM auth.sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2",
                &[caller.user_id.into(), caller.session_id.into()],
            )?;
            crate::claims::forget_session_checks();
        }
        audit::record(
            Action::UserModified,
            &caller.user_id.to_string(),
            db::str_field(&user, "email"),
            json!({"changed": changes.changed}),
            &request::current(),
        )?;
        Ok(JsonB(user))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "user_api",
    requires = [get_user, update_user, change::reauthenticate]
);
