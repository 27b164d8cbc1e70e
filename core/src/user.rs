//! Rules for what a signed-in user may send: user metadata, the sign-out scope and the
//! attributes of `update_user`. The database side (src/user, src/sessions) applies them.

use serde_json::{json, Value};

use crate::AuthError;

/// `data` / `user_metadata` larger than this is refused.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Validates user metadata: a JSON object of bounded size (absent or null is `{}`).
pub fn check_metadata(data: Option<&Value>) -> Result<Value, AuthError> {
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

/// Which sessions `sign_out` ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignOutScope {
    /// Every session of the user.
    Global,
    /// The session the token names.
    Local,
    /// Every session but the one the token names.
    Others,
}

impl SignOutScope {
    /// Parses GoTrue's `scope` parameter; absent is `global`.
    pub fn parse(scope: Option<&str>) -> Result<Self, AuthError> {
        match scope.unwrap_or("global") {
            "global" => Ok(SignOutScope::Global),
            "local" => Ok(SignOutScope::Local),
            "others" => Ok(SignOutScope::Others),
            _ => Err(AuthError::validation(
                "scope must be one of global, local, others",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignOutScope::Global => "global",
            SignOutScope::Local => "local",
            SignOutScope::Others => "others",
        }
    }

    /// Whether the scope names the caller's own session (so the token must carry one).
    pub fn needs_session(self) -> bool {
        self != SignOutScope::Global
    }
}

/// The attributes of an `update_user` call, checked: what it changes.
#[derive(Debug, PartialEq)]
pub struct UserChanges {
    /// New user metadata, merged key by key (a null value removes the key).
    pub data: Option<Value>,
    /// The new password, not yet checked against the password policy.
    pub password: Option<String>,
    /// The attributes that change, for the audit entry.
    pub changed: Vec<&'static str>,
}

impl UserChanges {
    /// Reads `attributes` (a JSON object) for a user whose address is `current_email`.
    /// Changing the email address or the phone number is not supported yet; sending the
    /// current address again is allowed.
    pub fn read(attributes: &Value, current_email: Option<&str>) -> Result<Self, AuthError> {
        let present = |key: &str| attributes.get(key).filter(|v| !v.is_null());
        if let Some(new_email) = present("email") {
            let same = new_email
                .as_str()
                .map(|e| e.trim().to_lowercase())
                .as_deref()
                == current_email;
            if !same {
                return Err(AuthError::Unprocessable(
                    "Changing the email address is not supported yet".into(),
                ));
            }
        }
        if present("phone").is_some() {
            return Err(AuthError::Unprocessable(
                "Changing the phone number is not supported yet".into(),
            ));
        }
        let data = present("data")
            .map(|d| check_metadata(Some(d)))
            .transpose()?;
        let password = present("password")
            .map(|p| {
                p.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| AuthError::validation("password must be a string"))
            })
            .transpose()?;
        let changed = ["data", "password"]
            .into_iter()
            .filter(|k| present(k).is_some())
            .collect();
        Ok(UserChanges {
            data,
            password,
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_a_bounded_object() {
        assert_eq!(check_metadata(None).unwrap(), json!({}));
        assert_eq!(check_metadata(Some(&Value::Null)).unwrap(), json!({}));
        assert_eq!(
            check_metadata(Some(&json!({"a": 1}))).unwrap(),
            json!({"a": 1})
        );
        assert!(check_metadata(Some(&json!([1]))).is_err());
        assert!(check_metadata(Some(&json!("x"))).is_err());
        let big = json!({"a": "x".repeat(MAX_METADATA_BYTES)});
        assert!(check_metadata(Some(&big)).is_err());
    }

    #[test]
    fn sign_out_scopes() {
        assert_eq!(SignOutScope::parse(None).unwrap(), SignOutScope::Global);
        assert_eq!(
            SignOutScope::parse(Some("local")).unwrap(),
            SignOutScope::Local
        );
        assert_eq!(
            SignOutScope::parse(Some("others")).unwrap(),
            SignOutScope::Others
        );
        assert!(SignOutScope::parse(Some("GLOBAL")).is_err());
        assert!(!SignOutScope::Global.needs_session());
        assert!(SignOutScope::Others.needs_session());
    }

    #[test]
    fn update_attributes() {
        let c = UserChanges::read(&json!({"data": {"a": null}, "password": "pw"}), None).unwrap();
        assert_eq!(c.data, Some(json!({"a": null})));
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(c.changed, vec!["data", "password"]);
        // The current address again (any case, padded) is no change; nulls are ignored.
        let c = UserChanges::read(
            &json!({"email": " A@x.io ", "phone": null, "data": null}),
            Some("a@x.io"),
        )
        .unwrap();
        assert_eq!(
            c,
            UserChanges {
                data: None,
                password: None,
                changed: vec![]
            }
        );
        assert!(UserChanges::read(&json!({"email": "b@x.io"}), Some("a@x.io")).is_err());
        assert!(UserChanges::read(&json!({"phone": "123"}), None).is_err());
        assert!(UserChanges::read(&json!({"password": 1}), None).is_err());
        assert!(UserChanges::read(&json!({"data": [1]}), None).is_err());
    }
}
