//! WebAuthn ceremonies for MFA `webauthn` factors and passkeys: the pure half (no database).
//!
//! GoTrue runs four ceremonies with one relying party (its `webauthn_rp_*` settings):
//!
//! - [`Flow::Mfa`] registration and authentication, behind `POST /factors/{id}/challenge` and
//!   `/verify` (`credential_options` = `{"publicKey": {...}}`, no resident key);
//! - [`Flow::Passkey`] registration (`POST /passkeys/registration/*`, a resident key required)
//!   and discoverable sign-in (`POST /passkeys/authentication/*`, no `allowCredentials`: the
//!   authenticator names the user through its user handle).
//!
//! Each ceremony has a `start_*` that returns the options the client is sent and a state to store
//! with the challenge row, and a `finish_*` that checks the client's credential against that
//! state. The cryptography (attestation statements, COSE keys, signatures, origins, RP ID hash,
//! flags) is `webauthn-rs-core`'s; this module shapes its input and output as GoTrue's, binds
//! the state to its ceremony, bounds what it parses, and keeps credentials in GoTrue's columns
//! (credential id, COSE public key, AAGUID, sign counter, transports, backup flags).
//!
//! The user handle is the user's id as its 36-character text (GoTrue's `WebAuthnID`), so a
//! passkey made by GoTrue signs in here and the reverse.
//!
//! Refusals: a response that is not a credential is `validation_failed` (MFA, GoTrue's "Invalid
//! credential_response") or `webauthn_verification_failed` "Invalid credential response"
//! (passkeys); one that fails a check is `webauthn_verification_failed`; a signature counter that
//! did not increase (a cloned authenticator) is [`AuthError::webauthn_sign_count_regressed`].

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;
use uuid::Uuid;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::internals::AuthenticatorData;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AttestationFormat, AttestationMetadata, AuthenticationState,
    AuthenticatorTransport, COSEAlgorithm, COSEKey, Credential, ParsedAttestation,
    ParsedAttestationData, PublicKeyCredential, RegisterPublicKeyCredential, RegisteredExtensions,
    Registration, RegistrationState, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

use crate::error::{AuthError, AuthResult};

/// A software authenticator for tests and benchmarks (never for the extension): auth_core's own
/// tests and the `soft-authenticator` feature, which only the bench crate enables.
#[cfg(any(test, feature = "soft-authenticator"))]
pub mod soft;

/// Bytes of a credential response (the JSON the client posts) beyond which it is refused unread.
/// Real ones are a few KB; attestation certificate chains stay well under this.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Bytes of a stored ceremony state beyond which it is refused unread.
pub const MAX_STATE_BYTES: usize = 64 * 1024;
/// Milliseconds the client is told to wait for the user (go-webauthn's default, GoTrue's value).
pub const TIMEOUT_MS: u64 = 300_000;
/// Credential ids longer than this are refused (WebAuthn level 3: at most 1023 bytes).
pub const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

/// Algorithms offered in `pubKeyCredParams`, in GoTrue's order, limited to those the verifier
/// checks: GoTrue also offers ES512, RS384, RS512, PS256-512 and EdDSA.
const ALGORITHMS: [COSEAlgorithm; 3] = [
    COSEAlgorithm::ES256,
    COSEAlgorithm::ES384,
    COSEAlgorithm::RS256,
];
/// GoTrue's transports for the credentials an MFA registration excludes.
const MFA_EXCLUDE_TRANSPORTS: [&str; 2] = ["usb", "nfc"];
/// The version of the state envelope below.
const STATE_VERSION: u8 = 1;

/// Which of GoTrue's two uses of WebAuthn a ceremony serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// A second factor (`mfa_factors` of type `webauthn`): options wrapped in `publicKey`, no
    /// resident key, the user known in advance.
    Mfa,
    /// A passkey (`webauthn_credentials`): a resident (discoverable) key, user verification
    /// preferred, sign-in without a user.
    Passkey,
}

/// The relying party: GoTrue's `GOTRUE_WEBAUTHN_RP_ID`, `_RP_DISPLAY_NAME` and `_RP_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelyingParty {
    /// A domain (`example.com`, `localhost`): the scope of the credentials.
    pub id: String,
    /// Shown by the browser when it asks the user.
    pub name: String,
    /// Origins the ceremonies may run on (`https://app.example.com`), exactly (no wildcard).
    pub origins: Vec<String>,
}

impl RelyingParty {
    /// A checked, normalised relying party: the id as a lower-case domain (no scheme, port, path
    /// or IP address), a non-blank name, and one or more `http(s)` origins (scheme, host, port).
    pub fn new<S: AsRef<str>>(id: &str, name: &str, origins: &[S]) -> AuthResult<Self> {
        let id = check_rp_id(id)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 256 || name.chars().any(char::is_control) {
            return Err(AuthError::validation(
                "webauthn_rp_display_name must be 1 to 256 characters, without control characters",
            ));
        }
        if origins.is_empty() || origins.len() > 64 {
            return Err(AuthError::validation(
                "webauthn_rp_origins must list 1 to 64 origins (https://app.example.com)",
            ));
        }
        let mut checked: Vec<String> = Vec::with_capacity(origins.len());
        for origin in origins {
            let origin = check_origin(origin.as_ref())?;
            if !checked.contains(&origin) {
                checked.push(origin);
            }
        }
        Ok(RelyingParty {
            id,
            name: name.to_owned(),
            origins: checked,
        })
    }

    /// The verifier for this relying party; re-checks fields set by hand.
    fn verifier(&self) -> AuthResult<(RelyingParty, WebauthnCore)> {
        let rp = RelyingParty::new(&self.id, &self.name, &self.origins)?;
        let urls = rp
            .origins
            .iter()
            .map(|o| Url::parse(o).map_err(|_| AuthError::Internal))
            .collect::<AuthResult<Vec<_>>>()?;
        let core = WebauthnCore::new_unsafe_experts_only(
            &rp.name,
            &rp.id,
            urls,
            Duration::from_millis(TIMEOUT_MS),
            Some(false),
            Some(false),
        );
        Ok((rp, core))
    }
}

fn check_rp_id(id: &str) -> AuthResult<String> {
    let id = id.trim();
    let bad = || {
        AuthError::validation(
            "webauthn_rp_id must be a domain name such as example.com (no scheme, port or path)",
        )
    };
    if id.is_empty() || id.len() > 253 {
        return Err(bad());
    }
    match url::Host::parse(id) {
        Ok(url::Host::Domain(domain))
            if domain
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63) =>
        {
            Ok(domain)
        }
        Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => Err(AuthError::validation(
            "webauthn_rp_id must be a domain name: WebAuthn does not accept IP addresses",
        )),
        _ => Err(bad()),
    }
}

