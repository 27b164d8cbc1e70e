//! Which user an SSO identity signs in as. SSO identities are their own linking domain, as in
//! GoTrue: an IdP's user is found by its identity, else linked to the one user holding an
//! identity of the same provider with the same address, else made anew as an SSO user
//! (`is_sso_user`: its address may repeat another user's, and it never links to a password,
//! social or another IdP's account by address).

use auth_core::external::linking::{self, Decision, Found};
use auth_core::external::profile::Profile;
use auth_core::AuthError;
use pgrx::JsonB;
use serde::Deserialize;

use crate::db;
use crate::error::AuthResult;
use crate::external::accounts::{
    account, add_identity, identity_id, record_linked, PROVIDERS_LIST, REFRESH_IDENTITY,
};
use crate::instance::Instance;
use crate::request::RequestInfo;

static FOUND: &str = include_str!("found.sql");
static INSERT_USER: &str = include_str!("insert_user.sql");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FoundRow {
    identity_owner: Option<uuid::Uuid>,
    address_holders: Vec<uuid::Uuid>,
}

/// The user to sign in (found, linked or created) and the address the session names.
pub(super) fn sign_in(
    inst: &Instance,
    provider: &str,
    profile: &Profile,
    req: &RequestInfo,
) -> AuthResult<(pgrx::Uuid, String)> {
    let s = &inst.settings;
    let email = profile.email.as_deref();
    let found: FoundRow = db::typed(db::json(
        FOUND,
        &[
            provider.into(),
            profile.subject.as_str().into(),
            email.into(),
        ],
    )?)?
    .ok_or(AuthError::Internal)?;
    let found = Found {
        identity_owner: found.identity_owner,
        address_holders: found.address_holders,
        address_taken: false,
    };
    let claims = JsonB(profile.claims.clone());
    // The IdP vouches for the address (GoTrue takes every SAML address as verified).
    let user_id = match linking::decide(&found, email, true) {
        Decision::Existing(owner) => {
            let user_id = db::uuid(owner);
            identity_id(db::json(
                REFRESH_IDENTITY,
                &[
                    user_id.into(),
                    provider.into(),
                    profile.subject.as_str().into(),
                    claims.into(),
                ],
            )?)?;
            user_id
        }
        Decision::Link(holder) => {
            let user_id = db::uuid(holder);
            let id = add_identity(user_id, provider, profile, true)?;
            record_linked(user_id, email, id, provider, profile, req)?;
            user_id
        }
        Decision::Create { email: new_email } => {
            if s.signup.disable_signup {
                return Err(AuthError::SignupDisabled);
            }
            let user_id = db::uuid(uuid::Uuid::new_v4());
            crate::hooks::before_user_created(
                inst,
                crate::hooks::new_user_object(
                    user_id,
                    &s.tokens.jwt_aud,
                    new_email.as_deref(),
                    None,
                    Some(provider),
                    &profile.claims,
                    false,
                ),
            )?;
            identity_id(db::json(
                INSERT_USER,
                &[
                    user_id.into(),
                    s.tokens.jwt_aud.as_str().into(),
                    new_email.as_deref().into(),
                    db::INSTANCE_ID.into(),
                    provider.into(),
                    profile.subject.as_str().into(),
                    JsonB(profile.claims.clone()).into(),
                ],
            )?)?;
            user_id
        }
        Decision::Ambiguous => {
            return Err(AuthError::validation(format!(
                "Multiple accounts with the same email address in the same linking domain detected: {provider}"
            )))
        }
    };
    db::exec(PROVIDERS_LIST, &[user_id.into()])?;
    let account = account(user_id)?;
    if account.banned {
        return Err(AuthError::UserBanned);
    }
    Ok((user_id, account.email.unwrap_or_default()))
}
