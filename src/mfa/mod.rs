//! Multi-factor authentication: GoTrue's `/factors` API for TOTP factors (`mfa.enroll`,
//! `challenge`, `verify`, `unenroll`). A verified code raises the caller's session to `aal2`
//! and adds `totp` to its `amr`; the pure rules (codes, the secret's sealing, the QR code) are in
//! core/src/mfa/.

use auth_core::mfa::{self, qr, secret_box, totp, FactorType};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::caller::signed_in_caller;
use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};
use crate::request;
use crate::session_start::token_response;

static FACTOR: &str = include_str!("factor.sql");
static INSERT_FACTOR: &str = include_str!("insert_factor.sql");
static INSERT_CHALLENGE: &str = include_str!("insert_challenge.sql");
static CHALLENGE: &str = include_str!("challenge.sql");
static VERIFIED: &str = include_str!("verified.sql");
static UNENROLL: &str = include_str!("unenroll.sql");
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
    /// Whether the caller's session is aal2.
    session_aal2: bool,
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

/// The issuer an authenticator app shows: given, else the site's host (GoTrue's default).
fn issuer(inst: &Instance, given: Option<&str>) -> String {
    if let Some(i) = given.map(str::trim).filter(|i| !i.is_empty()) {
        return i.chars().take(255).collect();
    }
    let site = &inst.settings.signup.site_url;
    let host = site
        .split("://")
        .nth(1)
        .unwrap_or(site)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    host.to_owned()
}

/// `POST /factors` (`mfa.enroll`): a new, unverified TOTP factor and what the authenticator
/// app needs, `{id, type, friendly_name, totp: {qr_code, secret, uri}}`.
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
        let _ = phone;
        match factor_type.and_then(FactorType::parse) {
            Some(FactorType::Totp) if inst.settings.mfa.mfa_totp_enroll_enabled => {}
            Some(FactorType::Totp) => return Err(AuthError::mfa_totp_enroll_not_enabled()),
            Some(FactorType::Phone) | Some(FactorType::Webauthn) => {
                return Err(AuthError::validation(
                    "MFA enroll is disabled for this factor type",
                ))
            }
            None => {
                return Err(AuthError::validation(
                    "factor_type needs to be totp, phone or webauthn",
                ))
            }
        }
        let name = mfa::check_friendly_name(friendly_name)?;
        // Another factor beside a verified one needs an aal2 session (GoTrue's rule).
        let standing = db::json(STANDING, &[caller.user_id.into(), caller.session_id.into()])?
            .unwrap_or_default();
        if standing["verified_factor"] == json!(true) && standing["aal2"] != json!(true) {
            return Err(AuthError::insufficient_aal_to_enroll());
        }
        let account = caller
            .email
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| caller.user_id.to_string());
        let issuer = self::issuer(&inst, issuer);
        let secret = totp::new_secret();
        let uri = totp::otpauth_uri(&secret, &issuer, &account);
        let id = uuid::Uuid::new_v4();
        let sealed = secret_box::seal(&inst.keys.totp_encryption, id.as_bytes(), &secret);
        let inserted = db::json(
            INSERT_FACTOR,
            &[
                db::uuid(id).into(),
                caller.user_id.into(),
                name.as_deref().into(),
                sealed.as_str().into(),
                inst.settings.mfa.mfa_max_enrolled_factors.into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        match inserted.get("refused").and_then(Value::as_str) {
            Some("too_many") => return Err(AuthError::too_many_enrolled_mfa_factors()),
            Some("name_taken") => {
                return Err(AuthError::mfa_factor_name_conflict(
                    name.as_deref().unwrap_or(""),
                ))
            }
            _ => {}
        }
        Ok(JsonB(json!({
            "id": id,
            "type": "totp",
            "friendly_name": name.unwrap_or_default(),
            "totp": {"qr_code": qr::svg(&uri).ok_or(AuthError::Internal)?, "secret": secret, "uri": uri},
        })))
    })
}