fn check_origin(origin: &str) -> AuthResult<String> {
    let bad = || {
        AuthError::validation(format!(
            "webauthn_rp_origins: {:?} is not an origin such as https://app.example.com",
            origin.chars().take(100).collect::<String>()
        ))
    };
    let url = Url::parse(origin.trim()).map_err(|_| bad())?;
    let plain = matches!(url.scheme(), "https" | "http")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && matches!(url.path(), "" | "/");
    if !plain {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

/// What a `start_*` returns: the options for the client and the state to keep until `finish_*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// MFA: the challenge's `webauthn.credential_options`; passkeys: the response's `options`.
    pub options: Value,
    /// Opaque JSON to store with the challenge row and hand back to the matching `finish_*`.
    pub state: Value,
}

/// A registered credential, as kept in GoTrue's `webauthn_credentials` columns (binary values as
/// unpadded base64url text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// The credential id (`credential_id`), base64url.
    pub credential_id: String,
    /// The COSE public key (`public_key`), base64url.
    pub public_key: String,
    /// The attestation statement format (`attestation_type`): `none`, `packed`, ...
    #[serde(default)]
    pub attestation_type: String,
    /// The authenticator model (`aaguid`); all zeros when it kept it to itself.
    #[serde(default)]
    pub aaguid: Option<Uuid>,
    /// The last signature counter seen (`sign_count`); 0 for authenticators that keep none.
    #[serde(default)]
    pub sign_count: u32,
    /// How the client said it reaches the authenticator (`transports`), as reported.
    #[serde(default)]
    pub transports: Vec<String>,
    /// The key may be synced or backed up (`backup_eligible`); may never change afterwards.
    #[serde(default)]
    pub backup_eligible: bool,
    /// The key is synced or backed up (`backed_up`), as last reported.
    #[serde(default)]
    pub backed_up: bool,
    /// The user was verified (PIN, biometrics) at registration; later sign-ins must verify too.
    #[serde(default)]
    pub user_verified: bool,
}

impl StoredCredential {
    /// A stored credential from its JSON (as [`finish_registration`] made it); malformed ones
    /// are a database fault.
    pub fn from_json(value: &Value) -> AuthResult<Self> {
        serde_json::from_value(value.clone()).map_err(|_| AuthError::Internal)
    }

    /// The credential id's bytes (`webauthn_credentials.credential_id`, `bytea`).
    pub fn credential_id_bytes(&self) -> AuthResult<Vec<u8>> {
        b64url_decode(&self.credential_id).ok_or(AuthError::Internal)
    }

    /// The COSE public key's bytes (`webauthn_credentials.public_key`, `bytea`).
    pub fn public_key_bytes(&self) -> AuthResult<Vec<u8>> {
        b64url_decode(&self.public_key).ok_or(AuthError::Internal)
    }

    /// GoTrue's `mfa_factors.web_authn_credential`: go-webauthn's `Credential` as Go encodes it
    /// (binary values standard base64, `Authenticator` fields untagged), so GoTrue can read it.
    pub fn to_gotrue_json(&self) -> AuthResult<Value> {
        let aaguid = self.aaguid.map(|a| STANDARD.encode(a.as_bytes()));
        Ok(json!({
            "id": STANDARD.encode(self.credential_id_bytes()?),
            "publicKey": STANDARD.encode(self.public_key_bytes()?),
            "attestationType": self.attestation_type,
            "transport": self.transports,
            "flags": {
                "userPresent": true,
                "userVerified": self.user_verified,
                "backupEligible": self.backup_eligible,
                "backupState": self.backed_up,
            },
            "authenticator": {
                "AAGUID": aaguid,
                "SignCount": self.sign_count,
                "CloneWarning": false,
                "Attachment": "",
            },
        }))
    }

    /// A credential from GoTrue's `mfa_factors.web_authn_credential` (see [`Self::to_gotrue_json`];
    /// older go-webauthn versions without `flags` are read too).
    pub fn from_gotrue_json(value: &Value) -> AuthResult<Self> {
        let bytes = |v: Option<&Value>| -> Option<Vec<u8>> {
            let s = v?.as_str()?;
            STANDARD.decode(s).ok().or_else(|| b64url_decode(s))
        };
        let id = bytes(value.get("id")).ok_or(AuthError::Internal)?;
        let key = bytes(value.get("publicKey")).ok_or(AuthError::Internal)?;
        let flag = |name: &str| value["flags"][name].as_bool().unwrap_or(false);
        let authenticator = &value["authenticator"];
        let field = |a: &str, b: &str| authenticator.get(a).or_else(|| authenticator.get(b));
        let aaguid = bytes(field("AAGUID", "aaguid")).and_then(|b| Uuid::from_slice(&b).ok());
        let sign_count = field("SignCount", "signCount")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let transports = value["transport"]
            .as_array()
            .map(|a| transport_strings(a))
            .unwrap_or_default();
        Ok(StoredCredential {
            credential_id: URL_SAFE_NO_PAD.encode(id),
            public_key: URL_SAFE_NO_PAD.encode(key),
            attestation_type: value["attestationType"].as_str().unwrap_or("").to_owned(),
            aaguid,
            sign_count,
            transports,
            backup_eligible: flag("backupEligible"),
            backed_up: flag("backupState"),
            user_verified: flag("userVerified"),
        })
    }

    /// The verifier's credential record; the COSE key must parse (a database fault otherwise).
    fn to_core(&self) -> AuthResult<Credential> {
        let cred_id = self.credential_id_bytes()?;
        let cose: serde_cbor_2::Value =
            serde_cbor_2::from_slice(&self.public_key_bytes()?).map_err(|_| AuthError::Internal)?;
        let key = COSEKey::try_from(&cose).map_err(|_| AuthError::Internal)?;
        let transports: Vec<AuthenticatorTransport> = self
            .transports
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect();
        Ok(Credential {
            cred_id,
            cred: key,
            counter: self.sign_count,
            transports: (!transports.is_empty()).then_some(transports),
            user_verified: self.user_verified,
            backup_eligible: self.backup_eligible,
            backup_state: self.backed_up,
            registration_policy: UserVerificationPolicy::Preferred,
            extensions: RegisteredExtensions::none(),
            attestation: ParsedAttestation {
                data: ParsedAttestationData::None,
                metadata: AttestationMetadata::None,
            },
            attestation_format: AttestationFormat::None,
        })
    }
}

