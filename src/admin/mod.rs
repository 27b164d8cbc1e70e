//! The admin API (GoTrue's `/admin/*` and `/invite`): list, create, read, update and delete
//! users, generate links, invite, sign a user out, read the audit log. Every function first
//! checks that the caller is an admin: a token whose `role` is in `jwt_admin_roles`, or, with no
//! token, the extension's owner or a superuser calling over SQL (not over HTTP).

use std::sync::LazyLock;

use auth_core::admin::{self, AdminUserParams, Ban, LinkType};
use auth_core::otp::TokenType;
use auth_core::{email, phone, user, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::audit::{self, Action};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::ffi::xact;
use crate::fragments;
use crate::hashing;
use crate::instance::{self, Instance};
use crate::one_time::{self, Channel, Code, Lineage};
use crate::request;
use crate::signup::{self, Address};

static LIST_USERS: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("list_users.sql")));
static USER_BY_ID: LazyLock<String> =
    LazyLock::new(|| fragments::expand(include_str!("user_by_id.sql")));
static LOCK_USER: &str = include_str!("lock_user.sql");
static INSERT_USER: &str = include_str!("insert_user.sql");
static SET_ADDRESS: &str = include_str!("set_address.sql");
static CONFIRM_ADDRESS: &str = include_str!("confirm_address.sql");
static SOFT_DELETE: &str = include_str!("soft_delete.sql");
static AUDIT_LOG: &str = include_str!("audit_log.sql");
static SIGN_OUT_USER: &str = include_str!("../sessions/sign_out_global.sql");

/// The audit log's actor for an admin call, as GoTrue's: the nil id and the token's role.
const ADMIN_ACTOR_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Who the admin is (for the audit log): the token's role, or the database role.
pub(crate) struct Admin {
    name: String,
}

/// Refuses anyone but an admin (`not_admin`).
pub(crate) fn require_admin(inst: &Instance) -> AuthResult<Admin> {
    if let Some(claims) = crate::claims::current()? {
        let role = claims.raw.get("role").and_then(Value::as_str);
        if admin::is_admin_role(role, &inst.settings.trust.jwt_admin_roles) {
            return Ok(Admin {
                name: role.unwrap_or_default().to_owned(),
            });
        }
        return Err(AuthError::NotAdmin);
    }
    // No token: only the owner's own SQL, as itself: never a request that came over HTTP, and
    // never a session that switched to another role (PostgREST sets the request's role, also
    // in its legacy settings mode, which sets no request.headers).
    let session_user = xact::session_user();
    if !request::current().http
        && xact::outer_user() == session_user
        && (session_user == instance::owner()? || xact::is_superuser(session_user))
    {
        return Ok(Admin {
            name: "owner".into(),
        });
    }
    Err(AuthError::NotAdmin)
}

fn record(
    admin: &Admin,
    action: Action,
    user_id: pgrx::Uuid,
    email: Option<&str>,
) -> AuthResult<()> {
    audit::record(
        action,
        ADMIN_ACTOR_ID,
        Some(&admin.name),
        json!({"user_id": user_id.to_string(), "user_email": email.unwrap_or("")}),
        &request::current(),
    )
}

/// A user id from the path: 404 `validation_failed` when it is no UUID (GoTrue's answer).
pub(crate) fn path_id(id: Option<&str>) -> AuthResult<pgrx::Uuid> {
    let id = id.unwrap_or("").trim();
    uuid::Uuid::parse_str(id)
        .map(db::uuid)
        .map_err(|_| AuthError::BadPathId("user_id"))
}

/// A user id from the path whose user exists (the admin API's routes under a user):
/// 404 `user_not_found` otherwise.
pub(crate) fn path_user(id: Option<&str>) -> AuthResult<pgrx::Uuid> {
    let user_id = path_id(id)?;
    crate::user_object::user_json(user_id, false)
        .map_err(|_| AuthError::AdminUserNotFound("User not found"))?;
    Ok(user_id)
}

fn user_by_id(user_id: pgrx::Uuid) -> AuthResult<Value> {
    let mut user = db::json(USER_BY_ID.as_str(), &[user_id.into()])?
        .ok_or(AuthError::AdminUserNotFound("User not found"))?;
    if let Some(map) = user.as_object_mut() {
        map.remove("deleted");
    }
    Ok(user)
}

