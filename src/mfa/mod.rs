//! Multi-factor authentication: GoTrue's `/factors` API (`mfa.enroll`, `challenge`, `verify`,
//! `unenroll`) for TOTP, phone and WebAuthn factors, and recovery codes
//! (`/factors/recovery-codes`). A verified code (or credential) raises the caller's session to
//! `aal2` and adds the factor's method to its `amr`. What differs by factor type is in its own
//! module ([`totp`], [`phone`], [`webauthn`], [`recovery_codes`]); the pure rules are in
//! core/src/mfa/.

mod phone;
pub(crate) mod recovery_codes;
mod totp;
pub(crate) mod webauthn;

use auth_core::mfa::{self, FactorType};
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
use crate::request;
use crate::session_start::token_response;

static FACTOR: &str = include_str!("factor.sql");
static INSERT_FACTOR: &str = include_str!("insert_factor.sql");
static INSERT_CHALLENGE: &str = include_str!("insert_challenge.sql");
static CHALLENGE: &str = include_str!("challenge.sql");
static VERIFIED: &str = include_str!("verified.sql");
static UNENROLL: &str = include_str!("unenroll.sql");
static STRANDS_CODES: &str = include_str!("strands_codes.sql");
static STANDING: &str = "\
    SELECT jsonb_build_object( \
        'verified_factor', EXISTS (SELECT 1 FROM auth.mfa_factors \
                                    WHERE user_id = $1 AND status = 'verified'), \
        'aal2', coalesce((SELECT aal = 'aal2' FROM auth.sessions WHERE id = $2), false))";

/// A factor of the caller's, locked (src/mfa/factor.sql).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Factor {
    id: uuid::Uuid,
    factor_type: String,
    verified: bool,
    secret: Option<String>,
    last_used_step: Option<i64>,
    phone: Option<String>,
    /// Seconds since its last challenge; `None` if it had none.
    challenged_ago: Option<f64>,
    /// Whether the caller's session is aal2.
    session_aal2: bool,
}

impl Factor {
    fn kind(&self) -> AuthResult<FactorType> {
        FactorType::parse(&self.factor_type).ok_or(AuthError::Internal)
    }
}

/// What a factor type's enrolment stores and adds to the answer.
struct Enrolment {
    /// The sealed secret (TOTP).
    secret: Option<String>,
    /// The number codes go to (phone).
    phone: Option<String>,
    /// Fields of the answer beside `id`, `type` and `friendly_name`.
    answer: Value,
}

fn factor_id(id: Option<&str>) -> AuthResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id.unwrap_or("").trim()).map_err(|_| AuthError::mfa_factor_not_found())
}

fn factor(
    user_id: pgrx::Uuid,
    session_id: Option<pgrx::Uuid>,
    id: uuid::Uuid,
) -> AuthResult<Factor> {
    db::typed(db::json(
        FACTOR,
        &[db::uuid(id).into(), user_id.into(), session_id.into()],
    )?)?
    .ok_or_else(AuthError::mfa_factor_not_found)
}

/// Whether the caller must be `aal2` to add a factor: the user has a verified one and the
/// session is `aal1`. Otherwise whoever had the password before MFA was on could add their own
/// authenticator and reach aal2 with it (GoTrue's rule too).
fn needs_aal2(caller: &Caller) -> AuthResult<bool> {
    let standing =
        db::json(STANDING, &[caller.user_id.into(), caller.session_id.into()])?.unwrap_or_default();
    Ok(standing["verified_factor"] == json!(true) && standing["aal2"] != json!(true))
}

/// GoTrue's refusal of a factor type `/factors` does not handle (enrolling, challenging or
/// verifying recovery codes there).
fn not_a_factors_type() -> AuthError {
    AuthError::validation("factor_type needs to be totp, phone or webauthn")
}