/// What [`finish_authentication`] found: the credential used and what to store of it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationOutcome {
    /// The credential used (base64url id): for passkeys, the `webauthn_credentials` row.
    pub credential_id: String,
    /// The authenticator's new signature counter (to store).
    pub sign_count: u32,
    /// The user was verified this time.
    pub user_verified: bool,
    /// The stored credential with the new counter and backup flags, ready to write back.
    pub credential: StoredCredential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Ceremony {
    Registration,
    Authentication,
}

/// The stored state: the crate's state plus what binds it to one ceremony of one relying party.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<S> {
    v: u8,
    ceremony: Ceremony,
    flow: Flow,
    rp_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<Uuid>,
    /// MFA sign-in: the credentials offered (base64url ids); the only ones accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allowed: Vec<String>,
    state: S,
}

fn envelope_json<S: Serialize>(env: &Envelope<S>) -> AuthResult<Value> {
    serde_json::to_value(env).map_err(|_| AuthError::Internal)
}

/// The state back from the database: bounded, of the expected ceremony, for this relying party.
fn open_envelope<S: serde::de::DeserializeOwned>(
    state: &Value,
    ceremony: Ceremony,
    rp: &RelyingParty,
) -> AuthResult<Envelope<S>> {
    let invalid = || AuthError::validation("The WebAuthn challenge state is invalid");
    let size = serde_json::to_vec(state).map_err(|_| invalid())?.len();
    if size > MAX_STATE_BYTES {
        return Err(invalid());
    }
    let env: Envelope<S> = serde_json::from_value(state.clone()).map_err(|_| invalid())?;
    if env.v != STATE_VERSION || env.ceremony != ceremony {
        return Err(invalid());
    }
    // The settings changed between the challenge and its answer: the credential cannot match.
    if env.rp_id != rp.id {
        return Err(AuthError::webauthn_verification_failed());
    }
    Ok(env)
}

/// The client's credential as JSON, refused when too large or not JSON.
fn parse_response(flow: Flow, response: &str) -> AuthResult<Value> {
    if response.len() > MAX_RESPONSE_BYTES {
        return Err(invalid_response(flow));
    }
    let value: Value = serde_json::from_str(response).map_err(|_| invalid_response(flow))?;
    if !value.is_object() {
        return Err(invalid_response(flow));
    }
    Ok(value)
}

/// GoTrue's answer to a body that is no credential: MFA's `validation_failed`, passkeys' own.
fn invalid_response(flow: Flow) -> AuthError {
    match flow {
        Flow::Mfa => AuthError::validation("Invalid credential_response"),
        Flow::Passkey => AuthError::webauthn_invalid_credential_response(),
    }
}

/// The verifier's refusal as the client sees it; parse failures are malformed input.
fn refusal(flow: Flow, err: WebauthnError) -> AuthError {
    match err {
        WebauthnError::ParseBase64Failure(_)
        | WebauthnError::ParseCBORFailure(_)
        | WebauthnError::ParseJSONFailure(_)
        | WebauthnError::ParseNOMFailure
        | WebauthnError::ParseInsufficientBytesAvailable => invalid_response(flow),
        WebauthnError::CredentialPossibleCompromise => AuthError::webauthn_sign_count_regressed(),
        _ => AuthError::webauthn_verification_failed(),
    }
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url, padded or not.
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// The user handle GoTrue gives a user: the id's hyphenated text, as bytes.
fn user_handle_of(user_id: Uuid) -> Vec<u8> {
    user_id.hyphenated().to_string().into_bytes()
}

/// A user handle back to the user's id: only the handle [`user_handle_of`] gives (the id's
/// 36-character lower-case text). The other spellings `Uuid::parse_str` reads (upper case,
/// without hyphens, braced, `urn:uuid:`) are handles no credential was registered with.
fn user_of_handle(handle: &[u8]) -> Option<Uuid> {
    if handle.len() != 36 {
        return None;
    }
    let id = Uuid::try_parse_ascii(handle).ok()?;
    (user_handle_of(id) == handle).then_some(id)
}

/// Transports as reported: short strings only, at most 16 (they are hints, never checked).
fn transport_strings(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| !t.is_empty() && t.len() <= 32)
        .take(16)
        .map(str::to_owned)
        .collect()
}

fn format_name(format: &AttestationFormat) -> &'static str {
    match format {
        AttestationFormat::Packed => "packed",
        AttestationFormat::Tpm => "tpm",
        AttestationFormat::AndroidKey => "android-key",
        AttestationFormat::AndroidSafetyNet => "android-safetynet",
        AttestationFormat::FIDOU2F => "fido-u2f",
        AttestationFormat::AppleAnonymous => "apple",
        AttestationFormat::None => "none",
    }
}

fn algorithm_params() -> Value {
    ALGORITHMS
        .iter()
        .map(|alg| json!({"type": "public-key", "alg": *alg as i64}))
        .collect()
}

/// Options for a new credential, as GoTrue sends them.
///
/// `user_name` and `display_name` are GoTrue's `WebAuthnName` / `WebAuthnDisplayName`: the
/// email for MFA (both); for passkeys the email (or phone) and `user_metadata.name` (or the
/// name). Blank ones are sent blank, as GoTrue does (auth-js fills them in for MFA).
/// `exclude_credential_ids` (base64url) are the user's credentials of this flow, which the
/// authenticator must not register again.
pub fn start_registration(
    rp: &RelyingParty,
    flow: Flow,
    user_id: Uuid,
    user_name: &str,
    display_name: &str,
    exclude_credential_ids: &[String],
) -> AuthResult<Started> {
    let (rp, core) = rp.verifier()?;
    let exclude = exclude_credential_ids
        .iter()
        .map(|id| b64url_decode(id).ok_or(AuthError::Internal))
        .collect::<AuthResult<Vec<_>>>()?;
    let handle = user_handle_of(user_id);
    // The verifier refuses blank names; they only matter in the options, written below.
    let fallback = user_id.to_string();
    let non_blank = |s: &str| {
        if s.is_empty() {
            fallback.clone()
        } else {
            s.to_owned()
        }
    };
    let builder = core
        .new_challenge_register_builder(&handle, &non_blank(user_name), &non_blank(display_name))
        .map_err(|_| AuthError::Internal)?
        .attestation(AttestationConveyancePreference::None)
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .exclude_credentials((!exclude.is_empty()).then(|| exclude.clone()))
        .credential_algorithms(ALGORITHMS.to_vec())
        .require_resident_key(flow == Flow::Passkey);
    let (creation, state) = core
        .generate_challenge_register(builder)
        .map_err(|_| AuthError::Internal)?;

    let mut options = json!({
        "rp": {"name": rp.name, "id": rp.id},
        "user": {"name": user_name, "displayName": display_name, "id": b64url(&handle)},
        "challenge": b64url(&creation.public_key.challenge),
        "pubKeyCredParams": algorithm_params(),
        "timeout": TIMEOUT_MS,
    });
    if !exclude.is_empty() {
        options["excludeCredentials"] = exclude
            .iter()
            .map(|id| match flow {
                Flow::Mfa => json!({
                    "type": "public-key", "id": b64url(id), "transports": MFA_EXCLUDE_TRANSPORTS,
                }),
                Flow::Passkey => json!({"type": "public-key", "id": b64url(id)}),
            })
            .collect();
    }
    options = match flow {
        // GoTrue's MFA relying party sets no selection criteria and no attestation preference.
        Flow::Mfa => {
            options["authenticatorSelection"] = json!({});
            json!({ "publicKey": options })
        }
        Flow::Passkey => {
            options["authenticatorSelection"] =
                json!({"residentKey": "required", "userVerification": "preferred"});
            options["attestation"] = json!("none");
            options
        }
    };

    let state = envelope_json(&Envelope {
        v: STATE_VERSION,
        ceremony: Ceremony::Registration,
        flow,
        rp_id: rp.id.clone(),
        user_id: Some(user_id),
        allowed: Vec::new(),
        state,
    })?;
    Ok(Started { options, state })
}

