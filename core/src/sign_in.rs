//! Who may sign in: the account row a sign-in reads, and the checks made on it after the
//! password matched (the password check itself is in `password`).

use serde::Deserialize;

use crate::error::{AuthError, AuthResult};
use crate::rows::required;

/// The account an email names, as the sign-in statement returns it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: uuid::Uuid,
    pub email: String,
    /// The stored password hash; `null` or empty for users without a password.
    #[serde(deserialize_with = "required")]
    pub hash: Option<String>,
    pub confirmed: bool,
    pub banned: bool,
}

impl Account {
    /// The checks after the password matched, in GoTrue's order. `allow_unverified_email`:
    /// `allow_unverified_email_sign_ins`; `by_phone`: the account was named by its phone.
    pub fn admit(&self, allow_unverified_email: bool, by_phone: bool) -> AuthResult<()> {
        if self.banned {
            return Err(AuthError::UserBanned);
        }
        if !self.confirmed {
            if by_phone {
                return Err(AuthError::PhoneNotConfirmed);
            }
            if !allow_unverified_email {
                return Err(AuthError::EmailNotConfirmed);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::read;
    use serde_json::json;

    fn row() -> serde_json::Value {
        json!({"id": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11", "email": "a@b.co",
               "hash": "$argon2id$...", "confirmed": true, "banned": false})
    }

    #[test]
    fn a_complete_row_admits_or_refuses_by_its_flags() {
        let account: Account = read(row()).unwrap();
        assert!(account.admit(false, false).is_ok());
        let mut banned = row();
        banned["banned"] = json!(true);
        assert_eq!(
            read::<Account>(banned)
                .unwrap()
                .admit(false, false)
                .unwrap_err()
                .code(),
            "user_banned"
        );
        let mut unconfirmed = row();
        unconfirmed["confirmed"] = json!(false);
        assert_eq!(
            read::<Account>(unconfirmed)
                .unwrap()
                .admit(false, false)
                .unwrap_err()
                .code(),
            "email_not_confirmed"
        );
        let mut unconfirmed = row();
        unconfirmed["confirmed"] = json!(false);
        let a = read::<Account>(unconfirmed).unwrap();
        assert!(
            a.admit(true, false).is_ok(),
            "allow_unverified_email_sign_ins"
        );
        assert_eq!(
            a.admit(true, true).unwrap_err().code(),
            "phone_not_confirmed"
        );
    }

    #[test]
    fn a_row_missing_any_field_refuses_rather_than_admits() {
        // The regression the typed read exists for: a statement that lost its ban check (or any
        // other field) must not read as "not banned".
        for field in ["id", "email", "hash", "confirmed", "banned"] {
            let mut r = row();
            r.as_object_mut().unwrap().remove(field);
            let e = read::<Account>(r).unwrap_err();
            assert!(e.problem.contains(field), "{field}: {e:?}");
        }
        for (field, wrong) in [
            ("banned", json!("false")),
            ("banned", json!(null)),
            ("confirmed", json!(1)),
        ] {
            let mut r = row();
            r[field] = wrong;
            assert!(read::<Account>(r).is_err(), "{field}");
        }
        let mut renamed = row();
        let v = renamed.as_object_mut().unwrap().remove("banned").unwrap();
        renamed["is_banned"] = v;
        assert!(read::<Account>(renamed).is_err(), "a renamed field");
    }
}
