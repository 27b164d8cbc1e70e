//! MFA recovery codes, GoTrue's `/factors/recovery-codes` (docs/recovery-codes.md): a set of
//! single-use codes per user, held by a `recovery_code` factor that is verified from the start,
//! made only beside another usable factor and only from an `aal2` session. A code raises the
//! caller's session to `aal2` (`mfa/recovery_code` in its `amr`) like a factor's verification.
//!
//! Only the codes' hashes are stored (core/src/mfa/recovery_codes.rs); the codes are in the
//! answers of generate and regenerate, once, and in nothing else (the functions that take or
//! give codes have `log_min_error_statement = panic`, src/mfa/api.sql).
//!
//! Verifications, regenerations and the deletion of one user's codes take turns on the
//! recovery-code factor's row lock. A wrong code counts although the failing call rolls back:
//! the count is a trace (src/trace/, kind `RecoveryCodeFailed`) written into the set's row,
//! which the lock leaves free, by another transaction that the call waits for, so the next
//! verification already sees it. At `mfa_recovery_codes_max_verify_attempts` wrong codes in a
//! row verification locks for `mfa_recovery_codes_lockout_duration` seconds.

use std::time::Duration;

use auth_core::mfa::recovery_codes as rc;
use auth_core::mfa::{self, FactorType};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{raise_to_aal2, usable_factor_types, UNENROLL};
use crate::audit::Action;
use crate::caller::{signed_in_caller, Caller};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};
use crate::trace::{self, kinds, Kind};

static STATE: &str = include_str!("recovery_codes/state.sql");
static LOCK: &str = include_str!("recovery_codes/lock.sql");
static UNUSED: &str = include_str!("recovery_codes/unused.sql");
static GENERATE: &str = include_str!("recovery_codes/generate.sql");
static REPLACE: &str = include_str!("recovery_codes/replace.sql");
static CONSUME: &str = include_str!("recovery_codes/consume.sql");
/// Applied by the trace writer (src/trace/kinds.rs).
pub(crate) static COUNT_FAILURE: &str = include_str!("recovery_codes/count_failure.sql");

/// How long a verification waits for its wrong code to be counted.
const COUNT_WAIT: Duration = Duration::from_secs(5);

/// The caller and their recovery codes (src/mfa/recovery_codes/state.sql).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Standing {
    anonymous: bool,
    /// Whether the caller's session is aal2.
    aal2: bool,
    factor_id: Option<uuid::Uuid>,
    friendly_name: Option<String>,
    set_id: Option<uuid::Uuid>,
    /// Whether verification is locked now.
    locked: bool,
    total: i64,
    remaining: i64,
}

/// A user's set of recovery codes, as [`Standing`] found it.
struct Enrolled {
    factor_id: uuid::Uuid,
    set_id: uuid::Uuid,
    friendly_name: String,
}

impl Standing {
    fn enrolled(&self) -> Option<Enrolled> {
        Some(Enrolled {
            factor_id: self.factor_id?,
            set_id: self.set_id?,
            friendly_name: self.friendly_name.clone().unwrap_or_default(),
        })
    }
}

/// The codes of a set not used yet (src/mfa/recovery_codes/unused.sql).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unused {
    ids: Vec<uuid::Uuid>,
    hashes: Vec<String>,
}

/// The caller's standing; an anonymous user is refused, as GoTrue refuses them `/factors`.
/// `lock`: the recovery-code factor's row is locked first, and the standing read after it.
fn standing(caller: &Caller, lock: bool) -> AuthResult<Standing> {
    if lock {
        db::json(LOCK, &[caller.user_id.into()])?;
    }
    let s: Standing = db::typed(db::json(
        STATE,
        &[caller.user_id.into(), caller.session_id.into()],
    )?)?
    .ok_or(AuthError::UserNotFound)?;
    if s.anonymous {
        return Err(AuthError::anonymous_not_allowed());
    }
    Ok(s)
}

fn require_enroll_enabled(inst: &Instance) -> AuthResult<()> {
    if inst.settings.mfa.mfa_recovery_codes_enroll_enabled {
        Ok(())
    } else {
        Err(AuthError::mfa_recovery_codes_enroll_not_enabled())
    }
}

fn user_uuid(caller: &Caller) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*caller.user_id.as_bytes())
}

/// A new set of codes for the caller, as the settings say: the codes and their hashes.
fn new_set(inst: &Instance, caller: &Caller) -> rc::NewSet {
    let m = &inst.settings.mfa;
    rc::new_set(
        &user_uuid(caller),
        m.mfa_recovery_codes_count.max(0) as usize,
        m.mfa_recovery_codes_code_length.max(0) as usize,
    )
}

