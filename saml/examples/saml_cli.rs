//! A JSON-in, JSON-out front of auth_saml for the acceptance driver (saml/tests/drive.py).
//!
//! stdin, one JSON object:
//! - `{"op":"request","idp_sso_url","sp_entity_id","acs_url","relay_state"?,"name_id_format"?}`
//!   → `{"id","url","xml"}`
//! - `{"op":"metadata","sp_entity_id","acs_url"}` → `{"xml"}`
//! - `{"op":"verify","idp_entity_id","idp_cert_pem","sp_entity_id","acs_url",
//!    "cases":[{"name","b64","expected_request_id"?,"guard"?,"one_assertion"?,"signature_shape"?}]}`
//!   → `{"results":[{"name","accepted","refusal"?,"by"?,"assertion"?}]}`
//!
//! `verify` runs the cases in order, each through `verify_response` (stateless), then, unless
//! `"guard": false`, through what the database will do on success (docs/sso.md): take the
//! request ID (the relay state) once and remember an assertion ID until it expires. `by` says
//! which refused. `one_assertion` / `signature_shape` false turn those structural checks off (to
//! see what libxmlsec1's pre-digest refuses on its own).

use std::collections::HashSet;
use std::io::Read;

use auth_saml::request::{new_request_id, sp_metadata, AuthnRequest};
use auth_saml::{verify_response_with, Assertion, Layers};
use chrono::Utc;
use serde_json::{json, Value};

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn assertion_json(a: &Assertion) -> Value {
    json!({
        "assertion_id": a.assertion_id,
        "issuer": a.issuer,
        "name_id": a.name_id,
        "name_id_format": a.name_id_format,
        "attributes": a.attributes.iter().map(|at| json!({
            "name": at.name, "friendly_name": at.friendly_name, "values": at.values,
        })).collect::<Vec<_>>(),
        "session_not_on_or_after": a.session_not_on_or_after.map(|t| t.to_rfc3339()),
        "not_on_or_after": a.not_on_or_after.to_rfc3339(),
        "in_response_to": a.in_response_to,
        "response_signed": a.response_signed,
    })
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let req: Value = serde_json::from_str(&input).expect("a JSON object on stdin");
    let need = |k: &str| s(&req, k).unwrap_or_else(|| panic!("{k} is required"));
    let out = match need("op") {
        "request" => {
            let id = new_request_id();
            let r = AuthnRequest {
                id: &id,
                idp_sso_url: need("idp_sso_url"),
                sp_entity_id: need("sp_entity_id"),
                acs_url: need("acs_url"),
                issue_instant: Utc::now(),
                name_id_format: s(&req, "name_id_format"),
                force_authn: false,
            };
            json!({"id": id, "url": r.redirect_url(s(&req, "relay_state")), "xml": r.xml()})
        }
        "metadata" => json!({"xml": sp_metadata(need("sp_entity_id"), need("acs_url"), None)}),
        "verify" => {
            let mut spent_requests = HashSet::new();
            let mut spent_assertions = HashSet::new();
            let cases = req.get("cases").and_then(Value::as_array).expect("cases");
            let results: Vec<Value> = cases
                .iter()
                .map(|c| {
                    let name = s(c, "name").unwrap_or("");
                    let expected = s(c, "expected_request_id");
                    let started = std::time::Instant::now();
                    let flag = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(true);
                    let verdict = verify_response_with(
                        s(c, "b64").unwrap_or(""),
                        need("idp_entity_id"),
                        need("idp_cert_pem"),
                        need("sp_entity_id"),
                        need("acs_url"),
                        expected,
                        Utc::now(),
                        Layers {
                            one_assertion: flag("one_assertion"),
                            signature_shape: flag("signature_shape"),
                        },
                    );
                    let micros = started.elapsed().as_micros() as u64;
                    match verdict {
                        Err(r) => json!({"name": name, "accepted": false, "by": "verify_response",
                                         "refusal": r.detail(), "micros": micros}),
                        Ok(a) => {
                            let replay = flag("guard") && {
                                let request_taken = match &a.in_response_to {
                                    Some(id) => !spent_requests.insert(id.clone()),
                                    None => false,
                                };
                                let assertion_seen = !spent_assertions.insert(a.assertion_id.clone());
                                request_taken || assertion_seen
                            };
                            if replay {
                                json!({"name": name, "accepted": false, "by": "database (replay)",
                                       "refusal": "relay state already taken / assertion ID already seen",
                                       "micros": micros, "assertion": assertion_json(&a)})
                            } else {
                                json!({"name": name, "accepted": true, "micros": micros,
                                       "assertion": assertion_json(&a)})
                            }
                        }
                    }
                })
                .collect();
            json!({"results": results})
        }
        op => panic!("unknown op {op}"),
    };
    println!("{out}");
}
