//! Reading a SAML identity provider's metadata document: its entity id, where to send the
//! AuthnRequest (the HTTP-Redirect SingleSignOnService), the certificates its assertions may be
//! signed with, and how long the document may be kept.
//!
//! The document comes from an administrator (`metadata_xml`) or from a URL the shim fetched
//! (`metadata_url`): it is untrusted text. It is parsed by `roxmltree` (pure Rust, no DTDs, no
//! external entities, a node limit), after refusing outright any text that declares a DTD or an
//! entity. Elements are matched by namespace and local name, never by prefix.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use roxmltree::{Document, Node, ParsingOptions};

use crate::error::AuthError;

/// The largest metadata document accepted (1 MiB).
pub const MAX_METADATA_BYTES: usize = 1 << 20;
/// The most XML nodes a metadata document may have.
const MAX_NODES: u32 = 100_000;
/// The longest entity id accepted (they are URIs; this keeps them indexable and printable).
pub const MAX_ENTITY_ID_BYTES: usize = 1024;

/// `urn:oasis:names:tc:SAML:2.0:metadata`
pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// `http://www.w3.org/2000/09/xmldsig#`
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The protocol an IDPSSODescriptor must support.
pub const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The binding of the AuthnRequest auth_ext sends.
pub const HTTP_REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// What auth_ext keeps of an IdP's metadata.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// SingleSignOnService with Binding urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect (the
    /// binding our AuthnRequest uses); required; as the `url` crate serialises it.
    pub sso_url: String,
    /// The IdP's signing certificates as PEM, every one of them (key rollover), de-duplicated, in
    /// document order; at least one.
    pub certificates: Vec<String>,
    /// validUntil on the EntityDescriptor or an enclosing EntitiesDescriptor (the earliest of
    /// them), unix seconds.
    pub valid_until: Option<i64>,
    /// cacheDuration on the EntityDescriptor or an enclosing EntitiesDescriptor (the shortest),
    /// in seconds.
    pub cache_duration_s: Option<i64>,
}

/// Why a metadata document was refused: a human message (GoTrue's 400 `validation_failed`),
/// which never quotes the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError(pub String);

