//! Whose word the extension takes for what the HTTP layer says: the request's claims
//! (`request.jwt.claims`) and its headers (`request.headers`, the client's address).

use crate::error::AuthResult;
use crate::ffi::xact;
use crate::instance::{self, Instance};

/// Whether the session's login role may speak for the request itself: one of `trusted_roles`
/// (PostgREST's authenticator), a superuser (Supabase's own test helpers run as one), or the
/// extension's owner. `SET ROLE` does not change it; only a superuser can change it.
pub(crate) fn is_trusted_role(inst: &Instance) -> AuthResult<bool> {
    let session_user = xact::session_user();
    Ok(inst.trusted_role_oids.contains(&session_user)
        || session_user == instance::owner()?
        || xact::is_superuser(session_user))
}
