//! The one check every new password passes (sign-up, `update_user`, the admin API's create,
//! update and signup link): auth_core's rules, with the breached list looked up here because it
//! is a table.

use auth_core::password;

use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;

static IS_BREACHED: &str = "SELECT to_jsonb(true) FROM auth.breached_passwords WHERE hash = $1";

/// Returns the password when the instance's policy accepts it, else `weak_password` with every
/// failing reason.
pub(crate) fn check<'a>(inst: &Instance, password: Option<&'a str>) -> AuthResult<&'a str> {
    password::check_policy(password, &inst.settings.password_policy(), is_breached)
}

/// Whether the password's SHA-1 is in `auth.breached_passwords` (docs/passwords.md). A read with
/// the caller's snapshot: nothing is written, so it also answers on a standby.
fn is_breached(password: &str) -> AuthResult<bool> {
    let key = password::breached_list_key(password);
    Ok(db::read_json(IS_BREACHED, &[key.as_slice().into()])?.is_some())
}
