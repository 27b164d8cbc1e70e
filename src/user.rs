//! The signed-in user: who the current claims name, and `get_user` / `update_user`.

use auth_core::{claims, password, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::hashing;
use crate::instance;
use crate::request;

/// The user and session named by the current request's claims.
pub struct Caller {
    pub user_id: pgrx::Uuid,
    pub session_id: Option<pgrx::Uuid>,
    pub email: Option<String>,
}

pub fn caller() -> AuthResult<Caller> {
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
    })
}

/// The GoTrue user object (what /user and every session response carry) of the `auth.users` row
/// aliased `u`, as a SQL expression spliced into each statement with `concat!`. An expression
/// rather than a SQL function: a function with a subquery is never inlined, so each call parsed
/// and planned its body again (a quarter of a refresh's CPU); spliced in, it is planned once
/// with the statement's kept plan.
macro_rules! user_object {
    () => {
        "(jsonb_strip_nulls(jsonb_build_object(
            'id', u.id,
            'aud', coalesce(u.aud, ''),
            'role', coalesce(u.role, ''),
            'email', coalesce(u.email, ''),
            'email_confirmed_at', u.email_confirmed_at,
            'phone', coalesce(u.phone, ''),
            'phone_confirmed_at', u.phone_confirmed_at,
            'confirmed_at', u.confirmed_at,
            'last_sign_in_at', u.last_sign_in_at,
            'banned_until', u.banned_until
        )) || jsonb_build_object(
            'app_metadata', coalesce(u.raw_app_meta_data, '{}'),
            'user_metadata', coalesce(u.raw_user_meta_data, '{}'),
            'identities', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                           'identity_id', i.id,
                           'id', i.provider_id,
                           'user_id', i.user_id,
                           'identity_data', i.identity_data,
                           'provider', i.provider,
                           'last_sign_in_at', i.last_sign_in_at,
                           'created_at', i.created_at,
                           'updated_at', i.updated_at,
                           'email', i.email) ORDER BY i.created_at)
                  FROM auth.identities i WHERE i.user_id = u.id), '[]'),
            'created_at', u.created_at,
            'updated_at', u.updated_at,
            'is_anonymous', u.is_anonymous))"
    };
}
pub(crate) use user_object;

/// The GoTrue user object of a (non-deleted) user. `after_write`: the call changed the user, so
/// the read needs a fresh snapshot (otherwise it is a plain read, which works on standbys).
pub fn user_json(user_id: pgrx::Uuid, after_write: bool) -> AuthResult<Value> {
    let read = if after_write { db::json } else { db::read_json };
    read(
        concat!(
            "SELECT ",
            user_object!(),
            " FROM auth.users u WHERE u.id = $1 AND u.deleted_at IS NULL"
        ),
        &[user_id.into()],
    )?
    .ok_or(AuthError::UserNotFound)
}

/// The caller, checked to still exist with the session their token names.
fn signed_in_caller() -> AuthResult<Caller> {
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

#[pg_extern(schema = "auth", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn get_user() -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        user_json(caller.user_id, false).map(JsonB)
    })
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
        let current = db::json(
            "SELECT jsonb_build_object('email', email, 'hash', encrypted_password)
               FROM auth.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            &[caller.user_id.into()],
        )?
        .ok_or(AuthError::UserNotFound)?;

        if let Some(new_email) = attributes.get("email").filter(|v| !v.is_null()) {
            let same = new_email
                .as_str()
                .map(|e| e.trim().to_lowercase())
                .as_deref()
                == db::str_field(&current, "email");
            if !same {
                return Err(AuthError::Unprocessable(
                    "Changing the email address is not supported yet".into(),
                ));
            }
        }
        if attributes.get("phone").is_some_and(|v| !v.is_null()) {
            return Err(AuthError::Unprocessable(
                "Changing the phone number is not supported yet".into(),
            ));
        }
        let data = match attributes.get("data") {
            None | Some(Value::Null) => None,
            Some(d) => Some(crate::session::check_metadata(Some(d))?),
        };
        let new_hash = match attributes.get("password").filter(|v| !v.is_null()) {
            None => None,
            Some(p) => {
                let p = p
                    .as_str()
                    .ok_or_else(|| AuthError::validation("password must be a string"))?;
                let p = password::check_policy(Some(p), s.password_min_length as usize)?;
                if let Some(old) = db::str_field(&current, "hash").filter(|h| !h.is_empty()) {
                    if hashing::verify(p, old) {
                        return Err(AuthError::SamePassword);
                    }
                }
                Some(hashing::hash(p, s.argon2_cost())?)
            }
        };
        if data.is_none() && new_hash.is_none() {
            return user_json(caller.user_id, false).map(JsonB);
        }
        // GoTrue merges `data` into user_metadata key by key; a null value removes the key.
        let user = db::json(
            concat!(
                "UPDATE auth.users u SET
                    raw_user_meta_data = CASE WHEN $2::jsonb IS NULL THEN u.raw_user_meta_data ELSE
                        (SELECT coalesce(jsonb_object_agg(key, value), '{}')
                           FROM jsonb_each(coalesce(u.raw_user_meta_data, '{}') || $2::jsonb)
                          WHERE value <> 'null'::jsonb) END,
                    encrypted_password = coalesce($3, u.encrypted_password),
                    updated_at = now()
              WHERE u.id = $1
             RETURNING ",
                user_object!()
            ),
            &[
                caller.user_id.into(),
                data.map(JsonB).into(),
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
        let changed: Vec<&str> = ["data", "password"]
            .into_iter()
            .filter(|k| attributes.get(*k).is_some_and(|v| !v.is_null()))
            .collect();
        audit::record(
            Action::UserModified,
            &caller.user_id.to_string(),
            db::str_field(&user, "email"),
            json!({"changed": changed}),
            &request::current(),
        )?;
        Ok(JsonB(user))
    })
}
