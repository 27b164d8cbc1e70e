//! The RLS helpers `auth.uid()`, `auth.role()`, `auth.email()`, `auth.jwt()`, how the claims of
//! the current request are found, and `auth.authenticate()`.
//!
//! Supabase's helpers are SQL that re-reads and re-parses the `request.jwt.claims` setting for
//! every row a policy checks. Here the parsed claims are cached per backend, keyed by the exact
//! setting text, so a bare `auth.uid()` in a policy costs one setting lookup and one byte compare
//! per row; the JSON is parsed once per distinct claims value.
//!
//! Two settings harden this (see README, "Trust in claims"):
//! - `claims_trust = 'verified'` (the default): the claims are accepted only when the session's
//!   login role is trusted (one of `trusted_roles`, PostgREST's authenticator; a superuser; the
//!   extension's owner), or when `auth.authenticate()` set them in this transaction: it also sets
//!   `auth_ext.claims_mac`, an HMAC of the claims and the transaction under a private key, which
//!   nobody else can produce and which is worthless in any other transaction. The mark travels
//!   with the settings into parallel workers, which name their leader's transaction.
//! - `revocable_access_tokens`: the session named by the claims is checked once per transaction
//!   (one indexed lookup), so a signed-out, expired or banned session's tokens stop working at once.

use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::rc::Rc;

use auth_core::claims::{self, RequestClaims};
use auth_core::settings::ClaimsTrust;
use auth_core::AuthError;
use hmac::{Hmac, KeyInit, Mac};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;
use sha2::Sha256;

use crate::error::{guard, AuthResult};
use crate::ffi::{guc, xact};
use crate::instance::{self, Instance};
use crate::trust::is_trusted_role;

const CLAIMS_GUC: &CStr = c"request.jwt.claims";
const MAC_GUC: &CStr = c"auth_ext.claims_mac";
static SESSION_ACTIVE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::fragments::expand(include_str!("session_active.sql")));

struct Cached {
    text: Vec<u8>,
    claims: Rc<RequestClaims>,
    uid: Option<Result<pgrx::Uuid, AuthError>>,
    /// The `auth_ext.claims_mac` that `authenticate()` would have set for this text in the
    /// transaction named by `mac_tag`.
    mac: Option<([u8; 24], String)>,
    /// The transaction (see [`EPOCH`]) in which the claims' session was last found active.
    active_in: Option<u64>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    /// Counts finished transactions of this backend: "checked in this transaction" is
    /// `active_in == Some(EPOCH)`.
    static EPOCH: Cell<u64> = const { Cell::new(0) };
}

pub(crate) fn register_transaction_callback() {
    xact::on_transaction_end(|| EPOCH.set(EPOCH.get().wrapping_add(1)));
}

/// The mark `authenticate()` leaves beside the claims it set: an HMAC, under the claims-MAC
/// key, of the claims and the transaction, so a copied pair is worth nothing in any other
/// transaction (a later one on the same pooled connection included).
fn claims_mac(inst: &Instance, tag: &[u8; 24], text: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&inst.keys.claims_mac).expect("any key length");
    mac.update(b"auth_ext request.jwt.claims v3\0");
    mac.update(tag);
    mac.update(text);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Names the current transaction for the mark: the virtual transaction id and the server's start
/// (`ffi::xact`) and, when preloaded, a nonce drawn each time shared memory is made, so that a
/// crash restart, which restarts the transaction numbering, starts a new series of tags.
fn transaction_tag() -> [u8; 24] {
    let mut tag = [0u8; 24];
    tag[..16].copy_from_slice(&xact::transaction_tag());
    tag[16..].copy_from_slice(&crate::trace::counter::server_nonce());
    tag
}

fn is_trusted(inst: &Instance, entry: &mut Cached) -> AuthResult<bool> {
    if inst.settings.trust.claims_trust == ClaimsTrust::Any {
        return Ok(true);
    }
    let mark = guc::get(MAC_GUC).unwrap_or(b"");
    if !mark.is_empty() {
        // authenticate() sets both settings transaction-locally; the mark binds them together
        // and to this transaction.
        let tag = transaction_tag();
        let expected = match &entry.mac {
            Some((t, mac)) if *t == tag => mac,
            _ => {
                &entry
                    .mac
                    .insert((tag, claims_mac(inst, &tag, &entry.text)))
                    .1
            }
        };
        if bool::from(subtle::ConstantTimeEq::ct_eq(mark, expected.as_bytes())) {
            return Ok(true);
        }
    }
    is_trusted_role(inst)
}