/// Checks a new credential (`navigator.credentials.create()`'s, serialised by auth-js) against
/// the state of its [`start_registration`]; the credential to store.
pub fn finish_registration(
    rp: &RelyingParty,
    state: &Value,
    response: &str,
) -> AuthResult<StoredCredential> {
    let (rp, core) = rp.verifier()?;
    let env: Envelope<RegistrationState> = open_envelope(state, Ceremony::Registration, &rp)?;
    let flow = env.flow;
    let raw = parse_response(flow, response)?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(raw.clone()).map_err(|_| invalid_response(flow))?;
    if credential.type_ != "public-key" {
        return Err(invalid_response(flow));
    }

    let registered = core
        .register_credential(&credential, &env.state, None)
        .map_err(|e| refusal(flow, e))?;
    if registered.cred_id.is_empty() || registered.cred_id.len() > MAX_CREDENTIAL_ID_BYTES {
        return Err(AuthError::webauthn_verification_failed());
    }

    // The verifier keeps neither the AAGUID (of unattested keys) nor the COSE bytes: read them
    // from the authenticator data it has just checked.
    let attested = attested_data(&credential.response.attestation_object)
        .ok_or_else(|| invalid_response(flow))?;
    if attested.credential_id != registered.cred_id {
        return Err(AuthError::webauthn_verification_failed());
    }
    let cose = serde_cbor_2::to_vec(&attested.credential_pk).map_err(|_| AuthError::Internal)?;

    Ok(StoredCredential {
        credential_id: b64url(&registered.cred_id),
        public_key: b64url(&cose),
        attestation_type: format_name(&registered.attestation_format).to_owned(),
        aaguid: Some(Uuid::from_bytes(attested.aaguid)),
        sign_count: registered.counter,
        transports: raw["response"]["transports"]
            .as_array()
            .map(|a| transport_strings(a))
            .unwrap_or_default(),
        backup_eligible: registered.backup_eligible,
        backed_up: registered.backup_state,
        user_verified: registered.user_verified,
    })
}

/// The attested credential data of an attestation object, if it parses.
fn attested_data(
    attestation_object: &[u8],
) -> Option<webauthn_rs_core::proto::AttestedCredentialData> {
    let object: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let serde_cbor_2::Value::Map(map) = object else {
        return None;
    };
    let serde_cbor_2::Value::Bytes(auth_data) =
        map.get(&serde_cbor_2::Value::Text("authData".into()))?
    else {
        return None;
    };
    AuthenticatorData::<Registration>::try_from(auth_data.as_slice())
        .ok()?
        .acd
}

