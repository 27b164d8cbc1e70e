//! The GoTrue user object (src/sql/user_object.sql) of one user, as `/user` returns it.

use std::sync::LazyLock;

use auth_core::AuthError;
use serde_json::Value;

use crate::db;
use crate::error::AuthResult;
use crate::fragments;

static USER_JSON: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("sql/user_json.sql")));

/// The GoTrue user object of a (non-deleted) user. `after_write`: the call changed the user, so
/// the read needs a fresh snapshot (otherwise it is a plain read, which works on standbys).
pub(crate) fn user_json(user_id: pgrx::Uuid, after_write: bool) -> AuthResult<Value> {
    let read = if after_write { db::json } else { db::read_json };
    read(USER_JSON.as_str(), &[user_id.into()])?.ok_or(AuthError::UserNotFound)
}
