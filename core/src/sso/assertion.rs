//! From a verified SAML assertion to the user it names (GoTrue's rules, internal/api/
//! samlassertion.go and samlacs.go): the subject identifier, the email address, and the claims an
//! SSO provider's attribute mapping picks from the attributes.
//!
//! The assertion arrives as JSON from the shim, which verified its signature, audience,
//! destination and validity window; everything here is policy, not cryptography (matching
//! `issuer` and `in_response_to` with the stored provider and request is the caller's). The JSON
//! is still bounded ([`Assertion::check_limits`]): the database stores what it holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{NAME_ID_EMAIL, NAME_ID_TRANSIENT};
use crate::error::{AuthError, AuthResult};
use crate::external::profile::Profile;

/// The preferred persistent identifier of a SAML 2.0 subject (OASIS SAML V2.0 Subject Identifier
/// Attributes Profile).
pub const SUBJECT_ID_ATTRIBUTE: &str = "urn:oasis:names:tc:SAML:attribute:subject-id";

/// The attributes an email address is looked for in, in order, when the mapping names none.
pub const EMAIL_ATTRIBUTES: [&str; 6] = [
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/claims/EmailAddress",
    "mail",
    "Mail",
    "email",
];

/// Limits of an assertion.
pub const MAX_ATTRIBUTES: usize = 256;
pub const MAX_VALUES_PER_ATTRIBUTE: usize = 64;
/// The longest attribute value, name or friendly name, and the longest issuer.
pub const MAX_VALUE_BYTES: usize = 4096;
pub const MAX_NAME_ID_BYTES: usize = 1024;
/// The longest subject identifier (the identity's `provider_id`, which is indexed).
pub const MAX_SUBJECT_BYTES: usize = 1024;
/// The longest assertion id (and `InResponseTo`, a request id).
pub const MAX_ID_BYTES: usize = 256;
/// The most bytes of claims (as JSON) one SAML identity keeps.
pub const MAX_CLAIMS_BYTES: usize = 64 * 1024;

/// Limits of an attribute mapping.
pub const MAX_MAPPING_KEYS: usize = 64;
pub const MAX_MAPPING_NAME_LEN: usize = 256;
pub const MAX_CLAIM_KEY_LEN: usize = 64;
/// The most bytes (as JSON) of one mapper's `default`.
pub const MAX_DEFAULT_BYTES: usize = 4096;

/// A verified assertion, as the shim hands it over.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    pub attributes: Vec<Attribute>,
    /// The AuthnStatement's SessionNotOnOrAfter, unix seconds.
    pub session_not_on_or_after: Option<i64>,
    /// The Conditions' (or SubjectConfirmationData's) NotOnOrAfter, unix seconds.
    pub not_on_or_after: i64,
    pub in_response_to: Option<String>,
}

/// One attribute of the AttributeStatements (all statements flattened, in document order).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    pub friendly_name: Option<String>,
    pub values: Vec<String>,
}

/// An SSO provider's attribute mapping, GoTrue's shape:
/// `{"keys": {"<claim>": {"name": "...", "names": ["..."], "default": <json>, "array": bool}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttributeMapping {
    pub keys: BTreeMap<String, AttributeMapper>,
}

/// How one claim is filled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMapper {
    /// The attribute (Name or FriendlyName) looked at first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The attributes looked at next, in order.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub names: Vec<String>,
    /// The claim's value when no attribute has one (`null` counts as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Keep every value (as an array) instead of the first.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub array: bool,
}

/// `null` reads as the type's default (Go's `encoding/json` leaves the zero value).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingShape {
    #[serde(default)]
    keys: Option<BTreeMap<String, AttributeMapper>>,
}

