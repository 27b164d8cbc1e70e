//! Auth hooks as SQL functions (GoTrue's `pg-functions://` hooks): which hook points exist, how a
//! setting names the function, what counts as a hook's error, and what a custom access token
//! hook may change.
//!
//! Beyond GoTrue, which signs whatever claims the hook returns: the hook may add, change and
//! remove claims, but not the ones that say who the token is for and how strongly they proved
//! it (`sub`, `session_id`, `aal`, `is_anonymous`), not extend `exp`, and not set a `role` other
//! than the user's own unless the owner listed it (`hook_custom_access_token_roles`): a hook
//! cannot mint `service_role`, another user's token or a second factor.

use serde_json::{Map, Value};

use crate::error::{AuthError, AuthResult};

/// A hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPoint {
    CustomAccessToken,
    BeforeUserCreated,
    PasswordVerificationAttempt,
    MfaVerificationAttempt,
    SendEmail,
    SendSms,
}

impl HookPoint {
    /// The name in the input's `metadata` (GoTrue's).
    pub fn metadata_name(self) -> &'static str {
        match self {
            HookPoint::CustomAccessToken => "customize-access-token",
            HookPoint::BeforeUserCreated => "before-user-created",
            HookPoint::PasswordVerificationAttempt => "password-verification",
            HookPoint::MfaVerificationAttempt => "mfa-verification",
            HookPoint::SendEmail => "send-email",
            HookPoint::SendSms => "send-sms",
        }
    }
}

/// The function a hook setting names: `schema.function`, or GoTrue's
/// `pg-functions://postgres/schema/function`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookTarget {
    pub schema: String,
    pub function: String,
}

fn identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && s.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl HookTarget {
    pub fn parse(setting: &str) -> AuthResult<HookTarget> {
        let bad = || {
            AuthError::validation(
                "a hook must name a function as schema.function or \
                 pg-functions://postgres/schema/function",
            )
        };
        let (schema, function) = match setting.strip_prefix("pg-functions://") {
            Some(rest) => {
                let mut parts = rest.split('/');
                let (_host, schema, function) = (parts.next(), parts.next(), parts.next());
                if parts.next().is_some() {
                    return Err(bad());
                }
                (schema.ok_or_else(bad)?, function.ok_or_else(bad)?)
            }
            None => setting.split_once('.').ok_or_else(bad)?,
        };
        if !identifier(schema) || !identifier(function) {
            return Err(bad());
        }
        Ok(HookTarget {
            schema: schema.to_owned(),
            function: function.to_owned(),
        })
    }

    /// The call, both names quoted (they are plain identifiers, checked above).
    pub fn call_sql(&self) -> String {
        format!(
            "SELECT \"{}\".\"{}\"($1::jsonb)::jsonb",
            self.schema, self.function
        )
    }

    pub fn display(&self) -> String {
        format!("{}.{}", self.schema, self.function)
    }
}

/// A hook's answer that is an error: `{"error": {"http_code": int, "message": "..."}}` with a
/// non-empty message (GoTrue's rule: anything else is no error). The status is the hook's
/// (500 without one), the code GoTrue's (`unexpected_failure` for 500, `unknown` otherwise).
pub fn output_error(output: &Value) -> Option<AuthError> {
    let error = output.get("error")?.as_object()?;
    let message = error.get("message")?.as_str().filter(|m| !m.is_empty())?;
    let status = match error.get("http_code") {
        None | Some(Value::Null) => 500,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(code @ 400..=599) => code as u16,
            _ => return None,
        },
        Some(_) => return None,
    };
    Some(AuthError::Hook {
        status,
        code: if status == 500 {
            "unexpected_failure"
        } else {
            "unknown"
        },
        message: message.chars().take(1024).collect(),
    })
}

fn schema_error(problems: &[String]) -> AuthError {
    AuthError::Hook {
        status: 500,
        code: "unexpected_failure",
        message: format!(
            "output claims do not conform to the expected schema: {}",
            problems.join("; ")
        ),
    }
}