/// A LIKE pattern matching `text` anywhere, its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `auth.admin_list_users`: `{users, aud, total}`, newest first; `filter` matches part of an
/// email, phone or `user_metadata.full_name`, or a whole id.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_list_users(
    page: default!(Option<i64>, "1"),
    per_page: default!(Option<i64>, "50"),
    filter: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        let (page, per_page) = admin::page(page, per_page)?;
        let filter = filter.map(str::trim).filter(|f| !f.is_empty());
        if filter.is_some_and(|f| f.len() > 255) {
            return Err(AuthError::validation(
                "filter must be at most 255 characters",
            ));
        }
        let id = filter
            .and_then(|f| uuid::Uuid::parse_str(f).ok())
            .map(db::uuid);
        let pattern = filter.map(contains_pattern);
        let mut found = db::read_json(
            LIST_USERS.as_str(),
            &[
                pattern.as_deref().into(),
                id.into(),
                per_page.into(),
                admin::offset(page, per_page).into(),
            ],
        )?
        .unwrap_or_else(|| json!({"users": [], "total": 0}));
        found["aud"] = json!(inst.settings.tokens.jwt_aud);
        Ok(JsonB(found))
    })
}

/// `auth.admin_get_user`: one user by id, soft-deleted or not.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_get_user(id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        user_by_id(path_id(id)?).map(JsonB)
    })
}

fn read_params(attributes: Option<JsonbArg>) -> AuthResult<AdminUserParams> {
    let value = attributes
        .map(|a| a.to_value("the attributes"))
        .transpose()?
        .unwrap_or_else(|| json!({}));
    AdminUserParams::read(&value)
}

fn metadata(map: &Option<Map<String, Value>>, name: &str) -> AuthResult<Option<Value>> {
    match map {
        None => Ok(None),
        Some(m) => {
            let v = Value::Object(m.clone());
            user::check_metadata(Some(&v)).map_err(|_| {
                AuthError::validation(format!(
                    "{name} must be at most {} bytes of JSON",
                    user::MAX_METADATA_BYTES
                ))
            })?;
            Ok(Some(v))
        }
    }
}

fn ban_ms(p: &AdminUserParams) -> AuthResult<Option<Ban>> {
    p.ban_duration.as_deref().map(admin::parse_ban).transpose()
}

/// The stored hash of a new password (policy-checked) or an imported hash (shape-checked).
fn password_hash(inst: &Instance, p: &AdminUserParams) -> AuthResult<Option<String>> {
    let given = p.password.clone().flatten();
    match (given, p.password_hash.as_deref()) {
        (Some(_), Some(_)) => Err(AuthError::validation(
            "Only a password or a password hash should be provided",
        )),
        (Some(pw), None) => {
            let s = &inst.settings;
            let pw = crate::password_policy::check(inst, Some(&pw))?;
            Ok(Some(hashing::hash(pw, s.argon2_cost())?))
        }
        (None, Some(h)) => {
            admin::check_password_hash(h)?;
            Ok(Some(h.to_owned()))
        }
        (None, None) => Ok(None),
    }
}

fn normalized_email(raw: Option<&str>) -> AuthResult<Option<String>> {
    match raw.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => email::normalize(Some(e)).map(Some),
    }
}

fn normalized_phone(raw: Option<&str>) -> AuthResult<Option<String>> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => phone::normalize(Some(p)).map(Some),
    }
}

fn address_taken(email: Option<&str>, phone: Option<&str>) -> AuthResult<()> {
    if let Some(e) = email {
        if signup::existing_user(&Address::Email(e.to_owned()))?.is_some() {
            return Err(AuthError::EmailExists);
        }
    }
    if let Some(p) = phone {
        if signup::existing_user(&Address::Phone(p.to_owned()))?.is_some() {
            return Err(AuthError::PhoneExists);
        }
    }
    Ok(())
}

