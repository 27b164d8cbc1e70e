//! The admin API's rules: who is an admin, the attributes of `POST /admin/users` and
//! `PUT /admin/users/{id}`, ban durations (Go's duration syntax), imported password hashes,
//! pages, and the soft delete's obfuscation. GoTrue's behaviour, from its admin handlers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{AuthError, AuthResult};

/// The most users or audit entries one page returns (GoTrue has no maximum; a page of a million
/// rows is a denial of service, not a page).
pub const MAX_PER_PAGE: i64 = 1000;
pub const DEFAULT_PER_PAGE: i64 = 50;

/// `page` and `per_page` as GoTrue reads them: page 0 is the first page.
pub fn page(page: Option<i64>, per_page: Option<i64>) -> AuthResult<(i64, i64)> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page < 0 {
        return Err(AuthError::validation(
            "Bad Pagination Parameters: page must not be negative",
        ));
    }
    if per_page <= 0 {
        return Err(AuthError::validation(
            "Bad Pagination Parameters: per_page must be greater than 0",
        ));
    }
    if per_page > MAX_PER_PAGE {
        return Err(AuthError::validation(format!(
            "Bad Pagination Parameters: per_page must be at most {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

/// The rows before a page.
pub fn offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page)
}

/// Whether a token's role makes its holder an admin (`jwt_admin_roles`).
pub fn is_admin_role(role: Option<&str>, admin_roles: &[String]) -> bool {
    role.is_some_and(|r| admin_roles.iter().any(|a| a == r))
}

/// A Go duration (`time.ParseDuration`): `"24h"`, `"1h30m"`, `"1.5h"`, `"-2m"`, `"0"`; units
/// ns, us, µs, ms, s, m, h. Returns milliseconds (sub-millisecond parts dropped).
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration \"{}\"", shorten(text));
    let mut s = text;
    let negative = s.starts_with('-');
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_prefix('+')) {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total_ns: f64 = 0.0;
    while !s.is_empty() {
        let number_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        if number_len == 0 {
            return Err(bad());
        }
        let number: f64 = s[..number_len].parse().map_err(|_| bad())?;
        s = &s[number_len..];
        let unit_len = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "time: missing unit in duration \"{}\"",
                    shorten(text)
                ))
            }
            _ => {
                return Err(format!(
                    "time: unknown unit \"{}\" in duration \"{}\"",
                    shorten(unit),
                    shorten(text)
                ))
            }
        };
        total_ns += number * scale;
    }
    // Go's durations end at about 292 years.
    if total_ns > 9.2e18 {
        return Err(bad());
    }
    let ms = (total_ns / 1e6) as i64;
    Ok(if negative { -ms } else { ms })
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

/// What `ban_duration` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ban {
    /// `"none"` (or a zero duration): not banned.
    Lift,
    /// Banned for this many milliseconds from now (negative: a date in the past).
    For(i64),
}

pub fn parse_ban(text: &str) -> AuthResult<Ban> {
    if text == "none" {
        return Ok(Ban::Lift);
    }
    match parse_go_duration(text) {
        Ok(0) => Ok(Ban::Lift),
        Ok(ms) => Ok(Ban::For(ms)),
        Err(e) => Err(AuthError::validation(format!(
            "invalid format for ban duration: {e}"
        ))),
    }
}