/// Generate's and regenerate's answer: the codes, this once.
fn codes_answer(factor_id: uuid::Uuid, friendly_name: &str, set: rc::NewSet) -> Value {
    json!({
        "id": factor_id,
        "type": rc::FACTOR_TYPE,
        "friendly_name": friendly_name,
        "total": set.codes.len(),
        "codes": set.codes,
    })
}

/// `GET /factors/recovery-codes` (`mfa.recoveryCodes.status`): `{id, type, total, remaining}`
/// (the factor's id; never a code, nor the lockout). 404 `mfa_factor_not_found` without codes.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_recovery_codes_status() -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        let s = standing(&caller, false)?;
        let e = s
            .enrolled()
            .ok_or_else(AuthError::mfa_recovery_codes_not_enrolled)?;
        Ok(JsonB(json!({
            "id": e.factor_id,
            "type": rc::FACTOR_TYPE,
            "total": s.total,
            "remaining": s.remaining,
        })))
    })
}

/// `POST /factors/recovery-codes` (`mfa.recoveryCodes.generate`): the user's recovery codes,
/// `{id, type, friendly_name, total, codes}`, the codes shown this once. From an `aal2` session
/// only, once per user (regenerate replaces them), and only beside another verified factor
/// whose verification is on (GoTrue's rule: codes are never the only second factor).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_recovery_codes_generate(friendly_name: default!(Option<&str>, "NULL")) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let caller = signed_in_caller()?;
        let s = standing(&caller, false)?;
        require_enroll_enabled(&inst)?;
        let name = mfa::check_friendly_name(friendly_name)?
            .unwrap_or_else(|| rc::DEFAULT_FRIENDLY_NAME.to_owned());
        if !s.aal2 {
            return Err(AuthError::insufficient_aal_for_recovery_codes("generate"));
        }
        db::exec(
            "SELECT 1 FROM auth.users WHERE id = $1 FOR UPDATE",
            &[caller.user_id.into()],
        )?;
        let factor_id = uuid::Uuid::new_v4();
        let set = new_set(&inst, &caller);
        let made = db::json(
            GENERATE,
            &[
                db::uuid(factor_id).into(),
                caller.user_id.into(),
                name.as_str().into(),
                inst.settings.mfa.mfa_max_enrolled_factors.into(),
                db::uuid(uuid::Uuid::new_v4()).into(),
                set.hashes.clone().into(),
                usable_factor_types(&inst).into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        match made.get("refused").and_then(Value::as_str) {
            None => {}
            Some("enrolled") => return Err(AuthError::mfa_recovery_codes_already_enrolled()),
            Some("name_taken") => return Err(AuthError::mfa_factor_name_conflict(&name)),
            Some("too_many") => return Err(AuthError::too_many_enrolled_mfa_factors()),
            Some("sole_factor") => return Err(AuthError::mfa_recovery_codes_sole_factor()),
            Some(_) => return Err(AuthError::Internal),
        }
        crate::audit::record_by(
            &caller,
            Action::RecoveryCodesGenerated,
            json!({"factor_id": factor_id, "count": set.codes.len()}),
        )?;
        Ok(JsonB(codes_answer(factor_id, &name, set)))
    })
}

/// `POST /factors/recovery-codes/regenerate` (`mfa.recoveryCodes.regenerate`): every code of
/// the set replaced, used or not, and a lockout lifted; answers as generate, with the same
/// factor. From an `aal2` session only.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_recovery_codes_regenerate() -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let caller = signed_in_caller()?;
        let s = standing(&caller, true)?;
        require_enroll_enabled(&inst)?;
        if !s.aal2 {
            return Err(AuthError::insufficient_aal_for_recovery_codes("regenerate"));
        }
        let e = s
            .enrolled()
            .ok_or_else(AuthError::mfa_recovery_codes_not_enrolled)?;
        let set = new_set(&inst, &caller);
        db::exec(
            REPLACE,
            &[db::uuid(e.set_id).into(), set.hashes.clone().into()],
        )?;
        crate::audit::record_by(
            &caller,
            Action::RecoveryCodesRegenerated,
            json!({"factor_id": e.factor_id, "count": set.codes.len()}),
        )?;
        Ok(JsonB(codes_answer(e.factor_id, &e.friendly_name, set)))
    })
}

