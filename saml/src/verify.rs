//! The ACS's checks of a posted `SAMLResponse`, in the order they run:
//!
//! 1. size (base64 and decoded), base64, UTF-8, no DTD or entity declaration (XXE, billion
//!    laughs), strictly well-formed (roxmltree: no DTD, bounded node count);
//! 2. the envelope: a `samlp:Response`, status Success (an unsuccessful response is refused with
//!    its status code before anything else is read), exactly one `saml:Assertion`, a child of the
//!    Response; no `EncryptedAssertion`; no `xml:id`; unique `ID`s;
//! 3. the shape of every `ds:Signature` (XSW): a direct child of the Response or of the
//!    Assertion, one Reference whose URI is `#` + its parent's ID, exclusive C14N, the
//!    enveloped-signature and exclusive C14N transforms only, SHA-2 algorithms, no `ds:Object`;
//!    the Response or the Assertion must be signed;
//! 4. the signature (libxmlsec1 through samael): every Signature verifies with the IdP's
//!    certificate (never a key from KeyInfo), and xmlsec's pre-digest bytes of the one signed
//!    element (the Response when signed, else the Assertion) come back;
//! 5. the assertion read **from those pre-digest bytes**: the same ID as the one checked in 3,
//!    Issuer, Destination (when the Response is signed), the bearer SubjectConfirmation
//!    (Recipient = ACS, InResponseTo, NotOnOrAfter), Conditions (NotBefore, NotOnOrAfter,
//!    Audience), an AuthnStatement, the NameID and attributes.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use roxmltree::Node;
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode, XmlSec,
};

use crate::xml::{self, child, children, is, text, ASSERTION, DSIG, PROTOCOL, XML_NS};

