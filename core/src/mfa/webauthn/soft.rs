//! A software WebAuthn authenticator, for tests and benchmarks only.
//!
//! [`SoftKey`] is an ES256 (P-256) key with "none" attestation and a signature counter that
//! answers [`super::start_registration`]'s and [`super::start_authentication`]'s options as a
//! browser would post them (auth-js's JSON). It holds its private key in memory, checks nothing
//! and signs whatever it is given: it is a **test and bench tool that the extension must never
//! use**. It is compiled only for auth_core's own tests and with the `soft-authenticator` cargo
//! feature, which only the bench crate (bench/src/passkey_fixtures.rs) enables.

use std::collections::BTreeMap;

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::b64url;

/// Flag bits of the authenticator data beyond UP (user present, always set).
pub mod flags {
    /// User verified (PIN, biometrics).
    pub const UV: u8 = 0x04;
    /// Backup eligible: the key may be synced.
    pub const BE: u8 = 0x08;
    /// Backed up: the key is synced.
    pub const BS: u8 = 0x10;
}

/// A software authenticator: an ES256 key, "none" attestation, a counter.
#[derive(Clone)]
pub struct SoftKey {
    /// The private key.
    pub key: SigningKey,
    /// The credential id.
    pub id: Vec<u8>,
    /// The signature counter: the value of the last answer (advanced by [`Self::sign_in`]).
    pub counter: u32,
    /// The relying party id whose hash it puts in the authenticator data.
    pub rp_id: String,
    /// The origin it puts in the client data (the browser's part).
    pub origin: String,
    /// Flags beyond UP: [`flags::UV`], [`flags::BE`], [`flags::BS`].
    pub flags: u8,
    /// The authenticator model reported at registration.
    pub aaguid: [u8; 16],
}

impl SoftKey {
    /// A new random key with a random 16-byte credential id, for `rp_id` at `origin`: user
    /// verification on, no backup, counter 0, AAGUID `aa…aa`.
    pub fn new(rp_id: &str, origin: &str) -> Self {
        SoftKey {
            key: SigningKey::random(&mut rand_core::OsRng),
            id: crate::random::bytes::<16>().to_vec(),
            counter: 0,
            rp_id: rp_id.into(),
            origin: origin.into(),
            flags: flags::UV,
            aaguid: [0xAA; 16],
        }
    }

    /// The public key as a COSE_Key (EC2, P-256, ES256): what the relying party stores.
    pub fn cose(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut m = BTreeMap::new();
        m.insert(Cbor::Integer(1), Cbor::Integer(2));
        m.insert(Cbor::Integer(3), Cbor::Integer(-7));
        m.insert(Cbor::Integer(-1), Cbor::Integer(1));
        m.insert(
            Cbor::Integer(-2),
            Cbor::Bytes(point.x().expect("uncompressed point").to_vec()),
        );
        m.insert(
            Cbor::Integer(-3),
            Cbor::Bytes(point.y().expect("uncompressed point").to_vec()),
        );
        serde_cbor_2::to_vec(&Cbor::Map(m)).expect("CBOR of a map of integers and bytes")
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["challenge"].as_str().unwrap_or_default();
        serde_json::to_vec(&json!({
            "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false,
        }))
        .expect("JSON of strings")
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut d = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        d.push(0x01 | self.flags | if attested { 0x40 } else { 0 });
        d.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            d.extend_from_slice(&self.aaguid);
            d.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            d.extend_from_slice(&self.id);
            d.extend_from_slice(&self.cose());
        }
        d
    }

    /// `navigator.credentials.create()`'s answer to `options` (unwrapped: an MFA ceremony's
    /// `publicKey`), as auth-js posts it.
    pub fn register(&self, options: &Value) -> String {
        let client_data = self.client_data("webauthn.create", options);
        let mut m = BTreeMap::new();
        m.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
        m.insert(Cbor::Text("attStmt".into()), Cbor::Map(BTreeMap::new()));
        m.insert(
            Cbor::Text("authData".into()),
            Cbor::Bytes(self.auth_data(true)),
        );
        let object = serde_cbor_2::to_vec(&Cbor::Map(m)).expect("CBOR of an attestation object");
        json!({
            "id": b64url(&self.id),
            "rawId": b64url(&self.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(&client_data),
                "attestationObject": b64url(&object),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {"credProps": {"rk": true}},
            "authenticatorAttachment": "platform",
        })
        .to_string()
    }

    /// `navigator.credentials.get()`'s answer to `options` (unwrapped), the counter advanced by
    /// `step` first; `handle` is the user handle a discoverable credential reports (a passkey's:
    /// the user id's text).
    pub fn sign_in(&mut self, options: &Value, handle: Option<&[u8]>, step: u32) -> String {
        self.counter += step;
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        let mut response = json!({
            "clientDataJSON": b64url(&client_data),
            "authenticatorData": b64url(&auth_data),
            "signature": b64url(signature.to_der().as_bytes()),
        });
        if let Some(h) = handle {
            response["userHandle"] = json!(b64url(h));
        }
        json!({
            "id": b64url(&self.id), "rawId": b64url(&self.id), "type": "public-key",
            "response": response, "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
        .to_string()
    }
}
