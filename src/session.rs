//! Sign-up, sign-in, refresh and sign-out: the flows that create, rotate and end sessions.

use auth_core::jwt::{self, TokenContext};
use auth_core::{email, password, refresh, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::hashing;
use crate::instance::{self, Instance};
use crate::jsonb::JsonbArg;
use crate::request::{self, RequestInfo};

/// The zero instance id GoTrue uses for single-tenant installs.
const INSTANCE_ID: &str = "00000000-0000-0000-0000-000000000000";
/// `data` / `user_metadata` larger than this is refused.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

use crate::now;

/// Validates user metadata: a JSON object of bounded size.
pub fn check_metadata(data: Option<&Value>) -> AuthResult<Value> {
    match data {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => {
            if v.to_string().len() > MAX_METADATA_BYTES {
                return Err(AuthError::validation(format!(
                    "data must be at most {MAX_METADATA_BYTES} bytes of JSON"
                )));
            }
            Ok(v.clone())
        }
        Some(_) => Err(AuthError::validation("data must be a JSON object")),
    }
}

/// Mints the access token for `user` in `session_id` and wraps it in the GoTrue token response.
fn token_response(
    inst: &Instance,
    user: Value,
    session_id: &str,
    aal: &str,
    amr: &[(String, i64)],
    refresh_token: String,
) -> AuthResult<Value> {
    let s = &inst.settings;
    let ctx = TokenContext {
        issuer: &s.jwt_issuer,
        session_id,
        aal,
        amr,
        now: now(),
        lifetime: s.jwt_exp,
        default_aud: &s.jwt_aud,
    };
    let claims = jwt::access_token_claims(&user, &ctx);
    let access_token = inst.ring.sign(&claims)?;
    Ok(jwt::session_response(
        access_token,
        refresh_token,
        &ctx,
        user,
    ))
}

/// Creates a session and its first refresh token for a user who just authenticated by `method`,
/// records the login, and returns the token response.
fn start_session(
    inst: &Instance,
    user_id: pgrx::Uuid,
    email: &str,
    method: &str,
    req: &RequestInfo,
) -> AuthResult<Value> {
    let session_id = uuid::Uuid::new_v4();
    let refresh_token = refresh::generate();
    let entry = audit::Entry::new(
        Action::Login,
        &user_id.to_string(),
        Some(email),
        json!({"provider": "email"}),
        req,
    );
    // One statement: the session, its first refresh token, the authentication method, the
    // sign-in times, the audit entry; it returns the user.
    let row = db::json(
        concat!(
            "WITH l AS (",
            audit::insert_sql!(),
            "),
             s AS (
             INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
             VALUES ($3, $4, now(), now(), 'aal1', $6, $7::inet)
             RETURNING id, created_at),
         r AS (
             INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
             SELECT $8::uuid, $5, $4::text, false, NULL, s.id FROM s),
         a AS (
             INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
             SELECT s.id, now(), now(), $9, gen_random_uuid() FROM s),
         i AS (
             UPDATE auth.identities SET last_sign_in_at = now(), updated_at = now()
              WHERE user_id = $4 AND provider = 'email'),
         u AS (
             UPDATE auth.users SET last_sign_in_at = now(), updated_at = now()
              WHERE id = $4 RETURNING *)
         SELECT jsonb_build_object('user', ",
            crate::user::user_object!(),
            ", 'created', extract(epoch FROM s.created_at)::bigint)
           FROM u, s"
        ),
        &[
            entry.payload(),
            entry.ip(),
            db::uuid(session_id).into(),
            user_id.into(),
            refresh::hash(&refresh_token).as_str().into(),
            req.user_agent.as_deref().into(),
            req.ip.as_deref().into(),
            INSTANCE_ID.into(),
            method.into(),
        ],
    )?
    .ok_or(AuthError::UserNotFound)?;
    let user = row["user"].clone();
    let created = row["created"].as_i64().unwrap_or_else(now);
    token_response(
        inst,
        user,
        &session_id.to_string(),
        "aal1",
        &[(method.to_owned(), created)],
        refresh_token,
    )
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_up(
    email: Option<&str>,
    password: Option<&str>,
    data: default!(Option<JsonbArg>, "'{}'"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let s = &inst.settings;
        if s.disable_signup {
            return Err(AuthError::SignupDisabled);
        }
        let email = email::normalize(email)?;
        let password = password::check_policy(password, s.password_min_length as usize)?;
        let data = data.map(|d| d.to_value("data")).transpose()?;
        let data = check_metadata(data.as_ref())?;
        let hash = hashing::hash(password, s.argon2_cost())?;
        let user_id = db::uuid(uuid::Uuid::new_v4());
        let created = db::json(
            "WITH u AS (
                 INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password,
                        email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
                 VALUES ($6::uuid, $1, $2, 'authenticated', $3, $4, CASE WHEN $5 THEN now() END,
                        '{\"provider\": \"email\", \"providers\": [\"email\"]}', $7, now(), now())
                 ON CONFLICT (lower(email)) WHERE is_sso_user = false DO NOTHING
                 RETURNING id)
             INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
             SELECT u.id::text, u.id,
                    jsonb_build_object('sub', u.id::text, 'email', $3::text, 'email_verified', $5,
                                       'phone_verified', false),
                    'email', now(), now()
               FROM u
             RETURNING to_jsonb(user_id)",
            &[
                user_id.into(),
                s.jwt_aud.as_str().into(),
                email.as_str().into(),
                hash.as_str().into(),
                s.mailer_autoconfirm.into(),
                INSTANCE_ID.into(),
                JsonB(data).into(),
            ],
        )?;
        if created.is_none() {
            return Err(AuthError::UserAlreadyExists);
        }
        let req = request::current();
        audit::record(
            Action::UserSignedUp,
            &user_id.to_string(),
            Some(&email),
            json!({"provider": "email"}),
            &req,
        )?;
        if s.mailer_autoconfirm {
            start_session(&inst, user_id, &email, "password", &req).map(JsonB)
        } else {
            crate::user::user_json(user_id, true).map(JsonB)
        }
    })
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_in_with_password(email: Option<&str>, password: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let s = &inst.settings;
        if email.map_or(true, |e| e.trim().is_empty()) {
            return Err(AuthError::validation("An email address is required"));
        }
        let password = password::check_attempt(password)?;
        // A malformed address cannot belong to anyone; it still costs one hash below.
        let email = email::normalize(email).ok();
        let found = match &email {
            Some(e) => db::read_json(
                "SELECT jsonb_build_object(
                        'id', id,
                        'email', email,
                        'hash', encrypted_password,
                        'confirmed', email_confirmed_at IS NOT NULL,
                        'banned', coalesce(banned_until > now(), false))
                   FROM auth.users
                  WHERE lower(email) = $1 AND is_sso_user = false AND deleted_at IS NULL",
                &[e.as_str().into()],
            )?,
            None => None,
        };
        let cost = s.argon2_cost();
        let decoy = cost.decoy_hash();
        let stored = found
            .as_ref()
            .and_then(|row| db::str_field(row, "hash"))
            .filter(|h| !h.is_empty())
            .unwrap_or(&decoy)
            .to_owned();
        // Exactly one hash verification on every path, so an unknown email and a wrong password
        // take the same time.
        let matches = hashing::verify(password, &stored);
        // A failed sign-in leaves an audit row (login_failed) written apart from this call,
        // which the error rolls back; the same work for a known and an unknown email.
        let failed = |err, row: Option<&Value>| {
            let user_id = row.and_then(|r| db::str_field(r, "id"));
            crate::trace::sign_in_failed(err, user_id, email.as_deref())
        };
        let row = match found {
            Some(row) if matches => row,
            found => return Err(failed(AuthError::InvalidCredentials, found.as_ref())),
        };
        if db::bool_field(&row, "banned") {
            return Err(failed(AuthError::UserBanned, Some(&row)));
        }
        if !db::bool_field(&row, "confirmed") {
            return Err(failed(AuthError::EmailNotConfirmed, Some(&row)));
        }
        let user_id: pgrx::Uuid = db::str_field(&row, "id")
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .map(db::uuid)
            .ok_or(AuthError::Internal)?;
        if password::needs_rehash(&stored, cost) {
            // Imported bcrypt hashes and hashes of an older cost are upgraded on first use.
            let upgraded = hashing::hash(password, cost)?;
            db::exec(
                "UPDATE auth.users SET encrypted_password = $2 WHERE id = $1",
                &[user_id.into(), upgraded.as_str().into()],
            )?;
        }
        let email = db::str_field(&row, "email").unwrap_or_default();
        start_session(&inst, user_id, email, "password", &request::current()).map(JsonB)
    })
}

