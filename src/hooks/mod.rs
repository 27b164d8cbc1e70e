//! Auth hooks: the owner's SQL functions, called in the request's transaction with GoTrue's JSON
//! input and output (so hooks written for Supabase work unchanged), as `hook_role`, within
//! `hook_timeout_ms`. The rules (targets, errors, what a claims hook may change) are
//! `auth_core::hooks`'; the context (role, time limit) is `ffi::hook_context`.
//!
//! A hook's failure reaches the caller as the hook's own words: an `error` object in its output
//! (`{"error": {"http_code", "message"}}`, the way to choose the status), an exception it raised
//! (`RAISE EXCEPTION 'text'`: 500 with the text), a timeout, or output out of contract, each
//! named.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use auth_core::hooks::{self, HookPoint, HookTarget};
use auth_core::AuthError;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::JsonB;
use serde_json::{json, Map, Value};

use crate::db;
use crate::error::AuthResult;
use crate::ffi::hook_context::HookContext;
use crate::instance::Instance;

thread_local! {
    /// One statement text per hook function, kept for the backend's life so that its plan is
    /// kept too (db's plans are keyed by the text's address). Bounded by the settings' values.
    static CALLS: RefCell<HashMap<String, &'static str>> = RefCell::new(HashMap::new());
}

fn call_sql(target: &HookTarget) -> &'static str {
    let sql = target.call_sql();
    CALLS.with(|calls| {
        *calls
            .borrow_mut()
            .entry(sql.clone())
            .or_insert_with(|| Box::leak(sql.into_boxed_str()))
    })
}

fn hook_failed(message: String) -> AuthError {
    AuthError::Hook {
        status: 500,
        code: "unexpected_failure",
        message,
    }
}

/// Whether a hook point has a function.
pub(crate) fn configured(inst: &Instance, point: HookPoint) -> Option<HookTarget> {
    inst.settings.hooks.target(point)
}

/// Calls the hook's function with `input` (plus GoTrue's `metadata`) and returns its output, or
/// the error it answered with. `Ok(None)`: no hook is configured.
pub(crate) fn call(
    inst: &Instance,
    point: HookPoint,
    mut input: Value,
) -> AuthResult<Option<Value>> {
    let Some(target) = configured(inst, point) else {
        return Ok(None);
    };
    let s = &inst.settings.hooks;
    let name = target.display();
    let mut metadata = json!({
        "uuid": uuid::Uuid::new_v4(),
        "time": db::json("SELECT to_jsonb(now())", &[])?,
        "name": point.metadata_name(),
    });
    if let Some(ip) = crate::request::current().ip {
        metadata["ip_address"] = json!(ip);
    }
    input["metadata"] = metadata;
    // Never a role above the hook's station: not a superuser, not one that bypasses RLS, not
    // the extension's owner (whose rights the calling function has).
    let role = db::read_json(
        "SELECT to_jsonb(oid::int8) FROM pg_catalog.pg_roles \
         WHERE rolname = $1 AND NOT rolsuper AND NOT rolbypassrls",
        &[s.hook_role.as_str().into()],
    )?
    .and_then(|v| v.as_i64())
    .map(|oid| pgrx::pg_sys::Oid::from(oid as u32))
    .filter(|oid| Some(*oid) != crate::instance::owner().ok())
    .ok_or_else(|| {
        hook_failed(format!(
            "hook_role {} does not exist, or is a superuser, the owner or bypasses RLS",
            s.hook_role
        ))
    })?;
    let sql = call_sql(&target);
    let context = HookContext::enter(role, s.hook_timeout_ms as i32);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // In the hook's own settings level (thrown away after it): its unqualified names
        // resolve in public, as under Supabase's hook role, and its notices (which could carry
        // a code it was given) reach no client.
        db::exec(
            "SELECT pg_catalog.set_config('search_path', 'public', true), \
                    pg_catalog.set_config('client_min_messages', 'error', true)",
            &[],
        )?;
        db::json(sql, &[JsonB(input).into()])
    }));
    let timed_out = context.timed_out();
    drop(context);
    let output = match outcome {
        // A hook that caught our cancel and went on still ran out of time.
        _ if timed_out => {
            return Err(hook_failed(format!(
                "The hook {name} did not answer within {} ms",
                s.hook_timeout_ms
            )))
        }
        Ok(result) => result?,
        Err(payload) => return Err(raised(payload, &name, point)),
    };
    let output = output.unwrap_or_else(|| json!({}));
    match hooks::output_error(&output) {
        Some(err) => Err(err),
        None => Ok(Some(output)),
    }
}