/// The largest `SAMLResponse` taken (base64 characters). A response with a certificate and a few
/// dozen attributes is under 20 KB.
pub const MAX_RESPONSE_B64: usize = 256 * 1024;
/// How far the IdP's clock may be from ours (crewjam/saml's MaxClockSkew, as GoTrue).
pub const CLOCK_SKEW: Duration = Duration::seconds(180);
/// How old a response may be when it arrives (crewjam/saml's MaxIssueDelay, 90 s), plus the skew.
pub const MAX_ISSUE_DELAY: Duration = Duration::seconds(90);

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const ALLOWED: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Why a response was refused. `code()` is stable (for logs and tests); none carries the
/// response's content beyond the IdP's status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooLarge,
    NotBase64,
    NotXml,
    /// A DOCTYPE or ENTITY declaration: never parsed.
    Dtd,
    NotAResponse,
    /// The IdP said no (its top-level StatusCode).
    Status(String),
    NoAssertion,
    TooManyAssertions,
    EncryptedAssertion,
    /// An ID used twice, or an `xml:id`: reference resolution would be ambiguous.
    AmbiguousId,
    /// Neither the Response nor the Assertion carries a signature.
    Unsigned,
    /// A signature placed, referenced or built otherwise than an IdP does (wrapping).
    SignatureShape(&'static str),
    /// libxmlsec1 refused a signature (digest, value, key).
    BadSignature,
    WrongIssuer,
    WrongDestination,
    WrongRecipient,
    WrongInResponseTo,
    WrongAudience,
    NotYetValid,
    Expired,
    /// IssueInstant too old, or in the future.
    Stale,
    NoBearerConfirmation,
    NoNameId,
    NoAuthnStatement,
    /// A required time is missing or not an xs:dateTime in UTC.
    BadTime,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::NotBase64 => "not_base64",
            Refusal::NotXml => "not_xml",
            Refusal::Dtd => "dtd",
            Refusal::NotAResponse => "not_a_response",
            Refusal::Status(_) => "status",
            Refusal::NoAssertion => "no_assertion",
            Refusal::TooManyAssertions => "too_many_assertions",
            Refusal::EncryptedAssertion => "encrypted_assertion",
            Refusal::AmbiguousId => "ambiguous_id",
            Refusal::Unsigned => "unsigned",
            Refusal::SignatureShape(_) => "signature_shape",
            Refusal::BadSignature => "bad_signature",
            Refusal::WrongIssuer => "wrong_issuer",
            Refusal::WrongDestination => "wrong_destination",
            Refusal::WrongRecipient => "wrong_recipient",
            Refusal::WrongInResponseTo => "wrong_in_response_to",
            Refusal::WrongAudience => "wrong_audience",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::Expired => "expired",
            Refusal::Stale => "stale",
            Refusal::NoBearerConfirmation => "no_bearer_confirmation",
            Refusal::NoNameId => "no_name_id",
            Refusal::NoAuthnStatement => "no_authn_statement",
            Refusal::BadTime => "bad_time",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Refusal::Status(s) => format!("status {s}"),
            Refusal::SignatureShape(why) => format!("signature_shape: {why}"),
            r => r.code().to_owned(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

impl std::error::Error for Refusal {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub friendly_name: Option<String>,
    pub values: Vec<String>,
}

/// What a verified assertion says, read from the bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub attributes: Vec<Attribute>,
    /// AuthnStatement/@SessionNotOnOrAfter: when GoTrue ends the session (`not_after`).
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// The latest of the assertion's validity times (Conditions, bearer confirmation): until
    /// then its ID must be remembered to refuse a replay of an unsolicited response.
    pub not_on_or_after: DateTime<Utc>,
    /// The request it answers (`None`: IdP-initiated).
    pub in_response_to: Option<String>,
    /// Whether the Response (and so everything in it) was signed, or only the Assertion.
    pub response_signed: bool,
}

/// The Issuer of a response, unverified: only to choose which IdP's certificate to verify it
/// with (an IdP-initiated response has no relay state naming its provider).
pub fn peek_issuer(xml_b64: &str) -> Result<String, Refusal> {
    let xml = decode(xml_b64)?;
    let doc = xml::parse(&xml).map_err(|_| Refusal::NotXml)?;
    let root = doc.root_element();
    if !is(root, PROTOCOL, "Response") {
        return Err(Refusal::NotAResponse);
    }
    child(root, ASSERTION, "Issuer")
        .or_else(|| child(root, ASSERTION, "Assertion").and_then(|a| child(a, ASSERTION, "Issuer")))
        .map(text)
        .filter(|s| !s.is_empty())
        .ok_or(Refusal::WrongIssuer)
}

fn decode(xml_b64: &str) -> Result<String, Refusal> {
    if xml_b64.len() > MAX_RESPONSE_B64 {
        return Err(Refusal::TooLarge);
    }
    // The form field may be wrapped at 76 columns.
    let compact: String = xml_b64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD.decode(compact).map_err(|_| Refusal::NotBase64)?;
    if xml::declares_dtd(&bytes) {
        return Err(Refusal::Dtd);
    }
    String::from_utf8(bytes).map_err(|_| Refusal::NotXml)
}

/// PEM certificate(s) (several during a key rollover) or bare base64 DER, as in metadata.
fn certificates(pem: &str) -> Vec<CertificateDer> {
    let mut out = Vec::new();
    let mut body = String::new();
    let mut inside = !pem.contains("-----BEGIN");
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN") {
            inside = true;
            body.clear();
        } else if line.starts_with("-----END") {
            inside = false;
            if let Ok(der) = STANDARD.decode(&body) {
                out.push(CertificateDer::from(der));
            }
            body.clear();
        } else if inside {
            body.push_str(line);
        }
    }
    if inside && !body.is_empty() {
        if let Ok(der) = STANDARD.decode(&body) {
            out.push(CertificateDer::from(der));
        }
    }
    out
}

fn time(node: Node<'_, '_>, attr: &str) -> Result<Option<DateTime<Utc>>, Refusal> {
    match node.attribute(attr) {
        None => Ok(None),
        Some(v) if v.ends_with('Z') => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| Refusal::BadTime),
        Some(_) => Err(Refusal::BadTime),
    }
}

