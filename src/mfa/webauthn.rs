//! WebAuthn factors (GoTrue's `mfa/webauthn`, off by default): the first challenge of a factor
//! registers a credential (`webauthn.type` `create`), later ones sign in with that factor's
//! credential (`request`). The ceremonies are core/src/mfa/webauthn.rs's; the
//! state between challenge and verify is kept in `mfa_challenges.web_authn_session_data`, the
//! credential in `mfa_factors.web_authn_credential` (GoTrue's shape, so factors made by GoTrue
//! keep working), its signature counter updated at each use.

use auth_core::mfa::webauthn::{self, Flow, RelyingParty, StoredCredential};
use auth_core::AuthError;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Enrolment, Factor};
use crate::caller::Caller;
use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;

static CREDENTIALS: &str = include_str!("webauthn_credentials.sql");
static SAVE_CREDENTIAL: &str = "\
    UPDATE auth.mfa_factors SET web_authn_credential = $2, web_authn_aaguid = $3, \
           updated_at = now() WHERE id = $1";
static SAVE_STATE: &str =
    "UPDATE auth.mfa_challenges SET web_authn_session_data = $2 WHERE id = $1";
static STATE: &str =
    "SELECT web_authn_session_data FROM auth.mfa_challenges WHERE id = $1 AND factor_id = $2";

/// The relying party of the settings; WebAuthn switched on without one is a setup fault the
/// owner must see.
pub(crate) fn relying_party(inst: &Instance) -> AuthResult<RelyingParty> {
    let w = &inst.settings.webauthn;
    RelyingParty::new(&w.webauthn_rp_id, &w.webauthn_rp_display_name, &w.origins())
}

pub(super) fn enrolment(inst: &Instance) -> AuthResult<Enrolment> {
    if !inst.settings.webauthn.mfa_webauthn_enroll_enabled {
        return Err(AuthError::mfa_webauthn_enroll_not_enabled());
    }
    relying_party(inst)?;
    Ok(Enrolment {
        secret: None,
        phone: None,
        answer: json!({}),
    })
}

pub(super) fn require_verify_enabled(inst: &Instance, at_verify: bool) -> AuthResult<()> {
    match (
        inst.settings.webauthn.mfa_webauthn_verify_enabled,
        at_verify,
    ) {
        (true, _) => Ok(()),
        (false, false) => Err(AuthError::mfa_webauthn_verify_not_enabled()),
        (false, true) => Err(AuthError::mfa_webauthn_verify_disabled_at_verify()),
    }
}

/// A verified WebAuthn factor of the user's and its credential.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registered {
    factor: uuid::Uuid,
    credential: Value,
}

fn registered(user_id: pgrx::Uuid) -> AuthResult<Vec<(uuid::Uuid, StoredCredential)>> {
    let rows: Vec<Registered> =
        db::typed(db::json(CREDENTIALS, &[user_id.into()])?)?.unwrap_or_default();
    rows.into_iter()
        .map(|r| Ok((r.factor, StoredCredential::from_gotrue_json(&r.credential)?)))
        .collect()
}

/// Starts the ceremony of a challenge: registration for an unverified factor, a sign-in with
/// the user's verified credentials otherwise. Stores its state with challenge `challenge_id`
/// (inserted by the caller first) and answers the `webauthn` field of the challenge.
pub(super) fn start(
    inst: &Instance,
    caller: &Caller,
    f: &Factor,
    challenge_id: &uuid::Uuid,
) -> AuthResult<Value> {
    let rp = relying_party(inst)?;
    let user_id = db::to_uuid(caller.user_id);
    let credentials = registered(caller.user_id)?;
    let name = caller.email.clone().unwrap_or_default();
    let (kind, started) = if f.verified {
        // Only this factor's credential: the session it raises is this factor's, and falls back
        // to aal1 when this factor goes (GoTrue offers all of the user's).
        let creds: Vec<StoredCredential> = credentials
            .into_iter()
            .filter(|(id, _)| *id == f.id)
            .map(|(_, c)| c)
            .collect();
        (
            "request",
            webauthn::start_authentication(&rp, Flow::Mfa, &creds)?,
        )
    } else {
        let exclude: Vec<String> = credentials
            .iter()
            .map(|(_, c)| c.credential_id.clone())
            .collect();
        (
            "create",
            webauthn::start_registration(&rp, Flow::Mfa, user_id, &name, &name, &exclude)?,
        )
    };
    db::exec(
        SAVE_STATE,
        &[db::uuid(*challenge_id).into(), JsonB(started.state).into()],
    )?;
    Ok(json!({"webauthn": {"type": kind, "credential_options": started.options}}))
}

