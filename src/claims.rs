//! The RLS helpers `auth.uid()`, `auth.role()`, `auth.email()`, `auth.jwt()`, how the claims of
//! the current request are found, and `auth.authenticate()`.
//!
//! Supabase's helpers are SQL that re-reads and re-parses the `request.jwt.claims` setting for
//! every row a policy checks. Here the parsed claims are cached per backend, keyed by the exact
//! setting text, so a bare `auth.uid()` in a policy costs one setting lookup and one byte compare
//! per row; the JSON is parsed once per distinct claims value.
//!
//! Two settings harden this (see README, "Trust in claims"):
//! - `claims_trust = 'verified'`: the claims are accepted only when the session's login role is
//!   one of `trusted_roles` (PostgREST's authenticator), or when `auth.authenticate()` set them;
//!   it also sets `auth_ext.claims_mac`, an HMAC of the claims under a private key, which nobody
//!   else can produce. The mark travels with the settings into parallel workers.
//! - `revocable_access_tokens`: the session named by the claims is checked once per transaction
//!   (one indexed lookup), so a signed-out, expired or banned session's tokens stop working at once.

use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::rc::Rc;

use auth_core::claims::{self, RequestClaims};
use auth_core::AuthError;
use hmac::{Hmac, KeyInit, Mac};
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};
use serde_json::Value;
use sha2::Sha256;

use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};

const CLAIMS_GUC: &CStr = c"request.jwt.claims";
const MAC_GUC: &CStr = c"auth_ext.claims_mac";

struct Cached {
    text: Vec<u8>,
    claims: Rc<RequestClaims>,
    uid: Option<Result<pgrx::Uuid, AuthError>>,
    /// The `auth_ext.claims_mac` that `authenticate()` would have set for this text.
    mac: String,
    /// The transaction (see [`EPOCH`]) in which the claims' session was last found active.
    active_in: Option<u64>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    /// Counts finished transactions of this backend: "checked in this transaction" is
    /// `active_in == Some(EPOCH)`.
    static EPOCH: Cell<u64> = const { Cell::new(0) };
}

pub fn register_transaction_callback() {
    unsafe { pg_sys::RegisterXactCallback(Some(on_transaction_end), std::ptr::null_mut()) };
}

#[pg_guard]
unsafe extern "C-unwind" fn on_transaction_end(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_PARALLEL_ABORT
            | XACT_EVENT_PREPARE
    ) {
        EPOCH.set(EPOCH.get().wrapping_add(1));
    }
}

/// The text of a setting, `None` when unset or empty (PostgREST leaves '' after a transaction).
fn setting(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: GetConfigOption returns a pointer into GUC storage, valid until the setting
    // changes, which cannot happen before we finish reading it in this call.
    let ptr = unsafe { pg_sys::GetConfigOption(name.as_ptr(), true, false) };
    if ptr.is_null() {
        return None;
    }
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    (!bytes.is_empty()).then_some(bytes)
}