impl MetadataError {
    fn new(msg: impl Into<String>) -> Self {
        MetadataError(msg.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetadataError {}

impl From<MetadataError> for AuthError {
    fn from(e: MetadataError) -> Self {
        AuthError::validation(e.0)
    }
}

type Result<T> = std::result::Result<T, MetadataError>;

fn is_md(n: &Node, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(MD_NS) && n.tag_name().name() == local
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Parses and checks an IdP's metadata document.
pub fn parse(xml: &str) -> std::result::Result<IdpMetadata, MetadataError> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::new(format!(
            "SAML Metadata is too large (more than {MAX_METADATA_BYTES} bytes)"
        )));
    }
    let raw = xml.as_bytes();
    if contains_ignore_ascii_case(raw, b"<!DOCTYPE") || contains_ignore_ascii_case(raw, b"<!ENTITY")
    {
        return Err(MetadataError::new(
            "SAML Metadata must not contain a DTD or entity declarations",
        ));
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(xml, options).map_err(|e| {
        let pos = e.pos();
        MetadataError::new(format!(
            "SAML Metadata is not valid XML (near line {}, column {})",
            pos.row, pos.col
        ))
    })?;

    let root = doc.root_element();
    let entity = if is_md(&root, "EntityDescriptor") {
        root
    } else if is_md(&root, "EntitiesDescriptor") {
        let mut found = root.descendants().filter(|n| is_md(n, "EntityDescriptor"));
        match (found.next(), found.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(MetadataError::new(
                    "SAML Metadata's EntitiesDescriptor has no EntityDescriptor",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(MetadataError::new(
                    "SAML Metadata's EntitiesDescriptor must hold exactly one EntityDescriptor",
                ))
            }
        }
    } else {
        return Err(MetadataError::new(
            "SAML Metadata must be an md:EntityDescriptor (urn:oasis:names:tc:SAML:2.0:metadata)",
        ));
    };

    let entity_id = entity.attribute("entityID").unwrap_or("").trim();
    if entity_id.is_empty() {
        return Err(MetadataError::new(
            "SAML Metadata does not contain an EntityID",
        ));
    }
    if entity_id.len() > MAX_ENTITY_ID_BYTES {
        return Err(MetadataError::new(format!(
            "SAML Metadata's EntityID is longer than {MAX_ENTITY_ID_BYTES} bytes"
        )));
    }

    let mut idps = entity.children().filter(|n| is_md(n, "IDPSSODescriptor"));
    let idp = match (idps.next(), idps.next()) {
        (Some(one), None) => one,
        (None, _) => return Err(MetadataError::new("SAML Metadata has no IDPSSODescriptor")),
        (Some(_), Some(_)) => {
            return Err(MetadataError::new(
                "SAML Metadata has more than one IDPSSODescriptor",
            ))
        }
    };
    let protocols = idp.attribute("protocolSupportEnumeration").unwrap_or("");
    if !protocols
        .split_ascii_whitespace()
        .any(|p| p == SAML2_PROTOCOL)
    {
        return Err(MetadataError::new(format!(
            "SAML Metadata's IDPSSODescriptor does not support {SAML2_PROTOCOL}"
        )));
    }

    let sso_url = redirect_sso_url(idp)?;
    let certificates = signing_certificates(idp)?;

    // The entity and every EntitiesDescriptor around it: the earliest validUntil and the
    // shortest cacheDuration apply.
    let mut valid_until: Option<i64> = None;
    let mut cache_duration_s: Option<i64> = None;
    for node in entity
        .ancestors()
        .filter(|n| is_md(n, "EntityDescriptor") || is_md(n, "EntitiesDescriptor"))
    {
        if let Some(v) = node.attribute("validUntil") {
            let t = parse_datetime(v).ok_or_else(|| {
                MetadataError::new("SAML Metadata has an invalid validUntil timestamp")
            })?;
            valid_until = Some(valid_until.map_or(t, |u| u.min(t)));
        }
        if let Some(v) = node.attribute("cacheDuration") {
            let d = parse_duration(v)
                .ok_or_else(|| MetadataError::new("SAML Metadata has an invalid cacheDuration"))?;
            cache_duration_s = Some(cache_duration_s.map_or(d, |c| c.min(d)));
        }
    }

    Ok(IdpMetadata {
        entity_id: entity_id.to_string(),
        sso_url,
        certificates,
        valid_until,
        cache_duration_s,
    })
}

/// The Location of the first HTTP-Redirect SingleSignOnService: an absolute http(s) URL, in its
/// normal form.
fn redirect_sso_url(idp: Node) -> Result<String> {
    let service = idp
        .children()
        .filter(|n| is_md(n, "SingleSignOnService"))
        .find(|n| n.attribute("Binding").map(str::trim) == Some(HTTP_REDIRECT_BINDING))
        .ok_or_else(|| {
            MetadataError::new("SAML Metadata has no HTTP-Redirect SingleSignOnService")
        })?;
    let location = service.attribute("Location").unwrap_or("").trim();
    let bad = || {
        MetadataError::new(
            "SAML Metadata's HTTP-Redirect SingleSignOnService Location is not an absolute http(s) URL",
        )
    };
    let url = url::Url::parse(location).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    // The URL as parsed (WHATWG serialisation), so that what is stored is what was checked.
    Ok(url.into())
}

/// The certificates of every KeyDescriptor for signing (`use="signing"` or no `use`), as PEM.
fn signing_certificates(idp: Node) -> Result<Vec<String>> {
    let mut pems: Vec<String> = Vec::new();
    let signing = idp
        .children()
        .filter(|n| is_md(n, "KeyDescriptor"))
        .filter(|n| n.attribute("use").is_none_or(|u| u.trim() == "signing"));
    for key in signing {
        let certs = key.descendants().filter(|n| {
            n.is_element()
                && n.tag_name().namespace() == Some(DS_NS)
                && n.tag_name().name() == "X509Certificate"
        });
        for cert in certs {
            let text: String = cert
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .flat_map(str::chars)
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let pem = certificate_pem(&text).ok_or_else(|| {
                MetadataError::new(
                    "SAML Metadata contains a signing certificate that is not base64-encoded DER",
                )
            })?;
            if !pems.contains(&pem) {
                pems.push(pem);
            }
        }
    }
    if pems.is_empty() {
        return Err(MetadataError::new(
            "SAML Metadata has no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)",
        ));
    }
    Ok(pems)
}

/// Base64 of a DER certificate (padding optional) as PEM, or `None` when it is not.
fn certificate_pem(b64: &str) -> Option<String> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let der = LENIENT.decode(b64).ok()?;
    if !looks_like_der_sequence(&der) {
        return None;
    }
    let body = STANDARD.encode(&der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Some(pem)
}

/// A DER SEQUENCE (0x30) whose definite length covers exactly the bytes given.
fn looks_like_der_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, rest) = if *first < 0x80 {
        (*first as usize, rest)
    } else {
        let n = (*first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return false;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    len > 0 && len == rest.len()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `n` ASCII digits at the start of `s`, as a number, and the rest.
fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn expect(s: &str, c: char) -> Option<&str> {
    s.strip_prefix(c)
}

/// An xs:dateTime (`2026-12-01T10:00:00Z`, optional fractional seconds, `Z`, an offset such as
/// `+01:00`, or no zone, read as UTC) as unix seconds; fractions are dropped.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (year, s) = digits(s, 4)?;
    let (month, s) = digits(expect(s, '-')?, 2)?;
    let (day, s) = digits(expect(s, '-')?, 2)?;
    let (hour, s) = digits(expect(s, 'T')?, 2)?;
    let (minute, s) = digits(expect(s, ':')?, 2)?;
    let (second, mut s) = digits(expect(s, ':')?, 2)?;
    if let Some(frac) = s.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        s = &frac[n..];
    }
    let offset = match s {
        "" | "Z" => 0,
        _ => {
            let sign = match s.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, rest) = digits(&s[1..], 2)?;
            let (om, rest) = digits(expect(rest, ':')?, 2)?;
            if !rest.is_empty() || oh > 14 || om > 59 || (oh == 14 && om != 0) {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// An xs:duration (`PT1H`, `P1D`, `PT5M30S`, `P0Y0M1DT2H`, `PT0.5S`) in whole seconds, a year
/// counted as 365 days and a month as 30; negative durations are refused.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim().strip_prefix('P')?;
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (s, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }
    let mut total: i64 = 0;
    let mut add = |n: i64, unit: i64| -> Option<()> {
        total = total.checked_add(n.checked_mul(unit)?)?;
        Some(())
    };
    // Each designator at most once, in order.
    let mut rest = date;
    for (designator, unit) in [('Y', 365 * 86_400), ('M', 30 * 86_400), ('D', 86_400)] {
        if let Some((n, r)) = component(rest, designator) {
            add(n?, unit)?;
            rest = r;
        }
    }
    if !rest.is_empty() {
        return None;
    }
    if let Some(time) = time {
        let mut rest = time;
        let mut any = false;
        for (designator, unit) in [('H', 3600), ('M', 60)] {
            if let Some((n, r)) = component(rest, designator) {
                add(n?, unit)?;
                rest = r;
                any = true;
            }
        }
        if let Some(body) = rest.strip_suffix('S') {
            let (whole, frac) = match body.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (body, None),
            };
            if whole.is_empty()
                || !whole.bytes().all(|b| b.is_ascii_digit())
                || frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            add(whole.parse().ok()?, 1)?;
            rest = "";
            any = true;
        }
        if !rest.is_empty() || !any {
            return None;
        }
    }
    Some(total)
}

/// `<digits><designator>` at the start of `s`: `None` when `s` does not start with digits then
/// `designator`; `Some((None, _))` when the number does not fit.
fn component(s: &str, designator: char) -> Option<(Option<i64>, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let rest = s[n..].strip_prefix(designator)?;
    Some((s[..n].parse().ok(), rest))
}

/// Whether stored metadata should be fetched again (GoTrue's rule): past its `validUntil`, older
/// than its `cacheDuration`, or, when it names neither, older than a day. `age_s`: seconds since
/// it was stored; `now`: unix seconds.
pub fn is_stale(m: &IdpMetadata, age_s: f64, now: i64) -> bool {
    const DAY_S: f64 = 24.0 * 3600.0;
    let expired = m.valid_until.is_some_and(|t| now > t);
    let cache_passed = m.cache_duration_s.is_some_and(|d| age_s > d as f64);
    let unannounced = m.valid_until.is_none() && m.cache_duration_s.is_none() && age_s > DAY_S;
    expired || cache_passed || unannounced
}

#[cfg(test)]
mod tests {
    use super::*;

    // Self-signed P-256 certificates made for these tests (openssl req -x509 -newkey ec).
    const CERT_A: &str =
        "MIIBjjCCATOgAwIBAgIUTv3dxXoUhrL+3PRRXPOPvopEAIMwCgYIKoZIzj0EAwIwHDEaMBgGA1UE\n\
        AwwRaWRwLWEuZXhhbXBsZS5jb20wHhcNMjYxMjAyMTE0NDU1WhcNMzYxMTI5MTE0NDU1WjAcMRow\n\
        GAYDVQQDDBFpZHAtYS5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPM49b6J\n\
        M57To/Cww/RMAPmo+iKWRWN6PTL2DKboGPfEeLsBftCFgyd9eSBP+qVp/Htp3gV0MNT9ZxSP0m9n\n\
        LPyjUzBRMB0GA1UdDgQWBBSgYrBiIZwqv1qtYMLUUnAQJX8YBzAfBgNVHSMEGDAWgBSgYrBiIZwq\n\
        v1qtYMLUUnAQJX8YBzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDKhog6pCqR\n\
        MguHartzKfeAj6H8hHoboTfJ1rZfAEW/3QIhAKkvpTXmEc3oABKWGjwDXrTfpNdNESwyNUG9EQRu\n\
        nBki";
    const PEM_A: &str = "-----BEGIN CERTIFICATE-----\nMIIBjjCCATOgAwIBAgIUTv3dxXoUhrL+3PRRXPOPvopEAIMwCgYIKoZIzj0EAwIw\nHDEaMBgGA1UEAwwRaWRwLWEuZXhhbXBsZS5jb20wHhcNMjYxMjAyMTE0NDU1WhcN\nMzYxMTI5MTE0NDU1WjAcMRowGAYDVQQDDBFpZHAtYS5leGFtcGxlLmNvbTBZMBMG\nByqGSM49AgEGCCqGSM49AwEHA0IABPM49b6JM57To/Cww/RMAPmo+iKWRWN6PTL2\nDKboGPfEeLsBftCFgyd9eSBP+qVp/Htp3gV0MNT9ZxSP0m9nLPyjUzBRMB0GA1Ud\nDgQWBBSgYrBiIZwqv1qtYMLUUnAQJX8YBzAfBgNVHSMEGDAWgBSgYrBiIZwqv1qt\nYMLUUnAQJX8YBzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDK\nhog6pCqRMguHartzKfeAj6H8hHoboTfJ1rZfAEW/3QIhAKkvpTXmEc3oABKWGjwD\nXrTfpNdNESwyNUG9EQRunBki\n-----END CERTIFICATE-----\n";
    const CERT_B: &str = "MIIBjTCCATOgAwIBAgIUEjEycdUgXtBqmpJSMuqK+dW3i3IwCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwRaWRwLWIuZXhhbXBsZS5jb20wHhcNMjYxMjAyMTE0NDU1WhcNMzYxMTI5MTE0NDU1WjAcMRowGAYDVQQDDBFpZHAtYi5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ/XvgfaTcmyRH9OSu9m7rzpQB1fyVP+nol/+Nudy5Y6qLvyPTGHVVkkMAZIJa8NidSDBSEXMJ9LTlXRXVixOfSjUzBRMB0GA1UdDgQWBBSNFXw3NlOPeno9ZQoGj5ICDZA5KDAfBgNVHSMEGDAWgBSNFXw3NlOPeno9ZQoGj5ICDZA5KDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDjww81EE+r6i4IOb/CMUJViLnT+VBLUlP8Fo3nXpUQ9AIgNYjUwyUtrG68gWglLL4mJLrxzSUrRmdk9S0FjfKP9is=";
    const CERT_ENC: &str = "MIIBjTCCATOgAwIBAgIUWemgIpvjJxqcxNp6Q77ITdFwxygwCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwRaWRwLWMuZXhhbXBsZS5jb20wHhcNMjYxMjAyMTE0NDU1WhcNMzYxMTI5MTE0NDU1WjAcMRowGAYDVQQDDBFpZHAtYy5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFYNy6D9IaX19G74KcdqR6+lIESSNvvGF2U8zpJr89DfwaAhqIkLe7Inf5Fi3ELI98IVLnvta9NO6h9bMAH/K92jUzBRMB0GA1UdDgQWBBS1/y5oWk/wX4BDMFnun3KsVc32YTAfBgNVHSMEGDAWgBS1/y5oWk/wX4BDMFnun3KsVc32YTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDSXw5R2+cPSPzh8ZMIjAuNndusZYJg9SCangyWH2T6CQIgV9t4rTk4shopre0CKfDHDD69gXYpOAceDHU0xt7gbiY=";

    fn metadata(extra_attrs: &str, idp_body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="https://idp.example.com/saml/metadata" {extra_attrs}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
{idp_body}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }

    fn key(usage: Option<&str>, cert: &str) -> String {
        let use_attr = usage.map(|u| format!(r#" use="{u}""#)).unwrap_or_default();
        format!(
            r#"<md:KeyDescriptor{use_attr}><ds:KeyInfo><ds:X509Data>
<ds:X509Certificate>
{cert}
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        )
    }

    const REDIRECT: &str = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/saml/sso/redirect"/>"#;
    const POST: &str = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/saml/sso/post"/>"#;

    fn realistic() -> String {
        let body = [
            key(Some("signing"), CERT_A),
            key(Some("signing"), CERT_B),
            key(Some("encryption"), CERT_ENC),
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/saml/slo"/>"#.into(),
            "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>".into(),
            POST.into(),
            REDIRECT.into(),
        ]
        .join("\n");
        metadata(
            r#"validUntil="2026-12-01T10:00:00Z" cacheDuration="PT1H""#,
            &body,
        )
    }

    fn err(xml: &str) -> String {
        parse(xml).unwrap_err().to_string()
    }

    #[test]
    fn realistic_metadata() {
        let m = parse(&realistic()).unwrap();
        assert_eq!(m.entity_id, "https://idp.example.com/saml/metadata");
        assert_eq!(m.sso_url, "https://idp.example.com/saml/sso/redirect");
        assert_eq!(m.valid_until, Some(1_796_119_200));
        assert_eq!(m.cache_duration_s, Some(3600));
        assert_eq!(m.certificates.len(), 2);
        assert_eq!(m.certificates[0], PEM_A);
        assert!(
            m.certificates[1].starts_with("-----BEGIN CERTIFICATE-----\nMIIBjTCCATOgAwIBAgIUEjEy")
        );
        assert!(
            m.certificates[1].ends_with("\nJLrxzSUrRmdk9S0FjfKP9is=\n-----END CERTIFICATE-----\n")
        );
        assert!(m
            .certificates
            .iter()
            .all(|p| p.lines().all(|l| l.len() <= 64)));
        // Serialises for the database.
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["cache_duration_s"], 3600);
    }

    #[test]
    fn certificates_without_use_count_and_duplicates_go() {
        let body = [
            key(None, CERT_B),
            // the same, unpadded, split by spaces and tabs, with a comment inside
            key(
                Some("signing"),
                &format!(
                    "{}<!-- x -->\t{} \r\n",
                    &CERT_B[..10],
                    CERT_B[10..].trim_end_matches('=')
                ),
            ),
            REDIRECT.into(),
        ]
        .join("\n");
        let m = parse(&metadata("", &body)).unwrap();
        assert_eq!(m.certificates.len(), 1);
        assert_eq!(m.valid_until, None);
        assert_eq!(m.cache_duration_s, None);
    }

    #[test]
    fn entities_descriptor_wrapping() {
        let inner = realistic().replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "");
        let one = format!(
            r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2026-06-01T00:00:00Z" cacheDuration="PT30M">{inner}</EntitiesDescriptor>"#
        );
        let m = parse(&one).unwrap();
        assert_eq!(m.entity_id, "https://idp.example.com/saml/metadata");
        // The earliest validity and the shortest cache duration apply.
        assert_eq!(
            m.valid_until,
            Some(parse_datetime("2026-06-01T00:00:00Z").unwrap())
        );
        assert_eq!(m.cache_duration_s, Some(1800));
        let two = format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{inner}{inner}</md:EntitiesDescriptor>"#
        );
        assert!(err(&two).contains("exactly one"));
        let none = r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>"#;
        assert!(err(none).contains("no EntityDescriptor"));
    }

    #[test]
    fn pysaml2_style_prefixes() {
        let xml = format!(
            r#"<?xml version='1.0' encoding='UTF-8'?>
<ns0:EntityDescriptor xmlns:ns0="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ns1="http://www.w3.org/2000/09/xmldsig#" entityID="https://pysaml2.example.org/idp.xml"><ns0:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><ns0:KeyDescriptor use="signing"><ns1:KeyInfo><ns1:X509Data><ns1:X509Certificate>{CERT_B}</ns1:X509Certificate></ns1:X509Data></ns1:KeyInfo></ns0:KeyDescriptor><ns0:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://localhost:8088/sso/redirect" /></ns0:IDPSSODescriptor></ns0:EntityDescriptor>"#
        );
        let m = parse(&xml).unwrap();
        assert_eq!(m.entity_id, "https://pysaml2.example.org/idp.xml");
        assert_eq!(m.sso_url, "http://localhost:8088/sso/redirect");
        // The right prefix in the wrong namespace is not metadata.
        let wrong = xml.replace("urn:oasis:names:tc:SAML:2.0:metadata", "urn:example:other");
        assert!(err(&wrong).contains("must be an md:EntityDescriptor"));
        // ... and a certificate outside the dsig namespace is not one.
        let wrong = xml.replace("http://www.w3.org/2000/09/xmldsig#", "urn:example:dsig");
        assert!(err(&wrong).contains("no signing certificate"));
    }

    #[test]
    fn dtds_and_entities_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"#;
        assert!(err(xxe).contains("DTD"));
        let laughs = r#"<?xml version="1.0"?>
<!doctype lolz [
 <!entity lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"#;
        assert!(err(laughs).contains("DTD"));
        // An entity declaration alone (no DOCTYPE) is refused as well.
        assert!(err("<a><!EnTiTy x 'y'></a>").contains("DTD"));
        // An undeclared entity reference is a parse error, not a lookup.
        let undeclared = realistic().replace("https://idp.example.com/saml/metadata\"", "&ext;\"");
        assert!(err(&undeclared).starts_with("SAML Metadata is not valid XML"));
    }

    #[test]
    fn size_and_node_limits() {
        let big = format!("<a>{}</a>", " ".repeat(MAX_METADATA_BYTES));
        assert!(err(&big).contains("too large"));
        let many = format!("<a>{}</a>", "<b/>".repeat(200_000));
        assert!(many.len() < MAX_METADATA_BYTES);
        assert!(err(&many).contains("not valid XML"));
    }

    #[test]
    fn entity_id_and_descriptor_rules() {
        let no_id = realistic().replace(
            r#"entityID="https://idp.example.com/saml/metadata""#,
            r#"entityID="  ""#,
        );
        assert_eq!(err(&no_id), "SAML Metadata does not contain an EntityID");
        let long_id = realistic().replace(
            "https://idp.example.com/saml/metadata\"",
            &format!("https://{}\"", "x".repeat(2000)),
        );
        let msg = err(&long_id);
        assert!(msg.contains("EntityID") && !msg.contains("xxxx"));

        let body = format!("{}\n{REDIRECT}", key(None, CERT_B));
        let idp = format!(
            r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{body}</md:IDPSSODescriptor>"#
        );
        let two = metadata("", &body).replace(
            "</md:EntityDescriptor>",
            &format!("{idp}</md:EntityDescriptor>"),
        );
        assert_eq!(
            err(&two),
            "SAML Metadata has more than one IDPSSODescriptor"
        );
        let none = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor/></md:EntityDescriptor>"#;
        assert_eq!(err(none), "SAML Metadata has no IDPSSODescriptor");
        let saml1 = metadata("", &body).replace(
            "urn:oasis:names:tc:SAML:2.0:protocol",
            "urn:oasis:names:tc:SAML:1.1:protocol",
        );
        assert!(err(&saml1).contains("does not support"));
        // Several protocols, whitespace-separated.
        let both = metadata("", &body).replace(
            "\"urn:oasis:names:tc:SAML:2.0:protocol\"",
            "\"urn:oasis:names:tc:SAML:1.1:protocol\n urn:oasis:names:tc:SAML:2.0:protocol\"",
        );
        assert!(parse(&both).is_ok());
    }

    #[test]
    fn the_redirect_binding_is_required() {
        let body = format!("{}\n{POST}", key(None, CERT_B));
        assert_eq!(
            err(&metadata("", &body)),
            "SAML Metadata has no HTTP-Redirect SingleSignOnService"
        );
        let service = REDIRECT.replace(
            "https://idp.example.com/saml/sso/redirect",
            " HTTPS://IdP.Example.com:443/s&#9;so?a=1 ",
        );
        let body = format!("{}\n{service}", key(None, CERT_B));
        assert_eq!(
            parse(&metadata("", &body)).unwrap().sso_url,
            "https://idp.example.com/sso?a=1"
        );
        for location in [
            "/relative/sso",
            "javascript:alert(1)",
            "ftp://idp.example.com/",
            "",
        ] {
            let service = REDIRECT.replace("https://idp.example.com/saml/sso/redirect", location);
            let body = format!("{}\n{service}", key(None, CERT_B));
            assert!(
                err(&metadata("", &body)).contains("not an absolute http(s) URL"),
                "{location}"
            );
        }
    }

    #[test]
    fn signing_certificates_are_required_and_checked() {
        let enc_only = format!("{}\n{REDIRECT}", key(Some("encryption"), CERT_ENC));
        assert!(err(&metadata("", &enc_only)).contains("no signing certificate"));
        let none = REDIRECT.to_string();
        assert!(err(&metadata("", &none)).contains("no signing certificate"));
        // A broken encryption certificate does not matter; a broken signing one does.
        let enc_garbage = format!(
            "{}\n{}\n{REDIRECT}",
            key(Some("encryption"), "!!!"),
            key(Some("signing"), CERT_B)
        );
        assert!(parse(&metadata("", &enc_garbage)).is_ok());
        for garbage in [
            "not base64 at all!",
            "SGVsbG8gd29ybGQ=",     // base64 of text, not DER
            "MAoCAQECAQICAQMAAAAA", // a SEQUENCE with trailing bytes
            "MIQAAAAK",             // an absurd length
            "",
        ] {
            let body = format!("{}\n{REDIRECT}", key(Some("signing"), garbage));
            let msg = err(&metadata("", &body));
            assert!(msg.contains("not base64-encoded DER"), "{garbage}: {msg}");
        }
    }

    #[test]
    fn durations() {
        for (d, s) in [
            ("PT1H", 3600),
            ("P1D", 86_400),
            ("PT5M30S", 330),
            ("P0Y0M1DT2H", 93_600),
            ("PT0.5S", 0),
            ("PT90.25S", 90),
            ("P1Y", 365 * 86_400),
            ("P1M", 30 * 86_400),
            ("P1DT1M", 86_460),
            (" PT10M ", 600),
        ] {
            assert_eq!(parse_duration(d), Some(s), "{d}");
        }
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "-PT1H",
            "PT1D",
            "P1H",
            "P1S",
            "PT1M1H",
            "P1D1Y",
            "PT.5S",
            "PT1.S",
            "PT1.5H",
            "PTS",
            "P99999999999999999999Y",
            "P9223372036854775807D",
            "pt1h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let bad = realistic().replace("PT1H", "an hour");
        assert_eq!(err(&bad), "SAML Metadata has an invalid cacheDuration");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_datetime("2026-12-01T10:00:00Z"), Some(1_796_119_200));
        assert_eq!(
            parse_datetime("2026-12-01T10:00:00.123456Z"),
            Some(1_796_119_200)
        );
        assert_eq!(
            parse_datetime("2026-12-01T11:00:00+01:00"),
            Some(1_796_119_200)
        );
        assert_eq!(
            parse_datetime("2026-12-01T05:30:00-04:30"),
            Some(1_796_119_200)
        );
        assert_eq!(parse_datetime("2026-12-01T10:00:00"), Some(1_796_119_200));
        assert_eq!(parse_datetime("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_datetime("1969-12-31T23:59:59Z"), Some(-1));
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01 10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-02-29T10:00:00Z",
            "2026-04-31T10:00:00Z",
            "2026-12-00T10:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:60:00Z",
            "2026-12-01T10:00:60Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00+1:00",
            "2026-12-01T10:00:00+15:00",
            "2026-12-01T10:00:00+01:00Z",
            "2026-12-01T10:00:00z",
            "26-12-01T10:00:00Z",
            "+2026-12-01T10:00:00Z",
            "2026-1é-01T10:00:00Z",
            "2026-12-01T10:00:00Zjunk",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        let offset = realistic().replace("2026-12-01T10:00:00Z", "2026-12-01T12:00:00.5+02:00");
        assert_eq!(parse(&offset).unwrap().valid_until, Some(1_796_119_200));
        let bad = realistic().replace("2026-12-01T10:00:00Z", "tomorrow");
        assert_eq!(
            err(&bad),
            "SAML Metadata has an invalid validUntil timestamp"
        );
    }

    #[test]
    fn messages_do_not_echo_the_document() {
        let secret = "SECRET-PAYLOAD-".repeat(10);
        for xml in [
            format!("<md:EntityDescriptor xmlns:md=\"urn:x\">{secret}"),
            format!("<!DOCTYPE {secret}>"),
            format!("<a>&{secret};</a>"),
            realistic().replace("PT1H", &secret),
            realistic().replace("https://idp.example.com/saml/sso/redirect", &secret),
        ] {
            assert!(!err(&xml).contains("SECRET"), "{}", err(&xml));
        }
    }

    #[test]
    fn staleness_follows_validity_and_cache_duration() {
        let mut m = IdpMetadata {
            entity_id: "e".into(),
            sso_url: "https://idp.example/sso".into(),
            certificates: vec![],
            valid_until: None,
            cache_duration_s: None,
        };
        assert!(!is_stale(&m, 3600.0, 1_000));
        assert!(is_stale(&m, 90_000.0, 1_000));
        m.cache_duration_s = Some(600);
        assert!(!is_stale(&m, 300.0, 1_000));
        assert!(is_stale(&m, 601.0, 1_000));
        m.cache_duration_s = None;
        m.valid_until = Some(2_000);
        assert!(!is_stale(&m, 90_000.0, 1_000));
        assert!(is_stale(&m, 0.0, 2_001));
    }
}
