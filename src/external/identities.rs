//! `DELETE /user/identities/{id}` (`unlinkIdentity`): one of the caller's identities removed,
//! never the last; the user's address follows the remaining identities.

use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Action};
use crate::db;
use crate::error::guard;
use crate::instance;
use crate::request;

static UNLINK: &str = include_str!("unlink.sql");
static UNLINK_ADDRESS: &str = include_str!("unlink_address.sql");
static PROVIDERS_LIST: &str = include_str!("providers_list.sql");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unlinked {
    id: uuid::Uuid,
    provider: String,
    provider_id: String,
    #[allow(dead_code)]
    email: Option<String>,
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn unlink_identity(identity_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        if !inst.settings.signup.security_manual_linking_enabled {
            return Err(AuthError::manual_linking_disabled());
        }
        let caller = crate::caller::signed_in_caller()?;
        let id: uuid::Uuid = identity_id
            .and_then(|i| i.parse().ok())
            .ok_or(AuthError::BadPathId("identity_id"))?;
        // Lock the user: two unlinks at once must not leave them with none.
        let count = db::json(
            "SELECT to_jsonb((SELECT count(*) FROM auth.identities WHERE user_id = u.id)) \
               FROM auth.users u WHERE u.id = $1 FOR UPDATE",
            &[caller.user_id.into()],
        )?
        .and_then(|c| c.as_i64())
        .ok_or(AuthError::UserNotFound)?;
        if count <= 1 {
            return Err(AuthError::single_identity_not_deletable());
        }
        let gone: Unlinked = db::typed(db::json(
            UNLINK,
            &[caller.user_id.into(), db::uuid(id).into()],
        )?)?
        .ok_or_else(AuthError::identity_not_found)?;
        db::exec(UNLINK_ADDRESS, &[caller.user_id.into()])?;
        db::exec(PROVIDERS_LIST, &[caller.user_id.into()])?;
        audit::record(
            Action::IdentityUnlinked,
            &caller.user_id.to_string(),
            caller.email.as_deref(),
            json!({"identity_id": gone.id, "provider": gone.provider, "provider_id": gone.provider_id}),
            &request::current(),
        )?;
        Ok(JsonB(json!({})))
    })
}