/// A new user as the admin API makes them; returns the id.
struct NewAdminUser<'a> {
    id: Option<pgrx::Uuid>,
    role: Option<String>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    hash: &'a str,
    email_confirm: bool,
    phone_confirm: bool,
    app_metadata: Option<Value>,
    user_metadata: Option<Value>,
    ban: Option<Ban>,
    invited: bool,
}

fn insert(inst: &Instance, new: NewAdminUser) -> AuthResult<pgrx::Uuid> {
    address_taken(new.email, new.phone)?;
    let mut providers = Vec::new();
    if new.email.is_some() {
        providers.push("email");
    }
    if new.phone.is_some() {
        providers.push("phone");
    }
    let base = json!({"provider": providers.first(), "providers": providers});
    let app = match &new.app_metadata {
        Some(Value::Object(m)) => admin::merge_metadata(&base, m),
        _ => base,
    };
    let id = new.id.unwrap_or_else(|| db::uuid(uuid::Uuid::new_v4()));
    let banned_ms = match new.ban {
        Some(Ban::For(ms)) => Some(ms as f64),
        _ => None,
    };
    let created = db::json(
        INSERT_USER,
        &[
            id.into(),
            inst.settings.tokens.jwt_aud.as_str().into(),
            new.role.as_deref().unwrap_or("authenticated").into(),
            new.email.into(),
            new.phone.into(),
            new.hash.into(),
            new.email_confirm.into(),
            new.phone_confirm.into(),
            JsonB(app).into(),
            JsonB(new.user_metadata.unwrap_or_else(|| json!({}))).into(),
            banned_ms.into(),
            db::INSTANCE_ID.into(),
            new.invited.into(),
        ],
    )?;
    created.map(|_| id).ok_or(AuthError::UserAlreadyExists)
}

/// `auth.admin_create_user`: GoTrue's `POST /admin/users`. No message is sent.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_create_user(attributes: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let p = read_params(attributes)?;
        let email = normalized_email(p.email.as_deref())?;
        let phone = normalized_phone(p.phone.as_deref())?;
        if email.is_none() && phone.is_none() {
            return Err(AuthError::validation(
                "Cannot create a user without either an email or phone",
            ));
        }
        let id = match p.id.as_deref() {
            None => None,
            Some(text) => match uuid::Uuid::parse_str(text.trim()) {
                Ok(u) if u.is_nil() => {
                    return Err(AuthError::validation("ID cannot be a nil uuid"))
                }
                Ok(u) => Some(db::uuid(u)),
                Err(_) => {
                    return Err(AuthError::validation(
                        "ID must conform to the uuid v4 format",
                    ))
                }
            },
        };
        let hash = password_hash(&inst, &p)?.unwrap_or_default();
        let user_id = insert(
            &inst,
            NewAdminUser {
                id,
                role: p.role()?,
                email: email.as_deref(),
                phone: phone.as_deref(),
                hash: &hash,
                email_confirm: p.email_confirm.unwrap_or(false),
                phone_confirm: p.phone_confirm.unwrap_or(false),
                app_metadata: metadata(&p.app_metadata, "app_metadata")?,
                user_metadata: metadata(&p.user_metadata, "user_metadata")?,
                ban: ban_ms(&p)?,
                invited: false,
            },
        )?;
        record(&admin, Action::UserSignedUp, user_id, email.as_deref())?;
        user_by_id(user_id).map(JsonB)
    })
}

/// The fields of a user an admin update reads, locked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Locked {
    id: uuid::Uuid,
    email: Option<String>,
    phone: Option<String>,
    deleted: bool,
    is_anonymous: bool,
    app_metadata: Value,
    user_metadata: Value,
}

fn lock(user_id: pgrx::Uuid) -> AuthResult<Locked> {
    db::typed(db::json(LOCK_USER, &[user_id.into()])?)?
        .ok_or(AuthError::AdminUserNotFound("User not found"))
}

fn end_sessions(user_id: pgrx::Uuid) -> AuthResult<()> {
    db::exec(SIGN_OUT_USER, &[user_id.into()])?;
    crate::claims::forget_session_checks();
    Ok(())
}

