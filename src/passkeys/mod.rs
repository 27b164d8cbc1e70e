//! Passkeys: GoTrue's `/passkeys` API (off by default, `passkey_enabled`). A signed-in user
//! registers discoverable WebAuthn credentials (`registration/options`, `registration/verify`),
//! anyone signs in with one (`authentication/options`, `authentication/verify`: a new `aal1`
//! session, amr `passkey`), and a user lists, renames and removes theirs. The ceremonies are
//! core/src/mfa/webauthn.rs's (the relying party is MFA's, src/mfa/webauthn.rs); a ceremony's
//! state waits in `auth.webauthn_challenges` between its two calls and is taken by the second.

use auth_core::mfa::webauthn::{self, Flow, StoredCredential};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::caller::{signed_in_caller, Caller};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance::{self, Instance};
use crate::mfa::webauthn::relying_party;
use crate::request;

static OWNER: &str = include_str!("owner.sql");
static INSERT_CHALLENGE: &str = include_str!("insert_challenge.sql");
static TAKE_CHALLENGE: &str = include_str!("take_challenge.sql");
static INSERT_CREDENTIAL: &str = include_str!("insert_credential.sql");
static SIGN_IN_USER: &str = include_str!("sign_in_user.sql");
static USED: &str = include_str!("used.sql");
static LIST: &str = include_str!("list.sql");
static RENAME: &str =
    "UPDATE auth.webauthn_credentials SET friendly_name = $3, updated_at = now() \
                       WHERE id = $1 AND user_id = $2";
static DELETE: &str = "DELETE FROM auth.webauthn_credentials WHERE id = $1 AND user_id = $2";

/// Longest friendly name, bytes (GoTrue's).
const MAX_FRIENDLY_NAME_BYTES: usize = 120;

fn require_enabled(inst: &Instance) -> AuthResult<()> {
    if inst.settings.webauthn.passkey_enabled {
        Ok(())
    } else {
        Err(AuthError::passkey_disabled())
    }
}

/// The caller's standing (src/passkeys/owner.sql), their user row locked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Owner {
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    is_anonymous: bool,
    is_sso_user: bool,
    verified_factor: bool,
    session_aal2: bool,
    credential_ids: Vec<String>,
}

fn owner(caller: &Caller) -> AuthResult<Owner> {
    db::typed(db::json(
        OWNER,
        &[caller.user_id.into(), caller.session_id.into()],
    )?)?
    .ok_or(AuthError::UserNotFound)
}

/// Registering or removing a passkey beside a verified factor needs an aal2 session: a passkey
/// signs in on its own, so it must not become a way around the factor.
fn require_aal(o: &Owner) -> AuthResult<()> {
    if o.verified_factor && !o.session_aal2 {
        return Err(AuthError::insufficient_aal_for_passkeys());
    }
    Ok(())
}

fn challenge_id(id: Option<&str>) -> AuthResult<uuid::Uuid> {
    let id = id.map(str::trim).filter(|i| !i.is_empty());
    let id = id.ok_or_else(|| AuthError::validation("challenge_id is required"))?;
    uuid::Uuid::parse_str(id)
        .map_err(|_| AuthError::validation("challenge_id must be a valid UUID"))
}

fn credential_text(credential: Option<&JsonbArg>) -> AuthResult<String> {
    match credential.map(|c| c.to_value("credential")).transpose()? {
        None | Some(Value::Null) => Err(AuthError::validation("credential is required")),
        Some(c) => Ok(c.to_string()),
    }
}

/// Takes a challenge of `kind` for `user` (a sign-in's has none): its state.
fn take_challenge(id: uuid::Uuid, kind: &str, user: Option<pgrx::Uuid>) -> AuthResult<Value> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Taken {
        state: Value,
        expired: bool,
    }
    let taken: Taken = db::typed(db::json(
        TAKE_CHALLENGE,
        &[db::uuid(id).into(), kind.into(), user.into()],
    )?)?
    .ok_or_else(AuthError::webauthn_challenge_not_found)?;
    if taken.expired {
        return Err(AuthError::webauthn_challenge_expired());
    }
    Ok(taken.state)
}

fn new_challenge(
    inst: &Instance,
    user: Option<pgrx::Uuid>,
    kind: &str,
    started: webauthn::Started,
) -> AuthResult<Value> {
    let id = uuid::Uuid::new_v4();
    let expires_at = db::json(
        INSERT_CHALLENGE,
        &[
            db::uuid(id).into(),
            user.into(),
            kind.into(),
            JsonB(started.state).into(),
            (inst.settings.webauthn.webauthn_challenge_expiry_duration as f64).into(),
        ],
    )?
    .and_then(|v| v.as_i64())
    .ok_or(AuthError::Internal)?;
    Ok(json!({"challenge_id": id, "options": started.options, "expires_at": expires_at}))
}