fn setting_str(name: &CStr) -> Option<String> {
    setting(name).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The mark `authenticate()` leaves beside the claims it set.
fn claims_mac(inst: &Instance, text: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&inst.refresh_token_key).expect("any key length");
    mac.update(b"auth_ext request.jwt.claims v1\0");
    mac.update(text);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_trusted(inst: &Instance, entry: &Cached) -> bool {
    if inst.settings.claims_trust != "verified" {
        return true;
    }
    let session_user = unsafe { pg_sys::GetSessionUserId() };
    if inst.trusted_role_oids.contains(&session_user) {
        return true;
    }
    // authenticate() sets both settings transaction-locally; the mark binds them together.
    let mark = setting(MAC_GUC).unwrap_or(b"");
    if !bool::from(subtle::ConstantTimeEq::ct_eq(mark, entry.mac.as_bytes())) {
        return false;
    }
    // A mark copied from an earlier transaction must not outlive the token.
    let exp = entry
        .claims
        .raw
        .get("exp")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    exp + inst.settings.jwt_leeway as f64 >= crate::now() as f64
}

/// Whether the session a token names still exists and is in force, and its user may sign in.
pub fn session_is_active(session_id: &str, sub: &str) -> AuthResult<bool> {
    let (Ok(sid), Ok(uid)) = (
        uuid::Uuid::parse_str(session_id),
        uuid::Uuid::parse_str(sub),
    ) else {
        return Ok(false);
    };
    let inst = instance::get()?;
    let s = &inst.settings;
    instance::as_owner(|| {
        crate::db::read_json(
            "SELECT to_jsonb(EXISTS (
                 SELECT 1 FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
                  WHERE s.id = $1 AND s.user_id = $2
                    AND (s.not_after IS NULL OR s.not_after > now())
                    AND ($3::bigint IS NULL OR s.created_at + make_interval(secs => $3) > now())
                    AND ($4::bigint IS NULL
                         OR coalesce(s.refreshed_at AT TIME ZONE 'UTC', s.created_at) + make_interval(secs => $4) > now())
                    AND u.deleted_at IS NULL
                    AND (u.banned_until IS NULL OR u.banned_until <= now())))",
            &[
                crate::db::uuid(sid).into(),
                crate::db::uuid(uid).into(),
                s.sessions_timebox.into(),
                s.sessions_inactivity_timeout.into(),
            ],
        )
        .map(|v| v.and_then(|v| v.as_bool()).unwrap_or(false))
    })
}

/// Runs `f` on the cached claims for the current `request.jwt.claims` value, parsing it first
/// when it changed, after the trust and revocation checks. `None` when the setting is empty.
fn with_claims<R>(f: impl FnOnce(&mut Cached) -> R) -> AuthResult<Option<R>> {
    let Some(text) = setting(CLAIMS_GUC) else {
        return Ok(None);
    };
    let inst = instance::get()?;
    let needs_check = CACHE.with(|cache| -> AuthResult<Option<(String, String)>> {
        let mut cache = cache.borrow_mut();
        if !matches!(&*cache, Some(c) if c.text == text) {
            let parsed = claims::parse(std::str::from_utf8(text).ok())?
                .expect("a non-empty setting parses to claims or fails");
            let mac = claims_mac(&inst, text);
            *cache = Some(Cached {
                text: text.to_vec(),
                claims: Rc::new(parsed),
                uid: None,
                mac,
                active_in: None,
            });
        }
        let entry = cache.as_ref().expect("filled above");
        if !is_trusted(&inst, entry) {
            return Err(AuthError::bad_jwt(
                "request.jwt.claims was not set by auth.authenticate() or a trusted role",
            ));
        }
        if !inst.settings.revocable_access_tokens || entry.active_in == Some(EPOCH.get()) {
            return Ok(None);
        }
        let sid = entry
            .claims
            .raw
            .get("session_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        Ok(sid.map(|sid| (sid.to_owned(), entry.claims.sub.clone().unwrap_or_default())))
    })?;
    if let Some((sid, sub)) = needs_check {
        // Outside the cache borrow: the lookup is a query of its own.
        if !session_is_active(&sid, &sub)? {
            return Err(AuthError::bad_jwt(
                "the token's session is no longer active",
            ));
        }
        CACHE.with(|cache| {
            if let Some(c) = cache.borrow_mut().as_mut() {
                c.active_in = Some(EPOCH.get());
            }
        });
    }
    CACHE.with(|cache| Ok(cache.borrow_mut().as_mut().map(f)))
}

/// Forgets that the current claims' session was found active, so that a sign-out in this
/// transaction takes effect for the rest of it too.
pub fn forget_session_checks() {
    CACHE.with(|cache| {
        if let Some(c) = cache.borrow_mut().as_mut() {
            c.active_in = None;
        }
    });
}

/// The claims of the current request, if any.
pub fn current() -> AuthResult<Option<Rc<RequestClaims>>> {
    with_claims(|c| c.claims.clone())
}

fn to_pg_uuid(u: uuid::Uuid) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*u.as_bytes())
}