/// The factor type's own switch for challenges and verifications.
fn require_verify_enabled(inst: &Instance, kind: FactorType, at_verify: bool) -> AuthResult<()> {
    match kind {
        FactorType::Totp => totp::require_verify_enabled(inst),
        FactorType::Phone => phone::require_verify_enabled(inst),
        FactorType::Webauthn => webauthn::require_verify_enabled(inst, at_verify),
        FactorType::RecoveryCode => Err(not_a_factors_type()),
    }
}

/// The factor types a verified factor of which can be used to reach aal2 now (its verification
/// switched on), recovery codes aside: GoTrue's `hasUsableNonRecoveryFactor`, which recovery
/// codes may never be without.
fn usable_factor_types(inst: &Instance) -> Vec<String> {
    let m = &inst.settings.mfa;
    [
        (FactorType::Totp, m.mfa_totp_verify_enabled),
        (FactorType::Phone, m.mfa_phone_verify_enabled),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(t, _)| t.as_str().to_owned())
    .collect()
}

/// `POST /factors` (`mfa.enroll`): a new, unverified factor, `{id, type, friendly_name}` and
/// what the factor type adds (`totp: {qr_code, secret, uri}`, `phone`).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_enroll(
    factor_type: Option<&str>,
    friendly_name: default!(Option<&str>, "NULL"),
    issuer: default!(Option<&str>, "NULL"),
    phone: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let caller = signed_in_caller()?;
        caller.require_not_anonymous()?;
        let kind = factor_type
            .and_then(FactorType::parse)
            .ok_or_else(not_a_factors_type)?;
        let id = uuid::Uuid::new_v4();
        let enrolment = match kind {
            FactorType::Totp => totp::enrolment(&inst, &caller, id, issuer)?,
            FactorType::Phone => phone::enrolment(&inst, phone)?,
            FactorType::Webauthn => webauthn::enrolment(&inst)?,
            FactorType::RecoveryCode => return Err(not_a_factors_type()),
        };
        let name = mfa::check_friendly_name(friendly_name)?;
        if needs_aal2(&caller)? {
            return Err(AuthError::insufficient_aal_to_enroll());
        }
        let inserted = db::json(
            INSERT_FACTOR,
            &[
                db::uuid(id).into(),
                caller.user_id.into(),
                name.as_deref().into(),
                enrolment.secret.as_deref().into(),
                inst.settings.mfa.mfa_max_enrolled_factors.into(),
                kind.as_str().into(),
                enrolment.phone.as_deref().into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        match inserted.get("refused").and_then(Value::as_str) {
            Some("too_many") => return Err(AuthError::too_many_enrolled_mfa_factors()),
            Some("phone_taken") => return Err(AuthError::mfa_verified_phone_factor_exists()),
            Some("name_taken") => {
                return Err(AuthError::mfa_factor_name_conflict(
                    name.as_deref().unwrap_or(""),
                ))
            }
            _ => {}
        }
        audit::record_by(
            &caller,
            Action::FactorInProgress,
            json!({"factor_id": id, "factor_type": kind.as_str()}),
        )?;
        let mut answer = json!({
            "id": id,
            "type": kind.as_str(),
            "friendly_name": name.unwrap_or_default(),
        });
        if let (Some(answer), Some(extra)) = (answer.as_object_mut(), enrolment.answer.as_object())
        {
            answer.extend(extra.clone());
        }
        Ok(JsonB(answer))
    })
}