/// `POST /factors/{id}/challenge`: `{id, type, expires_at}`; a code must answer it within
/// five minutes, from the same address.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_challenge(factor_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        if !inst.settings.mfa.mfa_totp_verify_enabled {
            return Err(AuthError::mfa_totp_verify_not_enabled());
        }
        let caller = signed_in_caller()?;
        let f = factor(
            caller.user_id,
            caller.session_id,
            self::factor_id(factor_id)?,
        )?;
        let id = uuid::Uuid::new_v4();
        let created = db::json(
            INSERT_CHALLENGE,
            &[
                db::uuid(id).into(),
                db::uuid(f.id).into(),
                req.ip.as_deref().into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        let created = created.as_i64().ok_or(AuthError::Internal)?;
        Ok(JsonB(json!({
            "id": id,
            "type": f.factor_type,
            "expires_at": created + mfa::CHALLENGE_LIFETIME_S,
        })))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Challenge {
    age: f64,
    verified: bool,
    same_ip: bool,
}

/// `POST /factors/{id}/verify`: the code for a challenge; the caller's session becomes `aal2`
/// (`totp` in its `amr`), the factor verified; answers the new session.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_verify(factor_id: Option<&str>, challenge_id: Option<&str>, code: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let req = request::current();
        crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Verify, &req)?;
        if !inst.settings.mfa.mfa_totp_verify_enabled {
            return Err(AuthError::mfa_totp_verify_not_enabled());
        }
        let caller = signed_in_caller()?;
        let session_id = caller.session_id.ok_or(AuthError::SessionNotFound)?;
        let f = factor(
            caller.user_id,
            Some(session_id),
            self::factor_id(factor_id)?,
        )?;
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
        // A factor not yet verified, beside a verified one, counts only from an aal2 session:
        // otherwise whoever had the password before MFA was on could add their own authenticator
        // and reach aal2 with it (GoTrue's rule too).
        if !f.verified {
            let standing = db::json(STANDING, &[caller.user_id.into(), Some(session_id).into()])?
                .unwrap_or_default();
            if standing["verified_factor"] == json!(true) && standing["aal2"] != json!(true) {
                return Err(AuthError::insufficient_aal_to_enroll());
            }
        }
        // Guesses at a factor back off as password guesses do, admitted before the code is
        // checked (concurrent guesses cannot share a slot).
        let factor_key = f.id.to_string();
        let admitted = crate::rate_limit::admit_sign_in(
            &inst,
            crate::rate_limit::AttemptOn::Factor(&factor_key),
            &req,
        )?;
        let secret = f
            .secret
            .as_deref()
            .and_then(|s| secret_box::open(&inst.keys.totp_encryption, f.id.as_bytes(), s))
            .ok_or(AuthError::Internal)?;
        let step = totp::verify(&secret, code.unwrap_or(""), crate::now(), f.last_used_step)
            .map_err(|_| AuthError::mfa_verification_failed())?;
        let refresh_token = auth_core::refresh::generate();
        let row = db::json(
            VERIFIED,
            &[
                db::uuid(challenge_id).into(),
                db::uuid(f.id).into(),
                step.into(),
                session_id.into(),
                caller.user_id.into(),
                auth_core::refresh::hash(&refresh_token).as_str().into(),
                db::INSTANCE_ID.into(),
            ],
        )?
        .ok_or(AuthError::Internal)?;
        if row["session"] != json!(true) {
            // Signed out meanwhile: no aal2 token for a session that is gone.
            return Err(AuthError::SessionNotFound);
        }
        admitted.succeeded();
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
        let session = token_response(
            &inst,
            user,
            &session_id.to_string(),
            "aal2",
            &amr,
            refresh_token,
            "totp",
        )?;
        Ok(JsonB(session))
    })
}

/// `DELETE /factors/{id}` (`mfa.unenroll`): `{id}`. A verified factor goes only from an `aal2`
/// session; the sessions it raised fall back to `aal1`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn mfa_unenroll(factor_id: Option<&str>) -> JsonB {
    guard(move || {
        let caller = signed_in_caller()?;
        let f = factor(
            caller.user_id,
            caller.session_id,
            self::factor_id(factor_id)?,
        )?;
        if f.verified && !f.session_aal2 {
            return Err(AuthError::insufficient_aal_to_unenroll());
        }
        db::exec(UNENROLL, &[db::uuid(f.id).into()])?;
        crate::claims::forget_session_checks();
        Ok(JsonB(json!({ "id": f.id })))
    })
}

/// A user's factors in GoTrue's JSON (`GET /admin/users/{id}/factors`).
static ADMIN_FACTORS: &str = "\
    SELECT coalesce(jsonb_agg(jsonb_build_object( \
        'id', f.id, 'friendly_name', coalesce(f.friendly_name, ''), 'factor_type', f.factor_type, \
        'status', f.status, 'created_at', f.created_at, 'updated_at', f.updated_at) \
        ORDER BY f.created_at), '[]') \
      FROM auth.mfa_factors f WHERE f.user_id = $1";

fn admin_user_id(id: Option<&str>) -> AuthResult<pgrx::Uuid> {
    uuid::Uuid::parse_str(id.unwrap_or("").trim())
        .map(db::uuid)
        .map_err(|_| AuthError::BadPathId("user_id"))
}

/// `GET /admin/users/{id}/factors`: the user's factors (admins only).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_list_factors(user_id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        crate::admin::require_admin(&inst)?;
        let user_id = admin_user_id(user_id)?;
        crate::user_object::user_json(user_id, false)
            .map_err(|_| AuthError::AdminUserNotFound("User not found"))?;
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
        let user_id = admin_user_id(user_id)?;
        let id = self::factor_id(factor_id)?;
        let before = db::json(
            "SELECT jsonb_build_object('id', id, 'friendly_name', coalesce(friendly_name, ''), \
                    'factor_type', factor_type, 'status', status, 'created_at', created_at, \
                    'updated_at', updated_at) \
               FROM auth.mfa_factors WHERE id = $1 AND user_id = $2 FOR UPDATE",
            &[db::uuid(id).into(), user_id.into()],
        )?
        .ok_or_else(AuthError::mfa_factor_not_found)?;
        db::exec(UNENROLL, &[db::uuid(id).into()])?;
        crate::claims::forget_session_checks();
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
        admin_delete_factor
    ]
);