/// Checks the custom access token hook's output against the claims it was given and returns the
/// claims to sign. `allowed_roles`: roles the hook may set besides the user's own.
pub fn checked_claims(
    output: &Value,
    given: &Map<String, Value>,
    allowed_roles: &[String],
) -> AuthResult<Map<String, Value>> {
    let claims = match output.get("claims") {
        Some(Value::Object(c)) => c,
        Some(_) => {
            return Err(schema_error(&[
                "claims: Invalid type. Expected: object".into()
            ]))
        }
        None => return Err(schema_error(&["(root): claims is required".into()])),
    };
    let mut problems = Vec::new();
    let kind = |v: &Value| match v {
        Value::String(_) => "string",
        // An integer a token can carry: i64 (a u64 above it would slip past the exp check).
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    };
    let required = [
        "aud",
        "exp",
        "iat",
        "sub",
        "email",
        "phone",
        "role",
        "aal",
        "session_id",
        "is_anonymous",
    ];
    for name in required {
        if !claims.contains_key(name) {
            problems.push(format!("(root): {name} is required"));
        }
    }
    let typed: [(&str, &[&str]); 15] = [
        ("aud", &["string", "array"]),
        ("exp", &["integer"]),
        ("iat", &["integer"]),
        ("nbf", &["integer"]),
        ("jti", &["string"]),
        ("iss", &["string"]),
        ("sub", &["string"]),
        ("email", &["string"]),
        ("phone", &["string"]),
        ("role", &["string"]),
        ("aal", &["string"]),
        ("session_id", &["string"]),
        ("app_metadata", &["object"]),
        ("user_metadata", &["object"]),
        ("amr", &["array"]),
    ];
    for (name, kinds) in typed {
        if let Some(v) = claims.get(name) {
            if !kinds.contains(&kind(v)) {
                problems.push(format!(
                    "{name}: Invalid type. Expected: {}, given: {}",
                    kinds.join(" or "),
                    kind(v)
                ));
            }
        }
    }
    if let Some(Value::Array(items)) = claims.get("amr") {
        if !items.iter().all(|i| i.is_string() || i.is_object()) {
            problems.push("amr: items must be strings or objects".into());
        }
    }
    if let Some(v) = claims.get("is_anonymous") {
        if !v.is_boolean() {
            problems.push(format!(
                "is_anonymous: Invalid type. Expected: boolean, given: {}",
                kind(v)
            ));
        }
    }
    if !problems.is_empty() {
        return Err(schema_error(&problems));
    }
    // Beyond GoTrue: who the token is for and how they proved it stay as minted.
    for fixed in ["sub", "session_id", "aal", "is_anonymous"] {
        if claims.get(fixed) != given.get(fixed) {
            problems.push(format!("{fixed} may not be changed by the hook"));
        }
    }
    let exp = |m: &Map<String, Value>| m.get("exp").and_then(Value::as_i64);
    if let (Some(new), Some(old)) = (exp(claims), exp(given)) {
        if new > old {
            problems.push("exp may not be later than the token's own".into());
        }
    }
    let role = claims.get("role").and_then(Value::as_str);
    if role != given.get("role").and_then(Value::as_str)
        && !role.is_some_and(|r| allowed_roles.iter().any(|a| a == r))
    {
        problems.push(
            "role may only be the user's own or one of hook_custom_access_token_roles".into(),
        );
    }
    if !problems.is_empty() {
        return Err(AuthError::Hook {
            status: 500,
            code: "unexpected_failure",
            message: format!(
                "the custom access token hook's claims were refused: {}",
                problems.join("; ")
            ),
        });
    }
    Ok(claims.clone())
}