/// `auth.admin_update_user`: GoTrue's `PUT /admin/users/{id}`. Addresses are set directly
/// (confirmed with `email_confirm` / `phone_confirm`), metadata merged key by key (null removes
/// a key), a new password or a ban ends the user's sessions (a ban: beyond GoTrue, which lets
/// them run until they expire), `ban_duration` `none` lifts a ban.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_update_user(id: Option<&str>, attributes: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let user_id = path_id(id)?;
        let p = read_params(attributes)?;
        let email = normalized_email(p.email.as_deref())?;
        let phone = normalized_phone(p.phone.as_deref())?;
        let ban = ban_ms(&p)?;
        let role = p.role()?;
        let app = metadata(&p.app_metadata, "app_metadata")?;
        let data = metadata(&p.user_metadata, "user_metadata")?;
        if p.password_hash.is_some() && p.password.clone().flatten().is_none() {
            // GoTrue ignores an imported hash on update; say so rather than drop it silently.
            return Err(AuthError::validation(
                "password_hash is only accepted when a user is created",
            ));
        }
        let hash = password_hash(
            &inst,
            &AdminUserParams {
                password_hash: None,
                password: p.password.clone(),
                ..AdminUserParams::default()
            },
        )?;
        let current = lock(user_id)?;
        if current.deleted {
            return Err(AuthError::AdminUserNotFound("User not found"));
        }
        let mut changed = Vec::new();
        // Each address: a new one is set (confirmed when asked), or the one the user has is
        // confirmed.
        let addresses = [
            (
                email.as_deref(),
                current.email.as_deref(),
                p.email_confirm,
                "email",
            ),
            (
                phone.as_deref(),
                current.phone.as_deref(),
                p.phone_confirm,
                "phone",
            ),
        ];
        for (new, old, confirm, kind) in addresses {
            if let Some(address) = new.filter(|a| old != Some(*a)) {
                let (e, ph) = match kind {
                    "email" => (Some(address), None),
                    _ => (None, Some(address)),
                };
                db::json(
                    SET_ADDRESS,
                    &[
                        user_id.into(),
                        e.into(),
                        ph.into(),
                        confirm.unwrap_or(false).into(),
                    ],
                )?
                .ok_or(match kind {
                    "email" => AuthError::EmailExists,
                    _ => AuthError::PhoneExists,
                })?;
                changed.push(kind);
            } else if confirm == Some(true) && old.is_some() {
                db::exec(CONFIRM_ADDRESS, &[user_id.into(), kind.into()])?;
                changed.push(match kind {
                    "email" => "email_confirm",
                    _ => "phone_confirm",
                });
            }
        }
        if let Some(hash) = hash {
            db::exec(
                "UPDATE auth.users SET encrypted_password = $2, updated_at = now() WHERE id = $1",
                &[user_id.into(), hash.as_str().into()],
            )?;
            end_sessions(user_id)?;
            changed.push("password");
        }
        if let Some(role) = role {
            db::exec(
                "UPDATE auth.users SET role = $2, updated_at = now() WHERE id = $1",
                &[user_id.into(), role.as_str().into()],
            )?;
            changed.push("role");
        }
        if let Some(Value::Object(m)) = &app {
            let merged = admin::merge_metadata(&current.app_metadata, m);
            db::exec(
                "UPDATE auth.users SET raw_app_meta_data = $2, updated_at = now() WHERE id = $1",
                &[user_id.into(), JsonB(merged).into()],
            )?;
            changed.push("app_metadata");
        }
        if let Some(Value::Object(m)) = &data {
            let merged = admin::merge_metadata(&current.user_metadata, m);
            db::exec(
                "UPDATE auth.users SET raw_user_meta_data = $2, updated_at = now() WHERE id = $1",
                &[user_id.into(), JsonB(merged).into()],
            )?;
            changed.push("user_metadata");
        }
        match ban {
            None => {}
            Some(Ban::Lift) => {
                db::exec(
                    "UPDATE auth.users SET banned_until = NULL, updated_at = now() WHERE id = $1",
                    &[user_id.into()],
                )?;
                changed.push("ban_duration");
            }
            Some(Ban::For(ms)) => {
                db::exec(
                    "UPDATE auth.users SET banned_until = now() + make_interval(secs => $2 / 1000), \
                     updated_at = now() WHERE id = $1",
                    &[user_id.into(), (ms as f64).into()],
                )?;
                if ms > 0 {
                    end_sessions(user_id)?;
                }
                changed.push("ban_duration");
            }
        }
        let _ = current.is_anonymous;
        let _ = current.id;
        audit::record(
            Action::UserModified,
            ADMIN_ACTOR_ID,
            Some(&admin.name),
            json!({"user_id": user_id.to_string(), "changed": changed}),
            &request::current(),
        )?;
        user_by_id(user_id).map(JsonB)
    })
}

