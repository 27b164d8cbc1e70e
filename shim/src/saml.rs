//! The shim's side of SAML SSO: the XML. It builds the AuthnRequest and verifies the IdP's
//! signed response with libxmlsec1 (through `auth_saml`), here and never in a database backend
//! (PostgreSQL links libxml2 itself; xmlsec would share its global state). What the database
//! handed out for the flow (the IdP's certificates and entity ID, our entity ID and ACS URL,
//! the request's ID) is exactly what the response is verified against; what the verified
//! assertion means is decided in the database (src/sso/).

use std::sync::LazyLock;

use auth_saml::request::AuthnRequest;
use auth_saml::Refusal;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

/// Verifications at once: each takes a few milliseconds of CPU; a flood of posts must not take
/// every worker thread.
static VERIFYING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// What `auth.saml_acs_take` answered: the inputs of the verification.
pub struct Expected {
    pub idp_entity_id: String,
    /// PEM certificates (every signing key of the IdP's metadata).
    pub certificates: Vec<String>,
    pub sp_entity_id: String,
    pub acs_url: String,
    pub request_id: Option<String>,
}

impl Expected {
    pub fn from_take(taken: &Value) -> Option<Expected> {
        let text = |k: &str| taken.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Expected {
            idp_entity_id: text("idp_entity_id")?,
            certificates: taken
                .get("certificates")?
                .as_array()?
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
            sp_entity_id: text("sp_entity_id")?,
            acs_url: text("acs_url")?,
            request_id: text("request_id"),
        })
    }
}

/// How long a post waits for a verification slot before it is refused (a flood must not queue
/// up behind the slots until every relay state in line has gone stale).
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Verifies with each of the IdP's certificates in turn (a key rollover lists the new one
/// beside the old; libxmlsec1 given several stops at the first whose key type differs): the
/// first that verifies wins; a refusal that is not about the signature is the same for all.
fn verify_each(saml_response: &str, expected: &Expected) -> Result<auth_saml::Assertion, Refusal> {
    let mut refusal = Refusal::BadSignature;
    for pem in &expected.certificates {
        match auth_saml::verify_response(
            saml_response,
            &expected.idp_entity_id,
            pem,
            &expected.sp_entity_id,
            &expected.acs_url,
            expected.request_id.as_deref(),
            chrono::Utc::now(),
        ) {
            Ok(a) => return Ok(a),
            Err(Refusal::BadSignature) => continue,
            Err(r) => {
                refusal = r;
                break;
            }
        }
    }
    Err(refusal)
}

/// Verifies a posted `SAMLResponse`: the assertion as `auth.saml_acs_finish` takes it, or the
/// refusal's code (never the document's content).
pub async fn verify(saml_response: String, expected: Expected) -> Result<Value, &'static str> {
    let _permit = tokio::time::timeout(SLOT_WAIT, VERIFYING.acquire())
        .await
        .map_err(|_| "busy")?
        .map_err(|_| "busy")?;
    tokio::task::spawn_blocking(move || {
        verify_each(&saml_response, &expected)
            .map(|a| {
                json!({
                    "assertion_id": a.assertion_id,
                    "issuer": a.issuer,
                    "name_id": a.name_id,
                    "name_id_format": a.name_id_format,
                    "attributes": a.attributes.iter().map(|at| json!({
                        "name": at.name,
                        "friendly_name": at.friendly_name,
                        "values": at.values,
                    })).collect::<Vec<_>>(),
                    "session_not_on_or_after": a.session_not_on_or_after.map(|t| t.timestamp()),
                    "not_on_or_after": a.not_on_or_after.timestamp(),
                    "in_response_to": a.in_response_to,
                })
            })
            .map_err(|r| r.code())
    })
    .await
    .map_err(|_| "internal")?
}

/// The response's issuer, unverified: which IdP an unsolicited (IdP-initiated) response claims
/// to come from, to look up what to verify it with. Parsed off the async workers.
pub async fn peek_issuer(saml_response: String) -> Option<String> {
    tokio::task::spawn_blocking(move || auth_saml::peek_issuer(&saml_response).ok())
        .await
        .ok()
        .flatten()
}

/// The URL the browser is sent to: the IdP's SSO service with a deflated AuthnRequest
/// (HTTP-Redirect binding) and the relay state.
pub fn authn_request_url(start: &Value) -> Option<String> {
    let text = |k: &str| start.get(k).and_then(Value::as_str);
    let request = AuthnRequest {
        id: text("request_id")?,
        idp_sso_url: text("sso_url")?,
        sp_entity_id: text("sp_entity_id")?,
        acs_url: text("acs_url")?,
        issue_instant: chrono::Utc::now(),
        name_id_format: text("name_id_format"),
        force_authn: false,
    };
    Some(request.redirect_url(text("relay_state")))
}

/// Our metadata document (GoTrue's `GET /sso/saml/metadata`).
pub fn sp_metadata(sp_entity_id: &str, acs_url: &str) -> String {
    auth_saml::request::sp_metadata(sp_entity_id, acs_url, None)
}