/// `POST /factors/{id}/challenge`: `{id, type, expires_at}`; a code must answer it within
/// five minutes, from the same address. A phone factor's code goes out by SMS (`channel`:
/// `sms`, the default).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_challenge(
    factor_id: Option<&str>,
    channel: default!(Option<&str>, "NULL"),
    webauthn: default!(Option<JsonbArg>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        let caller = signed_in_caller()?;
        caller.require_not_anonymous()?;
        let f = factor(
            caller.user_id,
            caller.session_id,
            self::factor_id(factor_id)?,
        )?;
        let kind = f.kind()?;
        require_verify_enabled(&inst, kind, false)?;
        let id = uuid::Uuid::new_v4();
        let otp_code = match kind {
            FactorType::Phone => Some(phone::send_code(&inst, &f, caller.user_id, &id, channel)?),
            _ => None,
        };
        let created = db::json(
            INSERT_CHALLENGE,
            &[
                db::uuid(id).into(),
                db::uuid(f.id).into(),
                req.ip.as_deref().into(),
                otp_code.as_deref().into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        // GoTrue's client also sends the relying party here; it takes it from its settings.
        let _ = webauthn;
        let fields = match kind {
            FactorType::Webauthn => self::webauthn::start(&inst, &caller, &f, &id)?,
            _ => json!({}),
        };
        let created = created.as_i64().ok_or(AuthError::Internal)?;
        audit::record_by(
            &caller,
            Action::ChallengeCreated,
            json!({"factor_id": f.id, "factor_status": if f.verified { "verified" } else { "unverified" }}),
        )?;
        let mut answer = json!({
            "id": id,
            "type": f.factor_type,
            "expires_at": created + mfa::CHALLENGE_LIFETIME_S,
        });
        if let (Some(answer), Some(extra)) = (answer.as_object_mut(), fields.as_object()) {
            answer.extend(extra.clone());
        }
        Ok(JsonB(answer))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Challenge {
    age: f64,
    verified: bool,
    same_ip: bool,
    /// The hash of the code sent (phone factors).
    otp_code: Option<String>,
}

/// `POST /factors/{id}/verify`: the code for a challenge; the caller's session becomes `aal2`
/// (the factor's method in its `amr`), the factor verified; answers the new session.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_verify(
    factor_id: Option<&str>,
    challenge_id: Option<&str>,
    code: default!(Option<&str>, "NULL"),
    webauthn: default!(Option<JsonbArg>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        let caller = signed_in_caller()?;
        caller.require_not_anonymous()?;
        let session_id = caller.session_id.ok_or(AuthError::SessionNotFound)?;
        let f = factor(
            caller.user_id,
            Some(session_id),
            self::factor_id(factor_id)?,
        )?;
        let kind = f.kind()?;
        require_verify_enabled(&inst, kind, true)?;
        let answer = match kind {
            FactorType::Webauthn => {
                let body = webauthn.map(|w| w.to_value("webauthn")).transpose()?;
                Some(self::webauthn::read_answer(body.as_ref())?)
            }
            _ => None,
        };
        let challenge_id = uuid::Uuid::parse_str(challenge_id.unwrap_or("").trim())
            .map_err(|_| AuthError::mfa_challenge_not_found())?;
        let c: Challenge = db::typed(db::json(
            CHALLENGE,
            &[
                db::uuid(challenge_id).into(),
                db::uuid(f.id).into(),
                req.ip.as_deref().into(),
            ],
        )?)?
        .ok_or_else(AuthError::mfa_challenge_not_found)?;
        // A challenge answered once, or from another address: GoTrue's one answer for both
        // (it does not tell whether a challenge was verified).
        if c.verified || !c.same_ip {
            return Err(AuthError::mfa_ip_address_mismatch());
        }
        if c.age > mfa::CHALLENGE_LIFETIME_S as f64 {
            return Err(AuthError::mfa_challenge_expired(&challenge_id.to_string()));
        }
        // A factor not yet verified, beside a verified one, counts only from an aal2 session.
        if !f.verified && needs_aal2(&caller)? {
            return Err(AuthError::insufficient_aal_to_enroll());
        }
        // Guesses at a factor back off as password guesses do, admitted before the code is
        // checked (concurrent guesses cannot share a slot).
        let factor_key = f.id.to_string();
        let admitted = crate::rate_limit::admit_sign_in(
            &inst,
            crate::rate_limit::AttemptOn::Factor(&factor_key),
            &req,
        )?;
        let mut refusal = None;
        let (valid, step) = match (kind, &answer) {
            (FactorType::Totp, _) => {
                let step = totp::check(&inst, &f, code)?;
                (step.is_some(), step)
            }
            (FactorType::Phone, _) => (
                phone::check(&inst, &challenge_id, c.otp_code.as_deref(), code),
                None,
            ),
            (FactorType::Webauthn, Some((create, response))) => {
                match self::webauthn::check(&inst, &caller, &f, &challenge_id, *create, response)? {
                    Ok(()) => (true, None),
                    Err(e) => {
                        refusal = Some(e);
                        (false, None)
                    }
                }
            }
            (FactorType::Webauthn, None) | (FactorType::RecoveryCode, _) => {
                return Err(AuthError::Internal)
            }
        };
        crate::hooks::mfa_verification_attempt(&inst, caller.user_id, &f.id, kind.as_str(), valid)?;
        if !valid {
            return Err(match kind {
                FactorType::Phone => AuthError::mfa_phone_verification_failed(),
                FactorType::Webauthn => {
                    refusal.unwrap_or_else(AuthError::webauthn_verification_failed)
                }
                FactorType::Totp | FactorType::RecoveryCode => AuthError::mfa_verification_failed(),
            });
        }
        let session = raise_to_aal2(
            &inst,
            &caller,
            session_id,
            f.id,
            Some(challenge_id),
            step,
            kind,
        )?;
        admitted.succeeded();
        audit::record_by(
            &caller,
            Action::VerificationAttempted,
            json!({"factor_id": f.id, "challenge_id": challenge_id, "factor_type": kind.as_str()}),
        )?;
        Ok(JsonB(session))
    })
}

/// A verification's success (src/mfa/verified.sql): the caller's session `aal2`, raised by
/// `factor_id` of `kind` (its method added to the `amr`), the challenge answered (none for a
/// recovery code), the user's sessions below aal2 ended; answers the session with a new refresh
/// token. `SessionNotFound` when the session was signed out meanwhile.
fn raise_to_aal2(
    inst: &Instance,
    caller: &Caller,
    session_id: pgrx::Uuid,
    factor_id: uuid::Uuid,
    challenge_id: Option<uuid::Uuid>,
    step: Option<i64>,
    kind: FactorType,
) -> AuthResult<Value> {
    let refresh_token = auth_core::refresh::generate();
    let method = kind.amr_method();
    let row = db::json(
        VERIFIED,
        &[
            challenge_id.map(db::uuid).into(),
            db::uuid(factor_id).into(),
            step.into(),
            session_id.into(),
            caller.user_id.into(),
            auth_core::refresh::hash(&refresh_token).as_str().into(),
            db::INSTANCE_ID.into(),
            method.into(),
        ],
    )?
    .ok_or(AuthError::Internal)?;
    if row["session"] != json!(true) {
        // Signed out meanwhile: no aal2 token for a session that is gone.
        return Err(AuthError::SessionNotFound);
    }
    let amr: Vec<(String, i64)> = row["amr"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| Some((e[0].as_str()?.to_owned(), e[1].as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    // Read after the write: the factor is verified now.
    let user = crate::user_object::user_json(caller.user_id, true)?;
    token_response(
        inst,
        user,
        &session_id.to_string(),
        "aal2",
        &amr,
        refresh_token,
        method,
    )
}

/// `DELETE /factors/{id}` (`mfa.unenroll`): `{id}`. A verified factor goes only from an `aal2`
/// session, and not when it is the last usable one beside recovery codes (GoTrue's rule: the
/// codes go first); the sessions it raised fall back to `aal1`. Recovery codes go through
/// `DELETE /factors/recovery-codes`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_unenroll(factor_id: Option<&str>) -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        caller.require_not_anonymous()?;
        let f = factor(
            caller.user_id,
            caller.session_id,
            self::factor_id(factor_id)?,
        )?;
        if f.kind()? == FactorType::RecoveryCode {
            return Err(AuthError::mfa_recovery_codes_unenroll_elsewhere());
        }
        if f.verified && !f.session_aal2 {
            return Err(AuthError::insufficient_aal_to_unenroll());
        }
        if f.verified && crate::fragments::recovery_codes_schema() {
            // The user's row orders this against a generation of recovery codes and another
            // unenrolment: neither sees the other's factor gone or made otherwise.
            db::exec(
                "SELECT 1 FROM auth.users WHERE id = $1 FOR UPDATE",
                &[caller.user_id.into()],
            )?;
            let inst = instance::get()?;
            let strands = db::json(
                STRANDS_CODES,
                &[
                    caller.user_id.into(),
                    db::uuid(f.id).into(),
                    usable_factor_types(&inst).into(),
                ],
            )?;
            if strands == Some(json!(true)) {
                return Err(AuthError::mfa_recovery_codes_last_other_factor());
            }
        }
        db::exec(
            UNENROLL,
            &[db::uuid(f.id).into(), f.kind()?.amr_method().into()],
        )?;
        crate::claims::forget_session_checks();
        audit::record_by(
            &caller,
            Action::FactorUnenrolled,
            json!({"factor_id": f.id, "factor_status": if f.verified { "verified" } else { "unverified" }}),
        )?;
        Ok(JsonB(json!({ "id": f.id })))
    })
}

/// A user's factors in GoTrue's JSON (`GET /admin/users/{id}/factors`).
static ADMIN_FACTORS: &str = "\
    SELECT coalesce(jsonb_agg(jsonb_build_object( \
        'id', f.id, 'friendly_name', coalesce(f.friendly_name, ''), 'factor_type', f.factor_type, \
        'status', f.status, 'created_at', f.created_at, 'updated_at', f.updated_at, \
        'last_challenged_at', f.last_challenged_at) \
        ORDER BY f.created_at), '[]') \
      FROM auth.mfa_factors f WHERE f.user_id = $1";

/// `GET /admin/users/{id}/factors`: the user's factors (admins only).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_list_factors(user_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::admin::require_admin(&inst)?;
        let user_id = crate::admin::path_user(user_id)?;
        Ok(JsonB(
            db::json(ADMIN_FACTORS, &[user_id.into()])?.unwrap_or_else(|| json!([])),
        ))
    })
}