/// `sub` of the current claims, then the legacy `request.jwt.claim.sub`.
pub fn current_uid() -> AuthResult<Option<pgrx::Uuid>> {
    let cached = with_claims(|c| {
        c.uid
            .get_or_insert_with(|| match &c.claims.sub {
                Some(sub) => claims::parse_uuid("sub", sub).map(to_pg_uuid),
                None => Err(AuthError::NoAuthorization),
            })
            .clone()
    })?;
    match cached {
        Some(Ok(uid)) => Ok(Some(uid)),
        Some(Err(AuthError::NoAuthorization)) => Ok(None),
        Some(Err(e)) => Err(e),
        None => legacy(c"request.jwt.claim.sub")?
            .map(|sub| claims::parse_uuid("sub", &sub).map(to_pg_uuid))
            .transpose(),
    }
}

/// A legacy per-claim setting; under `claims_trust = 'verified'` only a trusted role's.
fn legacy(name: &CStr) -> AuthResult<Option<String>> {
    let Some(value) = setting_str(name) else {
        return Ok(None);
    };
    let inst = instance::get()?;
    if inst.settings.claims_trust == "verified"
        && !inst
            .trusted_role_oids
            .contains(&unsafe { pg_sys::GetSessionUserId() })
    {
        return Err(AuthError::bad_jwt(
            "legacy request.jwt.claim.* settings are only accepted from a trusted role",
        ));
    }
    Ok(Some(value))
}

fn claim_text(
    pick: fn(&RequestClaims) -> Option<String>,
    legacy_name: &CStr,
) -> AuthResult<Option<String>> {
    match with_claims(|c| pick(&c.claims))? {
        Some(found) => Ok(found),
        None => legacy(legacy_name),
    }
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn uid() -> Option<pgrx::Uuid> {
    guard(current_uid)
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn role() -> Option<String> {
    guard(move || claim_text(|c| c.role.clone(), c"request.jwt.claim.role"))
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn email() -> Option<String> {
    guard(move || claim_text(|c| c.email.clone(), c"request.jwt.claim.email"))
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn jwt() -> Option<JsonB> {
    guard(move || {
        if let Some(raw) = with_claims(|c| c.claims.raw.clone())? {
            return Ok(Some(JsonB(raw)));
        }
        // Supabase's legacy setting name for the whole claims object.
        match legacy(c"request.jwt.claim")? {
            Some(text) => Ok(claims::parse(Some(&text))?.map(|c| JsonB(c.raw))),
            None => Ok(None),
        }
    })
}

/// Verifies `token` and makes its claims those of the rest of the current transaction, for
/// clients that connect directly or through a transaction-mode pooler rather than PostgREST.
/// Returns the claims.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn authenticate(token: Option<&str>) -> JsonB {
    guard(move || {
        let token = token.ok_or_else(|| AuthError::bad_jwt("the token is missing"))?;
        let inst = instance::get()?;
        let claims = inst
            .ring
            .verify(token, &inst.verify_options, crate::now())?;
        if inst.settings.revocable_access_tokens {
            if let Some(sid) = claims
                .get("session_id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
                if !session_is_active(sid, sub)? {
                    return Err(AuthError::bad_jwt(
                        "the token's session is no longer active",
                    ));
                }
            }
        }
        let text = claims.to_string();
        let mac = claims_mac(&inst, text.as_bytes());
        // Transaction-local, like set_config(..., true); set directly so that no transaction id
        // is needed (authenticate() works on a standby).
        for (name, value) in [(CLAIMS_GUC, text.as_str()), (MAC_GUC, mac.as_str())] {
            let value = std::ffi::CString::new(value).map_err(|_| AuthError::Internal)?;
            unsafe {
                pg_sys::set_config_option(
                    name.as_ptr(),
                    value.as_ptr(),
                    pg_sys::GucContext::PGC_USERSET,
                    pg_sys::GucSource::PGC_S_SESSION,
                    pg_sys::GucAction::GUC_ACTION_LOCAL,
                    true,
                    0,
                    false,
                )
            };
        }
        Ok(JsonB(claims))
    })
}