/// What a hook that raised is reported as: in its own words, unless its input held codes (the
/// send hooks: a message could repeat one to whoever asked for it). Its transaction is aborted:
/// nothing more runs before the error is raised to the caller.
fn raised(payload: Box<dyn std::any::Any + Send>, name: &str, point: HookPoint) -> AuthError {
    let Ok(caught) = payload.downcast::<CaughtError>() else {
        return hook_failed(format!("Error running hook {name}"));
    };
    if matches!(point, HookPoint::SendEmail | HookPoint::SendSms) {
        pgrx::log!(
            "auth_ext: the hook {name} raised an error (SQLSTATE {:?}); its text is not shown \
             because its input holds codes",
            match &*caught {
                CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r.sql_error_code(),
                CaughtError::RustPanic { ereport, .. } => ereport.sql_error_code(),
            }
        );
        return hook_failed(format!("Error running hook {name}"));
    }
    let report = match &*caught {
        CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
        CaughtError::RustPanic { ereport, .. } => ereport,
    };
    let message: String = report.message().chars().take(1024).collect();
    hook_failed(format!("Error running hook {name}: {message}"))
}

/// The custom access token hook: the claims to sign (the hook's, checked), or the minted ones.
pub(crate) fn access_token_claims(
    inst: &Instance,
    claims: Value,
    authentication_method: &str,
) -> AuthResult<Value> {
    if configured(inst, HookPoint::CustomAccessToken).is_none() {
        return Ok(claims);
    }
    let given: Map<String, Value> = claims.as_object().cloned().unwrap_or_default();
    let input = json!({
        "user_id": given.get("sub").cloned().unwrap_or(Value::Null),
        "claims": given,
        "authentication_method": authentication_method,
    });
    let output = call(inst, HookPoint::CustomAccessToken, input)?.unwrap_or_default();
    let checked = hooks::checked_claims(
        &output,
        &given,
        &inst.settings.hooks.hook_custom_access_token_roles,
    )?;
    Ok(Value::Object(checked))
}

/// The before-user-created hook, with the user about to be inserted (GoTrue's shape).
pub(crate) fn before_user_created(inst: &Instance, user: Value) -> AuthResult<()> {
    if configured(inst, HookPoint::BeforeUserCreated).is_none() {
        return Ok(());
    }
    call(inst, HookPoint::BeforeUserCreated, json!({ "user": user })).map(|_| ())
}

/// The user object a before-user-created hook sees.
pub(crate) fn new_user_object(
    id: pgrx::Uuid,
    aud: &str,
    email: Option<&str>,
    phone: Option<&str>,
    provider: Option<&str>,
    user_metadata: &Value,
    is_anonymous: bool,
) -> Value {
    let app_metadata = match provider {
        Some(p) => json!({"provider": p, "providers": [p]}),
        None => json!({}),
    };
    json!({
        "id": id.to_string(), "aud": aud, "role": "",
        "email": email.unwrap_or(""), "phone": phone.unwrap_or(""),
        "app_metadata": app_metadata, "user_metadata": user_metadata,
        "identities": [], "created_at": "0001-01-01T00:00:00Z",
        "updated_at": "0001-01-01T00:00:00Z", "is_anonymous": is_anonymous,
    })
}

/// The password verification hook, for a known account: `Err` when it rejects (after ending the
/// user's sessions if it asked, apart from this call, which the error rolls back).
pub(crate) fn password_verification_attempt(
    inst: &Instance,
    user_id: pgrx::Uuid,
    valid: bool,
) -> AuthResult<()> {
    let input = json!({"user_id": user_id.to_string(), "valid": valid});
    let Some(output) = call(inst, HookPoint::PasswordVerificationAttempt, input)? else {
        return Ok(());
    };
    match hooks::password_decision(&output) {
        None => Ok(()),
        Some((message, sign_out)) => {
            if sign_out {
                crate::trace::end_sessions(user_id);
            }
            Err(AuthError::Hook {
                status: 400,
                code: "invalid_credentials",
                message,
            })
        }
    }
}

/// The MFA verification attempt hook (GoTrue's input: the user, the factor, whether the code
/// was right): `Err` when it rejects, after ending all the user's sessions apart from this call
/// (GoTrue signs the user out on a rejection; the error rolls back this transaction).
pub(crate) fn mfa_verification_attempt(
    inst: &Instance,
    user_id: pgrx::Uuid,
    factor_id: &uuid::Uuid,
    factor_type: &str,
    valid: bool,
) -> AuthResult<()> {
    let input = json!({
        "user_id": user_id.to_string(), "factor_id": factor_id.to_string(),
        "factor_type": factor_type, "valid": valid,
    });
    let Some(output) = call(inst, HookPoint::MfaVerificationAttempt, input)? else {
        return Ok(());
    };
    if output.get("decision").and_then(Value::as_str) != Some("reject") {
        return Ok(());
    }
    crate::trace::end_sessions(user_id);
    let message: Option<String> = output
        .get("message")
        .and_then(Value::as_str)
        .map(|m| m.chars().take(1024).collect());
    Err(AuthError::mfa_verification_rejected(message.as_deref()))
}

/// The send-email / send-sms hook in place of the outbox: `true` when a hook delivered it.
pub(crate) fn send_message(inst: &Instance, sms: bool, payload: &Value) -> AuthResult<bool> {
    let point = if sms {
        HookPoint::SendSms
    } else {
        HookPoint::SendEmail
    };
    if configured(inst, point).is_none() {
        return Ok(false);
    }
    call(inst, point, payload.clone())?;
    Ok(true)
}
