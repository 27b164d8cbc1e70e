//! `auth.sign_out`: ends the caller's sessions (all, this one, or all others).

use auth_core::user::SignOutScope;
use auth_core::AuthError;
use pgrx::prelude::*;
use serde_json::json;

use crate::audit::{self, Action};
use crate::caller::caller;
use crate::db;
use crate::error::guard;
use crate::request;

static SIGN_OUT_GLOBAL: &str = include_str!("sign_out_global.sql");
static SIGN_OUT_OTHERS: &str = include_str!("sign_out_others.sql");

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_out(scope: default!(Option<&str>, "'global'")) {
    guard(move || {
        let scope = SignOutScope::parse(scope)?;
        let caller = caller()?;
        let sql = match scope {
            SignOutScope::Global => SIGN_OUT_GLOBAL,
            SignOutScope::Local => "DELETE FROM auth.sessions WHERE user_id = $1 AND id = $2",
            SignOutScope::Others => SIGN_OUT_OTHERS,
        };
        if scope.needs_session() && caller.session_id.is_none() {
            return Err(AuthError::NoAuthorization);
        }
        db::exec(sql, &[caller.user_id.into(), caller.session_id.into()])?;
        crate::claims::forget_session_checks();
        audit::record(
            Action::Logout,
            &caller.user_id.to_string(),
            caller.email.as_deref(),
            json!({"scope": scope.as_str()}),
            &request::current(),
        )
    })
}

pgrx::extension_sql_file!("api.sql", name = "sessions_api", requires = [sign_out]);