/// Checks an imported `password_hash`: bcrypt (`$2a$`, `$2b$`, `$2y$`) or an argon2i/argon2id PHC
/// string of version 19 within GoTrue's cost bounds. Stored as given; verified at sign-in and
/// upgraded to the instance's argon2id cost on first use.
pub fn check_password_hash(hash: &str) -> AuthResult<()> {
    let bad = |why: &str| AuthError::validation(format!("Invalid password hash: {why}"));
    if hash.len() > 255 {
        return Err(bad("longer than 255 characters"));
    }
    if hash.starts_with("$argon2") {
        let parsed =
            argon2::PasswordHash::new(hash).map_err(|_| bad("not an argon2 PHC string"))?;
        if !matches!(parsed.algorithm.as_str(), "argon2i" | "argon2id") {
            return Err(bad("only argon2i and argon2id are supported"));
        }
        if parsed.version != Some(19) {
            return Err(bad("only argon2 version 19 is supported"));
        }
        let param = |name: &str| parsed.params.get_decimal(name);
        let (m, t, p) = (param("m"), param("t"), param("p"));
        match (m, t, p) {
            // Within what a sign-in can afford: anyone can make the server verify a stored hash
            // (five times an hour per account), and hashing does not heed statement_timeout.
            (Some(m), Some(t), Some(p))
                if (8..=131_072).contains(&m) && (1..=10).contains(&t) && (1..=16).contains(&p) => {
            }
            _ => return Err(bad("argon2 parameters out of bounds")),
        }
        if parsed.params.iter().count() != 3 || parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(bad(
                "argon2 hash without salt or hash, or with extra parameters",
            ));
        }
        return Ok(());
    }
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        // $2b$NN$ + 22 salt + 31 hash characters of bcrypt's base64.
        let bytes = hash.as_bytes();
        let cost_ok = hash.len() == 60
            && bytes[6] == b'$'
            && hash[4..6]
                .parse::<u32>()
                .is_ok_and(|c| (4..=14).contains(&c));
        let alphabet_ok = hash[7..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
        if cost_ok && alphabet_ok {
            return Ok(());
        }
        return Err(bad("not a bcrypt hash"));
    }
    Err(bad(
        "only bcrypt ($2a$, $2b$, $2y$) and argon2 hashes are supported",
    ))
}

/// The attributes of `POST /admin/users` and `PUT /admin/users/{id}` (GoTrue's
/// `AdminUserParams`); unknown keys are ignored, as GoTrue's decoder does, but the known ones are
/// typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdminUserParams {
    pub id: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `Some(None)`: the key was given as null.
    #[serde(deserialize_with = "double_option")]
    pub password: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub email_confirm: Option<bool>,
    pub phone_confirm: Option<bool>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
    pub ban_duration: Option<String>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl AdminUserParams {
    pub fn read(attributes: &Value) -> AuthResult<AdminUserParams> {
        if !attributes.is_object() {
            return Err(AuthError::validation(
                "The attributes must be a JSON object",
            ));
        }
        serde_path_to_error::deserialize(attributes).map_err(|e| {
            AuthError::validation(format!(
                "Could not read the attributes: {} has the wrong type",
                shorten(&e.path().to_string())
            ))
        })
    }

    /// The role a new or updated user gets: trimmed, a plausible role name.
    pub fn role(&self) -> AuthResult<Option<String>> {
        match self.role.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(r)
                if r.len() <= 63
                    && r.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Ok(Some(r.to_owned()))
            }
            Some(_) => Err(AuthError::validation(
                "role must be a role name (letters, digits, _ and -)",
            )),
        }
    }
}

