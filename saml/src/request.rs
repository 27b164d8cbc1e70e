//! What the SP sends: the AuthnRequest (HTTP-Redirect binding) and its metadata document.

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::xml::escape;

pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// A fresh request ID: an NCName (it starts with `_`), 128 random bits.
pub fn new_request_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

pub struct AuthnRequest<'a> {
    /// The request's ID, kept by the SP (with the relay state) to match the response's
    /// `InResponseTo`.
    pub id: &'a str,
    /// The IdP's SingleSignOnService location (HTTP-Redirect binding), the request's Destination.
    pub idp_sso_url: &'a str,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub issue_instant: DateTime<Utc>,
    /// The NameIDPolicy's Format (GoTrue: persistent unless the provider says otherwise).
    pub name_id_format: Option<&'a str>,
    pub force_authn: bool,
}

impl AuthnRequest<'_> {
    pub fn xml(&self) -> String {
        let mut s = String::new();
        s.push_str(r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#);
        s.push_str(&format!(
            r#" ID="{}" Version="2.0" IssueInstant="{}" Destination="{}" AssertionConsumerServiceURL="{}" ProtocolBinding="{}""#,
            escape(self.id),
            self.issue_instant.to_rfc3339_opts(SecondsFormat::Secs, true),
            escape(self.idp_sso_url),
            escape(self.acs_url),
            POST_BINDING,
        ));
        if self.force_authn {
            s.push_str(r#" ForceAuthn="true""#);
        }
        s.push('>');
        s.push_str(&format!(
            "<saml:Issuer>{}</saml:Issuer>",
            escape(self.sp_entity_id)
        ));
        s.push_str(&format!(
            r#"<samlp:NameIDPolicy Format="{}" AllowCreate="true"/>"#,
            escape(self.name_id_format.unwrap_or(NAMEID_PERSISTENT))
        ));
        s.push_str("</samlp:AuthnRequest>");
        s
    }

    /// The HTTP-Redirect binding (saml-bindings §3.4.4.1): the request deflated (raw DEFLATE),
    /// base64, as `SAMLRequest` (with `RelayState`) added to the IdP's SSO URL. Unsigned.
    pub fn redirect_url(&self, relay_state: Option<&str>) -> String {
        let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
        deflater
            .write_all(self.xml().as_bytes())
            .expect("deflate into memory");
        let deflated = deflater.finish().expect("deflate into memory");
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("SAMLRequest", &STANDARD.encode(deflated));
        if let Some(rs) = relay_state {
            query.append_pair("RelayState", rs);
        }
        let sep = if self.idp_sso_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{}{}", self.idp_sso_url, sep, query.finish())
    }
}

/// The SP's metadata (`GET /sso/saml/metadata`): entity ID, the ACS (HTTP-POST), the NameID
/// formats it takes, signed assertions wanted, and its certificate (PEM body) when it has one.
pub fn sp_metadata(sp_entity_id: &str, acs_url: &str, cert_pem: Option<&str>) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{}">"#,
        escape(sp_entity_id)
    ));
    s.push_str(r#"<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#);
    if let Some(pem) = cert_pem {
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        s.push_str(&format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            escape(body.trim())
        ));
    }
    for f in [NAMEID_PERSISTENT, NAMEID_EMAIL] {
        s.push_str(&format!("<md:NameIDFormat>{f}</md:NameIDFormat>"));
    }
    s.push_str(&format!(
        r#"<md:AssertionConsumerService Binding="{POST_BINDING}" Location="{}" index="0" isDefault="true"/>"#,
        escape(acs_url)
    ));
    s.push_str("</md:SPSSODescriptor></md:EntityDescriptor>");
    s
}

/// The binding the SP wants for the AuthnRequest, for the IdP metadata's SSO location.
pub const SSO_BINDING: &str = REDIRECT_BINDING;

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::DeflateDecoder;
    use std::io::Read;

    #[test]
    fn redirect_url_round_trips() {
        let req = AuthnRequest {
            id: "_abc",
            idp_sso_url: "http://idp.test/sso?tenant=1",
            sp_entity_id: "http://sp.test/sso/saml/metadata",
            acs_url: "http://sp.test/sso/saml/acs?x=<y>",
            issue_instant: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            name_id_format: None,
            force_authn: false,
        };
        let url = req.redirect_url(Some("rs-1"));
        assert!(url.starts_with("http://idp.test/sso?tenant=1&SAMLRequest="));
        let query = url.split_once('&').unwrap().1;
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs[1], ("RelayState".into(), "rs-1".into()));
        let deflated = STANDARD.decode(&pairs[0].1).unwrap();
        let mut xml = String::new();
        DeflateDecoder::new(&deflated[..])
            .read_to_string(&mut xml)
            .unwrap();
        assert_eq!(xml, req.xml());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("ID"), Some("_abc"));
        assert_eq!(
            root.attribute("AssertionConsumerServiceURL"),
            Some("http://sp.test/sso/saml/acs?x=<y>")
        );
        assert_eq!(root.attribute("IssueInstant"), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn request_ids_are_ncnames() {
        let id = new_request_id();
        assert!(id.starts_with('_') && id.len() == 33);
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn metadata_is_well_formed() {
        let xml = sp_metadata(
            "http://sp.test/sso/saml/metadata",
            "http://sp.test/sso/saml/acs",
            None,
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element().attribute("entityID"),
            Some("http://sp.test/sso/saml/metadata")
        );
    }
}