/// `DELETE /factors/recovery-codes` (`mfa.recoveryCodes.delete`): `{id}`. The factor goes with
/// its set and codes; the sessions a code raised fall back to `aal1` and lose the
/// `mfa/recovery_code` method. From an `aal2` session only; the switches do not matter.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_recovery_codes_delete() -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        let s = standing(&caller, true)?;
        if !s.aal2 {
            return Err(AuthError::insufficient_aal_for_recovery_codes("delete"));
        }
        let e = s
            .enrolled()
            .ok_or_else(AuthError::mfa_recovery_codes_not_enrolled)?;
        db::exec(
            UNENROLL,
            &[db::uuid(e.factor_id).into(), rc::AMR_METHOD.into()],
        )?;
        crate::claims::forget_session_checks();
        crate::audit::record_by(
            &caller,
            Action::RecoveryCodesDeleted,
            json!({"factor_id": e.factor_id}),
        )?;
        Ok(JsonB(json!({ "id": e.factor_id })))
    })
}

/// `POST /factors/recovery-codes/verify` (`mfa.recoveryCodes.verify`): an unused code of the
/// caller's raises their session to `aal2` and is used up; answers the session. A wrong, used
/// or unknown code (or none enrolled) is 422 `mfa_verification_failed`, the same answer for
/// all; each counts (none enrolled aside), and at the limit verification is locked (429
/// `mfa_recovery_codes_locked`, the code not even read). No code at all is 400, not counted.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_recovery_codes_verify(code: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = crate::request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        let caller = signed_in_caller()?;
        let session_id = caller.session_id.ok_or(AuthError::SessionNotFound)?;
        let s = standing(&caller, true)?;
        if !inst.settings.mfa.mfa_recovery_codes_verify_enabled {
            return Err(AuthError::mfa_recovery_codes_verify_not_enabled());
        }
        let code = rc::read_code(code)?;
        let Some(e) = s.enrolled() else {
            return Err(AuthError::mfa_recovery_code_verification_failed());
        };
        if s.locked {
            return Err(AuthError::mfa_recovery_codes_locked());
        }
        let unused: Unused = db::typed(db::json(UNUSED, &[db::uuid(e.set_id).into()])?)?
            .ok_or(AuthError::Internal)?;
        if unused.ids.len() != unused.hashes.len() {
            return Err(AuthError::Internal);
        }
        let matched = rc::find_match(&user_uuid(&caller), &code, &unused.hashes);
        drop(code);
        crate::hooks::mfa_verification_attempt(
            &inst,
            caller.user_id,
            &e.factor_id,
            FactorType::RecoveryCode.as_str(),
            matched.is_some(),
        )?;
        let used = match matched {
            Some(i) => {
                db::json(
                    CONSUME,
                    &[db::uuid(unused.ids[i]).into(), db::uuid(e.set_id).into()],
                )? == Some(json!(true))
            }
            None => false,
        };
        if !used {
            return Err(count_failure(&inst, e.set_id));
        }
        let session = raise_to_aal2(
            &inst,
            &caller,
            session_id,
            e.factor_id,
            None,
            None,
            FactorType::RecoveryCode,
        )?;
        crate::audit::record_by(
            &caller,
            Action::RecoveryCodesVerified,
            json!({"factor_id": e.factor_id, "remaining": unused.ids.len() - 1}),
        )?;
        Ok(JsonB(session))
    })
}

/// Counts a wrong code against set `set_id` and returns `mfa_verification_failed`. Fails
/// closed: a count that cannot be committed is PT500.
fn count_failure(inst: &Instance, set_id: uuid::Uuid) -> AuthError {
    let m = &inst.settings.mfa;
    let payload = kinds::recovery_code_failed(
        &set_id,
        m.mfa_recovery_codes_max_verify_attempts,
        m.mfa_recovery_codes_lockout_duration,
    );
    let counted = if trace::available() {
        match trace::enqueue(Kind::RecoveryCodeFailed, &payload, true) {
            Ok(ticket) => trace::wait(&ticket, COUNT_WAIT),
            Err(why) => {
                pgrx::log!("auth_ext: could not queue a wrong recovery code's count ({why:?})");
                false
            }
        }
    } else {
        trace::apply_with_one_off_worker(Kind::RecoveryCodeFailed, &payload)
    };
    if counted {
        AuthError::mfa_recovery_code_verification_failed()
    } else {
        pgrx::log!("auth_ext: a wrong recovery code could not be counted; answering PT500");
        AuthError::Internal
    }
}