/// What a presented refresh token resolves to.
enum Outcome {
    /// Hand out this refresh token: the new child, the same token (rotation disabled), or the
    /// current descendant (a retry within the reuse interval).
    Issue(String),
    /// Reuse outside the interval: the session's tokens must be revoked.
    Reused,
    /// Reuse of a family that is already revoked.
    AlreadyRevoked,
}

/// A refresh is two statements on its hot path.
///
/// 1. The session's row is updated (its refresh time) through the presented token's hash: the
///    update takes the row lock that serialises every refresh of one session, and its WHERE
///    clause, rechecked on the newest row version after any wait, holds the expiry checks.
///    Nothing else is locked first, so nothing deadlocks.
/// 2. Under READ COMMITTED a new statement sees what the transactions we waited for committed;
///    this one rotates the token if it is still live (revoking it and inserting the child),
///    writes the audit entry, and returns the token's and user's state with the user object.
///
/// Every outcome other than a new token raises an error, which rolls all of it back.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn refresh_session(refresh_token: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let s = &inst.settings;
        let presented = refresh_token.map(str::trim).unwrap_or("");
        if presented.is_empty() {
            return Err(AuthError::validation("A refresh_token is required"));
        }
        if !refresh::plausible(presented) {
            return Err(AuthError::RefreshTokenNotFound);
        }
        let hash = refresh::hash(presented);
        if db::on_standby() {
            // Nothing can be written here; an unknown token is still said to be unknown.
            db::read_json(
                "SELECT to_jsonb(true) FROM auth.refresh_tokens WHERE token = $1",
                &[hash.as_str().into()],
            )?
            .ok_or(AuthError::RefreshTokenNotFound)?;
            return Err(AuthError::ReadOnly);
        }
        // Matching no row (an unknown token: anyone may call this), it writes nothing and
        // assigns no transaction id (db.rs).
        let locked = db::json(
            "UPDATE auth.sessions s SET refreshed_at = now() AT TIME ZONE 'UTC', updated_at = now()
               FROM auth.refresh_tokens t
              WHERE t.token = $1 AND s.id = t.session_id
                AND NOT ((s.not_after IS NOT NULL AND s.not_after <= now())
                      OR ($2::bigint IS NOT NULL AND s.created_at + make_interval(secs => $2) <= now())
                      OR ($3::bigint IS NOT NULL
                          AND coalesce(s.refreshed_at AT TIME ZONE 'UTC', s.created_at) + make_interval(secs => $3) <= now()))
             RETURNING jsonb_build_object(
                    'id', t.id,
                    'session_id', s.id,
                    'user_id', s.user_id,
                    'aal', coalesce(s.aal::text, 'aal1'),
                    'email', (SELECT u.email FROM auth.users u WHERE u.id = s.user_id))",
            &[
                hash.as_str().into(),
                s.sessions_timebox.into(),
                s.sessions_inactivity_timeout.into(),
            ],
        )?;
        let Some(locked) = locked else {
            // Unknown, signed out meanwhile, or expired: only the last says more.
            let expired = db::json(
                "SELECT to_jsonb(true) FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
                  WHERE t.token = $1",
                &[hash.as_str().into()],
            )?;
            return Err(match expired {
                Some(_) => AuthError::SessionExpired,
                None => AuthError::RefreshTokenNotFound,
            });
        };
        let token_id = locked["id"].as_i64().ok_or(AuthError::Internal)?;
        let session_id = db::str_field(&locked, "session_id").ok_or(AuthError::Internal)?;
        let session_uuid = uuid::Uuid::parse_str(session_id).map_err(|_| AuthError::Internal)?;
        let user_id = db::str_field(&locked, "user_id")
            .ok_or(AuthError::RefreshTokenNotFound)?
            .to_owned();
        let key = &inst.refresh_token_key;
        // The child is derived from its parent, so it is known before we know whether the
        // parent is still live; the statement stores it only if it is.
        let child = s
            .refresh_token_rotation_enabled
            .then(|| refresh::derive_child(key, presented));
        let child_hash = child.as_deref().map(refresh::hash);
        let req = request::current();
        let entry = audit::Entry::new(
            Action::TokenRefreshed,
            &user_id,
            db::str_field(&locked, "email"),
            json!({"session_id": session_id}),
            &req,
        );
        let row = db::json(
            concat!(
                "WITH a AS (",
                audit::insert_sql!(),
                "),
                 t AS (
                     SELECT revoked, updated_at > now() - make_interval(secs => $8) AS recent
                       FROM auth.refresh_tokens WHERE id = $5),
                 old AS (
                     UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
                      WHERE id = $5 AND NOT revoked AND $6::text IS NOT NULL
                     RETURNING id),
                 new AS (
                     INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
                     SELECT '00000000-0000-0000-0000-000000000000', $6, $4, false, $7, $3 FROM old)
                 SELECT jsonb_build_object(
                        'revoked', t.revoked,
                        'rotated', EXISTS (SELECT 1 FROM old),
                        'recent', t.recent,
                        'user_gone', u.id IS NULL OR u.deleted_at IS NOT NULL,
                        'banned', coalesce(u.banned_until > now(), false),
                        'active', CASE WHEN t.revoked THEN
                                      (SELECT jsonb_build_object('token', r.token, 'parent', r.parent)
                                         FROM auth.refresh_tokens r
                                        WHERE r.session_id = $3 AND NOT r.revoked
                                        ORDER BY r.id DESC LIMIT 1) END,
                        'user', ",
                crate::user::user_object!(),
                ",
                        'amr', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.authentication_method,
                                            extract(epoch FROM c.updated_at)::bigint) ORDER BY c.updated_at DESC), '[]')
                                  FROM auth.mfa_amr_claims c WHERE c.session_id = $3))
                   FROM t LEFT JOIN auth.users u ON u.id = $4::uuid"
            ),
            &[
                entry.payload(),
                entry.ip(),
                db::uuid(session_uuid).into(),
                user_id.as_str().into(),
                token_id.into(),
                child_hash.as_deref().into(),
                hash.as_str().into(),
                (s.refresh_token_reuse_interval as f64).into(),
            ],
        )?
        // The token row was deleted while we waited.
        .ok_or(AuthError::RefreshTokenNotFound)?;
        if db::bool_field(&row, "user_gone") {
            return Err(AuthError::RefreshTokenNotFound);
        }
        if db::bool_field(&row, "banned") {
            return Err(AuthError::UserBanned);
        }
        let outcome = if !db::bool_field(&row, "revoked") {
            match child {
                // Live in our snapshot but not rotated: a transaction that does not take the
                // session lock (a revocation worker outliving its caller, an operator's UPDATE
                // or DELETE) changed the token meanwhile. Its child was not stored.
                Some(_) if !db::bool_field(&row, "rotated") => {
                    return Err(AuthError::RefreshTokenAlreadyUsed)
                }
                Some(child) => Outcome::Issue(child),
                None => Outcome::Issue(presented.to_owned()),
            }
        } else {
            match row.get("active").filter(|a| !a.is_null()) {
                None => Outcome::AlreadyRevoked,
                Some(active) => {
                    let active_hash = db::str_field(active, "token").unwrap_or("");
                    let is_parent = db::str_field(active, "parent") == Some(hash.as_str());
                    // The parent of the current token (a client that lost the response) may
                    // always retry; older tokens only within the reuse interval.
                    let reachable = is_parent || db::bool_field(&row, "recent");
                    match reachable
                        .then(|| refresh::find_descendant(key, presented, active_hash))
                        .flatten()
                    {
                        Some(current) => Outcome::Issue(current),
                        None => Outcome::Reused,
                    }
                }
            }
        };
        let token = match outcome {
            Outcome::Issue(token) => token,
            Outcome::AlreadyRevoked => return Err(AuthError::RefreshTokenAlreadyUsed),
            Outcome::Reused => {
                // Committed apart from this call (which the error rolls back); fails closed
                // with PT500 if a live token of the family remains (src/revoke.rs).
                crate::revoke::revoke_family(token_id, session_uuid, &req)?;
                return Err(AuthError::RefreshTokenAlreadyUsed);
            }
        };
        let user = row["user"].clone();
        let amr: Vec<(String, i64)> = row["amr"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| Some((e[0].as_str()?.to_owned(), e[1].as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let aal = db::str_field(&locked, "aal").unwrap_or("aal1").to_owned();
        token_response(&inst, user, session_id, &aal, &amr, token).map(JsonB)
    })
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_out(scope: default!(Option<&str>, "'global'")) {
    guard(move || {
        let scope = scope.unwrap_or("global");
        if !matches!(scope, "global" | "local" | "others") {
            return Err(AuthError::validation(
                "scope must be one of global, local, others",
            ));
        }
        let caller = crate::user::caller()?;
        let sql = match scope {
            "global" => "DELETE FROM auth.sessions WHERE id IN (
                             SELECT id FROM auth.sessions WHERE user_id = $1 ORDER BY id FOR UPDATE)",
            "local" => "DELETE FROM auth.sessions WHERE user_id = $1 AND id = $2",
            _ => "DELETE FROM auth.sessions WHERE id IN (
                      SELECT id FROM auth.sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2
                       ORDER BY id FOR UPDATE)",
        };
        if scope != "global" && caller.session_id.is_none() {
            return Err(AuthError::NoAuthorization);
        }
        db::exec(sql, &[caller.user_id.into(), caller.session_id.into()])?;
        crate::claims::forget_session_checks();
        audit::record(
            Action::Logout,
            &caller.user_id.to_string(),
            caller.email.as_deref(),
            json!({"scope": scope}),
            &request::current(),
        )
    })
}
