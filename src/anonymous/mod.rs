//! `auth.sign_in_anonymously`: GoTrue's `POST /signup` without an email or phone. A user with
//! `is_anonymous` true (the claim RLS policies tell them apart by), no address, no identity, amr
//! `anonymous`; made permanent later by `update_user({email})` / `({phone})` and its
//! confirmation, keeping the id and the data (src/verify/confirm.sql).

use auth_core::rate_limit::Bucket;
use auth_core::{user, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;
use crate::instance;
use crate::request;
use crate::session_start::start_session;

static INSERT_ANONYMOUS: &str = include_str!("insert_anonymous.sql");

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_in_anonymously(data: default!(Option<JsonbArg>, "'{}'")) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let s = &inst.settings;
        if !s.signup.external_anonymous_users_enabled {
            return Err(AuthError::AnonymousProviderDisabled);
        }
        let req = request::current();
        crate::rate_limit::check(&inst, Bucket::AnonymousUsers, &req)?;
        if s.signup.disable_signup {
            return Err(AuthError::SignupDisabled);
        }
        let data = data.map(|d| d.to_value("data")).transpose()?;
        let data = user::check_metadata(data.as_ref())?;
        let user_id = db::uuid(uuid::Uuid::new_v4());
        crate::hooks::before_user_created(
            &inst,
            crate::hooks::new_user_object(
                user_id,
                &s.tokens.jwt_aud,
                None,
                None,
                None,
                &data,
                true,
            ),
        )?;
        db::exec(
            INSERT_ANONYMOUS,
            &[
                user_id.into(),
                s.tokens.jwt_aud.as_str().into(),
                db::INSTANCE_ID.into(),
                JsonB(data).into(),
            ],
        )?;
        start_session(&inst, user_id, "", "anonymous", "anonymous", &req).map(JsonB)
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "anonymous_api",
    requires = [sign_in_anonymously]
);