/// Whether the session a token names still exists and is in force, and its user may sign in.
pub(crate) fn session_is_active(session_id: &str, sub: &str) -> AuthResult<bool> {
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
            SESSION_ACTIVE.as_str(),
            &[
                crate::db::uuid(sid).into(),
                s.sessions.sessions_timebox.into(),
                s.sessions.sessions_inactivity_timeout.into(),
                crate::db::uuid(uid).into(),
            ],
        )
        .and_then(crate::db::typed::<bool>)
        .map(|active| active.unwrap_or(false))
    })
}

/// Runs `f` on the cached claims for the current `request.jwt.claims` value, parsing it first
/// when it changed, after the trust and revocation checks. `None` when the setting is empty.
fn with_claims<R>(f: impl FnOnce(&mut Cached) -> R) -> AuthResult<Option<R>> {
    let Some(text) = guc::get(CLAIMS_GUC) else {
        return Ok(None);
    };
    let inst = instance::get()?;
    let needs_check = CACHE.with(|cache| -> AuthResult<Option<(String, String)>> {
        let mut cache = cache.borrow_mut();
        if !matches!(&*cache, Some(c) if c.text == text) {
            let text_str = std::str::from_utf8(text)
                .map_err(|_| AuthError::bad_jwt("request.jwt.claims is not valid UTF-8"))?;
            let parsed = claims::parse(Some(text_str))?
                .ok_or_else(|| AuthError::bad_jwt("request.jwt.claims is empty"))?;
            *cache = Some(Cached {
                text: text.to_vec(),
                claims: Rc::new(parsed),
                uid: None,
                mac: None,
                active_in: None,
            });
        }
        let entry = cache.as_mut().expect("filled above");
        if !is_trusted(&inst, entry)? {
            return Err(AuthError::bad_jwt(
                "request.jwt.claims was not set by auth.authenticate() or a trusted role",
            ));
        }
        if !inst.settings.sessions.revocable_access_tokens || entry.active_in == Some(EPOCH.get()) {
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
pub(crate) fn forget_session_checks() {
    CACHE.with(|cache| {
        if let Some(c) = cache.borrow_mut().as_mut() {
            c.active_in = None;
        }
    });
}

/// The claims of the current request, if any.
pub(crate) fn current() -> AuthResult<Option<Rc<RequestClaims>>> {
    with_claims(|c| c.claims.clone())
}

/// `sub` of the current claims, then the legacy `request.jwt.claim.sub`.
pub(crate) fn current_uid() -> AuthResult<Option<pgrx::Uuid>> {
    let cached = with_claims(|c| {
        c.uid
            .get_or_insert_with(|| match &c.claims.sub {
                Some(sub) => claims::parse_uuid("sub", sub).map(crate::db::uuid),
                None => Err(AuthError::NoAuthorization),
            })
            .clone()
    })?;
    match cached {
        Some(Ok(uid)) => Ok(Some(uid)),
        Some(Err(AuthError::NoAuthorization)) => Ok(None),
        Some(Err(e)) => Err(e),
        None => legacy(c"request.jwt.claim.sub")?
            .map(|sub| claims::parse_uuid("sub", &sub).map(crate::db::uuid))
            .transpose(),
    }
}

/// A legacy per-claim setting; under `claims_trust = 'verified'` only a trusted role's.
fn legacy(name: &CStr) -> AuthResult<Option<String>> {
    let Some(value) = guc::get_string(name) else {
        return Ok(None);
    };
    let inst = instance::get()?;
    if inst.settings.trust.claims_trust == ClaimsTrust::Verified && !is_trusted_role(&inst)? {
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
        if inst.settings.sessions.revocable_access_tokens {
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
        let mac = claims_mac(&inst, &transaction_tag(), text.as_bytes());
        // Transaction-local, like set_config(..., true); set directly so that no transaction id
        // is needed (authenticate() works on a standby).
        for (name, value) in [(CLAIMS_GUC, text.as_str()), (MAC_GUC, mac.as_str())] {
            guc::set(name, value, guc::Scope::Transaction, false)
                .map_err(|()| AuthError::Internal)?;
        }
        Ok(JsonB(claims))
    })
}

// The planner support function (src/ffi/planner.rs), the helpers' twins and the grants.
pgrx::extension_sql_file!(
    "api.sql",
    name = "claims_api",
    requires = [uid, role, email, jwt, authenticate]
);
