//! Which user an external identity signs in as, and the writes that follow: GoTrue's linking
//! rules (auth_core::external::linking), a new user, a linked identity, a returning one, the
//! unconfirmed-account takeover guard, and linkIdentity's own rules.

use auth_core::external::linking::{self, Decision, Found};
use auth_core::external::profile::Profile;
use auth_core::AuthError;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Action};
use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;
use crate::one_time::Lineage;
use crate::request::RequestInfo;
use crate::signup::{send_confirmation, Address};

static FOUND: &str = include_str!("found.sql");
static INSERT_USER: &str = include_str!("insert_user.sql");
static ADD_IDENTITY: &str = include_str!("add_identity.sql");
pub(crate) static REFRESH_IDENTITY: &str = include_str!("refresh_identity.sql");
pub(crate) static PROVIDERS_LIST: &str = include_str!("providers_list.sql");
static ACCOUNT: &str = include_str!("account.sql");
static CLAIM_UNCONFIRMED: &str = include_str!("claim_unconfirmed.sql");
static LINK_ADDRESS: &str = include_str!("link_address.sql");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FoundRow {
    identity_owner: Option<uuid::Uuid>,
    address_holders: Vec<uuid::Uuid>,
    address_taken: bool,
}

/// The user a sign-in resolved to (src/external/account.sql), locked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Account {
    id: uuid::Uuid,
    pub(crate) email: Option<String>,
    confirmed: bool,
    pub(crate) banned: bool,
}

pub(crate) fn account(user_id: pgrx::Uuid) -> AuthResult<Account> {
    db::typed(db::json(ACCOUNT, &[user_id.into()])?)?.ok_or(AuthError::UserNotFound)
}

/// How a provider's sign-in ended.
pub(crate) enum Outcome {
    /// Sign in as this user (address as the session's audit names it).
    SignedIn { user_id: pgrx::Uuid, email: String },
    /// The user and identity are kept and a confirmation mail is queued, but there is no
    /// session: the provider did not verify the address (GoTrue commits, then refuses with
    /// `provider_email_needs_verification`).
    NeedsVerification(AuthError),
}

/// The identity's id (the row the takeover guard keeps).
pub(crate) fn identity_id(row: Option<serde_json::Value>) -> AuthResult<uuid::Uuid> {
    row.and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or(AuthError::Internal)
}

/// Adds the provider's identity to `user_id` (its claims merged into the user's metadata with
/// `merge`); returns the identity's id.
pub(crate) fn add_identity(
    user_id: pgrx::Uuid,
    provider: &str,
    profile: &Profile,
    merge: bool,
) -> AuthResult<uuid::Uuid> {
    identity_id(db::json(
        ADD_IDENTITY,
        &[
            user_id.into(),
            provider.into(),
            profile.subject.as_str().into(),
            JsonB(profile.claims.clone()).into(),
            merge.into(),
        ],
    )?)
}

/// The `identity_linked` audit entry (GoTrue's traits).
pub(crate) fn record_linked(
    user_id: pgrx::Uuid,
    email: Option<&str>,
    identity: uuid::Uuid,
    provider: &str,
    profile: &Profile,
    req: &RequestInfo,
) -> AuthResult<()> {
    audit::record(
        Action::IdentityLinked,
        &user_id.to_string(),
        email,
        json!({"identity_id": identity, "provider": provider, "provider_id": profile.subject}),
        req,
    )
}