/// `auth.admin_delete_user`: GoTrue's `DELETE /admin/users/{id}`; hard (the row and everything
/// that hangs on it) or soft (GoTrue's obfuscation). Returns `{}`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_delete_user(
    id: Option<&str>,
    should_soft_delete: default!(Option<bool>, "false"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let user_id = path_id(id)?;
        let current = lock(user_id)?;
        if should_soft_delete.unwrap_or(false) {
            if !current.deleted {
                let uid = user_id.to_string();
                let pending: Value = db::json(
                    "SELECT jsonb_build_object('email', nullif(email_change, ''), \
                     'phone', nullif(phone_change, '')) FROM auth.users WHERE id = $1",
                    &[user_id.into()],
                )?
                .unwrap_or_default();
                let ob = |v: Option<&str>, phone: bool| v.map(|v| admin::obfuscate(&uid, v, phone));
                db::exec(
                    SOFT_DELETE,
                    &[
                        user_id.into(),
                        ob(current.email.as_deref(), false).into(),
                        ob(current.phone.as_deref(), true).into(),
                        ob(pending["email"].as_str(), false).into(),
                        ob(pending["phone"].as_str(), true).into(),
                    ],
                )?;
            }
        } else {
            db::exec("DELETE FROM auth.users WHERE id = $1", &[user_id.into()])?;
        }
        crate::claims::forget_session_checks();
        record(
            &admin,
            Action::UserDeleted,
            user_id,
            current.email.as_deref(),
        )?;
        Ok(JsonB(json!({})))
    })
}

/// `auth.admin_sign_out_user`: ends every session of a user (their refresh tokens with them;
/// their access tokens too under `revocable_access_tokens`).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_sign_out_user(id: Option<&str>) {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let user_id = path_id(id)?;
        let current = lock(user_id)?;
        end_sessions(user_id)?;
        audit::record(
            Action::Logout,
            ADMIN_ACTOR_ID,
            Some(&admin.name),
            json!({"user_id": user_id.to_string(), "user_email": current.email.unwrap_or_default(), "scope": "global"}),
            &request::current(),
        )
    })
}

/// `auth.admin_audit_log`: `{entries, total}`, newest first; `query` is GoTrue's
/// `author:<text>`, `action:<text>` or `type:<text>`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_audit_log(
    page: default!(Option<i64>, "1"),
    per_page: default!(Option<i64>, "50"),
    query: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        let (page, per_page) = admin::page(page, per_page)?;
        let (field, pattern) = match query.map(str::trim).filter(|q| !q.is_empty()) {
            None => (None, None),
            Some(q) => {
                let (scope, value) = q.split_once(':').ok_or_else(|| {
                    AuthError::validation("Invalid query scope: expected scope:value")
                })?;
                let field = match scope {
                    "author" => "actor",
                    "action" => "action",
                    "type" => "log_type",
                    _ => {
                        return Err(AuthError::validation(
                            "Invalid query scope: use author, action or type",
                        ))
                    }
                };
                if value.len() > 255 {
                    return Err(AuthError::validation(
                        "query must be at most 255 characters",
                    ));
                }
                (Some(field), Some(contains_pattern(value)))
            }
        };
        let found = db::read_json(
            AUDIT_LOG,
            &[
                field.into(),
                pattern.as_deref().into(),
                per_page.into(),
                admin::offset(page, per_page).into(),
            ],
        )?
        .unwrap_or_else(|| json!({"entries": [], "total": 0}));
        Ok(JsonB(found))
    })
}