/// Shallow merge with null deleting a key (GoTrue's metadata update).
pub fn merge_metadata(current: &Value, changes: &Map<String, Value>) -> Value {
    let mut merged = current.as_object().cloned().unwrap_or_default();
    for (k, v) in changes {
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

/// The soft delete's replacement of an address: base64url(sha256(user id || value)), phones cut
/// to 15 characters (GoTrue's obfuscation; the row stays, the address is free again).
pub fn obfuscate(user_id: &str, value: &str, phone: bool) -> String {
    let digest = Sha256::new()
        .chain_update(user_id.as_bytes())
        .chain_update(value.as_bytes())
        .finalize();
    let mut out = URL_SAFE_NO_PAD.encode(digest);
    if phone {
        out.truncate(15);
    }
    out
}

/// `generate_link` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    Signup,
    Invite,
    Magiclink,
    Recovery,
    EmailChangeCurrent,
    EmailChangeNew,
}

impl LinkType {
    pub fn parse(t: Option<&str>) -> AuthResult<LinkType> {
        Ok(match t.unwrap_or("") {
            "signup" => LinkType::Signup,
            "invite" => LinkType::Invite,
            "magiclink" => LinkType::Magiclink,
            "recovery" => LinkType::Recovery,
            "email_change_current" => LinkType::EmailChangeCurrent,
            "email_change_new" => LinkType::EmailChangeNew,
            other => {
                return Err(AuthError::validation(format!(
                    "Invalid email action link type requested: {}",
                    shorten(other)
                )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Signup => "signup",
            LinkType::Invite => "invite",
            LinkType::Magiclink => "magiclink",
            LinkType::Recovery => "recovery",
            LinkType::EmailChangeCurrent => "email_change_current",
            LinkType::EmailChangeNew => "email_change_new",
        }
    }

    /// The `type` the link's `/verify` carries.
    pub fn verify_type(self) -> &'static str {
        match self {
            LinkType::EmailChangeCurrent | LinkType::EmailChangeNew => "email_change",
            other => other.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Ok(86_400_000));
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000));
        assert_eq!(parse_go_duration("-2m"), Ok(-120_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("300ms"), Ok(300));
        assert_eq!(parse_go_duration("876000h"), Ok(876_000 * 3_600_000));
        assert!(parse_go_duration("24")
            .unwrap_err()
            .contains("missing unit"));
        assert!(parse_go_duration("never").is_err());
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("1d")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_go_duration("9999999999h").is_err());
        assert!(parse_go_duration("h").is_err());
    }

    #[test]
    fn bans() {
        assert_eq!(parse_ban("none"), Ok(Ban::Lift));
        assert_eq!(parse_ban("0"), Ok(Ban::Lift));
        assert_eq!(parse_ban("1h"), Ok(Ban::For(3_600_000)));
        assert_eq!(parse_ban("24").unwrap_err().code(), "validation_failed");
    }

    #[test]
    fn imported_hashes() {
        let bcrypt = bcrypt::hash("pw", 4).unwrap();
        assert!(check_password_hash(&bcrypt).is_ok());
        assert!(check_password_hash(&bcrypt.replacen("$2b$", "$2y$", 1)).is_ok());
        let argon = crate::password::hash("pw", crate::password::Argon2Cost::default()).unwrap();
        assert!(check_password_hash(&argon).is_ok());
        for bad in [
            "",
            "plain",
            "$2b$04$short",
            "$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$argon2id$v=19$m=1024,t=1,p=1",
            "$fbscrypt$v=1,n=14,r=8,p=1$c2FsdA$aGFzaA",
            "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
            "$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        ] {
            assert!(check_password_hash(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params_are_typed() {
        let p =
            AdminUserParams::read(&json!({"email": "a@b.co", "password": null, "x": 1})).unwrap();
        assert_eq!(p.password, Some(None));
        assert_eq!(p.email.as_deref(), Some("a@b.co"));
        let p = AdminUserParams::read(&json!({})).unwrap();
        assert_eq!(p.password, None);
        assert!(AdminUserParams::read(&json!({"email_confirm": "true"})).is_err());
        assert!(AdminUserParams::read(&json!([1])).is_err());
    }

    #[test]
    fn metadata_merges_shallowly() {
        let merged = merge_metadata(
            &json!({"a": 1, "b": {"c": 2}, "d": 3}),
            json!({"b": {"e": 4}, "d": null, "f": 5})
                .as_object()
                .unwrap(),
        );
        assert_eq!(merged, json!({"a": 1, "b": {"e": 4}, "f": 5}));
    }

    #[test]
    fn pages() {
        assert_eq!(page(None, None), Ok((1, 50)));
        assert_eq!(offset(0, 50), 0);
        assert_eq!(offset(3, 50), 100);
        assert!(page(Some(1), Some(0)).is_err());
        assert!(page(Some(1), Some(MAX_PER_PAGE + 1)).is_err());
        assert!(page(Some(-1), None).is_err());
    }

    #[test]
    fn obfuscation_is_stable_and_short_for_phones() {
        let a = obfuscate("u", "a@b.co", false);
        assert_eq!(a, obfuscate("u", "a@b.co", false));
        assert_eq!(a.len(), 43);
        assert_eq!(obfuscate("u", "15551234567", true).len(), 15);
    }

    #[test]
    fn admin_roles() {
        let roles = vec!["service_role".to_owned(), "supabase_admin".to_owned()];
        assert!(is_admin_role(Some("service_role"), &roles));
        assert!(!is_admin_role(Some("authenticated"), &roles));
        assert!(!is_admin_role(None, &roles));
    }
}