/// `POST /passkeys/registration/options`: `{challenge_id, options, expires_at}` for
/// `navigator.credentials.create()`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_registration_options() -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let caller = signed_in_caller()?;
        caller.require_not_anonymous()?;
        let o = owner(&caller)?;
        if o.is_anonymous {
            return Err(AuthError::anonymous_not_allowed());
        }
        if o.is_sso_user {
            return Err(AuthError::validation("SSO users cannot register passkeys"));
        }
        require_aal(&o)?;
        if o.credential_ids.len() as i64 >= inst.settings.webauthn.passkey_max_passkeys_per_user {
            return Err(AuthError::too_many_passkeys());
        }
        let rp = relying_party(&inst)?;
        let name = o
            .email
            .clone()
            .filter(|e| !e.is_empty())
            .or_else(|| o.phone.clone())
            .unwrap_or_default();
        let display = o
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| name.clone());
        let started = webauthn::start_registration(
            &rp,
            Flow::Passkey,
            db::to_uuid(caller.user_id),
            &name,
            &display,
            &o.credential_ids,
        )?;
        Ok(JsonB(new_challenge(
            &inst,
            Some(caller.user_id),
            "registration",
            started,
        )?))
    })
}

/// `POST /passkeys/registration/verify`: the new passkey, `{id, friendly_name?, created_at}`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_registration_verify(
    challenge_id: Option<&str>,
    credential: default!(Option<JsonbArg>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let caller = signed_in_caller()?;
        let id = self::challenge_id(challenge_id)?;
        let response = credential_text(credential.as_ref())?;
        let o = owner(&caller)?;
        if o.is_anonymous {
            return Err(AuthError::anonymous_not_allowed());
        }
        require_aal(&o)?;
        let state = take_challenge(id, "registration", Some(caller.user_id))?;
        let rp = relying_party(&inst)?;
        let stored = webauthn::finish_registration(&rp, &state, &response)?;
        let passkey_id = uuid::Uuid::new_v4();
        let inserted = db::json(
            INSERT_CREDENTIAL,
            &[
                db::uuid(passkey_id).into(),
                caller.user_id.into(),
                stored.credential_id_bytes()?.into(),
                stored.public_key_bytes()?.into(),
                stored.attestation_type.as_str().into(),
                stored.aaguid.map(db::uuid).into(),
                i64::from(stored.sign_count).into(),
                JsonB(json!(stored.transports)).into(),
                stored.backup_eligible.into(),
                stored.backed_up.into(),
                inst.settings.webauthn.passkey_max_passkeys_per_user.into(),
                stored.user_verified.into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        match inserted.get("refused").and_then(Value::as_str) {
            Some("exists") => return Err(AuthError::webauthn_credential_exists()),
            Some(_) => return Err(AuthError::too_many_passkeys()),
            None => {}
        }
        audit::record_by(
            &caller,
            Action::PasskeyCreated,
            json!({"passkey_id": passkey_id}),
        )?;
        Ok(JsonB(strip_empty_name(inserted)))
    })
}

/// GoTrue leaves out an empty `friendly_name`.
fn strip_empty_name(mut item: Value) -> Value {
    if item["friendly_name"] == json!("") {
        if let Some(o) = item.as_object_mut() {
            o.remove("friendly_name");
        }
    }
    item
}

/// `POST /passkeys/authentication/options` (anyone): `{challenge_id, options, expires_at}` for
/// a discoverable `navigator.credentials.get()`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_authentication_options() -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Passkey, &req)?;
        let rp = relying_party(&inst)?;
        let started = webauthn::start_authentication(&rp, Flow::Passkey, &[])?;
        Ok(JsonB(new_challenge(
            &inst,
            None,
            "authentication",
            started,
        )?))
    })
}

/// The user a passkey names (src/passkeys/sign_in_user.sql).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInUser {
    email: String,
    banned: bool,
    email_unconfirmed: bool,
    phone_unconfirmed: bool,
    passkeys: Vec<Passkey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Passkey {
    id: uuid::Uuid,
    credential: StoredCredential,
}