impl AttributeMapping {
    /// Reads and checks a mapping; `null` and `{}` are the empty mapping. The message says what
    /// is wrong without quoting the mapping.
    pub fn parse(v: &Value) -> Result<AttributeMapping, String> {
        match v {
            Value::Null => return Ok(AttributeMapping::default()),
            Value::Object(_) => {}
            _ => return Err("attribute_mapping must be a JSON object".into()),
        }
        let shape: MappingShape = serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let path: String = path.chars().take(80).collect();
            if e.inner().to_string().starts_with("unknown field") {
                format!(
                    "attribute_mapping has an unknown field at {path} (allowed: keys, and name, \
                     names, default, array for each key)"
                )
            } else {
                format!("attribute_mapping has a value of the wrong type at {path}")
            }
        })?;
        let mut keys = shape.keys.unwrap_or_default();
        if keys.len() > MAX_MAPPING_KEYS {
            return Err(format!(
                "attribute_mapping may have at most {MAX_MAPPING_KEYS} keys"
            ));
        }
        for (claim, mapper) in keys.iter_mut() {
            if claim.is_empty() || claim.chars().count() > MAX_CLAIM_KEY_LEN {
                return Err(format!(
                    "attribute_mapping keys must be 1 to {MAX_CLAIM_KEY_LEN} characters"
                ));
            }
            let mut names = mapper.name.iter().chain(mapper.names.iter());
            if names.any(|n| n.chars().count() > MAX_MAPPING_NAME_LEN) {
                return Err(format!(
                    "attribute_mapping names must be at most {MAX_MAPPING_NAME_LEN} characters"
                ));
            }
            if mapper.names.len() > MAX_MAPPING_KEYS {
                return Err(format!(
                    "attribute_mapping may list at most {MAX_MAPPING_KEYS} names for a key"
                ));
            }
            if mapper.default.as_ref().is_some_and(Value::is_null) {
                mapper.default = None;
            }
            if mapper
                .default
                .as_ref()
                .is_some_and(|d| d.to_string().len() > MAX_DEFAULT_BYTES)
            {
                return Err(format!(
                    "attribute_mapping defaults must be at most {MAX_DEFAULT_BYTES} bytes of JSON"
                ));
            }
        }
        Ok(AttributeMapping { keys })
    }
}

fn non_empty(s: &str) -> bool {
    !s.is_empty()
}

impl Assertion {
    /// Reads the shim's JSON; any unknown, missing or mistyped field is refused.
    pub fn from_json(v: &Value) -> AuthResult<Assertion> {
        let assertion: Assertion = serde_path_to_error::deserialize(v).map_err(|e| {
            let path: String = e.path().to_string().chars().take(80).collect();
            AuthError::validation(format!(
                "The verified SAML assertion is malformed (at {path})"
            ))
        })?;
        assertion.check_limits()?;
        Ok(assertion)
    }

    /// Refuses an assertion too large to keep: more than [`MAX_ATTRIBUTES`] attributes, more than
    /// [`MAX_VALUES_PER_ATTRIBUTE`] values in one, a value, name or issuer over
    /// [`MAX_VALUE_BYTES`], a NameID (or its format) over [`MAX_NAME_ID_BYTES`], an empty
    /// assertion id or one (or an `InResponseTo`) over [`MAX_ID_BYTES`].
    pub fn check_limits(&self) -> AuthResult<()> {
        let refuse = |m: &str| Err(AuthError::validation(format!("SAML Assertion {m}")));
        if self.assertion_id.is_empty() {
            return refuse("has no ID");
        }
        if self.assertion_id.len() > MAX_ID_BYTES {
            return refuse(&format!("ID is longer than {MAX_ID_BYTES} bytes"));
        }
        if self
            .in_response_to
            .as_ref()
            .is_some_and(|r| r.len() > MAX_ID_BYTES)
        {
            return refuse(&format!("InResponseTo is longer than {MAX_ID_BYTES} bytes"));
        }
        if self.issuer.len() > MAX_VALUE_BYTES {
            return refuse(&format!("Issuer is longer than {MAX_VALUE_BYTES} bytes"));
        }
        let name_id_len = self.name_id.as_ref().map_or(0, String::len);
        let format_len = self.name_id_format.as_ref().map_or(0, String::len);
        if name_id_len > MAX_NAME_ID_BYTES || format_len > MAX_NAME_ID_BYTES {
            return refuse(&format!("NameID is longer than {MAX_NAME_ID_BYTES} bytes"));
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            return refuse(&format!("has more than {MAX_ATTRIBUTES} attributes"));
        }
        for a in &self.attributes {
            if a.values.len() > MAX_VALUES_PER_ATTRIBUTE {
                return refuse(&format!(
                    "has an attribute with more than {MAX_VALUES_PER_ATTRIBUTE} values"
                ));
            }
            let too_long = |s: &String| s.len() > MAX_VALUE_BYTES;
            if too_long(&a.name)
                || a.friendly_name.as_ref().is_some_and(too_long)
                || a.values.iter().any(too_long)
            {
                return refuse(&format!(
                    "has an attribute name or value longer than {MAX_VALUE_BYTES} bytes"
                ));
            }
        }
        Ok(())
    }

