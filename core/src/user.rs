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
    /// A new email address (normalized, not the current one): confirmed by code before it applies.
    pub email: Option<String>,
    /// A new phone number (E.164 without `+`, not the current one): confirmed by SMS code.
    pub phone: Option<String>,
    /// The code `reauthenticate()` sent, for a password change that needs it.
    pub nonce: Option<String>,
    /// The attributes that change, for the audit entry.
    pub changed: Vec<&'static str>,
}

impl UserChanges {
    /// Reads `attributes` (a JSON object) for a user whose address is `current_email` and
    /// number `current_phone`. Sending the current address or number again changes nothing.
    pub fn read(
        attributes: &Value,
        current_email: Option<&str>,
        current_phone: Option<&str>,
    ) -> Result<Self, AuthError> {
        let present = |key: &str| attributes.get(key).filter(|v| !v.is_null());
        let string = |key: &str| -> Result<Option<String>, AuthError> {
            present(key)
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| AuthError::validation(format!("{key} must be a string")))
                })
                .transpose()
        };
        let email = match string("email")? {
            None => None,
            Some(e) => {
                let e = crate::email::normalize(Some(&e))?;
                (Some(e.as_str()) != current_email).then_some(e)
            }
        };
        let phone = match string("phone")? {
            None => None,
            Some(p) => {
                let p = crate::phone::normalize(Some(&p))?;
                (Some(p.as_str()) != current_phone).then_some(p)
            }
        };
        let data = present("data")
            .map(|d| check_metadata(Some(d)))
            .transpose()?;
        let password = string("password")?;
        let nonce = string("nonce")?;
        let mut changed = Vec::new();
        if data.is_some() {
            changed.push("data");
        }
        if password.is_some() {
            changed.push("password");
        }
        if email.is_some() {
            changed.push("email");
        }
        if phone.is_some() {
            changed.push("phone");
        }
        Ok(UserChanges {
            data,
            password,
            email,
            phone,
            nonce,
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
        let c =
            UserChanges::read(&json!({"data": {"a": null}, "password": "pw"}), None, None).unwrap();
        assert_eq!(c.data, Some(json!({"a": null})));
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(c.changed, vec!["data", "password"]);
        // The current address again (any case, padded) is no change; nulls are ignored.
        let c = UserChanges::read(
            &json!({"email": " A@x.io ", "phone": null, "data": null}),
            Some("a@x.io"),
            None,
        )
        .unwrap();
        assert_eq!(
            c,
            UserChanges {
                data: None,
                password: None,
                email: None,
                phone: None,
                nonce: None,
                changed: vec![]
            }
        );
        let c = UserChanges::read(&json!({"email": "B@x.io"}), Some("a@x.io"), None).unwrap();
        assert_eq!(c.email.as_deref(), Some("b@x.io"));
        assert_eq!(c.changed, vec!["email"]);
        let c = UserChanges::read(&json!({"phone": "+1 555 123 4567"}), None, None).unwrap();
        assert_eq!(c.phone.as_deref(), Some("15551234567"));
        assert!(UserChanges::read(&json!({"email": "not an address"}), None, None).is_err());
        assert!(UserChanges::read(&json!({"phone": "+0123"}), None, None).is_err());
        assert!(UserChanges::read(&json!({"password": 1}), None, None).is_err());
        assert!(UserChanges::read(&json!({"nonce": 1}), None, None).is_err());
        assert!(UserChanges::read(&json!({"data": [1]}), None, None).is_err());
    }
}
