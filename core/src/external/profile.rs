//! Reading the user a provider vouches for: its subject, its email and whether the provider
//! verified it, and the claims kept as the identity's data and the new user's metadata (GoTrue's
//! claim names: `iss`, `sub`, `name`, `email`, `email_verified`, `picture`, `avatar_url`,
//! `full_name`, `user_name`, `preferred_username`, `provider_id`, `phone_verified`).

use serde_json::{json, Map, Value};

use super::providers::Flavor;
use crate::error::{AuthError, AuthResult};

/// The most bytes of claims kept for one identity.
const MAX_CLAIMS_BYTES: usize = 16 * 1024;

/// The user a provider answered with.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The provider's id of the user (the identity's `provider_id`).
    pub subject: String,
    /// Lower-cased.
    pub email: Option<String>,
    pub email_verified: bool,
    /// The identity's `identity_data` and a new user's `user_metadata`.
    pub claims: Value,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true`, or Apple's `"true"`.
fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || matches!(v, Some(Value::String(s)) if s == "true")
}

/// The profile of an OpenID Connect provider: the verified ID token's claims, completed by the
/// userinfo answer where the token lacks a member (its `sub` must then be the token's).
pub fn from_oidc(id_claims: &Value, userinfo: Option<&Value>) -> AuthResult<Profile> {
    let subject = text(id_claims.get("sub"))
        .ok_or_else(|| AuthError::bad_oauth_callback("the provider gave no subject"))?;
    let mut merged = id_claims.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(info)) = userinfo {
        if text(info.get("sub")).as_deref() != Some(subject.as_str()) {
            return Err(AuthError::bad_oauth_callback(
                "the provider's userinfo is for another subject",
            ));
        }
        for (k, v) in info {
            merged.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let m = Value::Object(merged);
    let email = text(m.get("email"));
    let verified = email.is_some() && truthy(m.get("email_verified"));
    build(
        subject,
        email,
        verified,
        &m,
        &[
            ("iss", "iss"),
            ("name", "name"),
            ("given_name", "given_name"),
            ("family_name", "family_name"),
            ("picture", "picture"),
            ("picture", "avatar_url"),
            ("name", "full_name"),
            ("preferred_username", "preferred_username"),
            ("preferred_username", "user_name"),
            ("phone", "phone"),
            ("locale", "locale"),
        ],
    )
}

/// The profile of a provider without ID tokens, from its user API's answer (and, for GitHub,
/// the list of the user's addresses).
pub fn from_api(flavor: Flavor, user: &Value, emails: Option<&Value>) -> AuthResult<Profile> {
    let subject = text(user.get("id"))
        .ok_or_else(|| AuthError::bad_oauth_callback("the provider gave no user id"))?;
    let (email, verified) = match flavor {
        Flavor::Github => github_email(user, emails),
        Flavor::Gitlab => {
            let email = text(user.get("email"));
            let confirmed = user.get("confirmed_at").is_some_and(|c| !c.is_null());
            (email, confirmed)
        }
        _ => (text(user.get("email")), truthy(user.get("verified"))),
    };
    let fields: &[(&str, &str)] = match flavor {
        Flavor::Github => &[
            ("name", "name"),
            ("name", "full_name"),
            ("avatar_url", "avatar_url"),
            ("avatar_url", "picture"),
            ("login", "user_name"),
            ("login", "preferred_username"),
        ],
        Flavor::Gitlab => &[
            ("name", "name"),
            ("name", "full_name"),
            ("avatar_url", "avatar_url"),
            ("avatar_url", "picture"),
            ("username", "user_name"),
            ("username", "preferred_username"),
        ],
        _ => &[
            ("global_name", "name"),
            ("global_name", "full_name"),
            ("username", "user_name"),
            ("username", "preferred_username"),
            ("avatar_url", "avatar_url"),
            ("avatar_url", "picture"),
        ],
    };
    build(subject, email, verified, user, fields)
}

/// GitHub: the primary address if verified, else the first verified one; with none verified,
/// the primary (then the profile's public) address, unverified, which never links and asks for
/// a confirmation (as GoTrue, which takes the primary address whatever its state).
fn github_email(user: &Value, emails: Option<&Value>) -> (Option<String>, bool) {
    let list = emails
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let verified = |e: &&Value| truthy(e.get("verified"));
    let primary = |e: &&Value| truthy(e.get("primary"));
    let chosen = list
        .iter()
        .filter(verified)
        .find(primary)
        .or_else(|| list.iter().find(verified));
    if let Some(email) = chosen.and_then(|e| text(e.get("email"))) {
        return (Some(email), true);
    }
    let unverified = list.iter().find(primary).and_then(|e| text(e.get("email")));
    (unverified.or_else(|| text(user.get("email"))), false)
}

fn build(
    subject: String,
    email: Option<String>,
    email_verified: bool,
    source: &Value,
    fields: &[(&str, &str)],
) -> AuthResult<Profile> {
    if subject.len() > 255 {
        return Err(AuthError::bad_oauth_callback(
            "the provider's user id is too long",
        ));
    }
    let email = match email.filter(|e| !e.trim().is_empty()) {
        Some(e) => Some(crate::email::normalize(Some(&e)).map_err(|_| {
            AuthError::bad_oauth_callback("the provider's email address is invalid")
        })?),
        None => None,
    };
    let mut claims = Map::new();
    for (from, to) in fields {
        if let Some(v) = source.get(*from).filter(|v| v.is_string() || v.is_number()) {
            claims.entry(to.to_string()).or_insert_with(|| v.clone());
        }
    }
    claims.insert("sub".into(), json!(subject));
    claims.insert("provider_id".into(), json!(subject));
    if let Some(e) = &email {
        claims.insert("email".into(), json!(e));
    }
    claims.insert("email_verified".into(), json!(email_verified));
    claims.insert("phone_verified".into(), json!(false));
    let claims = Value::Object(claims);
    if claims.to_string().len() > MAX_CLAIMS_BYTES {
        return Err(AuthError::bad_oauth_callback(
            "the provider's user data is too large",
        ));
    }
    Ok(Profile {
        subject,
        email,
        email_verified,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_prefers_the_primary_verified_address() {
        let user = json!({"id": 42, "login": "octo", "name": "Octo Cat", "email": "public@x.co",
                          "avatar_url": "https://a/1"});
        let emails = json!([
            {"email": "old@x.co", "primary": false, "verified": true},
            {"email": "Main@X.co", "primary": true, "verified": true},
        ]);
        let p = from_api(Flavor::Github, &user, Some(&emails)).unwrap();
        assert_eq!(p.subject, "42");
        assert_eq!(p.email.as_deref(), Some("main@x.co"));
        assert!(p.email_verified);
        assert_eq!(p.claims["user_name"], "octo");
        assert_eq!(p.claims["avatar_url"], "https://a/1");
        // No verified address: the primary one, unverified; with no list, the public one.
        let none = json!([{"email": "u@x.co", "primary": true, "verified": false}]);
        let p = from_api(Flavor::Github, &user, Some(&none)).unwrap();
        assert_eq!(
            (p.email.as_deref(), p.email_verified),
            (Some("u@x.co"), false)
        );
        let p = from_api(Flavor::Github, &user, Some(&json!([]))).unwrap();
        assert_eq!(
            (p.email.as_deref(), p.email_verified),
            (Some("public@x.co"), false)
        );
    }

    #[test]
    fn oidc_claims_with_userinfo() {
        let id =
            json!({"iss": "https://i", "sub": "s1", "email": "A@B.co", "email_verified": "true"});
        let info = json!({"sub": "s1", "name": "Al", "picture": "https://p"});
        let p = from_oidc(&id, Some(&info)).unwrap();
        assert_eq!(p.email.as_deref(), Some("a@b.co"));
        assert!(p.email_verified);
        assert_eq!(p.claims["full_name"], "Al");
        assert_eq!(p.claims["avatar_url"], "https://p");
        let other = json!({"sub": "s2", "email": "evil@x.co"});
        assert!(from_oidc(&id, Some(&other)).is_err());
    }

    #[test]
    fn bad_profiles_are_refused() {
        assert!(from_api(Flavor::Github, &json!({"login": "x"}), None).is_err());
        assert!(from_oidc(&json!({"sub": "s", "email": "not an address"}), None).is_err());
        let huge = json!({"sub": "s", "name": "x".repeat(20_000)});
        assert!(from_oidc(&huge, None).is_err());
        // Objects and arrays from the provider are not copied into the identity.
        let p = from_oidc(&json!({"sub": "s", "name": {"a": 1}}), None).unwrap();
        assert!(p.claims.get("name").is_none());
    }
}
