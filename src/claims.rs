//! The RLS helpers `auth.uid()`, `auth.role()`, `auth.email()`, `auth.jwt()` and how the claims of
//! the current request are found.
//!
//! Supabase's helpers are SQL that re-reads and re-parses the `request.jwt.claims` setting for
//! every row a policy checks. Here the parsed claims are cached per backend, keyed by the exact
//! setting text, so a bare `auth.uid()` in a policy costs one setting lookup and one byte compare
//! per row; the JSON is parsed once per distinct claims value.

use std::cell::RefCell;
use std::ffi::CStr;
use std::rc::Rc;

use auth_core::claims::{self, RequestClaims};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB};

use crate::error::{guard, AuthResult};

const CLAIMS_GUC: &CStr = c"request.jwt.claims";

struct Cached {
    text: Vec<u8>,
    claims: Rc<RequestClaims>,
    uid: Option<Result<pgrx::Uuid, AuthError>>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
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

/// Runs `f` on the cached claims for the current `request.jwt.claims` value, parsing it first
/// when it changed. `None` when the setting is empty.
fn with_claims<R>(f: impl FnOnce(&mut Cached) -> R) -> AuthResult<Option<R>> {
    let Some(text) = setting(CLAIMS_GUC) else {
        return Ok(None);
    };
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let hit = matches!(&*cache, Some(c) if c.text == text);
        if !hit {
            let parsed = claims::parse(std::str::from_utf8(text).ok())?
                .expect("a non-empty setting parses to claims or fails");
            *cache = Some(Cached {
                text: text.to_vec(),
                claims: Rc::new(parsed),
                uid: None,
            });
        }
        Ok(Some(f(cache.as_mut().expect("filled above"))))
    })
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
        None => match setting_str(c"request.jwt.claim.sub") {
            Some(sub) => Ok(Some(to_pg_uuid(claims::parse_uuid("sub", &sub)?))),
            None => Ok(None),
        },
    }
}

fn claim_text(
    pick: fn(&RequestClaims) -> Option<String>,
    legacy: &CStr,
) -> AuthResult<Option<String>> {
    match with_claims(|c| pick(&c.claims))? {
        Some(found) => Ok(found),
        None => Ok(setting_str(legacy)),
    }
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn uid() -> Option<pgrx::Uuid> {
    guard(current_uid)
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn role() -> Option<String> {
    guard(|| claim_text(|c| c.role.clone(), c"request.jwt.claim.role"))
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn email() -> Option<String> {
    guard(|| claim_text(|c| c.email.clone(), c"request.jwt.claim.email"))
}

#[pg_extern(schema = "auth", stable, parallel_safe)]
fn jwt() -> Option<JsonB> {
    guard(|| {
        if let Some(raw) = with_claims(|c| c.claims.raw.clone())? {
            return Ok(Some(JsonB(raw)));
        }
        // Supabase's legacy setting name for the whole claims object.
        match setting_str(c"request.jwt.claim") {
            Some(text) => Ok(claims::parse(Some(&text))?.map(|c| JsonB(c.raw))),
            None => Ok(None),
        }
    })
}