/// The user a link or invitation is for, as [`generate_link`] reads them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holder {
    id: uuid::Uuid,
    confirmed: bool,
    banned: bool,
}

fn holder(address: &str) -> AuthResult<Option<Holder>> {
    Ok(
        signup::existing_user(&Address::Email(address.to_owned()))?.map(|e| Holder {
            id: e.id,
            confirmed: e.confirmed,
            banned: e.banned,
        }),
    )
}

/// A user the link or invitation creates: unconfirmed, with `data` as metadata.
fn create_for_link(
    inst: &Instance,
    address: &str,
    hash: &str,
    data: Value,
    invited: bool,
) -> AuthResult<pgrx::Uuid> {
    // GoTrue runs before_user_created for invitations and generated sign-up links (not for
    // POST /admin/users).
    let id = db::uuid(uuid::Uuid::new_v4());
    crate::hooks::before_user_created(
        inst,
        crate::hooks::new_user_object(
            id,
            &inst.settings.tokens.jwt_aud,
            Some(address),
            None,
            Some("email"),
            &data,
            false,
        ),
    )?;
    insert(
        inst,
        NewAdminUser {
            id: Some(id),
            role: None,
            email: Some(address),
            phone: None,
            hash,
            email_confirm: false,
            phone_confirm: false,
            app_metadata: None,
            user_metadata: Some(data),
            ban: None,
            invited,
        },
    )
}

fn link_data(data: Option<JsonbArg>) -> AuthResult<Value> {
    let data = data.map(|d| d.to_value("data")).transpose()?;
    user::check_metadata(data.as_ref())
}