    /// The values of every attribute whose Name or FriendlyName is `name` (exact, case-sensitive,
    /// as GoTrue), in order.
    pub fn attribute_values(&self, name: &str) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name || a.friendly_name.as_deref() == Some(name))
            .flat_map(|a| a.values.iter().map(String::as_str))
            .collect()
    }

    /// The IdP's persistent identifier of the user: the first value of the `subject-id`
    /// attribute if there is one (an empty one names nobody, as in GoTrue); else the NameID
    /// unless it is transient (an emailAddress one trimmed and lower-cased).
    pub fn user_id(&self) -> Option<String> {
        if let Some(first) = self.attribute_values(SUBJECT_ID_ATTRIBUTE).first() {
            return non_empty(first.trim()).then(|| first.to_string());
        }
        let name_id = self.name_id.as_deref().filter(|n| !n.trim().is_empty())?;
        match self.name_id_format.as_deref() {
            Some(NAME_ID_EMAIL) => Some(name_id.trim().to_lowercase()),
            Some(NAME_ID_TRANSIENT) => None,
            _ => Some(name_id.to_string()),
        }
    }

    /// The claims `mapping` picks: for each key, the first non-empty value among the attributes
    /// `name` then `names`; with `array`, every non-empty value of the first of them that has
    /// any; else the mapper's `default`, if any.
    pub fn claims(&self, mapping: &AttributeMapping) -> Map<String, Value> {
        let mut out = Map::new();
        for (claim, mapper) in &mapping.keys {
            let names = mapper.name.iter().chain(mapper.names.iter());
            let mut found = None;
            for name in names {
                let values: Vec<&str> = self
                    .attribute_values(name)
                    .into_iter()
                    .filter(|v| non_empty(v))
                    .collect();
                if let Some(first) = values.first() {
                    found = Some(if mapper.array {
                        json!(values)
                    } else {
                        json!(first)
                    });
                    break;
                }
            }
            if let Some(v) = found.or_else(|| mapper.default.clone()) {
                out.insert(claim.clone(), v);
            }
        }
        out
    }

    /// The user's email address: the mapped `email` claim if it is a non-empty string; else the
    /// first non-empty value of the [`EMAIL_ATTRIBUTES`]; else an emailAddress NameID. Trimmed
    /// and lower-cased, and only if it is a valid address (an invalid one counts as none).
    pub fn email(&self, mapped: &Map<String, Value>) -> Option<String> {
        let from_mapping = mapped
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.trim().is_empty());
        let from_attributes = || {
            EMAIL_ATTRIBUTES.iter().find_map(|name| {
                self.attribute_values(name)
                    .into_iter()
                    .find(|v| !v.trim().is_empty())
            })
        };
        let from_name_id = || {
            self.name_id
                .as_deref()
                .filter(|_| self.name_id_format.as_deref() == Some(NAME_ID_EMAIL))
        };
        let raw = from_mapping
            .or_else(from_attributes)
            .or_else(from_name_id)?;
        crate::email::normalize(Some(raw)).ok()
    }

    /// The user the assertion names, as an external identity of the SSO provider `entity_id`:
    /// its subject ([`Self::user_id`]), its email (verified: the IdP vouches for it), and as
    /// claims the mapped attributes with `iss`, `sub`, `email` and `email_verified` on top.
    pub fn profile(&self, mapping: &AttributeMapping, entity_id: &str) -> AuthResult<Profile> {
        self.check_limits()?;
        let subject = self
            .user_id()
            .ok_or_else(AuthError::saml_assertion_no_user_id)?;
        if subject.len() > MAX_SUBJECT_BYTES {
            return Err(AuthError::validation(format!(
                "SAML Assertion's subject identifier is longer than {MAX_SUBJECT_BYTES} bytes"
            )));
        }
        let mut claims = self.claims(mapping);
        let email = self
            .email(&claims)
            .ok_or_else(AuthError::saml_assertion_no_email)?;
        claims.insert("iss".into(), json!(entity_id));
        claims.insert("sub".into(), json!(subject));
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(true));
        let claims = Value::Object(claims);
        if claims.to_string().len() > MAX_CLAIMS_BYTES {
            return Err(AuthError::validation(format!(
                "SAML Assertion's mapped attributes are larger than {MAX_CLAIMS_BYTES} bytes"
            )));
        }
        Ok(Profile {
            subject,
            email: Some(email),
            email_verified: true,
            claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::{NAME_ID_PERSISTENT, NAME_ID_UNSPECIFIED};

    const ENTITY: &str = "https://idp.example.com/saml/metadata";

    fn attr(name: &str, friendly: Option<&str>, values: &[&str]) -> Attribute {
        Attribute {
            name: name.into(),
            friendly_name: friendly.map(Into::into),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn assertion(
        name_id: Option<&str>,
        format: Option<&str>,
        attributes: Vec<Attribute>,
    ) -> Assertion {
        Assertion {
            assertion_id: "_a1b2c3".into(),
            issuer: ENTITY.into(),
            name_id: name_id.map(Into::into),
            name_id_format: format.map(Into::into),
            attributes,
            session_not_on_or_after: None,
            not_on_or_after: 1_800_000_000,
            in_response_to: Some("_0123456789abcdef0123456789abcdef".into()),
        }
    }

    fn mapping(v: Value) -> AttributeMapping {
        AttributeMapping::parse(&v).unwrap()
    }

    fn code(e: AuthError) -> (u16, &'static str, String) {
        (e.status(), e.code(), e.message())
    }

    #[test]
    fn json_from_the_shim() {
        let v = json!({
            "assertion_id": "_abc", "issuer": ENTITY, "name_id": "u1",
            "name_id_format": NAME_ID_PERSISTENT,
            "attributes": [{"name": "mail", "friendly_name": null, "values": ["a@b.co"]}],
            "session_not_on_or_after": null, "not_on_or_after": 1_800_000_000,
            "in_response_to": "_r"
        });
        let a = Assertion::from_json(&v).unwrap();
        assert_eq!(a.user_id().as_deref(), Some("u1"));
        // Optional members may be left out; unknown ones may not.
        let minimal = json!({"assertion_id": "_abc", "issuer": ENTITY, "attributes": [],
                             "not_on_or_after": 1});
        assert!(Assertion::from_json(&minimal).is_ok());
        let mut extra = v.clone();
        extra["signature_ok"] = json!(true);
        let e = Assertion::from_json(&extra).unwrap_err();
        assert_eq!(e.code(), "validation_failed");
        let mut extra = v.clone();
        extra["attributes"][0]["xsi_type"] = json!("string");
        assert!(Assertion::from_json(&extra).is_err());
        let mut wrong = v;
        wrong["not_on_or_after"] = json!("tomorrow");
        assert!(Assertion::from_json(&wrong).is_err());
    }

    #[test]
    fn subject_id_attribute_wins() {
        let a = assertion(
            Some("nameid-1"),
            Some(NAME_ID_PERSISTENT),
            vec![attr(SUBJECT_ID_ATTRIBUTE, None, &["sid-1@corp", "sid-2"])],
        );
        assert_eq!(a.user_id().as_deref(), Some("sid-1@corp"));
        // By its friendly name too.
        let a = assertion(
            Some("nameid-1"),
            None,
            vec![attr("urn:x", Some(SUBJECT_ID_ATTRIBUTE), &["sid-3"])],
        );
        assert_eq!(a.user_id().as_deref(), Some("sid-3"));
        // An empty subject-id names nobody (GoTrue does not fall back to the NameID).
        let a = assertion(
            Some("nameid-1"),
            None,
            vec![attr(SUBJECT_ID_ATTRIBUTE, None, &[""])],
        );
        assert_eq!(a.user_id(), None);
    }

    #[test]
    fn name_id_rules() {
        let email = assertion(Some("  Alice@Example.COM "), Some(NAME_ID_EMAIL), vec![]);
        assert_eq!(email.user_id().as_deref(), Some("alice@example.com"));
        let transient = assertion(Some("_t123"), Some(NAME_ID_TRANSIENT), vec![]);
        assert_eq!(transient.user_id(), None);
        let persistent = assertion(Some("Opaque-ID"), Some(NAME_ID_PERSISTENT), vec![]);
        assert_eq!(persistent.user_id().as_deref(), Some("Opaque-ID"));
        let unspecified = assertion(Some("Bob"), Some(NAME_ID_UNSPECIFIED), vec![]);
        assert_eq!(unspecified.user_id().as_deref(), Some("Bob"));
        let no_format = assertion(Some("Bob"), None, vec![]);
        assert_eq!(no_format.user_id().as_deref(), Some("Bob"));
        assert_eq!(assertion(Some(""), None, vec![]).user_id(), None);
        assert_eq!(
            assertion(Some("  "), Some(NAME_ID_EMAIL), vec![]).user_id(),
            None
        );
        assert_eq!(assertion(None, None, vec![]).user_id(), None);
        let e = assertion(
            Some("_t"),
            Some(NAME_ID_TRANSIENT),
            vec![attr("mail", None, &["a@b.co"])],
        )
        .profile(&AttributeMapping::default(), ENTITY)
        .unwrap_err();
        assert_eq!(
            code(e),
            (
                400,
                "saml_assertion_no_user_id",
                "SAML Assertion did not contain a persistent Subject Identifier attribute or \
                 Subject NameID uniquely identifying this user"
                    .into()
            )
        );
    }

    #[test]
    fn attribute_values_match_name_or_friendly_name() {
        let a = assertion(
            None,
            None,
            vec![
                attr("urn:oid:2.5.4.42", Some("givenName"), &["Ada"]),
                attr("givenName", None, &["", "Augusta"]),
                attr("urn:oid:2.5.4.4", Some("sn"), &["Lovelace"]),
            ],
        );
        assert_eq!(a.attribute_values("givenName"), vec!["Ada", "", "Augusta"]);
        assert_eq!(a.attribute_values("urn:oid:2.5.4.4"), vec!["Lovelace"]);
        assert_eq!(a.attribute_values("sn"), vec!["Lovelace"]);
        assert!(a.attribute_values("SN").is_empty());
    }

    #[test]
    fn mapped_claims() {
        let a = assertion(
            Some("u1"),
            None,
            vec![
                attr(
                    "http://schemas.microsoft.com/identity/claims/displayname",
                    None,
                    &[""],
                ),
                attr("displayName", None, &["Ada Lovelace"]),
                attr("groups", Some("memberOf"), &["", "admins", "staff"]),
                attr("roles", None, &["r1"]),
            ],
        );
        let m = mapping(json!({"keys": {
            "name": {"name": "http://schemas.microsoft.com/identity/claims/displayname",
                     "names": ["nope", "displayName"]},
            "groups": {"name": "memberOf", "array": true},
            "first_group": {"names": ["memberOf"]},
            "roles": {"names": ["missing", "roles", "groups"], "array": true},
            "tier": {"name": "tier", "default": "free"},
            "flags": {"name": "flags", "default": {"beta": true}},
            "none": {"name": "absent"},
            "nulled": {"name": "absent", "default": null},
        }}));
        let c = a.claims(&m);
        assert_eq!(c["name"], "Ada Lovelace");
        assert_eq!(c["groups"], json!(["admins", "staff"]));
        assert_eq!(c["first_group"], "admins");
        assert_eq!(c["roles"], json!(["r1"]));
        assert_eq!(c["tier"], "free");
        assert_eq!(c["flags"], json!({"beta": true}));
        assert!(!c.contains_key("none"));
        assert!(!c.contains_key("nulled"));
        // A value found wins over the default.
        let m = mapping(json!({"keys": {"name": {"name": "displayName", "default": "x"}}}));
        assert_eq!(a.claims(&m)["name"], "Ada Lovelace");
    }

    #[test]
    fn mapping_validation() {
        for empty in [
            json!(null),
            json!({}),
            json!({"keys": {}}),
            json!({"keys": null}),
        ] {
            assert_eq!(mapping(empty), AttributeMapping::default());
        }
        // null members read as absent (as Go's encoding/json does).
        let nulls = mapping(json!({"keys": {"k": {"name": null, "names": null,
                                                   "default": null, "array": null}}}));
        assert_eq!(nulls.keys["k"], AttributeMapper::default());
        // Lengths are in characters.
        let wide = json!({"keys": {"é".repeat(64): {"name": "ü".repeat(256)}}});
        assert!(AttributeMapping::parse(&wide).is_ok());
        let bad = [
            json!([]),
            json!("keys"),
            json!({"keys": [], "x": 1}),
            json!({"other": {}}),
            json!({"keys": {"email": {"name": "mail", "value": "x"}}}),
            json!({"keys": {"email": {"name": 1}}}),
            json!({"keys": {"email": {"names": "mail"}}}),
            json!({"keys": {"email": {"array": "yes"}}}),
            json!({"keys": {"": {"name": "mail"}}}),
            json!({"keys": {"x".repeat(65): {"name": "mail"}}}),
            json!({"keys": {"email": {"name": "m".repeat(257)}}}),
            json!({"keys": {"email": {"names": ["m".repeat(257)]}}}),
            json!({"keys": {"email": {"default": "d".repeat(5000)}}}),
        ];
        for b in bad {
            let msg = AttributeMapping::parse(&b).unwrap_err();
            assert!(msg.starts_with("attribute_mapping"), "{msg}");
            assert!(!msg.contains("mmmm") && !msg.contains("dddd"), "{msg}");
        }
        let many: Map<String, Value> = (0..65)
            .map(|i| (format!("k{i}"), json!({"name": "n"})))
            .collect();
        assert!(AttributeMapping::parse(&json!({ "keys": many })).is_err());
        let ok: Map<String, Value> = (0..64)
            .map(|i| (format!("k{i}"), json!({"name": "n"})))
            .collect();
        assert_eq!(mapping(json!({ "keys": ok })).keys.len(), 64);
        let full = mapping(
            json!({"keys": {"email": {"name": "mail", "names": ["email"],
                                                      "default": "x@y.co", "array": false}}}),
        );
        assert_eq!(
            full.keys["email"],
            AttributeMapper {
                name: Some("mail".into()),
                names: vec!["email".into()],
                default: Some(json!("x@y.co")),
                array: false
            }
        );
    }

    #[test]
    fn email_sources_in_order() {
        let none = AttributeMapping::default();
        let mapped_first = assertion(
            Some("u1"),
            None,
            vec![
                attr("mail", None, &["other@example.com"]),
                attr("upn", None, &["Ada@Corp.Example"]),
            ],
        );
        let m = mapping(json!({"keys": {"email": {"name": "upn"}}}));
        assert_eq!(
            mapped_first.email(&mapped_first.claims(&m)).as_deref(),
            Some("ada@corp.example")
        );
        assert_eq!(
            mapped_first.email(&mapped_first.claims(&none)).as_deref(),
            Some("other@example.com")
        );
        // The attribute list's order, not the assertion's; empty values are skipped.
        let ordered = assertion(
            Some("u1"),
            None,
            vec![
                attr("email", None, &["third@example.com"]),
                attr(
                    "urn:oid:0.9.2342.19200300.100.1.3",
                    Some("mail"),
                    &["", " First@Example.com "],
                ),
            ],
        );
        assert_eq!(
            ordered.email(&Map::new()).as_deref(),
            Some("first@example.com")
        );
        // A mapped email that is not a string is ignored.
        let m = mapping(json!({"keys": {"email": {"name": "absent", "default": 42}}}));
        assert_eq!(
            ordered.email(&ordered.claims(&m)).as_deref(),
            Some("first@example.com")
        );
        // Last, an emailAddress NameID.
        let name_id = assertion(Some("Ada@Example.com"), Some(NAME_ID_EMAIL), vec![]);
        assert_eq!(
            name_id.email(&Map::new()).as_deref(),
            Some("ada@example.com")
        );
        let not_email_format = assertion(Some("ada@example.com"), Some(NAME_ID_PERSISTENT), vec![]);
        assert_eq!(not_email_format.email(&Map::new()), None);
    }

    #[test]
    fn invalid_or_missing_email() {
        let invalid = assertion(
            Some("u1"),
            None,
            vec![attr("mail", None, &["not an address"])],
        );
        assert_eq!(invalid.email(&Map::new()), None);
        let e = invalid
            .profile(&AttributeMapping::default(), ENTITY)
            .unwrap_err();
        assert_eq!(
            code(e),
            (
                400,
                "saml_assertion_no_email",
                "SAML Assertion does not contain an email address".into()
            )
        );
        let none = assertion(Some("u1"), Some(NAME_ID_PERSISTENT), vec![]);
        assert_eq!(
            none.profile(&AttributeMapping::default(), ENTITY)
                .unwrap_err()
                .code(),
            "saml_assertion_no_email"
        );
    }

    #[test]
    fn profile_claims() {
        let a = assertion(
            Some("Ada@Example.com"),
            Some(NAME_ID_EMAIL),
            vec![
                attr("displayName", None, &["Ada"]),
                attr("sub", None, &["forged-sub"]),
            ],
        );
        let m = mapping(json!({"keys": {
            "full_name": {"name": "displayName"},
            "sub": {"name": "sub"},
            "iss": {"name": "x", "default": "https://forged"},
            "email_verified": {"name": "x", "default": false},
        }}));
        let p = a.profile(&m, ENTITY).unwrap();
        assert_eq!(p.subject, "ada@example.com");
        assert_eq!(p.email.as_deref(), Some("ada@example.com"));
        assert!(p.email_verified);
        assert_eq!(
            p.claims,
            json!({"full_name": "Ada", "iss": ENTITY, "sub": "ada@example.com",
                   "email": "ada@example.com", "email_verified": true})
        );
    }

    #[test]
    fn limits() {
        let ok = || assertion(Some("u1"), None, vec![attr("mail", None, &["a@b.co"])]);
        assert!(ok().profile(&AttributeMapping::default(), ENTITY).is_ok());
        let refused = |a: Assertion| {
            let e = a.profile(&AttributeMapping::default(), ENTITY).unwrap_err();
            assert_eq!((e.status(), e.code()), (400, "validation_failed"));
            assert!(e.message().len() < 120);
        };
        let mut a = ok();
        a.attributes = (0..=MAX_ATTRIBUTES)
            .map(|i| attr(&format!("a{i}"), None, &["v"]))
            .collect();
        refused(a);
        let mut a = ok();
        a.attributes
            .push(attr("many", None, &vec!["v"; MAX_VALUES_PER_ATTRIBUTE + 1]));
        refused(a);
        let mut a = ok();
        a.attributes.push(attr(
            "big",
            None,
            &["v".repeat(MAX_VALUE_BYTES + 1).as_str()],
        ));
        refused(a);
        let mut a = ok();
        a.attributes
            .push(attr(&"n".repeat(MAX_VALUE_BYTES + 1), None, &[]));
        refused(a);
        let mut a = ok();
        a.name_id = Some("n".repeat(MAX_NAME_ID_BYTES + 1));
        refused(a);
        let mut a = ok();
        a.assertion_id = String::new();
        refused(a);
        let mut a = ok();
        let long_sid = "s".repeat(MAX_SUBJECT_BYTES + 1);
        a.attributes
            .push(attr(SUBJECT_ID_ATTRIBUTE, None, &[long_sid.as_str()]));
        refused(a);
        let mut a = ok();
        a.assertion_id = "i".repeat(MAX_ID_BYTES + 1);
        refused(a);
        // At the limits, accepted.
        let mut a = ok();
        a.attributes = (0..MAX_ATTRIBUTES)
            .map(|i| attr(&format!("a{i}"), None, &["v"]))
            .collect();
        a.attributes[0] = attr("mail", None, &vec!["a@b.co"; MAX_VALUES_PER_ATTRIBUTE]);
        a.name_id = Some("n".repeat(MAX_NAME_ID_BYTES));
        a.assertion_id = "i".repeat(MAX_ID_BYTES);
        a.attributes[1] = attr("big", None, &["v".repeat(MAX_VALUE_BYTES).as_str()]);
        assert!(a.profile(&AttributeMapping::default(), ENTITY).is_ok());
        // Mapped claims too large to keep.
        let mut a = ok();
        a.attributes
            .push(attr("g", None, &vec!["v".repeat(4000).as_str(); 20]));
        let m = mapping(json!({"keys": {"g": {"name": "g", "array": true}}}));
        let e = a.profile(&m, ENTITY).unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "validation_failed"));
    }
}