/// `POST /passkeys/authentication/verify` (anyone): a new `aal1` session (amr `passkey`) for the
/// user whose passkey signed the challenge.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_authentication_verify(
    challenge_id: Option<&str>,
    credential: default!(Option<JsonbArg>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        let id = self::challenge_id(challenge_id)?;
        let response = credential_text(credential.as_ref())?;
        let state = take_challenge(id, "authentication", None)?;
        let rp = relying_party(&inst)?;
        let user_id = webauthn::passkey_user(&response)?;
        // An unknown user and a user without this passkey are refused alike.
        let user: SignInUser = db::typed(db::json(SIGN_IN_USER, &[db::uuid(user_id).into()])?)?
            .ok_or_else(AuthError::webauthn_verification_failed)?;
        let credentials: Vec<StoredCredential> =
            user.passkeys.iter().map(|p| p.credential.clone()).collect();
        // The answer's shape was checked before the lookup (passkey_user); past it every
        // refusal reads the same, so that an answer does not tell a known user from an unknown
        // one; but a cloned authenticator (a valid signature, so its holder has the key) is
        // named.
        let outcome =
            webauthn::finish_authentication(&rp, &state, &response, &credentials, user_id)
                .map_err(|e| {
                    if e == AuthError::webauthn_sign_count_regressed() {
                        e
                    } else {
                        AuthError::webauthn_verification_failed()
                    }
                })?;
        if user.banned {
            return Err(AuthError::UserBanned);
        }
        if user.email_unconfirmed {
            return Err(AuthError::EmailNotConfirmed);
        }
        if user.phone_unconfirmed {
            return Err(AuthError::PhoneNotConfirmed);
        }
        let passkey = user
            .passkeys
            .iter()
            .find(|p| p.credential.credential_id == outcome.credential_id)
            .ok_or(AuthError::Internal)?;
        db::exec(
            USED,
            &[
                db::uuid(passkey.id).into(),
                i64::from(outcome.sign_count).into(),
                outcome.credential.backed_up.into(),
            ],
        )?;
        let session = crate::session_start::start_session(
            &inst,
            db::uuid(user_id),
            &user.email,
            "passkey",
            "passkey",
            &req,
        )?;
        Ok(JsonB(session))
    })
}

/// A user's passkeys as GoTrue lists them.
fn list(user_id: pgrx::Uuid) -> AuthResult<Value> {
    Ok(db::json(LIST, &[user_id.into(), None::<pgrx::Uuid>.into()])?.unwrap_or_else(|| json!([])))
}

fn passkey_id(id: Option<&str>) -> AuthResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id.unwrap_or("").trim()).map_err(|_| AuthError::passkey_not_found())
}

/// `GET /passkeys`: the caller's passkeys, `[{id, friendly_name?, created_at, last_used_at?}]`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkeys_list() -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let caller = signed_in_caller()?;
        Ok(JsonB(list(caller.user_id)?))
    })
}

/// `PATCH /passkeys/{id}` `{friendly_name}`: the renamed passkey.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_update(passkey_id: Option<&str>, friendly_name: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let caller = signed_in_caller()?;
        let id = self::passkey_id(passkey_id)?;
        let name = friendly_name.map(str::trim).unwrap_or("");
        if name.is_empty() {
            return Err(AuthError::validation("friendly_name is required"));
        }
        if name.len() > MAX_FRIENDLY_NAME_BYTES || name.chars().any(char::is_control) {
            return Err(AuthError::validation(
                "friendly_name must be 120 characters or less",
            ));
        }
        if db::exec(
            RENAME,
            &[db::uuid(id).into(), caller.user_id.into(), name.into()],
        )? == 0
        {
            return Err(AuthError::passkey_not_found());
        }
        audit::record_by(&caller, Action::PasskeyUpdated, json!({"passkey_id": id}))?;
        let list = db::json(LIST, &[caller.user_id.into(), Some(db::uuid(id)).into()])?
            .unwrap_or_default();
        Ok(JsonB(list[0].clone()))
    })
}

/// `DELETE /passkeys/{id}`: removed (the shim answers 204). Needs aal2 beside a verified factor.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn passkey_delete(passkey_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_enabled(&inst)?;
        let caller = signed_in_caller()?;
        let id = self::passkey_id(passkey_id)?;
        require_aal(&owner(&caller)?)?;
        if db::exec(DELETE, &[db::uuid(id).into(), caller.user_id.into()])? == 0 {
            return Err(AuthError::passkey_not_found());
        }
        audit::record_by(&caller, Action::PasskeyDeleted, json!({"passkey_id": id}))?;
        Ok(JsonB(json!({})))
    })
}

/// `GET /admin/users/{id}/passkeys` (admins only).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_list_passkeys(user_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::admin::require_admin(&inst)?;
        let user_id = crate::admin::path_user(user_id)?;
        Ok(JsonB(list(user_id)?))
    })
}

/// `DELETE /admin/users/{id}/passkeys/{passkey_id}` (admins only; the shim answers 204).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_delete_passkey(user_id: Option<&str>, passkey_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::admin::require_admin(&inst)?;
        let user_id = crate::admin::path_id(user_id)?;
        let id = self::passkey_id(passkey_id)?;
        if db::exec(DELETE, &[db::uuid(id).into(), user_id.into()])? == 0 {
            return Err(AuthError::passkey_not_found());
        }
        audit::record(
            Action::PasskeyDeleted,
            &user_id.to_string(),
            None,
            json!({"passkey_id": id}),
            &request::current(),
        )?;
        Ok(JsonB(json!({})))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "passkeys_api",
    requires = [
        passkey_registration_options,
        passkey_registration_verify,
        passkey_authentication_options,
        passkey_authentication_verify,
        passkeys_list,
        passkey_update,
        passkey_delete,
        admin_list_passkeys,
        admin_delete_passkey
    ]
);