/// GoTrue's `webauthn` field of a verify body.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "type")]
    kind: Option<String>,
    credential_response: Option<Value>,
}

/// The checks of a verify body that come before the challenge is looked at (GoTrue's order).
pub(super) fn read_answer(webauthn: Option<&Value>) -> AuthResult<(bool, String)> {
    let answer: Answer = match webauthn {
        None | Some(Value::Null) => return Err(AuthError::validation("WebAuthn config required")),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| AuthError::validation("WebAuthn config required"))?,
    };
    let create = match answer.kind.as_deref() {
        Some("create") => true,
        Some("request") => false,
        _ => {
            return Err(AuthError::validation(
                "WebAuthn type must be create or request",
            ))
        }
    };
    let response = match answer.credential_response {
        None | Some(Value::Null) => {
            return Err(AuthError::validation("credential_response required"))
        }
        Some(r) => r.to_string(),
    };
    Ok((create, response))
}

/// Checks the answer to a challenge of factor `f`; on success stores the new credential (a
/// registration) or the used credential's new counter (a sign-in). `Ok(false)`: a credential
/// that fails a check (the hook is told before the refusal).
pub(super) fn check(
    inst: &Instance,
    caller: &Caller,
    f: &Factor,
    challenge_id: &uuid::Uuid,
    create: bool,
    response: &str,
) -> AuthResult<Result<(), AuthError>> {
    let rp = relying_party(inst)?;
    let state = db::json(
        STATE,
        &[db::uuid(*challenge_id).into(), db::uuid(f.id).into()],
    )?
    .filter(|s| !s.is_null())
    .ok_or_else(AuthError::mfa_challenge_not_found)?;
    // A registration answers an unverified factor's challenge, a sign-in a verified one's.
    if create == f.verified {
        return Ok(Err(AuthError::webauthn_verification_failed()));
    }
    if create {
        let credential = match webauthn::finish_registration(&rp, &state, response) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        // A credential another factor holds already (the exclusion list is the browser's to
        // honour, not a guarantee).
        if registered(caller.user_id)?
            .iter()
            .any(|(_, c)| c.credential_id == credential.credential_id)
        {
            return Ok(Err(AuthError::webauthn_credential_exists()));
        }
        save(f.id, &credential)?;
        return Ok(Ok(()));
    }
    // This factor's credential only (its row is locked by the caller, so counters of
    // concurrent sign-ins move forward one at a time).
    let creds: Vec<StoredCredential> = registered(caller.user_id)?
        .into_iter()
        .filter(|(id, _)| *id == f.id)
        .map(|(_, c)| c)
        .collect();
    let user_id = db::to_uuid(caller.user_id);
    let outcome = match webauthn::finish_authentication(&rp, &state, response, &creds, user_id) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    save(f.id, &outcome.credential)?;
    Ok(Ok(()))
}

fn save(factor: uuid::Uuid, credential: &StoredCredential) -> AuthResult<()> {
    db::exec(
        SAVE_CREDENTIAL,
        &[
            db::uuid(factor).into(),
            JsonB(credential.to_gotrue_json()?).into(),
            credential.aaguid.map(db::uuid).into(),
        ],
    )
    .map(|_| ())
}