/// Options for a sign-in, as GoTrue sends them.
///
/// MFA: `credentials` are the factor's (one or more); they are offered in `allowCredentials`
/// and only they are accepted. Passkeys: `credentials` must be empty, the sign-in is
/// discoverable (no `allowCredentials`; the authenticator reports the user handle).
pub fn start_authentication(
    rp: &RelyingParty,
    flow: Flow,
    credentials: &[StoredCredential],
) -> AuthResult<Started> {
    let (rp, core) = rp.verifier()?;
    match flow {
        Flow::Mfa if credentials.is_empty() => {
            return Err(AuthError::validation(
                "The factor has no WebAuthn credential",
            ))
        }
        Flow::Passkey if !credentials.is_empty() => {
            return Err(AuthError::validation(
                "A passkey sign-in is discoverable: it takes no credentials",
            ))
        }
        _ => {}
    }
    let records = credentials
        .iter()
        .map(StoredCredential::to_core)
        .collect::<AuthResult<Vec<_>>>()?;
    let allowed: Vec<String> = records.iter().map(|c| b64url(&c.cred_id)).collect();
    let builder = core
        .new_challenge_authenticate_builder(records, Some(UserVerificationPolicy::Preferred))
        .map_err(|_| AuthError::Internal)?;
    let (request, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(|_| AuthError::Internal)?;

    let challenge = b64url(&request.public_key.challenge);
    let options = match flow {
        // GoTrue's MFA relying party leaves userVerification unset (the browser's "preferred").
        Flow::Mfa => {
            let allow: Value = credentials
                .iter()
                .map(|c| {
                    let mut d = json!({"type": "public-key", "id": c.credential_id});
                    if !c.transports.is_empty() {
                        d["transports"] = json!(c.transports);
                    }
                    d
                })
                .collect();
            json!({"publicKey": {
                "challenge": challenge,
                "timeout": TIMEOUT_MS,
                "rpId": rp.id,
                "allowCredentials": allow,
            }})
        }
        Flow::Passkey => json!({
            "challenge": challenge,
            "timeout": TIMEOUT_MS,
            "rpId": rp.id,
            "userVerification": "preferred",
        }),
    };

    let state = envelope_json(&Envelope {
        v: STATE_VERSION,
        ceremony: Ceremony::Authentication,
        flow,
        rp_id: rp.id.clone(),
        user_id: None,
        allowed,
        state,
    })?;
    Ok(Started { options, state })
}

/// The user a discoverable (passkey) sign-in names: its user handle as GoTrue sets it (the id's
/// text). The caller loads that user's passkeys and calls [`finish_authentication`].
///
/// The answer's shape is checked here, before the caller looks the user up (GoTrue parses it
/// first too): a malformed one is refused alike whoever it names, so the refusal does not tell
/// known users from unknown ones.
pub fn passkey_user(response: &str) -> AuthResult<Uuid> {
    let raw = parse_response(Flow::Passkey, response)?;
    let credential: PublicKeyCredential =
        serde_json::from_value(raw).map_err(|_| invalid_response(Flow::Passkey))?;
    let well_formed = credential.type_ == "public-key"
        && b64url_decode(&credential.id).as_deref() == Some(credential.raw_id.as_slice())
        && AuthenticatorData::<webauthn_rs_core::proto::Authentication>::try_from(
            credential.response.authenticator_data.as_slice(),
        )
        .is_ok()
        && serde_json::from_slice::<Value>(&credential.response.client_data_json)
            .is_ok_and(|c| c.is_object());
    if !well_formed {
        return Err(invalid_response(Flow::Passkey));
    }
    credential
        .response
        .user_handle
        .as_deref()
        .and_then(user_of_handle)
        .ok_or_else(AuthError::webauthn_verification_failed)
}

/// Checks a sign-in (`navigator.credentials.get()`'s credential, serialised by auth-js) against
/// the state of its [`start_authentication`].
///
/// `credentials` are the user's of this flow (the factor's for MFA, all the user's passkeys for a
/// discoverable sign-in) with their current counters; `user_id` is the user signing in (the
/// session's for MFA, [`passkey_user`]'s for passkeys): a user handle in the response must name
/// them, and a passkey sign-in must carry one. A counter that did not increase is refused.
pub fn finish_authentication(
    rp: &RelyingParty,
    state: &Value,
    response: &str,
    credentials: &[StoredCredential],
    user_id: Uuid,
) -> AuthResult<AuthenticationOutcome> {
    let (rp, core) = rp.verifier()?;
    let env: Envelope<AuthenticationState> = open_envelope(state, Ceremony::Authentication, &rp)?;
    let flow = env.flow;
    let raw = parse_response(flow, response)?;
    let assertion: PublicKeyCredential =
        serde_json::from_value(raw).map_err(|_| invalid_response(flow))?;
    if assertion.type_ != "public-key"
        || b64url_decode(&assertion.id).as_deref() != Some(assertion.raw_id.as_slice())
    {
        return Err(invalid_response(flow));
    }

    match (flow, assertion.response.user_handle.as_deref()) {
        (_, Some(handle)) if user_of_handle(handle) != Some(user_id) => {
            return Err(AuthError::webauthn_verification_failed())
        }
        (Flow::Passkey, None) => return Err(AuthError::webauthn_verification_failed()),
        _ => {}
    }

    // MFA accepts only the credentials it offered; a passkey sign-in any of the user's.
    let allowed = |c: &&StoredCredential| {
        flow == Flow::Passkey
            || b64url_decode(&c.credential_id).is_some_and(|id| {
                env.allowed
                    .iter()
                    .any(|a| b64url_decode(a) == Some(id.clone()))
            })
    };
    let stored = credentials
        .iter()
        .filter(allowed)
        .find(|c| b64url_decode(&c.credential_id).as_deref() == Some(assertion.raw_id.as_slice()))
        .ok_or_else(AuthError::webauthn_verification_failed)?;
    let record = stored.to_core()?;

    let mut ceremony = env.state;
    ceremony.set_allowed_credentials(vec![record.clone()]);
    let result = core
        .authenticate_single_credential(&assertion, &ceremony, &record)
        .map_err(|e| refusal(flow, e))?;

    // A counter that did not move past the stored one means two copies of the key are in use
    // (WebAuthn §7.2 step 21). The verifier refuses it too; this check does not depend on that.
    let counter = result.counter();
    if (counter != 0 || stored.sign_count != 0) && counter <= stored.sign_count {
        return Err(AuthError::webauthn_sign_count_regressed());
    }

    let mut credential = stored.clone();
    credential.sign_count = counter;
    credential.backup_eligible = result.backup_eligible();
    credential.backed_up = result.backup_state();
    Ok(AuthenticationOutcome {
        credential_id: stored.credential_id.clone(),
        sign_count: counter,
        user_verified: result.user_verified(),
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::soft::{flags, SoftKey};
    use super::*;

    const RP_ID: &str = "example.com";
    const ORIGIN: &str = "https://app.example.com";

    fn rp() -> RelyingParty {
        RelyingParty::new(RP_ID, "Example", &[ORIGIN]).unwrap()
    }

    fn user() -> Uuid {
        Uuid::parse_str("6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").unwrap()
    }

    /// The software authenticator (soft.rs) for this relying party.
    fn soft_key() -> SoftKey {
        SoftKey::new(RP_ID, ORIGIN)
    }

    fn register(flow: Flow, key: &SoftKey) -> StoredCredential {
        let started = start_registration(&rp(), flow, user(), "a@example.com", "A", &[]).unwrap();
        let options = unwrap_options(flow, &started.options);
        finish_registration(&rp(), &started.state, &key.register(options)).unwrap()
    }

    fn unwrap_options(flow: Flow, options: &Value) -> &Value {
        match flow {
            Flow::Mfa => &options["publicKey"],
            Flow::Passkey => options,
        }
    }

    fn assert_code(err: AuthError, status: u16, code: &str) {
        assert_eq!((err.status(), err.code()), (status, code), "{err:?}");
    }

    #[test]
    fn relying_party_is_checked_and_normalised() {
        let rp = RelyingParty::new(
            " Example.COM ",
            " Ex ",
            &["https://App.Example.com/", "https://app.example.com"],
        )
        .unwrap();
        assert_eq!(rp.id, "example.com");
        assert_eq!(rp.name, "Ex");
        assert_eq!(rp.origins, vec!["https://app.example.com"]);
        let local = RelyingParty::new("localhost", "Dev", &["http://localhost:3000"]).unwrap();
        assert_eq!(local.origins, vec!["http://localhost:3000"]);

        let origins = ["https://example.com"];
        for bad_id in [
            "",
            "https://example.com",
            "example.com:443",
            "example.com/x",
            "127.0.0.1",
            "[::1]",
            "a..b",
        ] {
            let err = RelyingParty::new(bad_id, "Ex", &origins).unwrap_err();
            assert_code(err, 400, "validation_failed");
        }
        assert!(RelyingParty::new("example.com", " ", &origins).is_err());
        assert!(RelyingParty::new("example.com", "Ex", &[] as &[&str]).is_err());
        for bad_origin in [
            "example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://example.com?q",
            "https://u:p@example.com",
            "https://",
        ] {
            let err = RelyingParty::new("example.com", "Ex", &[bad_origin]).unwrap_err();
            assert_code(err, 400, "validation_failed");
        }
    }

    #[test]
    fn mfa_options_have_gotrues_shape() {
        let excluded = b64url(b"old-credential");
        let started = start_registration(
            &rp(),
            Flow::Mfa,
            user(),
            "a@example.com",
            "a@example.com",
            std::slice::from_ref(&excluded),
        )
        .unwrap();
        let pk = &started.options["publicKey"];
        assert_eq!(pk["rp"], json!({"name": "Example", "id": RP_ID}));
        assert_eq!(
            pk["user"],
            json!({"name": "a@example.com", "displayName": "a@example.com",
                   "id": b64url(user().to_string().as_bytes())})
        );
        assert_eq!(
            b64url_decode(pk["challenge"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            pk["pubKeyCredParams"],
            json!([{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -35},
                   {"type": "public-key", "alg": -257}])
        );
        assert_eq!(pk["timeout"], json!(300000));
        assert_eq!(pk["authenticatorSelection"], json!({}));
        assert_eq!(
            pk["excludeCredentials"],
            json!([{"type": "public-key", "id": excluded, "transports": ["usb", "nfc"]}])
        );
        assert!(pk.get("attestation").is_none());
        assert_eq!(started.options.as_object().unwrap().len(), 1);

        // Blank names are sent blank, as GoTrue does for a user without email.
        let blank = start_registration(&rp(), Flow::Mfa, user(), "", "", &[]).unwrap();
        assert_eq!(blank.options["publicKey"]["user"]["name"], "");
        assert!(blank.options["publicKey"]
            .get("excludeCredentials")
            .is_none());
    }

    #[test]
    fn passkey_options_have_gotrues_shape() {
        let started =
            start_registration(&rp(), Flow::Passkey, user(), "a@example.com", "Ann", &[]).unwrap();
        let o = &started.options;
        assert!(o.get("publicKey").is_none());
        assert_eq!(
            o["authenticatorSelection"],
            json!({"residentKey": "required", "userVerification": "preferred"})
        );
        assert_eq!(o["attestation"], "none");
        assert_eq!(o["user"]["displayName"], "Ann");

        let sign_in = start_authentication(&rp(), Flow::Passkey, &[]).unwrap();
        let o = &sign_in.options;
        assert_eq!(o["rpId"], RP_ID);
        assert_eq!(o["userVerification"], "preferred");
        assert_eq!(o["timeout"], json!(300000));
        assert!(o.get("allowCredentials").is_none());
        assert_eq!(o.as_object().unwrap().len(), 4);
    }

    #[test]
    fn mfa_round_trip() {
        let mut key = soft_key();
        let stored = register(Flow::Mfa, &key);
        assert_eq!(stored.credential_id, b64url(&key.id));
        assert_eq!(stored.public_key_bytes().unwrap(), key.cose());
        assert_eq!(stored.attestation_type, "none");
        assert_eq!(stored.aaguid, Some(Uuid::from_bytes([0xAA; 16])));
        assert_eq!(stored.transports, vec!["internal", "hybrid"]);
        assert_eq!(stored.sign_count, 0);
        assert!(stored.user_verified && !stored.backup_eligible && !stored.backed_up);
        // Stored as JSON and read back, as the table will.
        let stored = StoredCredential::from_json(&serde_json::to_value(&stored).unwrap()).unwrap();

        let started =
            start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let pk = &started.options["publicKey"];
        assert_eq!(
            pk["allowCredentials"],
            json!([{"type": "public-key", "id": stored.credential_id,
                    "transports": ["internal", "hybrid"]}])
        );
        assert!(pk.get("userVerification").is_none());
        assert_eq!(pk["rpId"], RP_ID);

        // An MFA assertion may omit the user handle (non-resident keys do).
        let response = key.sign_in(pk, None, 1);
        let outcome = finish_authentication(
            &rp(),
            &started.state,
            &response,
            std::slice::from_ref(&stored),
            user(),
        )
        .unwrap();
        assert_eq!(outcome.credential_id, stored.credential_id);
        assert_eq!(outcome.sign_count, 1);
        assert!(outcome.user_verified);
        assert_eq!(outcome.credential.sign_count, 1);

        // The same answer again: the counter did not move.
        let err = finish_authentication(
            &rp(),
            &started.state,
            &response,
            std::slice::from_ref(&outcome.credential),
            user(),
        )
        .unwrap_err();
        assert_eq!(err, AuthError::webauthn_sign_count_regressed());
    }

    #[test]
    fn passkey_round_trip() {
        let mut key = soft_key();
        key.flags = flags::UV | flags::BE | flags::BS; // a synced passkey
        let stored = register(Flow::Passkey, &key);
        assert!(stored.backup_eligible && stored.backed_up);

        let started = start_authentication(&rp(), Flow::Passkey, &[]).unwrap();
        let handle = user().to_string();
        let response = key.sign_in(&started.options, Some(handle.as_bytes()), 0);
        assert_eq!(passkey_user(&response).unwrap(), user());
        // Only the handle it was given names the user: not another spelling of the id.
        let upper = handle.to_uppercase();
        let respelled = key.sign_in(&started.options, Some(upper.as_bytes()), 0);
        assert_code(
            passkey_user(&respelled).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        let outcome = finish_authentication(
            &rp(),
            &started.state,
            &response,
            std::slice::from_ref(&stored),
            user(),
        )
        .unwrap();
        // Synced passkeys keep no counter: 0 stays acceptable.
        assert_eq!(outcome.sign_count, 0);
        assert!(outcome.credential.backed_up);

        // Without a user handle a discoverable sign-in names nobody.
        let started = start_authentication(&rp(), Flow::Passkey, &[]).unwrap();
        let response = key.sign_in(&started.options, None, 0);
        assert_code(
            passkey_user(&response).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        let err = finish_authentication(
            &rp(),
            &started.state,
            &response,
            std::slice::from_ref(&stored),
            user(),
        )
        .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // A user handle naming someone else.
        let other = Uuid::new_v4().to_string();
        let response = key.sign_in(&started.options, Some(other.as_bytes()), 0);
        let err = finish_authentication(
            &rp(),
            &started.state,
            &response,
            std::slice::from_ref(&stored),
            user(),
        )
        .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // Another user's passkeys do not include this one.
        let response = key.sign_in(&started.options, Some(handle.as_bytes()), 0);
        let stranger = register(Flow::Passkey, &soft_key());
        let err = finish_authentication(&rp(), &started.state, &response, &[stranger], user())
            .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");
    }

    #[test]
    fn cloned_counter_is_refused() {
        let mut key = soft_key();
        key.counter = 10;
        let stored = register(Flow::Mfa, &key);
        assert_eq!(stored.sign_count, 10);

        // A copy of the key that is behind: same counter, then lower.
        for (step, counter) in [(0, 10), (0, 3)] {
            let mut clone = SoftKey {
                key: key.key.clone(),
                id: key.id.clone(),
                counter,
                rp_id: RP_ID.into(),
                origin: ORIGIN.into(),
                flags: flags::UV,
                aaguid: [0; 16],
            };
            let started =
                start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
            let response = clone.sign_in(&started.options["publicKey"], None, step);
            let err = finish_authentication(
                &rp(),
                &started.state,
                &response,
                std::slice::from_ref(&stored),
                user(),
            )
            .unwrap_err();
            assert_eq!(err, AuthError::webauthn_sign_count_regressed());
            assert_code(err, 400, "webauthn_verification_failed");
        }

        // The real key moves on.
        let started =
            start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let response = key.sign_in(&started.options["publicKey"], None, 1);
        let outcome =
            finish_authentication(&rp(), &started.state, &response, &[stored], user()).unwrap();
        assert_eq!(outcome.sign_count, 11);
    }

    #[test]
    fn wrong_origin_rp_and_challenge_are_refused() {
        // Registration from another origin.
        let started = start_registration(&rp(), Flow::Passkey, user(), "a", "a", &[]).unwrap();
        let mut key = soft_key();
        key.origin = "https://evil.example.net".into();
        let err = finish_registration(&rp(), &started.state, &key.register(&started.options))
            .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // Registration for another RP ID.
        let mut key = soft_key();
        key.rp_id = "evil.example.net".into();
        let err = finish_registration(&rp(), &started.state, &key.register(&started.options))
            .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // Registration answering another challenge.
        let other = start_registration(&rp(), Flow::Passkey, user(), "a", "a", &[]).unwrap();
        let key = soft_key();
        let err =
            finish_registration(&rp(), &started.state, &key.register(&other.options)).unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // The state of a relying party whose settings changed since.
        let moved = RelyingParty::new("other.com", "Example", &["https://other.com"]).unwrap();
        let err = finish_registration(&moved, &started.state, &key.register(&started.options))
            .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");

        // Sign-ins: wrong origin, wrong RP ID, wrong challenge, wrong signature.
        let mut key = soft_key();
        let stored = register(Flow::Mfa, &key);
        let started =
            start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let options = &started.options["publicKey"];
        let finish = |response: &str| {
            finish_authentication(
                &rp(),
                &started.state,
                response,
                std::slice::from_ref(&stored),
                user(),
            )
        };
        key.origin = "https://app.example.com:8443".into();
        assert_code(
            finish(&key.sign_in(options, None, 1)).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        key.origin = ORIGIN.into();
        key.rp_id = "app.example.com".into();
        assert_code(
            finish(&key.sign_in(options, None, 1)).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        key.rp_id = RP_ID.into();
        let other = start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let response = key.sign_in(&other.options["publicKey"], None, 1);
        assert_code(
            finish(&response).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        let impostor = SoftKey {
            id: key.id.clone(),
            ..soft_key()
        };
        let mut impostor = impostor;
        impostor.counter = key.counter;
        assert_code(
            finish(&impostor.sign_in(options, None, 1)).unwrap_err(),
            400,
            "webauthn_verification_failed",
        );
        // And the genuine answer still passes.
        assert!(finish(&key.sign_in(options, None, 1)).is_ok());
    }

    #[test]
    fn states_are_bound_to_their_ceremony() {
        let key = soft_key();
        let stored = register(Flow::Mfa, &key);
        let reg = start_registration(&rp(), Flow::Mfa, user(), "a", "a", &[]).unwrap();
        let auth = start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let response = key.register(&reg.options["publicKey"]);
        // A sign-in state for a registration, and the reverse.
        let err = finish_registration(&rp(), &auth.state, &response).unwrap_err();
        assert_code(err, 400, "validation_failed");
        let err = finish_authentication(
            &rp(),
            &reg.state,
            "{}",
            std::slice::from_ref(&stored),
            user(),
        )
        .unwrap_err();
        assert_code(err, 400, "validation_failed");
        // States that are not ours.
        for state in [
            json!(null),
            json!({}),
            json!("x"),
            json!({"v": 2, "ceremony": "registration", "flow": "mfa", "rp_id": RP_ID, "state": {}}),
            json!({"v": 1, "ceremony": "registration", "flow": "mfa", "rp_id": RP_ID, "state": {}}),
            json!({"v": 1, "ceremony": "registration", "flow": "sms", "rp_id": RP_ID,
                   "state": reg.state["state"]}),
            json!({"huge": "x".repeat(MAX_STATE_BYTES)}),
        ] {
            let err = finish_registration(&rp(), &state, &response).unwrap_err();
            assert_code(err, 400, "validation_failed");
        }
        // MFA accepts only the credentials it offered.
        let other_key = soft_key();
        let other = register(Flow::Mfa, &other_key);
        let mut other_key = other_key;
        let response = other_key.sign_in(&auth.options["publicKey"], None, 1);
        let err = finish_authentication(
            &rp(),
            &auth.state,
            &response,
            &[stored.clone(), other],
            user(),
        )
        .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");
        // Start arguments that do not fit the flow.
        assert!(start_authentication(&rp(), Flow::Mfa, &[]).is_err());
        assert!(start_authentication(&rp(), Flow::Passkey, &[stored]).is_err());
    }

    #[test]
    fn excluded_credentials_cannot_register_again() {
        let key = soft_key();
        let started =
            start_registration(&rp(), Flow::Passkey, user(), "a", "a", &[b64url(&key.id)]).unwrap();
        let err = finish_registration(&rp(), &started.state, &key.register(&started.options))
            .unwrap_err();
        assert_code(err, 400, "webauthn_verification_failed");
    }

    #[test]
    fn gotrue_credential_json_round_trips() {
        let stored = register(Flow::Mfa, &soft_key());
        let go = stored.to_gotrue_json().unwrap();
        assert_eq!(
            go["id"],
            STANDARD.encode(stored.credential_id_bytes().unwrap())
        );
        assert_eq!(go["authenticator"]["SignCount"], 0);
        assert_eq!(StoredCredential::from_gotrue_json(&go).unwrap(), stored);
        // An older go-webauthn credential: no flags, lower-case authenticator fields.
        let old = json!({
            "id": go["id"], "publicKey": go["publicKey"], "attestationType": "none",
            "authenticator": {"aaguid": go["authenticator"]["AAGUID"], "signCount": 7},
        });
        let read = StoredCredential::from_gotrue_json(&old).unwrap();
        assert_eq!(read.sign_count, 7);
        assert_eq!(read.aaguid, stored.aaguid);
        assert!(StoredCredential::from_gotrue_json(&json!({"id": "!!"})).is_err());
    }

    /// A deterministic xorshift, for the garbling below.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Rewrites one base64url field of a response JSON with `f` applied to its bytes.
    fn with_field(response: &str, field: &str, f: impl Fn(&mut Vec<u8>)) -> String {
        let mut v: Value = serde_json::from_str(response).unwrap();
        let mut bytes = b64url_decode(v["response"][field].as_str().unwrap()).unwrap();
        f(&mut bytes);
        v["response"][field] = json!(b64url(&bytes));
        v.to_string()
    }

    #[test]
    fn malformed_registrations_are_refused_without_panic() {
        let started = start_registration(&rp(), Flow::Passkey, user(), "a", "a", &[]).unwrap();
        let good = soft_key().register(&started.options);
        let finish = |r: &str| finish_registration(&rp(), &started.state, r);

        for junk in [
            "",
            "null",
            "[]",
            "{",
            "\"x\"",
            "{}",
            r#"{"id":"a","rawId":"a","type":"public-key","response":{}}"#,
            r#"{"id":"a","rawId":"@@@","type":"public-key","response":{"attestationObject":"AA","clientDataJSON":"AA"}}"#,
        ] {
            assert_code(
                finish(junk).unwrap_err(),
                400,
                "webauthn_verification_failed",
            );
        }
        let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_RESPONSE_BYTES));
        assert_eq!(
            finish(&huge).unwrap_err(),
            AuthError::webauthn_invalid_credential_response()
        );
        let mut wrong_type: Value = serde_json::from_str(&good).unwrap();
        wrong_type["type"] = json!("password");
        assert!(finish(&wrong_type.to_string()).is_err());

        // Every truncation of the attestation object and of the client data.
        let object_len = {
            let v: Value = serde_json::from_str(&good).unwrap();
            b64url_decode(v["response"]["attestationObject"].as_str().unwrap())
                .unwrap()
                .len()
        };
        for cut in 0..object_len {
            let r = with_field(&good, "attestationObject", |b| b.truncate(cut));
            assert!(finish(&r).is_err(), "cut {cut}");
        }
        for cut in [0, 1, 10, 40] {
            let r = with_field(&good, "clientDataJSON", |b| b.truncate(cut));
            assert!(finish(&r).is_err(), "cut {cut}");
        }
        // Garbled bytes anywhere in the attestation object; non-UTF-8 client data.
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..400 {
            let at = (next(&mut seed) as usize) % object_len;
            let bit = 1u8 << (next(&mut seed) % 8);
            let r = with_field(&good, "attestationObject", |b| b[at] ^= bit);
            let _ = finish(&r); // may pass when the flip is in an unchecked byte; must not panic
        }
        let r = with_field(&good, "clientDataJSON", |b| {
            b.extend_from_slice(&[0xFF, 0xFE])
        });
        assert!(finish(&r).is_err());
        // CBOR that is deeply nested or lies about its lengths.
        for bytes in [
            vec![0x81; 10_000],
            vec![0xBF; 10_000],
            vec![0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            vec![0xA1, 0x68],
        ] {
            let r = with_field(&good, "attestationObject", |b| *b = bytes.clone());
            assert!(finish(&r).is_err());
        }
        // The genuine one still registers.
        assert!(finish(&good).is_ok());
    }

    #[test]
    fn malformed_sign_ins_are_refused_without_panic() {
        let mut key = soft_key();
        let stored = register(Flow::Mfa, &key);
        let started =
            start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&stored)).unwrap();
        let good = key.sign_in(&started.options["publicKey"], None, 1);
        let finish = |r: &str| {
            finish_authentication(
                &rp(),
                &started.state,
                r,
                std::slice::from_ref(&stored),
                user(),
            )
        };

        for junk in ["", "[]", "{", "{}", r#"{"id":1}"#] {
            assert_code(finish(junk).unwrap_err(), 400, "validation_failed");
        }
        let huge = "x".repeat(MAX_RESPONSE_BYTES + 1);
        assert_code(finish(&huge).unwrap_err(), 400, "validation_failed");
        // id and rawId that disagree.
        let mut v: Value = serde_json::from_str(&good).unwrap();
        v["id"] = json!(b64url(b"other"));
        assert!(finish(&v.to_string()).is_err());

        for field in ["authenticatorData", "signature", "clientDataJSON"] {
            let len = {
                let v: Value = serde_json::from_str(&good).unwrap();
                b64url_decode(v["response"][field].as_str().unwrap())
                    .unwrap()
                    .len()
            };
            for cut in 0..len {
                let r = with_field(&good, field, |b| b.truncate(cut));
                assert!(finish(&r).is_err(), "{field} cut {cut}");
            }
            let mut seed = 0xD1B5_4A32_D192_ED03;
            for _ in 0..100 {
                let at = (next(&mut seed) as usize) % len;
                let bit = 1u8 << (next(&mut seed) % 8);
                let r = with_field(&good, field, |b| b[at] ^= bit);
                let _ = finish(&r); // must not panic
            }
        }
        // A user handle that is no user id, or too long, or another spelling of the user's id.
        let upper = user().to_string().to_uppercase();
        let simple = user().simple().to_string();
        let braced = user().braced().to_string();
        let urn = user().urn().to_string();
        for handle in [
            &b"not-a-uuid"[..],
            &[0xFF; 200][..],
            upper.as_bytes(),
            simple.as_bytes(),
            braced.as_bytes(),
            urn.as_bytes(),
        ] {
            let mut v: Value = serde_json::from_str(&good).unwrap();
            v["response"]["userHandle"] = json!(b64url(handle));
            assert_code(
                finish(&v.to_string()).unwrap_err(),
                400,
                "webauthn_verification_failed",
            );
        }
        assert!(passkey_user("{").is_err());
        assert!(passkey_user(&huge).is_err());
        // Stored credentials that are corrupt are a database fault, not a panic.
        for bad in [
            StoredCredential {
                public_key: b64url(b"\xA1\x01"),
                ..stored.clone()
            },
            StoredCredential {
                public_key: "***".into(),
                ..stored.clone()
            },
            StoredCredential {
                credential_id: "***".into(),
                ..stored.clone()
            },
        ] {
            assert_eq!(
                start_authentication(&rp(), Flow::Mfa, std::slice::from_ref(&bad)).unwrap_err(),
                AuthError::Internal
            );
            assert!(finish_authentication(&rp(), &started.state, &good, &[bad], user()).is_err());
        }
        assert!(StoredCredential::from_json(&json!({"credential_id": 1})).is_err());
        // The genuine answer still passes.
        assert!(finish(&good).is_ok());
    }
}