/// Signs a provider's user in: finds, links or creates the account (GoTrue's rules), guards an
/// unconfirmed account, and says whether a session may start.
pub(crate) fn sign_in(
    inst: &Instance,
    provider: &str,
    profile: &Profile,
    email_optional: bool,
    redirect_to: &str,
    req: &RequestInfo,
) -> AuthResult<Outcome> {
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
        address_taken: found.address_taken,
    };
    let verified = profile.email_verified || s.signup.mailer_autoconfirm;
    let claims = JsonB(profile.claims.clone());
    let (user_id, kept_identity) = match linking::decide(&found, email, verified) {
        Decision::Existing(owner) => {
            let user_id = db::uuid(owner);
            let id = db::json(
                REFRESH_IDENTITY,
                &[
                    user_id.into(),
                    provider.into(),
                    profile.subject.as_str().into(),
                    claims.into(),
                ],
            )?;
            (user_id, identity_id(id)?)
        }
        Decision::Link(holder) => {
            let user_id = db::uuid(holder);
            let id = add_identity(user_id, provider, profile, true)?;
            record_linked(user_id, email, id, provider, profile, req)?;
            (user_id, id)
        }
        Decision::Create { email: new_email } => {
            if s.signup.disable_signup {
                return Err(AuthError::SignupDisabled);
            }
            // An unverified address another user holds: GoTrue makes an address-less user and
            // refuses it a session; nothing is made here (the user could never sign in).
            if new_email.is_none() && email.is_some() && !email_optional {
                return Err(AuthError::provider_email_unverified(provider));
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
            let id = db::json(
                INSERT_USER,
                &[
                    user_id.into(),
                    s.tokens.jwt_aud.as_str().into(),
                    new_email.as_deref().into(),
                    verified.into(),
                    db::INSTANCE_ID.into(),
                    provider.into(),
                    profile.subject.as_str().into(),
                    JsonB(profile.claims.clone()).into(),
                ],
            )?;
            (user_id, identity_id(id)?)
        }
        Decision::Ambiguous => {
            return Err(AuthError::bad_oauth_callback(
                "Multiple accounts with the same email address in the same linking domain detected: default",
            ))
        }
    };
    db::exec(PROVIDERS_LIST, &[user_id.into()])?;
    let account = account(user_id)?;
    if account.banned {
        return Err(AuthError::UserBanned);
    }
    let address = account.email.clone().unwrap_or_default();
    if account.email.is_some() && !account.confirmed {
        // Whoever registered this address without proving it loses the account's other ways
        // in; the provider's user takes it over, and confirms it only when the provider vouched
        // for this very address (not for another one it knows the user by).
        let proven =
            verified && account.email.as_deref().map(str::to_lowercase).as_deref() == email;
        db::exec(
            CLAIM_UNCONFIRMED,
            &[
                user_id.into(),
                db::uuid(kept_identity).into(),
                JsonB(profile.claims.clone()).into(),
                proven.into(),
            ],
        )?;
        // The sessions the claim ended may include the one this transaction's claims name.
        crate::claims::forget_session_checks();
        db::exec(PROVIDERS_LIST, &[user_id.into()])?;
        if proven {
            audit::record(
                Action::UserSignedUp,
                &account.id.to_string(),
                Some(&address),
                json!({ "provider": provider }),
                req,
            )?;
        } else if !s.mailer.allow_unverified_email_sign_ins {
            send_confirmation(
                inst,
                user_id,
                &Address::Email(address.clone()),
                redirect_to,
                None,
                Lineage::New,
            )?;
            return Ok(Outcome::NeedsVerification(
                AuthError::provider_email_needs_verification(provider),
            ));
        }
    }
    Ok(Outcome::SignedIn {
        user_id,
        email: address,
    })
}

/// linkIdentity: the identity added to the signed-in user `target` (never one another user
/// holds); an address-less user (anonymous) takes the identity's verified address.
pub(crate) fn link(
    inst: &Instance,
    target: pgrx::Uuid,
    provider: &str,
    profile: &Profile,
    req: &RequestInfo,
) -> AuthResult<Outcome> {
    let found: FoundRow = db::typed(db::json(
        FOUND,
        &[
            provider.into(),
            profile.subject.as_str().into(),
            None::<&str>.into(),
        ],
    )?)?
    .ok_or(AuthError::Internal)?;
    let target_uuid = uuid::Uuid::from_bytes(*target.as_bytes());
    match found.identity_owner {
        Some(owner) if owner == target_uuid => {
            return Err(AuthError::identity_already_linked_here())
        }
        Some(_) => return Err(AuthError::identity_already_exists()),
        None => {}
    }
    let account = account(target)?;
    if account.banned {
        return Err(AuthError::UserBanned);
    }
    let id = add_identity(target, provider, profile, false)?;
    let mut address = account.email.clone().unwrap_or_default();
    if account.email.is_none() {
        if let Some(email) = profile.email.as_deref() {
            let verified = profile.email_verified || inst.settings.signup.mailer_autoconfirm;
            if !verified {
                return Err(AuthError::EmailNotConfirmed);
            }
            db::json(LINK_ADDRESS, &[target.into(), email.into()])?
                .ok_or(AuthError::EmailExists)?;
            address = email.to_owned();
        }
    }
    db::exec(PROVIDERS_LIST, &[target.into()])?;
    record_linked(target, Some(&address), id, provider, profile, req)?;
    Ok(Outcome::SignedIn {
        user_id: target,
        email: address,
    })
}
