//! `auth.sign_up`: a new user with an email and a password; with `mailer_autoconfirm` they are
//! signed in at once.

use auth_core::{email, password, user, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::audit::{self, Action};
use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;
use crate::hashing;
use crate::instance;
use crate::request;
use crate::session_start::start_session;
use crate::user_object::user_json;

static INSERT_USER: &str = include_str!("insert_user.sql");

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_up(
    email: Option<&str>,
    password: Option<&str>,
    data: default!(Option<JsonbArg>, "'{}'"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let s = &inst.settings;
        if s.signup.disable_signup {
            return Err(AuthError::SignupDisabled);
        }
        let email = email::normalize(email)?;
        let password = password::check_policy(password, s.passwords.password_min_length as usize)?;
        let data = data.map(|d| d.to_value("data")).transpose()?;
        let data = user::check_metadata(data.as_ref())?;
        let hash = hashing::hash(password, s.argon2_cost())?;
        let user_id = db::uuid(uuid::Uuid::new_v4());
        let created = db::json(
            INSERT_USER,
            &[
                user_id.into(),
                s.tokens.jwt_aud.as_str().into(),
                email.as_str().into(),
                hash.as_str().into(),
                s.signup.mailer_autoconfirm.into(),
                db::INSTANCE_ID.into(),
                JsonB(data).into(),
            ],
        )?;
        if created.is_none() {
            return Err(AuthError::UserAlreadyExists);
        }
        let req = request::current();
        audit::record(
            Action::UserSignedUp,
            &user_id.to_string(),
            Some(&email),
            json!({"provider": "email"}),
            &req,
        )?;
        if s.signup.mailer_autoconfirm {
            start_session(&inst, user_id, &email, "email", "password", &req).map(JsonB)
        } else {
            user_json(user_id, true).map(JsonB)
        }
    })
}

pgrx::extension_sql_file!("api.sql", name = "signup_api", requires = [sign_up]);
