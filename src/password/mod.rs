//! `auth.sign_in_with_password`: email (or phone) and password, in the same time whether or not
//! the account exists.

use auth_core::sign_in::Account;
use auth_core::{email, password, phone as phone_number, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::db;
use crate::error::{guard, AuthResult};
use crate::hashing;
use crate::instance;
use crate::rate_limit::AttemptOn;
use crate::request;
use crate::session_start::start_session;

static FIND_ACCOUNT_BY_EMAIL: &str = include_str!("find_account_by_email.sql");
static FIND_ACCOUNT_BY_PHONE: &str = include_str!("find_account_by_phone.sql");

/// `auth.sign_in_with_password`, GoTrue's `POST /token?grant_type=password`.
#[pg_extern(schema = "auth", name = "sign_in_with_password", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn sign_in_with_password_or_phone(
    email: default!(Option<&str>, "NULL"),
    password: default!(Option<&str>, "NULL"),
    phone: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || sign_in(email, password, phone).map(JsonB))
}

/// The entry point that releases before 0.5.0 declared as `auth.sign_in_with_password(email,
/// password)` (its C symbol), for databases not yet updated. No SQL is generated for it.
#[pg_extern(sql = false)]
fn sign_in_with_password(email: Option<&str>, password: Option<&str>) -> JsonB {
    guard(move || sign_in(email, password, None).map(JsonB))
}

fn sign_in(
    email: Option<&str>,
    password: Option<&str>,
    phone: Option<&str>,
) -> AuthResult<serde_json::Value> {
    let inst = instance::get()?;
    let s = &inst.settings;
    let by_phone = email.is_none_or(|e| e.trim().is_empty());
    if by_phone && phone.is_none_or(|p| p.trim().is_empty()) {
        return Err(AuthError::validation("An email address is required"));
    }
    if by_phone && !s.phone.external_phone_enabled {
        return Err(AuthError::ProviderDisabled {
            email: false,
            signup: false,
        });
    }
    if !by_phone && !s.mailer.external_email_enabled {
        return Err(AuthError::ProviderDisabled {
            email: true,
            signup: false,
        });
    }
    let req = request::current();
    crate::rate_limit::check(&inst, auth_core::rate_limit::Bucket::Token, &req)?;
    let password = password::check_attempt(password)?;
    // A malformed address cannot belong to anyone; it still costs one hash below.
    let (raw_email, raw_phone) = (email, phone);
    let (email, phone) = if by_phone {
        (None, phone_number::normalize(phone).ok())
    } else {
        (email::normalize(email).ok(), None)
    };
    // The account's backoff admits this attempt before the password is checked; keyed by the
    // address typed, known or not, so it answers the same for both.
    let attempt_on = match (&email, &phone, by_phone) {
        (Some(address), _, _) => AttemptOn::Email(address),
        (None, Some(number), _) => AttemptOn::Phone(number),
        (None, None, false) => AttemptOn::Unparsed(raw_email.unwrap_or("")),
        (None, None, true) => AttemptOn::Unparsed(raw_phone.unwrap_or("")),
    };
    let admitted = crate::rate_limit::admit_sign_in(&inst, attempt_on, &req)?;
    let found = match (&email, &phone) {
        (Some(address), _) => db::read_json(FIND_ACCOUNT_BY_EMAIL, &[address.as_str().into()])?,
        (None, Some(number)) => db::read_json(FIND_ACCOUNT_BY_PHONE, &[number.as_str().into()])?,
        (None, None) => None,
    };
    let found: Option<Account> = db::typed(found)?;
    let cost = s.argon2_cost();
    let decoy = cost.decoy_hash();
    let stored = found
        .as_ref()
        .and_then(|a| a.hash.as_deref())
        .filter(|h| !h.is_empty())
        .unwrap_or(&decoy)
        .to_owned();
    // Exactly one hash verification on every path, so an unknown email and a wrong password
    // take the same time.
    let matches = hashing::verify(password, &stored);
    // A failed sign-in leaves an audit row (login_failed) written apart from this call,
    // which the error rolls back; the same work for a known and an unknown email.
    let failed = |err, account: Option<&Account>| {
        let user_id = account.map(|a| a.id.to_string());
        let who = email.as_deref().or(phone.as_deref());
        crate::trace::sign_in_failed(err, user_id.as_deref(), who)
    };
    if let Some(account) = found
        .as_ref()
        .filter(|a| a.hash.as_deref().is_some_and(|h| !h.is_empty()))
    {
        // The owner's password verification hook, for a known account (GoTrue's rule); it may
        // reject even the right password and end the user's sessions.
        if let Err(refused) =
            crate::hooks::password_verification_attempt(&inst, db::uuid(account.id), matches)
        {
            // Audited as a failed sign-in, answered in the hook's words.
            failed(AuthError::InvalidCredentials, Some(account));
            return Err(refused);
        }
    }
    let account = match found {
        Some(account) if matches => account,
        found => return Err(failed(AuthError::InvalidCredentials, found.as_ref())),
    };
    if let Err(refused) = account.admit(s.mailer.allow_unverified_email_sign_ins, by_phone) {
        return Err(failed(refused, Some(&account)));
    }
    let user_id = db::uuid(account.id);
    // The password may have changed while it was being verified (a new one, or one dropped by
    // the address's first confirmation, src/verify/confirm.sql): judge the match again under
    // the user's row lock, which holds until this session is committed.
    let unchanged = db::json(
        "SELECT to_jsonb(encrypted_password = $2) FROM auth.users WHERE id = $1 FOR UPDATE",
        &[user_id.into(), stored.as_str().into()],
    )?;
    if unchanged != Some(serde_json::Value::Bool(true)) {
        return Err(failed(AuthError::InvalidCredentials, Some(&account)));
    }
    if password::needs_rehash(&stored, cost) {
        // Imported bcrypt hashes and hashes of an older cost are upgraded on first use.
        let upgraded = hashing::hash(password, cost)?;
        db::exec(
            "UPDATE auth.users SET encrypted_password = $2 WHERE id = $1",
            &[user_id.into(), upgraded.as_str().into()],
        )?;
    }
    let session = start_session(
        &inst,
        user_id,
        &account.email,
        if by_phone { "phone" } else { "email" },
        "password",
        &req,
    )?;
    admitted.succeeded();
    Ok(session)
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "password_api",
    requires = [sign_in_with_password_or_phone]
);