/// The password verification hook's decision: `Some((message, sign_out))` to reject.
pub fn password_decision(output: &Value) -> Option<(String, bool)> {
    if output.get("decision").and_then(Value::as_str) != Some("reject") {
        return None;
    }
    let message = output
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("Further password verification attempts will be rejected.")
        .chars()
        .take(1024)
        .collect();
    let sign_out = output
        .get("should_logout_user")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some((message, sign_out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets() {
        let t = HookTarget::parse("public.custom_claims").unwrap();
        assert_eq!(
            (t.schema.as_str(), t.function.as_str()),
            ("public", "custom_claims")
        );
        let g = HookTarget::parse("pg-functions://postgres/public/custom_claims").unwrap();
        assert_eq!(g, t);
        assert_eq!(
            t.call_sql(),
            "SELECT \"public\".\"custom_claims\"($1::jsonb)::jsonb"
        );
        for bad in [
            "public",
            "public.f; drop table x",
            "public.\"f\"",
            "1x.f",
            "pg-functions://postgres/public",
            "pg-functions://postgres/a/b/c",
            "a.b.c",
            "",
        ] {
            assert!(HookTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_as_gotrue_reads_them() {
        let e = output_error(&json!({"error": {"http_code": 403, "message": "no"}})).unwrap();
        assert_eq!(
            (e.status(), e.code(), e.message()),
            (403, "unknown", "no".to_string())
        );
        let e = output_error(&json!({"error": {"message": "boom"}})).unwrap();
        assert_eq!((e.status(), e.code()), (500, "unexpected_failure"));
        assert!(output_error(&json!({"error": {"message": ""}})).is_none());
        assert!(output_error(&json!({"error": "text"})).is_none());
        assert!(output_error(&json!({"error": {"http_code": "403", "message": "x"}})).is_none());
        assert!(output_error(&json!({"claims": {}})).is_none());
    }

    fn given() -> Map<String, Value> {
        json!({"aud": "authenticated", "exp": 2000, "iat": 1000, "sub": "u1", "email": "",
               "phone": "", "role": "authenticated", "aal": "aal1", "session_id": "s1",
               "is_anonymous": false, "amr": []})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn custom_claims_pass() {
        let mut out = given();
        out.insert("user_role".into(), json!("editor"));
        out.remove("amr");
        let claims = checked_claims(&json!({"claims": out}), &given(), &[]).unwrap();
        assert_eq!(claims["user_role"], "editor");
    }

    #[test]
    fn refused_changes() {
        for (key, value) in [
            ("sub", json!("someone-else")),
            ("session_id", json!("s2")),
            ("aal", json!("aal2")),
            ("is_anonymous", json!(true)),
            ("role", json!("service_role")),
            ("exp", json!(9999)),
            ("exp", json!(u64::MAX)),
            ("amr", json!([1])),
        ] {
            let mut out = given();
            out.insert(key.into(), value);
            assert!(
                checked_claims(&json!({"claims": out}), &given(), &[]).is_err(),
                "{key}"
            );
        }
        let mut out = given();
        out.insert("role".into(), json!("editor"));
        assert!(checked_claims(&json!({"claims": out}), &given(), &["editor".into()]).is_ok());
        let mut out = given();
        out.insert("exp".into(), json!(1500));
        assert!(checked_claims(&json!({"claims": out}), &given(), &[]).is_ok());
    }

    #[test]
    fn schema_problems() {
        let mut out = given();
        out.remove("sub");
        out.insert("exp".into(), json!("soon"));
        let e = checked_claims(&json!({"claims": out}), &given(), &[]).unwrap_err();
        let m = e.message();
        assert!(
            m.contains("sub is required") && m.contains("exp: Invalid type"),
            "{m}"
        );
        assert!(checked_claims(&json!({}), &given(), &[]).is_err());
        assert!(checked_claims(&json!({"claims": []}), &given(), &[]).is_err());
    }

    #[test]
    fn password_decisions() {
        assert_eq!(password_decision(&json!({"decision": "continue"})), None);
        assert_eq!(
            password_decision(
                &json!({"decision": "reject", "message": "slow down", "should_logout_user": true})
            ),
            Some(("slow down".into(), true))
        );
        assert_eq!(
            password_decision(&json!({"decision": "reject"})),
            Some((
                "Further password verification attempts will be rejected.".into(),
                false
            ))
        );
    }
}