/// `DELETE /admin/users/{id}/factors/{factor_id}`: the factor as it was (admins only); the
/// sessions it raised fall back to `aal1`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_delete_factor(user_id: Option<&str>, factor_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::admin::require_admin(&inst)?;
        let user_id = crate::admin::path_id(user_id)?;
        let id = self::factor_id(factor_id)?;
        let before = db::json(
            "SELECT jsonb_build_object('id', id, 'friendly_name', coalesce(friendly_name, ''), \
                    'factor_type', factor_type, 'status', status, 'created_at', created_at, \
                    'updated_at', updated_at, 'last_challenged_at', last_challenged_at) \
               FROM auth.mfa_factors WHERE id = $1 AND user_id = $2 FOR UPDATE",
            &[db::uuid(id).into(), user_id.into()],
        )?
        .ok_or_else(AuthError::mfa_factor_not_found)?;
        let kind = before["factor_type"]
            .as_str()
            .and_then(FactorType::parse)
            .ok_or(AuthError::Internal)?;
        db::exec(UNENROLL, &[db::uuid(id).into(), kind.amr_method().into()])?;
        crate::claims::forget_session_checks();
        let email = db::json(
            "SELECT to_jsonb(coalesce(email, '')) FROM auth.users WHERE id = $1",
            &[user_id.into()],
        )?
        .and_then(|e| e.as_str().map(str::to_owned));
        audit::record(
            Action::FactorDeleted,
            &user_id.to_string(),
            email.as_deref(),
            json!({"user_id": user_id.to_string(), "factor_id": id}),
            &request::current(),
        )?;
        Ok(JsonB(before))
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "mfa_api",
    requires = [
        mfa_enroll,
        mfa_challenge,
        mfa_verify,
        mfa_unenroll,
        admin_list_factors,
        admin_delete_factor,
        recovery_codes::mfa_recovery_codes_status,
        recovery_codes::mfa_recovery_codes_generate,
        recovery_codes::mfa_recovery_codes_verify,
        recovery_codes::mfa_recovery_codes_regenerate,
        recovery_codes::mfa_recovery_codes_delete
    ]
);