/// Step 3: the shape of one Signature, a child of `parent` (the Response or the Assertion).
fn check_signature_shape(sig: Node<'_, '_>, parent: Node<'_, '_>) -> Result<(), Refusal> {
    use Refusal::SignatureShape as Shape;
    let id = parent
        .attribute("ID")
        .ok_or(Shape("signed element without an ID"))?;
    if sig
        .descendants()
        .any(|n| is(n, DSIG, "Object") || is(n, DSIG, "Manifest"))
    {
        return Err(Shape("ds:Object or ds:Manifest in a signature"));
    }
    let signed_info = child(sig, DSIG, "SignedInfo").ok_or(Shape("no SignedInfo"))?;
    let c14n = child(signed_info, DSIG, "CanonicalizationMethod")
        .and_then(|n| n.attribute("Algorithm"))
        .ok_or(Shape("no CanonicalizationMethod"))?;
    if c14n != EXC_C14N {
        return Err(Shape("SignedInfo not canonicalized by exclusive C14N"));
    }
    let method = child(signed_info, DSIG, "SignatureMethod")
        .and_then(|n| n.attribute("Algorithm"))
        .ok_or(Shape("no SignatureMethod"))?;
    if !ALLOWED.iter().any(|a| a.signature_uri() == method) {
        return Err(Shape("signature algorithm not allowed"));
    }
    let mut references = children(signed_info, DSIG, "Reference");
    let reference = references.next().ok_or(Shape("no Reference"))?;
    if references.next().is_some() {
        return Err(Shape("more than one Reference"));
    }
    if reference.attribute("URI") != Some(&format!("#{id}")) {
        return Err(Shape("the Reference is not to the signature's parent"));
    }
    let transforms: Vec<&str> = child(reference, DSIG, "Transforms")
        .map(|t| {
            children(t, DSIG, "Transform")
                .map(|n| n.attribute("Algorithm").unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    if !transforms.contains(&ENVELOPED) {
        return Err(Shape("not an enveloped signature"));
    }
    if transforms.iter().any(|t| *t != ENVELOPED && *t != EXC_C14N) {
        return Err(Shape(
            "a transform other than enveloped-signature and exclusive C14N",
        ));
    }
    let digest = child(reference, DSIG, "DigestMethod")
        .and_then(|n| n.attribute("Algorithm"))
        .ok_or(Shape("no DigestMethod"))?;
    if !ALLOWED.iter().any(|a| a.digest_uri() == digest) {
        return Err(Shape("digest algorithm not allowed"));
    }
    Ok(())
}

/// Verifies a base64 `SAMLResponse` posted to `acs_url` against the IdP's certificate(s).
///
/// `expected_request_id`: the ID of the AuthnRequest this answers (from the relay state), or
/// `None` for an IdP-initiated (unsolicited) response, which must then carry no InResponseTo.
/// Replays are not refused here: the caller takes the relay state once and remembers the
/// assertion ID of an unsolicited response until `not_on_or_after`.
pub fn verify_response(
    xml_b64: &str,
    idp_entity_id: &str,
    idp_cert_pem: &str,
    sp_entity_id: &str,
    acs_url: &str,
    expected_request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Assertion, Refusal> {
    verify_response_with(
        xml_b64,
        idp_entity_id,
        idp_cert_pem,
        sp_entity_id,
        acs_url,
        expected_request_id,
        now,
        Layers::ALL,
    )
}

/// Which of the structural checks run: all of them, always, outside of tests. Turning some off
/// shows what the later ones (libxmlsec1's pre-digest) refuse on their own (saml/tests/drive.py).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Layers {
    /// Step 2's "exactly one Assertion, a child of the Response".
    pub one_assertion: bool,
    /// Step 3, the shape and place of every Signature.
    pub signature_shape: bool,
}

impl Layers {
    pub const ALL: Layers = Layers {
        one_assertion: true,
        signature_shape: true,
    };
}

#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn verify_response_with(
    xml_b64: &str,
    idp_entity_id: &str,
    idp_cert_pem: &str,
    sp_entity_id: &str,
    acs_url: &str,
    expected_request_id: Option<&str>,
    now: DateTime<Utc>,
    layers: Layers,
) -> Result<Assertion, Refusal> {
    // 1. Bytes.
    let xml_text = decode(xml_b64)?;
    let doc = xml::parse(&xml_text).map_err(|_| Refusal::NotXml)?;

    // 2. The envelope as posted.
    let root = doc.root_element();
    if !is(root, PROTOCOL, "Response") || root.attribute("Version") != Some("2.0") {
        return Err(Refusal::NotAResponse);
    }
    let status = child(root, PROTOCOL, "Status")
        .and_then(|s| child(s, PROTOCOL, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .ok_or(Refusal::NotAResponse)?;
    if status != SUCCESS {
        return Err(Refusal::Status(status.to_owned()));
    }
    if doc
        .descendants()
        .any(|n| is(n, ASSERTION, "EncryptedAssertion"))
    {
        return Err(Refusal::EncryptedAssertion);
    }
    let assertions: Vec<Node> = doc
        .descendants()
        .filter(|n| is(*n, ASSERTION, "Assertion"))
        .collect();
    let assertion = match assertions.as_slice() {
        [] => return Err(Refusal::NoAssertion),
        [a] => *a,
        [a, ..] if !layers.one_assertion => *a,
        _ => return Err(Refusal::TooManyAssertions),
    };
    if layers.one_assertion && assertion.parent() != Some(root) {
        return Err(Refusal::SignatureShape(
            "the assertion is not a child of the response",
        ));
    }
    let mut ids = HashSet::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            if a.namespace() == Some(XML_NS) && a.name() == "id" {
                return Err(Refusal::AmbiguousId);
            }
            // libxml2 (which xmlsec resolves references with) matches `ID` whatever its
            // namespace: a prefixed one is an ID to it and not to us. None is allowed.
            if a.namespace().is_some() && a.name() == "ID" {
                return Err(Refusal::AmbiguousId);
            }
            if a.namespace().is_none() && a.name() == "ID" && !ids.insert(a.value()) {
                return Err(Refusal::AmbiguousId);
            }
        }
    }

    // 3. Where the signatures are and what they reference.
    let mut response_signed = false;
    let mut assertion_signed = false;
    let signatures: Vec<Node> = doc
        .descendants()
        .filter(|n| is(*n, DSIG, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(Refusal::Unsigned);
    }
    if layers.signature_shape {
        for sig in signatures {
            let parent = sig.parent().filter(|p| p.is_element());
            match parent {
                Some(p) if p == root && !response_signed => response_signed = true,
                Some(p) if p == assertion && !assertion_signed => assertion_signed = true,
                _ => {
                    return Err(Refusal::SignatureShape(
                        "a signature outside the response and its assertion",
                    ))
                }
            }
            check_signature_shape(sig, parent.expect("matched above"))?;
        }
        if !response_signed && !assertion_signed {
            return Err(Refusal::Unsigned);
        }
    }
    let assertion_id = assertion
        .attribute("ID")
        .ok_or(Refusal::NoAssertion)?
        .to_owned();

    // 4. The signatures, by libxmlsec1, with the IdP's certificates only.
    let certs = certificates(idp_cert_pem);
    if certs.is_empty() {
        return Err(Refusal::BadSignature);
    }
    let predigest = XmlSec::reduce_xml_to_signed_with_allowed_algorithms(
        &xml_text,
        &certs,
        ReduceMode::PreDigest,
        Some(&ALLOWED),
    )
    .map_err(|_| Refusal::BadSignature)?;

    // 5. The signed bytes: the Response (when signed) or the Assertion.
    let signed = xml::parse(&predigest).map_err(|_| Refusal::BadSignature)?;
    let signed_root = signed.root_element();
    if !layers.signature_shape {
        response_signed = is(signed_root, PROTOCOL, "Response");
    }
    let (response, assertion) = if response_signed {
        if !is(signed_root, PROTOCOL, "Response")
            || signed_root.attribute("ID") != root.attribute("ID")
        {
            return Err(Refusal::SignatureShape(
                "the signed element is not the response",
            ));
        }
        let mut found = children(signed_root, ASSERTION, "Assertion");
        let a = found.next().ok_or(Refusal::NoAssertion)?;
        if found.next().is_some() {
            return Err(Refusal::TooManyAssertions);
        }
        (Some(signed_root), a)
    } else {
        if !is(signed_root, ASSERTION, "Assertion") {
            return Err(Refusal::SignatureShape(
                "the signed element is not the assertion",
            ));
        }
        (None, signed_root)
    };
    if assertion.attribute("ID") != Some(assertion_id.as_str()) {
        return Err(Refusal::SignatureShape(
            "the signed assertion is not the one posted",
        ));
    }

    // The Response's own fields: trusted when it is signed; else consistency checks only.
    let envelope = response.unwrap_or(root);
    if let Some(destination) = envelope.attribute("Destination") {
        if destination != acs_url {
            return Err(Refusal::WrongDestination);
        }
    } else if response_signed {
        // saml-bindings §3.5.5.2: a signed response over HTTP-POST must carry its Destination.
        return Err(Refusal::WrongDestination);
    }
    if let Some(irt) = envelope.attribute("InResponseTo") {
        if Some(irt) != expected_request_id {
            return Err(Refusal::WrongInResponseTo);
        }
    }
    if let Some(issued) = time(envelope, "IssueInstant")? {
        if issued > now + CLOCK_SKEW || now - issued > MAX_ISSUE_DELAY + CLOCK_SKEW {
            return Err(Refusal::Stale);
        }
    }

    let issuer = child(assertion, ASSERTION, "Issuer")
        .map(text)
        .unwrap_or_default();
    if issuer != idp_entity_id {
        return Err(Refusal::WrongIssuer);
    }
    if let Some(outer) = child(envelope, ASSERTION, "Issuer") {
        if text(outer) != issuer {
            return Err(Refusal::WrongIssuer);
        }
    }
    let issued = time(assertion, "IssueInstant")?.ok_or(Refusal::BadTime)?;
    if issued > now + CLOCK_SKEW || now - issued > MAX_ISSUE_DELAY + CLOCK_SKEW {
        return Err(Refusal::Stale);
    }

    // Subject: the NameID and a bearer confirmation for this ACS and this request.
    let subject = child(assertion, ASSERTION, "Subject").ok_or(Refusal::NoNameId)?;
    let name_id_node = child(subject, ASSERTION, "NameID").ok_or(Refusal::NoNameId)?;
    let name_id = text(name_id_node);
    if name_id.is_empty() {
        return Err(Refusal::NoNameId);
    }
    let mut latest = None;
    let mut confirmation_refusal = Refusal::NoBearerConfirmation;
    let mut confirmed = false;
    for sc in children(subject, ASSERTION, "SubjectConfirmation") {
        if sc.attribute("Method") != Some(BEARER) {
            continue;
        }
        let Some(data) = child(sc, ASSERTION, "SubjectConfirmationData") else {
            continue;
        };
        let check = || -> Result<DateTime<Utc>, Refusal> {
            if data.attribute("Recipient") != Some(acs_url) {
                return Err(Refusal::WrongRecipient);
            }
            if data.attribute("InResponseTo") != expected_request_id {
                return Err(Refusal::WrongInResponseTo);
            }
            if let Some(nb) = time(data, "NotBefore")? {
                if nb > now + CLOCK_SKEW {
                    return Err(Refusal::NotYetValid);
                }
            }
            let noa = time(data, "NotOnOrAfter")?.ok_or(Refusal::BadTime)?;
            if now - CLOCK_SKEW >= noa {
                return Err(Refusal::Expired);
            }
            Ok(noa)
        };
        match check() {
            Ok(noa) => {
                confirmed = true;
                latest = Some(noa);
                break;
            }
            Err(r) => confirmation_refusal = r,
        }
    }
    if !confirmed {
        return Err(confirmation_refusal);
    }

    // Conditions: times and audience (every AudienceRestriction must name us).
    let conditions = child(assertion, ASSERTION, "Conditions").ok_or(Refusal::WrongAudience)?;
    if let Some(nb) = time(conditions, "NotBefore")? {
        if nb > now + CLOCK_SKEW {
            return Err(Refusal::NotYetValid);
        }
    }
    if let Some(noa) = time(conditions, "NotOnOrAfter")? {
        if now - CLOCK_SKEW >= noa {
            return Err(Refusal::Expired);
        }
        latest = latest.max(Some(noa));
    }
    let restrictions: Vec<Node> = children(conditions, ASSERTION, "AudienceRestriction").collect();
    if restrictions.is_empty()
        || !restrictions
            .iter()
            .all(|r| children(*r, ASSERTION, "Audience").any(|a| text(a) == sp_entity_id))
    {
        return Err(Refusal::WrongAudience);
    }

    let authn = child(assertion, ASSERTION, "AuthnStatement").ok_or(Refusal::NoAuthnStatement)?;
    let session_not_on_or_after = time(authn, "SessionNotOnOrAfter")?;

    let attributes = children(assertion, ASSERTION, "AttributeStatement")
        .flat_map(|s| children(s, ASSERTION, "Attribute"))
        .filter_map(|a| {
            Some(Attribute {
                name: a.attribute("Name")?.to_owned(),
                friendly_name: a.attribute("FriendlyName").map(str::to_owned),
                values: children(a, ASSERTION, "AttributeValue").map(text).collect(),
            })
        })
        .collect();

    Ok(Assertion {
        assertion_id,
        issuer,
        name_id,
        name_id_format: name_id_node.attribute("Format").map(str::to_owned),
        attributes,
        session_not_on_or_after,
        not_on_or_after: latest.expect("a bearer confirmation was found"),
        in_response_to: expected_request_id.map(str::to_owned),
        response_signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    fn run(xml: &str) -> Result<Assertion, Refusal> {
        verify_response(&b64(xml), "idp", CERT, "sp", "acs", Some("_r"), now())
    }

    const NS: &str = r#"xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#""#;
    const OK: &str = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#;

    #[test]
    fn refuses_before_parsing() {
        assert_eq!(
            verify_response(
                &"A".repeat(MAX_RESPONSE_B64 + 4),
                "idp",
                CERT,
                "sp",
                "acs",
                None,
                now()
            ),
            Err(Refusal::TooLarge)
        );
        assert_eq!(
            verify_response("%%%", "idp", CERT, "sp", "acs", None, now()),
            Err(Refusal::NotBase64)
        );
        assert_eq!(
            run(r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#),
            Err(Refusal::Dtd)
        );
        assert_eq!(run("<r>"), Err(Refusal::NotXml));
        assert_eq!(run("<r/>"), Err(Refusal::NotAResponse));
    }

    #[test]
    fn refuses_the_envelope() {
        let resp = |body: &str| {
            format!(r#"<samlp:Response {NS} ID="_1" Version="2.0">{body}</samlp:Response>"#)
        };
        let failed = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"/></samlp:Status>"#;
        assert_eq!(
            run(&resp(failed)),
            Err(Refusal::Status(
                "urn:oasis:names:tc:SAML:2.0:status:Requester".into()
            ))
        );
        assert_eq!(run(&resp(OK)), Err(Refusal::NoAssertion));
        let two = format!(r#"{OK}<saml:Assertion ID="_a"/><saml:Assertion ID="_b"/>"#);
        assert_eq!(run(&resp(&two)), Err(Refusal::TooManyAssertions));
        let dup = format!(r#"{OK}<samlp:Extensions ID="_a"/><saml:Assertion ID="_a"/>"#);
        assert_eq!(run(&resp(&dup)), Err(Refusal::AmbiguousId));
        let xmlid = format!(r#"{OK}<saml:Assertion ID="_a" xml:id="_a"/>"#);
        assert_eq!(run(&resp(&xmlid)), Err(Refusal::AmbiguousId));
        let unsigned = format!(r#"{OK}<saml:Assertion ID="_a"/>"#);
        assert_eq!(run(&resp(&unsigned)), Err(Refusal::Unsigned));
    }

    fn signature(uri: &str, transforms: &[&str]) -> String {
        let t: String = transforms
            .iter()
            .map(|a| format!(r#"<ds:Transform Algorithm="{a}"/>"#))
            .collect();
        format!(
            r#"<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="{uri}"><ds:Transforms>{t}</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>"#
        )
    }

    #[test]
    fn refuses_misplaced_or_odd_signatures() {
        let resp = |sig: &str, inner: &str| {
            format!(
                r#"<samlp:Response {NS} ID="_1" Version="2.0">{sig}{OK}<saml:Assertion ID="_a">{inner}</saml:Assertion></samlp:Response>"#
            )
        };
        let good = [ENVELOPED, EXC_C14N];
        let shape = |r: Result<Assertion, Refusal>| matches!(r, Err(Refusal::SignatureShape(_)));
        // A reference to another element than the signature's parent.
        assert!(shape(run(&resp(&signature("#_a", &good), ""))));
        // An XPath transform.
        assert!(shape(run(&resp(
            &signature(
                "#_1",
                &[ENVELOPED, "http://www.w3.org/TR/1999/REC-xpath-19991116"]
            ),
            ""
        ))));
        // Not enveloped.
        assert!(shape(run(&resp(&signature("#_1", &[EXC_C14N]), ""))));
        // Two signatures on the assertion.
        let two = format!("{}{}", signature("#_a", &good), signature("#_a", &good));
        assert!(shape(run(&resp("", &two))));
        // A signature inside the subject.
        let deep = format!("<saml:Subject>{}</saml:Subject>", signature("#_a", &good));
        assert!(shape(run(&resp("", &deep))));
        // Well shaped, but the certificate is no certificate: libxmlsec1 says no.
        assert_eq!(
            run(&resp(&signature("#_1", &good), "")),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn reads_pem_bundles() {
        let two = format!("{CERT}{CERT}");
        assert_eq!(certificates(&two).len(), 2);
        assert_eq!(certificates("AAAA").len(), 1);
        assert!(
            certificates("-----BEGIN CERTIFICATE-----\n%%\n-----END CERTIFICATE-----").is_empty()
        );
    }
}
