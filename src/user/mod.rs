//! The signed-in user's own record: `auth.get_user` and `auth.update_user`.

use std::sync::LazyLock;

use auth_core::user::UserChanges;
use auth_core::{password, AuthError};
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

static LOCK_USER: &str = include_str!("lock_user.sql");
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

/// The user's current email and password hash, read strictly.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedUser {
    #[serde(deserialize_with = "auth_core::rows::required")]
    email: Option<String>,
    #[serde(deserialize_with = "auth_core::rows::required")]
    hash: Option<String>,
}

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
        let current: LockedUser = db::typed(db::json(LOCK_USER, &[caller.user_id.into()])?)?
            .ok_or(AuthError::UserNotFound)?;
        let changes = UserChanges::read(&attributes, current.email.as_deref())?;
        let new_hash = match changes.password.as_deref() {
            None => None,
            Some(p) => {
                let p = password::check_policy(Some(p), s.passwords.password_min_length as usize)?;
                if let Some(old) = current.hash.as_deref().filter(|h| !h.is_empty()) {
                    if hashing::verify(p, old) {
                        return Err(AuthError::SamePassword);
                    }
                }
                Some(hashing::hash(p, s.argon2_cost())?)
            }
        };
        if changes.data.is_none() && new_hash.is_none() {
            return user_json(caller.user_id, false).map(JsonB);
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
    requires = [get_user, update_user]
);