/// `auth._admin_generate_link` (SQL: `auth.admin_generate_link(type, ...)`): GoTrue's
/// `POST /admin/generate_link`. Issues the code and returns the user with `action_link`,
/// `email_otp`, `hashed_token`, `verification_type` and `redirect_to`; sends nothing.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn _admin_generate_link(
    link_type: Option<&str>,
    email: Option<&str>,
    password: default!(Option<&str>, "NULL"),
    data: default!(Option<JsonbArg>, "NULL"),
    new_email: default!(Option<&str>, "NULL"),
    redirect_to: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let mut kind = LinkType::parse(link_type)?;
        let address = email::normalize(email)?;
        let target = signup::link_target(&inst, redirect_to);
        let data = link_data(data)?;
        let existing = holder(&address)?;
        if existing.is_none() && kind == LinkType::Magiclink {
            // GoTrue: a magic link for an unknown address signs them up.
            kind = LinkType::Signup;
        }
        let new_email = match kind {
            LinkType::EmailChangeCurrent | LinkType::EmailChangeNew => {
                let n = email::normalize(new_email)?;
                if holder(&n)?.is_some() {
                    return Err(AuthError::EmailExists);
                }
                if kind == LinkType::EmailChangeCurrent
                    && !inst.settings.mailer.mailer_secure_email_change_enabled
                {
                    return Err(AuthError::validation(
                        "Enable secure email change to generate link for current email",
                    ));
                }
                Some(n)
            }
            _ => None,
        };
        let (user_id, token_type, code_address) = match (kind, &existing) {
            (LinkType::Signup, None) => {
                let hash = match password.filter(|p| !p.is_empty()) {
                    Some(pw) => {
                        let s = &inst.settings;
                        let pw = crate::password_policy::check(&inst, Some(pw))?;
                        hashing::hash(pw, s.argon2_cost())?
                    }
                    None if link_type == Some("magiclink") => String::new(),
                    None => return Err(AuthError::validation("Signup requires a valid password")),
                };
                let id = create_for_link(&inst, &address, &hash, data, false)?;
                (id, TokenType::Confirmation, address.clone())
            }
            (LinkType::Signup | LinkType::Invite, Some(h)) if h.confirmed => {
                return Err(AuthError::EmailExists)
            }
            (LinkType::Signup, Some(h)) => {
                db::exec(
                    "UPDATE auth.users SET raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || $2, \
                     updated_at = now() WHERE id = $1",
                    &[db::uuid(h.id).into(), JsonB(data).into()],
                )?;
                (db::uuid(h.id), TokenType::Confirmation, address.clone())
            }
            (LinkType::Invite, None) => {
                let id = create_for_link(&inst, &address, "", data, true)?;
                (id, TokenType::Confirmation, address.clone())
            }
            (LinkType::Invite, Some(h)) => {
                db::exec(
                    "UPDATE auth.users SET invited_at = now(), updated_at = now() WHERE id = $1",
                    &[db::uuid(h.id).into()],
                )?;
                (db::uuid(h.id), TokenType::Confirmation, address.clone())
            }
            (_, None) => {
                return Err(AuthError::AdminUserNotFound(
                    "User with this email not found",
                ))
            }
            (LinkType::Magiclink | LinkType::Recovery, Some(h)) => {
                (db::uuid(h.id), TokenType::Recovery, address.clone())
            }
            (LinkType::EmailChangeCurrent | LinkType::EmailChangeNew, Some(h)) => {
                let n = new_email.clone().unwrap_or_default();
                db::exec(
                    "UPDATE auth.users SET email_change = $2, email_change_sent_at = now(), \
                     email_change_confirm_status = 0, updated_at = now() WHERE id = $1",
                    &[db::uuid(h.id).into(), n.as_str().into()],
                )?;
                if kind == LinkType::EmailChangeCurrent {
                    (
                        db::uuid(h.id),
                        TokenType::EmailChangeCurrent,
                        address.clone(),
                    )
                } else {
                    (db::uuid(h.id), TokenType::EmailChangeNew, n)
                }
            }
        };
        if existing.as_ref().is_some_and(|h| h.banned) {
            return Err(AuthError::UserBanned);
        }
        let issued = one_time::issue(
            &inst,
            user_id,
            token_type,
            &code_address,
            Channel::Email,
            false,
            Lineage::New,
        )?;
        // GoTrue answers the type asked for (signup for a magic link that signed someone up);
        // the link carries the type /verify takes (email_change for both halves).
        let verification_type = kind.as_str();
        let link = auth_core::templates::confirmation_url(
            &inst.settings.mailer.api_external_url,
            &issued.hash,
            kind.verify_type(),
            &target,
        );
        record(&admin, Action::UserModified, user_id, Some(&address))?;
        let mut answer = user_by_id(user_id)?;
        if let Some(map) = answer.as_object_mut() {
            map.insert("action_link".into(), json!(link));
            map.insert("email_otp".into(), json!(issued.code));
            map.insert("hashed_token".into(), json!(issued.hash));
            map.insert("verification_type".into(), json!(verification_type));
            map.insert("redirect_to".into(), json!(target));
        }
        Ok(JsonB(answer))
    })
}

/// `auth.admin_invite_user`: GoTrue's `POST /invite`. Creates the user (no password) unless an
/// unconfirmed one exists, and queues the invitation mail.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_invite_user(
    email: Option<&str>,
    data: default!(Option<JsonbArg>, "NULL"),
    redirect_to: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        let admin = require_admin(&inst)?;
        let address = email::normalize(email)?;
        let target = signup::link_target(&inst, redirect_to);
        let data = link_data(data)?;
        let user_id = match holder(&address)? {
            Some(h) if h.confirmed => return Err(AuthError::EmailExists),
            Some(h) => {
                db::exec(
                    "UPDATE auth.users SET invited_at = now(), updated_at = now() WHERE id = $1",
                    &[db::uuid(h.id).into()],
                )?;
                db::uuid(h.id)
            }
            None => create_for_link(&inst, &address, "", data, true)?,
        };
        one_time::send_code(
            &inst,
            &Code {
                user_id,
                token_type: TokenType::Confirmation,
                channel: Channel::Email,
                address: &address,
                action: "invite",
                redirect_to: &target,
                pkce: None,
            },
        )?;
        record(&admin, Action::UserInvited, user_id, Some(&address))?;
        user_by_id(user_id).map(JsonB)
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "admin_api",
    requires = [
        admin_list_users,
        admin_get_user,
        admin_create_user,
        admin_update_user,
        admin_delete_user,
        admin_sign_out_user,
        admin_audit_log,
        _admin_generate_link,
        admin_invite_user
    ]
);
