//! The fuzz harnesses of `auth_core`: one `pub fn(&[u8])` per target, shared by the cargo-fuzz
//! targets (`fuzz_targets/*.rs`, nightly) and by `core/tests/fuzz_regressions.rs`, which compiles
//! this file as a module and replays every seed and regression input on stable Rust.
//!
//! Each harness must never panic on any input except to report a broken invariant. Beyond "no
//! panic", each checks what the input's acceptance implies: a token that verifies was signed by
//! a live key of the ring and has a valid `exp`; settings that `apply()` accepts re-validate and
//! round-trip through storage; a key that imports builds a key ring, signs what it verifies, and
//! publishes no private member.
//!
//! Only the public API is used (`KeyRing::new`, `verify`, `verify_signature`, `sign`, `keys`,
//! `Settings`, `keys::import`): the internals of verification may change under it.

use std::collections::HashSet;
use std::sync::OnceLock;

use auth_core::jwt::{KeyRing, KeyStatus, VerifyOptions, MAX_TOKEN_BYTES};
use auth_core::keys::{self, Alg, KeyMaterial};
use auth_core::password;
use auth_core::settings::{Settings, JWT_SECRET, MIN_JWT_SECRET_LEN};
use auth_core::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

/// The clock of every verification: fixed, so that seed tokens stay valid forever.
pub const NOW: i64 = 1_700_000_000;
pub const ISSUER: &str = "https://fuzz.example/auth/v1";

pub const KID_HS: &str = "fuzz-hs256";
pub const KID_ES: &str = "fuzz-es256";
pub const KID_ED: &str = "fuzz-eddsa";
pub const KID_REVOKED: &str = "fuzz-hs256-revoked";

// Keys made for fuzzing only (fixed so that seed tokens signed with them stay valid).
const HS_SECRET: &str = "auth_ext fuzzing only: the HS256 secret of the test ring";
const HS_REVOKED_SECRET: &str = "auth_ext fuzzing only: a revoked HS256 secret, never valid";
const ES_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"lem7w5kue-_hXIojRzFxp1DaLiud05Eft8vkZz9f-MA","y":"VEYtR0qky_HYt503FfdF9PAewu9qTo8UirlAQUyQOTo","d":"W65BIRCnNeS1_2T2xM37wcjgR-qmxxvBJ4DxHAqwBm8"}"#;
const ED_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"X3X3Vx7r7ByAFKZIokwxJ9D855SA3nBMrBAKtUEIZy4","d":"yOAqAU2aK0v6pcvJIXWn9qvjdP9Sd46wJ8ouaXT0YqY"}"#;

/// A seed input: a file name under `corpus/<target>/`, its bytes, and for token seeds whether it
/// must verify (with the default options at [`NOW`]).
pub struct Seed {
    pub name: String,
    pub bytes: Vec<u8>,
    pub verifies: Option<bool>,
}

pub const TARGETS: [&str; 7] = [
    "verify_token",
    "parse_settings",
    "import_key",
    "request_inputs",
    "flow_inputs",
    "sso_inputs",
    "mfa_inputs",
];

/// Runs the harness of `target` on one input.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "verify_token" => verify_token(data),
        "parse_settings" => parse_settings(data),
        "import_key" => import_key(data),
        "request_inputs" => request_inputs(data),
        "flow_inputs" => flow_inputs(data),
        "sso_inputs" => sso_inputs(data),
        "mfa_inputs" => mfa_inputs(data),
        _ => panic!("no fuzz target {target}"),
    }
}

// ---------------------------------------------------------------------------------------------
// verify_token

struct Fixture {
    /// HS256 (current), ES256 (previous), EdDSA (standby), a second HS256 (revoked).
    ring: KeyRing,
    /// Tokens that verify; mutating any character of one must make it fail.
    valid: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring = KeyRing::new(vec![
            (
                KID_HS.into(),
                KeyStatus::Current,
                keys::import(HS_SECRET, Some(Alg::HS256)).unwrap(),
            ),
            (
                KID_ES.into(),
                KeyStatus::Previous,
                keys::import(ES_JWK, Some(Alg::ES256)).unwrap(),
            ),
            (
                KID_ED.into(),
                KeyStatus::Standby,
                keys::import(ED_JWK, Some(Alg::EdDSA)).unwrap(),
            ),
            (
                KID_REVOKED.into(),
                KeyStatus::Revoked,
                keys::import(HS_REVOKED_SECRET, Some(Alg::HS256)).unwrap(),
            ),
        ])
        .expect("the fuzzing key ring builds");
        let claims = json!({"sub": "fuzz", "exp": NOW + 3600});
        let mut valid = vec![ring.sign(&claims).expect("the current key signs")];
        for kid in [KID_ES, KID_ED] {
            valid.push(sign_with(&ring, kid, true, &claims.to_string()));
        }
        for kid in [KID_HS, KID_ES, KID_ED] {
            valid.push(sign_with(&ring, kid, false, &claims.to_string()));
        }
        let fixture = Fixture { ring, valid };
        for t in &fixture.valid {
            assert!(
                fixture
                    .ring
                    .verify(t, &VerifyOptions::default(), NOW)
                    .is_ok(),
                "a fixture token does not verify: {t}"
            );
        }
        fixture
    })
}

fn material<'a>(ring: &'a KeyRing, kid: &str) -> &'a KeyMaterial {
    &ring.keys().iter().find(|k| k.kid == kid).unwrap().material
}

/// The token of `header_json.payload_json` signed by the key `kid` of the fixture ring.
fn sign_raw(
    ring: &KeyRing,
    kid: &str,
    header_json: impl AsRef<[u8]>,
    payload_json: impl AsRef<[u8]>,
) -> String {
    let message = format!("{}.{}", B64.encode(header_json), B64.encode(payload_json));
    format!("{message}.{}", signature(material(ring, kid), &message))
}

/// `payload_json` signed by `kid` with the header `{"alg", "typ": "JWT"[, "kid"]}`.
fn sign_with(ring: &KeyRing, kid: &str, with_kid: bool, payload_json: &str) -> String {
    let alg = material(ring, kid).alg.as_str();
    let header = if with_kid {
        json!({"alg": alg, "typ": "JWT", "kid": kid})
    } else {
        json!({"alg": alg, "typ": "JWT"})
    };
    sign_raw(ring, kid, header.to_string(), payload_json)
}

fn signature(key: &KeyMaterial, message: &str) -> String {
    jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &key.encoding_key().unwrap(),
        key.alg.jwt(),
    )
    .unwrap()
}

fn verify_options() -> [VerifyOptions; 4] {
    [
        VerifyOptions::default(),
        VerifyOptions {
            leeway: 0,
            audience: None,
            issuer: None,
            require_exp: true,
        },
        VerifyOptions {
            leeway: 300,
            audience: Some("authenticated".into()),
            issuer: Some(ISSUER.into()),
            require_exp: true,
        },
        VerifyOptions {
            leeway: 5,
            audience: Some("service".into()),
            issuer: None,
            require_exp: true,
        },
    ]
}

/// The input four ways: as a token (lossy UTF-8, as text reaches the extension); as edits to a
/// valid token; as the claims of a token the harness signs; as the header of one. The last two
/// reach what a fuzzer cannot forge its way to: the parsing of signed claims and headers.
pub fn verify_token(data: &[u8]) {
    let f = fixture();
    check_token(f, &String::from_utf8_lossy(data));
    mutate_valid_token(f, data);
    let header = format!(r#"{{"alg":"HS256","kid":"{KID_HS}"}}"#);
    check_token(f, &sign_raw(&f.ring, KID_HS, header, data));
    let token = sign_raw(&f.ring, KID_HS, data, format!(r#"{{"exp":{}}}"#, NOW + 60));
    assert_eq!(
        f.ring.verify_signature(&token).is_ok(),
        reference_header(data),
        "verify_signature disagrees with the reference on the header {:?}",
        String::from_utf8_lossy(data)
    );
    check_token(f, &token);
}

/// Verifies `token` with every option set, twice, and compares with the reference.
fn check_token(f: &Fixture, token: &str) {
    let signed = f.ring.verify_signature(token).is_ok();
    let payload = signed.then(|| {
        check_signed(f, token);
        B64.decode(token.split('.').nth(1).unwrap()).unwrap()
    });
    for opts in verify_options() {
        let result = f.ring.verify(token, &opts, NOW);
        let again = f.ring.verify(token, &opts, NOW);
        assert_eq!(
            result.as_ref().map_err(AuthError::message),
            again.as_ref().map_err(AuthError::message),
            "verify is not deterministic"
        );
        let expected = payload.as_deref().and_then(|p| reference_claims(p, &opts));
        match (result, expected) {
            (Ok(claims), Some(want)) => {
                assert_eq!(claims, want, "the claims returned are not the payload's")
            }
            (Err(e), None) => check_refusal(&e, token),
            (Ok(claims), None) => panic!(
                "verify accepted what the reference refuses ({opts:?}):\n  {token}\n  {claims}"
            ),
            (Err(e), Some(_)) => panic!(
                "verify refused what the reference accepts ({opts:?}): {}\n  {token}",
                e.message()
            ),
        }
    }
}

/// What an error about a token may say: its code, and never the token or one of its parts.
fn check_refusal(e: &AuthError, token: &str) {
    assert_eq!(e.code(), "bad_jwt", "a token is refused as bad_jwt: {e:?}");
    let msg = e.message();
    assert!(msg.len() < 256, "an error message of {} bytes", msg.len());
    for word in long_words(token) {
        assert!(
            !msg.contains(word),
            "the error message echoes the token: {msg}"
        );
    }
}

/// The runs of 24 or more characters without whitespace or JSON punctuation: what an error
/// message must never contain of a token or key it refused. (Shorter runs, and runs with spaces,
/// may be words of the message's own fixed wording, which a fuzzer does find.)
fn long_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "\".,:{}[]".contains(c))
        .filter(|w| w.len() >= 24)
}

/// `verify_signature` accepted `token`: it must be three parts signed by a live key of the ring
/// whose algorithm is the header's, chosen by `kid` when the header has one.
fn check_signed(f: &Fixture, token: &str) {
    assert!(token.len() <= MAX_TOKEN_BYTES);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a signed token has three parts");
    assert!(
        parts.iter().all(|p| !p.is_empty()),
        "a signed token has no empty part"
    );
    let header_bytes = B64.decode(parts[0]).expect("a signed header is base64url");
    assert!(
        B64.decode(parts[1]).is_ok(),
        "a signed payload is base64url"
    );
    assert!(
        !has_duplicate_keys(&header_bytes),
        "a signed header has a duplicate key"
    );
    let header: Value = serde_json::from_slice(&header_bytes).expect("a signed header is JSON");
    let header = header.as_object().expect("a signed header is an object");
    assert!(!header.contains_key("crit"), "a signed header has crit");
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .expect("a signed header has an alg");
    let alg = Alg::parse(alg).expect("a signed header has an accepted alg");
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(other) => panic!("a signed header has a kid that is not a string: {other}"),
    };
    let message = &token[..parts[0].len() + 1 + parts[1].len()];
    let signer = f.ring.keys().iter().find(|k| {
        k.status != KeyStatus::Revoked
            && k.material.alg == alg
            && kid.is_none_or(|kid| kid == k.kid)
            && match alg {
                // deterministic signatures: the token carries exactly the one the key makes
                Alg::HS256 | Alg::EdDSA => signature(&k.material, message) == parts[2],
                _ => {
                    B64.decode(parts[2])
                        .is_ok_and(|s| B64.encode(s) == parts[2])
                        && jsonwebtoken::crypto::verify(
                            parts[2],
                            message.as_bytes(),
                            &k.material.decoding_key().unwrap(),
                            alg.jwt(),
                        )
                        .unwrap_or(false)
                }
            }
    });
    assert!(
        signer.is_some(),
        "a token verified that no live key of the ring signed: {token}"
    );
}

/// The reference for the claims of a correctly signed token: what `verify` must return with
/// `opts` at [`NOW`], or `None` when it must refuse. Written from the contract (one JSON object,
/// no duplicate key at any depth, a numeric `exp` not past, `nbf`/`iat` numeric and not in the
/// future, both with the leeway; `aud` and `iss` when required), with serde_json's plain `Value`
/// parser and the duplicate-key oracle below, not with the code under test.
fn reference_claims(payload: &[u8], opts: &VerifyOptions) -> Option<Value> {
    let claims: Value = serde_json::from_slice(payload).ok()?;
    if has_duplicate_keys(payload) {
        return None;
    }
    let map = claims.as_object()?;
    let (now, leeway) = (NOW as f64, opts.leeway as f64);
    let exp = map.get("exp")?.as_f64()?;
    if now > exp + leeway {
        return None;
    }
    if let Some(nbf) = map.get("nbf") {
        if now + leeway < nbf.as_f64()? {
            return None;
        }
    }
    if let Some(iat) = map.get("iat") {
        if iat.as_f64()? > now + leeway {
            return None;
        }
    }
    if let Some(want) = &opts.audience {
        let ok = match map.get("aud") {
            Some(Value::String(a)) => a == want,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(want)),
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    if let Some(want) = &opts.issuer {
        if map.get("iss").and_then(Value::as_str) != Some(want.as_str()) {
            return None;
        }
    }
    Some(claims)
}

/// The reference for a header on a token signed by the current HS256 key of the fixture ring:
/// whether the signature check must pass. One JSON object without duplicate keys or `crit`,
/// `alg` exactly "HS256", and no `kid` or the kid of that key.
fn reference_header(header: &[u8]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(header) else {
        return false;
    };
    !has_duplicate_keys(header)
        && !map.contains_key("crit")
        && map.get("alg").and_then(Value::as_str) == Some("HS256")
        && map
            .get("kid")
            .is_none_or(|kid| kid.as_str() == Some(KID_HS))
}

/// Characters an edit may put into a token: base64url, the separator, padding, the standard
/// base64 alphabet's extras, whitespace and some that are not ASCII.
const EDIT_CHARS: &[char] = &[
    'A', 'B', 'Q', 'g', 'w', 'z', '0', '9', '-', '_', '.', '=', '+', '/', ' ', '\n', '\0', 'é',
    '\u{FEFF}', 'e', 'y', 'J', 'h', 'b', 'G', 'c', 'i', 'O', 'I', 'k', 'x', 'M',
];

/// The input as up to 16 edits (replace, insert, delete; four bytes each, after one byte that
/// picks the token) of a valid token: whatever changes, the result must not verify.
fn mutate_valid_token(f: &Fixture, data: &[u8]) {
    let Some((&pick, ops)) = data.split_first() else {
        return;
    };
    if ops.len() < 4 {
        return;
    }
    let base = &f.valid[pick as usize % f.valid.len()];
    let mut chars: Vec<char> = base.chars().collect();
    for op in ops.chunks_exact(4).take(16) {
        let pos = u16::from_le_bytes([op[1], op[2]]) as usize;
        let c = EDIT_CHARS[op[3] as usize % EDIT_CHARS.len()];
        match op[0] % 4 {
            0 | 1 => {
                let i = pos % chars.len();
                chars[i] = c;
            }
            2 => chars.insert(pos % (chars.len() + 1), c),
            _ => {
                if chars.len() > 1 {
                    chars.remove(pos % chars.len());
                }
            }
        }
    }
    let edited: String = chars.into_iter().collect();
    let signed = f.ring.verify_signature(&edited).is_ok();
    let verified = f
        .ring
        .verify(&edited, &VerifyOptions::default(), NOW)
        .is_ok();
    if edited == *base {
        assert!(signed && verified, "a valid token no longer verifies");
    } else {
        assert!(
            !signed && !verified,
            "an edited token still verifies:\n  valid:  {base}\n  edited: {edited}"
        );
    }
}

/// True when `bytes` is not JSON or has a duplicate object key at any depth. An oracle of its own,
/// independent of the parser under test.
fn has_duplicate_keys(bytes: &[u8]) -> bool {
    struct Dup(bool);
    impl<'de> Deserialize<'de> for Dup {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(DupVisitor)
        }
    }
    struct DupVisitor;
    impl<'de> Visitor<'de> for DupVisitor {
        type Value = Dup;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_str<E>(self, _: &str) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_unit<E>(self) -> Result<Dup, E> {
            Ok(Dup(false))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dup, A::Error> {
            let mut dup = false;
            while let Some(Dup(d)) = seq.next_element()? {
                dup |= d;
            }
            Ok(Dup(dup))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dup, A::Error> {
            let (mut seen, mut dup) = (HashSet::new(), false);
            while let Some(k) = map.next_key::<String>()? {
                dup |= !seen.insert(k);
                let Dup(d) = map.next_value()?;
                dup |= d;
            }
            Ok(Dup(dup))
        }
    }
    serde_json::from_slice::<Dup>(bytes).map_or(true, |d| d.0)
}

/// Seed tokens: valid ones of every key and shape, and signed ones each refused for one reason.
pub fn verify_token_seeds() -> Vec<Seed> {
    let f = fixture();
    let r = &f.ring;
    let exp = NOW + 3600;
    let mut seeds = Vec::new();
    let mut add = |name: &str, token: String, verifies: bool| {
        seeds.push(Seed {
            name: format!("seed-{name}"),
            bytes: token.into_bytes(),
            verifies: Some(verifies),
        })
    };
    let claims = format!(r#"{{"sub":"fuzz","exp":{exp}}}"#);
    for (kid, name) in [(KID_HS, "hs256"), (KID_ES, "es256"), (KID_ED, "eddsa")] {
        add(
            &format!("{name}-kid"),
            sign_with(r, kid, true, &claims),
            true,
        );
        add(
            &format!("{name}-no-kid"),
            sign_with(r, kid, false, &claims),
            true,
        );
    }
    let gotrue = json!({
        "iss": ISSUER, "sub": "3f1c6a52-6d1e-4a53-9d4e-0c6f2b7d9a10", "aud": "authenticated",
        "exp": exp, "iat": NOW - 10, "nbf": NOW - 10, "email": "a@example.com", "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {"name": "Ä ü \u{1F600} \"quoted\""}, "role": "authenticated",
        "aal": "aal1", "amr": [{"method": "password", "timestamp": NOW - 10}],
        "session_id": "9a0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", "is_anonymous": false,
    });
    add("gotrue-claims", r.sign(&gotrue).unwrap(), true);
    let mut aud_list = gotrue.clone();
    aud_list["aud"] = json!(["service", "authenticated"]);
    add(
        "aud-array",
        sign_with(r, KID_ES, true, &aud_list.to_string()),
        true,
    );
    add(
        "float-exp",
        sign_with(r, KID_HS, true, &format!(r#"{{"exp":{exp}.5,"n":-1.5e3}}"#)),
        true,
    );
    add(
        "escaped-keys",
        sign_with(
            r,
            KID_HS,
            true,
            &format!(r#"{{"\u0065xp":{exp},"a\nb":"\ud83d\ude00"}}"#),
        ),
        true,
    );
    add(
        "exp-within-leeway",
        sign_with(r, KID_ED, true, &format!(r#"{{"exp":{}}}"#, NOW - 20)),
        true,
    );
    // refused, each for one reason
    add(
        "revoked-kid",
        sign_with(r, KID_REVOKED, true, &claims),
        false,
    );
    add(
        "revoked-no-kid",
        sign_with(r, KID_REVOKED, false, &claims),
        false,
    );
    add(
        "expired",
        sign_with(r, KID_HS, true, &format!(r#"{{"exp":{}}}"#, NOW - 31)),
        false,
    );
    add(
        "no-exp",
        sign_with(r, KID_HS, true, r#"{"sub":"fuzz"}"#),
        false,
    );
    add(
        "exp-string",
        sign_with(r, KID_HS, true, &format!(r#"{{"exp":"{exp}"}}"#)),
        false,
    );
    add(
        "exp-null",
        sign_with(r, KID_HS, true, r#"{"exp":null}"#),
        false,
    );
    add(
        "exp-huge",
        sign_with(r, KID_HS, true, r#"{"exp":1e308}"#),
        true,
    );
    add(
        "exp-overflow",
        sign_with(r, KID_HS, true, r#"{"exp":1e400}"#),
        false,
    );
    add(
        "nbf-future",
        sign_with(
            r,
            KID_HS,
            true,
            &format!(r#"{{"exp":{exp},"nbf":{}}}"#, NOW + 60),
        ),
        false,
    );
    add(
        "iat-future",
        sign_with(
            r,
            KID_ES,
            true,
            &format!(r#"{{"exp":{exp},"iat":{}}}"#, NOW + 60),
        ),
        false,
    );
    add(
        "dup-claim",
        sign_with(
            r,
            KID_HS,
            true,
            &format!(r#"{{"exp":{exp},"exp":{}}}"#, NOW + 7200),
        ),
        false,
    );
    add(
        "dup-nested",
        sign_with(
            r,
            KID_HS,
            true,
            &format!(r#"{{"exp":{exp},"m":[{{"a":1,"a":2}}]}}"#),
        ),
        false,
    );
    add(
        "dup-escaped",
        sign_with(
            r,
            KID_HS,
            true,
            &format!(r#"{{"exp":{exp},"role":"a","r\u006fle":"b"}}"#),
        ),
        false,
    );
    add(
        "payload-array",
        sign_with(r, KID_HS, true, &format!("[{exp}]")),
        false,
    );
    add(
        "payload-trailing",
        sign_with(r, KID_HS, true, &format!(r#"{{"exp":{exp}}} x"#)),
        false,
    );
    add(
        "header-dup-kid",
        sign_raw(
            r,
            KID_HS,
            format!(r#"{{"alg":"HS256","kid":"{KID_REVOKED}","kid":"{KID_HS}"}}"#),
            &claims,
        ),
        false,
    );
    add(
        "header-crit",
        sign_raw(
            r,
            KID_HS,
            format!(r#"{{"alg":"HS256","kid":"{KID_HS}","crit":["exp"]}}"#),
            &claims,
        ),
        false,
    );
    add(
        "header-kid-number",
        sign_raw(r, KID_HS, r#"{"alg":"HS256","kid":7}"#, &claims),
        false,
    );
    add(
        "header-unknown-kid",
        sign_raw(r, KID_HS, r#"{"alg":"HS256","kid":"nope"}"#, &claims),
        false,
    );
    add(
        "header-alg-mismatch",
        sign_raw(
            r,
            KID_HS,
            format!(r#"{{"alg":"ES256","kid":"{KID_HS}"}}"#),
            &claims,
        ),
        false,
    );
    add(
        "header-alg-lowercase",
        sign_raw(r, KID_HS, r#"{"alg":"hs256"}"#, &claims),
        false,
    );
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(claims.as_bytes())
    );
    add("alg-none", none, false);
    // HS256 "signed" with the ES256 public key as the secret: the classic confusion attack
    let es_public = material(r, KID_ES).public_jwk.as_ref().unwrap().to_string();
    let message = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"HS256"}"#),
        B64.encode(claims.as_bytes())
    );
    let forged = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(es_public.as_bytes()),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    add("alg-confusion", format!("{message}.{forged}"), false);
    let valid = sign_with(r, KID_HS, true, &claims);
    let [h, p, s]: [&str; 3] = valid.split('.').collect::<Vec<_>>().try_into().unwrap();
    add("padded-signature", format!("{h}.{p}.{s}="), false);
    add("four-parts", format!("{h}.{p}.{s}.{s}"), false);
    let standard = s.replace('-', "+").replace('_', "/");
    if standard != s {
        add("std-base64-signature", format!("{h}.{p}.{standard}"), false);
    }
    add("empty", String::new(), false);
    add("dots", "..".into(), false);
    add("not-base64", "@@@.###.$$$".into(), false);
    // JSON, for the paths that sign the input as claims or as a header
    let mut json_seed = |name: &str, text: String| {
        seeds.push(Seed {
            name: format!("seed-json-{name}"),
            bytes: text.into_bytes(),
            verifies: None,
        })
    };
    json_seed("claims", gotrue.to_string());
    json_seed(
        "claims-nested",
        format!(
            r#"{{"exp":{exp},"a":[1,-2,3.5e-7,{{"b":null,"c":true}}],"s":"\u00e9\ud83d\ude00"}}"#
        ),
    );
    json_seed(
        "claims-dup",
        format!(r#"{{"exp":{exp},"x":{{"y":1,"y":2}}}}"#),
    );
    json_seed(
        "header",
        format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{KID_HS}"}}"#),
    );
    json_seed("header-no-kid", r#"{"alg":"HS256"}"#.into());
    seeds
}

// ---------------------------------------------------------------------------------------------
// parse_settings

/// Arbitrary bytes as the JSON of `auth.configure(changes)` (validated by `Settings::apply`) and
/// as stored settings (`Settings::from_stored`, what a backend reads from `auth.config`).
pub fn parse_settings(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(stored) = Settings::from_stored(&value) {
        // whatever storage holds, the accessors answer
        let _ = stored.verify_options();
        let _ = stored.signing_alg();
        let _ = stored.argon2_cost();
        assert_eq!(
            Settings::from_stored(&stored.to_json()).as_ref(),
            Ok(&stored)
        );
        // storage is not validated on reading: only a valid stored state has the guarantees
        let valid = Settings::default().apply(&stored.to_json()).is_ok();
        match stored.apply(&value) {
            Ok(change) if valid => check_change(
                &stored,
                &value,
                &change.settings,
                change.jwt_secret.as_deref(),
            ),
            _ => {}
        }
    }
    let base = Settings::default();
    match base.apply(&value) {
        Ok(change) => check_change(
            &base,
            &value,
            &change.settings,
            change.jwt_secret.as_deref(),
        ),
        Err(e) => {
            assert_eq!(e.code(), "validation_failed", "{e:?}");
            let msg = e.message();
            assert!(msg.len() < 256, "an error message of {} bytes", msg.len());
            assert!(
                !msg.starts_with("invalid settings"),
                "a change passed the checks of every key but did not deserialise: {msg}"
            );
            if let Some(secret) = value.get(JWT_SECRET).and_then(Value::as_str) {
                for word in long_words(secret) {
                    assert!(
                        !msg.contains(word),
                        "an error message shows jwt_secret: {msg}"
                    );
                }
            }
        }
    }
}

/// `base.apply(changes)` gave `settings`: the change is exactly what was asked, and what is
/// stored re-validates and reads back the same.
fn check_change(base: &Settings, changes: &Value, settings: &Settings, secret: Option<&str>) {
    let changes = changes.as_object().expect("only an object is accepted");
    let stored = settings.to_json();
    let stored_map = stored.as_object().expect("settings serialise to an object");
    assert!(
        !stored_map.contains_key(JWT_SECRET),
        "jwt_secret is stored with the settings"
    );
    match changes.get(JWT_SECRET) {
        Some(given) => {
            assert_eq!(
                Some(given.as_str().expect("jwt_secret is a string")),
                secret
            );
            assert!(secret.unwrap().chars().count() >= MIN_JWT_SECRET_LEN);
        }
        None => assert_eq!(secret, None),
    }
    let before = base.to_json();
    for (key, value) in stored_map {
        let want = changes.get(key).unwrap_or(&before[key]);
        assert_eq!(value, want, "setting {key} is not what was asked");
    }
    assert_eq!(
        changes.keys().filter(|k| *k != JWT_SECRET).count(),
        changes
            .keys()
            .filter(|k| stored_map.contains_key(*k))
            .count(),
        "an unknown key was accepted"
    );
    // storage round trip
    assert_eq!(Settings::from_stored(&stored).as_ref(), Ok(settings));
    // the stored settings, all of them, pass validation again (from the defaults), and applying
    // the same change twice changes nothing more
    let revalidated = Settings::default()
        .apply(&stored)
        .unwrap_or_else(|e| panic!("accepted settings do not re-validate: {}", e.message()));
    assert_eq!(&revalidated.settings, settings);
    let twice = settings.apply(&Value::Object(changes.clone())).unwrap();
    assert_eq!(&twice.settings, settings);
    // what the extension derives from them is usable
    assert!(Alg::parse(settings.tokens.jwt_signing_algorithm.as_str()).is_ok());
    let cost = settings.argon2_cost();
    assert!(
        !password::needs_rehash(&cost.decoy_hash(), cost),
        "accepted argon2 parameters are not valid argon2 parameters: {cost:?}"
    );
    assert!(settings.trust.client_ip_trusted_proxies >= 1);
}

pub fn parse_settings_seeds() -> Vec<Seed> {
    let seed = |name: &str, v: Value| Seed {
        name: format!("seed-{name}"),
        bytes: v.to_string().into_bytes(),
        verifies: None,
    };
    vec![
        seed("defaults", Settings::default().to_json()),
        seed("empty", json!({})),
        seed(
            "typical",
            json!({"jwt_exp": 600, "disable_signup": true, "sessions_timebox": 86400,
                   "claims_trust": "verified", "argon2_memory_kib": 1024, "argon2_iterations": 1}),
        ),
        seed(
            "every-key",
            json!({"jwt_exp": 7200, "jwt_aud": "authenticated", "jwt_issuer": ISSUER,
                   "site_url": "https://app.example", "disable_signup": false,
                   "mailer_autoconfirm": false, "password_min_length": 12,
                   "refresh_token_rotation_enabled": true, "refresh_token_reuse_interval": 0,
                   "sessions_timebox": null, "sessions_inactivity_timeout": 3600,
                   "argon2_memory_kib": 65536, "argon2_iterations": 3, "argon2_parallelism": 4,
                   "jwt_signing_algorithm": "EdDSA", "jwt_leeway": 0,
                   "jwt_verify_aud": "authenticated", "jwt_verify_iss": ISSUER,
                   "claims_trust": "any", "trusted_roles": ["authenticator", "service_role"],
                   "revocable_access_tokens": true}),
        ),
        seed(
            "jwt-secret",
            json!({"jwt_secret": "a-legacy-hs256-secret-of-at-least-32-chars"}),
        ),
        seed(
            "bounds",
            json!({"jwt_exp": 120, "jwt_leeway": 300, "argon2_parallelism": 16}),
        ),
        seed(
            "out-of-bounds",
            json!({"jwt_exp": 119, "argon2_memory_kib": 1048577}),
        ),
        seed(
            "wrong-types",
            json!({"jwt_exp": "3600", "disable_signup": 1, "trusted_roles": [1]}),
        ),
        seed("float", json!({"jwt_exp": 600.0})),
        seed("unknown", json!({"nope": 1})),
        seed("array", json!([{"jwt_exp": 600}])),
        seed("string", json!("jwt_exp")),
        seed(
            "huge-number",
            json!({"refresh_token_reuse_interval": u64::MAX}),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// import_key

/// The first byte picks the algorithm asked for (`H` HS256, `R` RS256, `E` ES256, `D` EdDSA,
/// anything else none); the rest, as lossy UTF-8, is the key text (a JWK, a PEM, a secret),
/// imported, and also loaded as a stored public JWK.
pub fn import_key(data: &[u8]) {
    let Some((alg, text)) = import_input(data) else {
        return;
    };
    load_stored(&text, &data[1..]);
    match keys::import(&text, alg) {
        Ok(key) => check_imported(&key, alg),
        Err(e) => {
            assert_eq!(e.code(), "validation_failed", "{e:?}");
            let msg = e.message();
            assert!(msg.len() < 256, "an error message of {} bytes", msg.len());
            for word in long_words(&text) {
                assert!(
                    !msg.contains(word),
                    "the error message shows the key: {msg}"
                );
            }
        }
    }
}

/// The input as stored key material (what a backend reads from `auth.signing_keys` into a
/// [`KeyMaterial`] and hands to `KeyRing::new`): the text as the `public_jwk`, the bytes as the
/// private DER, for each asymmetric algorithm. The ring either refuses to load it, or refuses a
/// wrong signature and signs (or refuses to) without panicking.
fn load_stored(text: &str, raw: &[u8]) {
    let jwk = serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object);
    for alg in [Alg::ES256, Alg::EdDSA, Alg::RS256] {
        let stored = KeyMaterial {
            alg,
            secret: None,
            private_der: Some(raw.to_vec()),
            public_jwk: jwk.clone(),
        };
        if let Ok(ring) = KeyRing::new(vec![("stored".into(), KeyStatus::Current, stored)]) {
            assert!(
                ring.verify_signature(&wrongly_signed(alg)).is_err(),
                "a wrong signature verifies"
            );
            let _ = ring.sign(&json!({"sub": "fuzz", "exp": NOW + 60}));
        }
    }
}

/// A token of `alg` (no kid) whose signature has the right size but is wrong.
fn wrongly_signed(alg: Alg) -> String {
    let claims = json!({"sub": "fuzz", "exp": NOW + 60});
    let message = format!(
        "{}.{}",
        B64.encode(json!({"alg": alg.as_str()}).to_string()),
        B64.encode(claims.to_string())
    );
    let wrong = match alg {
        Alg::HS256 => vec![0x5a; 32],
        Alg::ES256 | Alg::EdDSA => vec![0x5a; 64],
        Alg::RS256 => vec![0x5a; 256],
    };
    format!("{message}.{}", B64.encode(wrong))
}

fn import_input(data: &[u8]) -> Option<(Option<Alg>, std::borrow::Cow<'_, str>)> {
    let (&pick, text) = data.split_first()?;
    let alg = match pick {
        b'H' => Some(Alg::HS256),
        b'R' => Some(Alg::RS256),
        b'E' => Some(Alg::ES256),
        b'D' => Some(Alg::EdDSA),
        _ => None,
    };
    Some((alg, String::from_utf8_lossy(text)))
}

/// Whether an `import_key` input imports.
pub fn key_imports(data: &[u8]) -> bool {
    import_input(data).is_some_and(|(alg, text)| keys::import(&text, alg).is_ok())
}

/// An imported key: of the algorithm asked for, usable by a key ring (the instance loads every
/// stored key: one that cannot be loaded would break it), signing only what it verifies, and
/// publishing no private member.
fn check_imported(key: &KeyMaterial, alg: Option<Alg>) {
    if let Some(alg) = alg {
        assert_eq!(key.alg, alg, "imported as another algorithm than asked");
    }
    match key.alg {
        Alg::HS256 => {
            assert!(key.secret.as_ref().is_some_and(|s| s.len() >= 32));
            assert!(key.private_der.is_none() && key.public_jwk.is_none());
            assert!(key.can_sign());
        }
        _ => {
            assert!(key.secret.is_none());
            let jwk = key
                .public_jwk
                .as_ref()
                .and_then(Value::as_object)
                .expect("a public JWK");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(
                    !jwk.contains_key(private),
                    "the public JWK has \"{private}\""
                );
            }
        }
    }
    let status = if key.can_sign() {
        KeyStatus::Current
    } else {
        KeyStatus::Standby
    };
    let ring = KeyRing::new(vec![("imported".into(), status, key.clone())])
        .unwrap_or_else(|e| panic!("an imported key does not load into a key ring: {e:?}"));
    // a token of the key's algorithm with a signature of the right size, but wrong, is refused
    assert!(
        ring.verify_signature(&wrongly_signed(key.alg)).is_err(),
        "a wrong signature verifies"
    );
    let claims = json!({"sub": "fuzz", "exp": NOW + 60});
    let token = key.can_sign().then(|| {
        let token = ring.sign(&claims).expect("an imported private key signs");
        assert_eq!(
            ring.verify(&token, &VerifyOptions::default(), NOW).as_ref(),
            Ok(&claims),
            "an imported key does not verify its own token"
        );
        token
    });
    // what is published imports back as the same verifying key
    let kid = "imported";
    let published = key
        .verification_jwk(kid)
        .expect("every key has a verification JWK");
    assert_eq!(published["kid"], kid);
    assert_eq!(published["alg"], key.alg.as_str());
    let back = keys::import(&published.to_string(), Some(key.alg))
        .unwrap_or_else(|e| panic!("a published JWK does not import back: {}", e.message()));
    assert_eq!(back.public_jwk, key.public_jwk);
    assert_eq!(back.secret, key.secret);
    match key.alg {
        Alg::HS256 => assert!(key.public_jwk(kid).is_none(), "an HS256 key is published"),
        _ => assert!(!back.can_sign(), "a public JWK imports as a signing key"),
    }
    if let Some(token) = token {
        let status = if back.can_sign() {
            KeyStatus::Current
        } else {
            KeyStatus::Previous
        };
        let ring = KeyRing::new(vec![(kid.into(), status, back)]).unwrap();
        assert!(
            ring.verify(&token, &VerifyOptions::default(), NOW).is_ok(),
            "the published key does not verify the key's token"
        );
    }
}

/// The keys of the token ring as JWKs, public and private, and the HS256 secret as text.
pub fn import_key_seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |name: &str, pick: u8, text: &str| {
        let mut bytes = vec![pick];
        bytes.extend_from_slice(text.as_bytes());
        seeds.push(Seed {
            name: format!("seed-{name}"),
            bytes,
            verifies: None,
        })
    };
    add("es256-private-jwk", b'E', ES_JWK);
    add("eddsa-private-jwk", b'D', ED_JWK);
    for (name, jwk) in [("es256", ES_JWK), ("eddsa", ED_JWK)] {
        let key = keys::import(jwk, None).unwrap();
        add(
            &format!("{name}-public-jwk"),
            b'*',
            &key.public_jwk("k1").unwrap().to_string(),
        );
    }
    add("hs256-secret", b'H', HS_SECRET);
    add(
        "oct-jwk",
        b'*',
        &json!({"kty": "oct", "k": B64.encode(HS_SECRET), "alg": "HS256"}).to_string(),
    );
    seeds
}

/// Every generated seed of `target`.
pub fn seeds(target: &str) -> Vec<Seed> {
    match target {
        "verify_token" => verify_token_seeds(),
        "parse_settings" => parse_settings_seeds(),
        "import_key" => import_key_seeds(),
        "request_inputs" => request_inputs_seeds(),
        "flow_inputs" => flow_inputs_seeds(),
        "sso_inputs" => sso_inputs_seeds(),
        "mfa_inputs" => mfa_inputs_seeds(),
        _ => panic!("no fuzz target {target}"),
    }
}

/// Whether `token` verifies against the fuzzing ring with the default options at [`NOW`].
pub fn token_verifies(token: &str) -> bool {
    fixture()
        .ring
        .verify(token, &VerifyOptions::default(), NOW)
        .is_ok()
}

// ---------------------------------------------------------------------------------------------
// request_inputs: what a caller controls besides tokens and keys

/// The first byte picks the check, the rest is its input:
/// - 0: `client_ip::resolve` over a header value (second byte: the trusted proxies, 0-7): never
///   panics; an address comes only from the entry that many places from the right, and never
///   from a header with fewer entries;
/// - 1: `redact::statement_needs_redaction`: a statement naming a credential function, in any
///   case, is always redacted;
/// - 2: `rows::read::<sign_in::Account>` over JSON: a row is admitted only if it has every field.
pub fn request_inputs(data: &[u8]) {
    use auth_core::{client_ip, redact, rows, sign_in};
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            let Some((&n, value)) = rest.split_first() else {
                return;
            };
            let Ok(value) = std::str::from_utf8(value) else {
                return;
            };
            let rule = client_ip::IpRule {
                header: Some("x-forwarded-for".into()),
                trusted_proxies: (n % 8) as usize,
            };
            if let Some(ip) = client_ip::resolve(&rule, Some(value)) {
                let entries: Vec<&str> = value.split(',').map(str::trim).collect();
                assert!(rule.trusted_proxies >= 1 && entries.len() >= rule.trusted_proxies);
                let chosen = entries[entries.len() - rule.trusted_proxies];
                // the address depends on the chosen entry alone
                let alone = client_ip::IpRule {
                    header: rule.header.clone(),
                    trusted_proxies: 1,
                };
                assert_eq!(client_ip::resolve(&alone, Some(chosen)), Some(ip));
            }
        }
        1 => {
            let needs = redact::statement_needs_redaction(rest);
            let lower = String::from_utf8_lossy(rest).to_ascii_lowercase();
            if redact::CREDENTIAL_FUNCTIONS
                .iter()
                .any(|f| lower.contains(f))
            {
                assert!(needs, "a credential call was not redacted");
            }
        }
        _ => {
            let Ok(value) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            if let Ok(account) = rows::read::<sign_in::Account>(value.clone()) {
                for field in ["id", "email", "hash", "confirmed", "banned"] {
                    assert!(value.get(field).is_some(), "admitted without {field}");
                }
                let _ = account.admit(false, false);
            }
        }
    }
}

pub fn request_inputs_seeds() -> Vec<Seed> {
    let seed = |name: &str, kind: u8, bytes: &[u8]| Seed {
        name: format!("seed-{name}"),
        bytes: [&[kind][..], bytes].concat(),
        verifies: None,
    };
    vec![
        seed("xff-one-proxy", 0, b"\x016.6.6.6, 203.0.113.7"),
        seed("xff-two-proxies", 0, b"\x026.6.6.6, 203.0.113.7, 10.0.0.2"),
        seed("xff-ipv6-port", 0, b"\x01[2001:db8::1]:443"),
        seed("xff-mapped", 0, b"\x01::ffff:203.0.113.7"),
        seed("xff-too-few", 0, b"\x036.6.6.6"),
        seed("redact-sign-in", 1, b"SELECT AUTH.SIGN_IN_WITH_PASSWORD('a', 'b')"),
        seed("redact-plain", 1, b"SELECT auth.uid()"),
        seed(
            "account-complete",
            2,
            br#"{"id":"5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11","email":"a@b.co","hash":null,"confirmed":true,"banned":false}"#,
        ),
        seed(
            "account-no-ban-field",
            2,
            br#"{"id":"5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11","email":"a@b.co","hash":null,"confirmed":true}"#,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// flow_inputs: what a caller controls in the email and phone flows

/// The site_url of the redirect checks (the second is a localhost one, whose port may vary).
pub const FLOW_SITES: [&str; 2] = ["https://example.com", "http://localhost:3000"];

/// The first byte picks the check, the rest (UTF-8) is its input, fields separated by `\n`:
/// - 0: `templates::render` and `render_sms` over a template (also used as the values): a text
///   without `{{` comes back unchanged;
/// - 1: `redirect::allowed_target` over `redirect_to\nuri_allow_list`: the answer is site_url or
///   `redirect_to` itself, and an accepted `redirect_to` has none of the shapes refused
///   outright (whitespace, backslash, `//x`, a blocked scheme); `with_fragment` and
///   `with_query` keep what comes before the fragment or query, and the fragment;
/// - 2: `phone::normalize`: an accepted number is 2 to 15 digits not starting with 0, and is
///   its own normal form;
/// - 3: `pkce::read_challenge` over `challenge\nmethod\nverifier`, then `verifier_matches`: an
///   accepted challenge answers itself as a plain verifier, and a well-formed verifier answers
///   its own S256 challenge.
pub fn flow_inputs(data: &[u8]) {
    use auth_core::{phone, pkce, redirect, templates};
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match kind % 4 {
        0 => {
            let meta = json!({"name": text, "n": 1, "deep": {"k": text}});
            let vars = templates::EmailVars {
                confirmation_url: "https://auth.example/verify?token=t&type=signup&redirect_to=",
                token: "123456",
                token_hash: text,
                site_url: FLOW_SITES[0],
                email: "a+b@example.com",
                new_email: text,
                redirect_to: text,
                data: &meta,
            };
            let out = templates::render(text, &vars);
            let sms = templates::render_sms(text, text);
            if !text.contains("{{") {
                assert_eq!(out, text, "a text without {{{{ changed");
                if !text.is_empty() {
                    assert_eq!(sms, text, "an SMS text without {{{{ changed");
                }
            }
        }
        1 => {
            let (redirect_to, list) = text.split_once('\n').unwrap_or((text, ""));
            for site in FLOW_SITES {
                let out = redirect::allowed_target(Some(redirect_to), site, list);
                assert!(
                    out == site || out == redirect_to,
                    "allowed_target answered neither site_url nor its input"
                );
                if out == redirect_to && out != site {
                    assert!(!redirect_to.is_empty());
                    assert!(redirect_to.len() <= redirect::MAX_REDIRECT_LEN);
                    assert!(
                        !redirect_to
                            .chars()
                            .any(|c| c <= ' ' || c == '\\' || c == '\u{7f}'),
                        "accepted whitespace, a control character or a backslash"
                    );
                    assert!(!redirect_to.starts_with("//"), "accepted a network path");
                    let lower = redirect_to.to_ascii_lowercase();
                    for scheme in ["javascript:", "data:", "vbscript:", "file:"] {
                        assert!(!lower.starts_with(scheme), "accepted {scheme}");
                    }
                }
            }
            let pairs = [("code", redirect_to), ("type", list)];
            let (before_fragment, fragment) = match redirect_to.split_once('#') {
                Some((b, f)) => (b, Some(f)),
                None => (redirect_to, None),
            };
            let with_fragment = redirect::with_fragment(redirect_to, &pairs);
            assert!(with_fragment.starts_with(before_fragment));
            assert_eq!(with_fragment.matches('#').count(), 1);
            let with_query = redirect::with_query(redirect_to, &pairs);
            let path = before_fragment.split('?').next().unwrap_or("");
            assert!(with_query.starts_with(&format!("{path}?")));
            assert!(with_query.contains(&format!("code={}", redirect::query_escape(redirect_to))));
            if let Some(fragment) = fragment {
                assert!(with_query.ends_with(&format!("#{fragment}")));
            }
        }
        2 => {
            if let Ok(p) = phone::normalize(Some(text)) {
                assert!((2..=15).contains(&p.len()), "accepted length {}", p.len());
                assert!(p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0'));
                assert_eq!(phone::normalize(Some(&p)).as_deref(), Ok(p.as_str()));
            }
        }
        _ => {
            let mut fields = text.splitn(3, '\n');
            let (challenge, method) = (fields.next(), fields.next());
            let verifier = fields.next().unwrap_or("");
            if let Ok(Some((challenge, method))) = pkce::read_challenge(challenge, method) {
                assert_eq!(
                    method.as_str().len(),
                    if method == pkce::Method::S256 { 4 } else { 5 }
                );
                assert_eq!(
                    pkce::verifier_matches(&challenge, &challenge, pkce::Method::Plain),
                    Ok(true)
                );
                let _ = pkce::verifier_matches(verifier, &challenge, method);
            }
            if pkce::verifier_matches(verifier, verifier, pkce::Method::Plain) == Ok(true) {
                use sha2::{Digest, Sha256};
                let s256 = B64.encode(Sha256::digest(verifier.as_bytes()));
                assert_eq!(
                    pkce::read_challenge(Some(&s256), Some("S256")),
                    Ok(Some((s256.clone(), pkce::Method::S256)))
                );
                assert_eq!(
                    pkce::verifier_matches(verifier, &s256, pkce::Method::S256),
                    Ok(true)
                );
            }
        }
    }
}

pub fn flow_inputs_seeds() -> Vec<Seed> {
    let seed = |name: &str, kind: u8, text: &str| Seed {
        name: format!("seed-{name}"),
        bytes: [&[kind][..], text.as_bytes()].concat(),
        verifies: None,
    };
    let signup_body = auth_core::templates::EmailAction::Signup.default_body();
    vec![
        seed("template-default-signup", 0, signup_body),
        seed(
            "template-data-and-if",
            0,
            "Hi {{ .Data.name }} {{.Data.deep.k}} {{ if .Token }}x{{ end }} <a href=\"{{ .SiteURL }}/confirm?token_hash={{ .TokenHash }}&type=email\">",
        ),
        seed("template-unclosed", 0, "Your code: {{ .Token"),
        seed("template-sms", 0, "Your code is {{ .Code }}"),
        seed(
            "redirect-listed",
            1,
            "http://localhost:3000/cb?x=1#f\nhttp://localhost:3000/**,https://*.example.org/**",
        ),
        seed("redirect-same-site", 1, "https://example.com/welcome?next=%2Fhome"),
        seed("redirect-loopback", 1, "http://127.0.0.1:8080/cb\n"),
        seed("redirect-custom-scheme", 1, "com.my_app.example://cb/x\ncom.my_app.example://cb/*"),
        seed(
            "redirect-superglob-host",
            1,
            "https://evil.com/.trusted.net/\nhttps://**.trusted.net/**",
        ),
        seed(
            "redirect-single-label",
            1,
            "https://evil?-team.vercel.app/\nhttps://*-team.vercel.app/**",
        ),
        seed("redirect-javascript-loopback", 1, "javascript://127.0.0.1/%0aalert(1)\n**"),
        seed("redirect-network-path", 1, "//evil.com/x\n**"),
        seed("redirect-backslash", 1, "https:/\\evil.com\n**"),
        seed("redirect-hex-host", 1, "http://0x7f.1/\nhttp://**"),
        seed("redirect-userinfo", 1, "https://example.com@evil.com/\n**"),
        seed("phone-spaces", 2, "+1 555 123 4567"),
        seed("phone-space-before-plus", 2, " +15551234567"),
        seed("phone-leading-zero", 2, "0123"),
        seed(
            "pkce-rfc7636",
            3,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\nS256\ndBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
        seed(
            "pkce-plain",
            3,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\nplain\ndBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
        seed("pkce-missing-method", 3, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\n\n"),
        seed("pkce-bad-charset", 3, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM\nS256\nx"),
    ]
}

// ---------------------------------------------------------------------------------------------
// sso_inputs: an IdP's metadata and the verified assertion the shim hands over

/// The entity id `sso_inputs` hands to `profile`.
pub const SSO_ENTITY_ID: &str = "https://idp.fuzz.example/metadata";

/// The whole input (UTF-8) goes to:
/// - `sso::metadata::parse`: accepted metadata has a trimmed, non-empty entity id, an absolute
///   http(s) SSO URL, at least one well-formed PEM certificate (no duplicates) and no negative
///   cache duration; a refusal's message is short (it never quotes the document);
/// - `serde_json` then `Assertion::from_json` and `profile`: the input is the assertion, or
///   `{"assertion": ..., "mapping": ...}`; without a mapping, a fixed one. An accepted profile has
///   the assertion's `user_id()` as subject, a valid lower-case email, `email_verified`, and
///   `iss`, `sub`, `email` claims that the mapping cannot override; a refusal is a 400 with one
///   of the SSO codes;
/// - the small helpers (`normalize_domain`, `email_domain`, `check_name_id_format`,
///   `parse_datetime`, `parse_duration`): an accepted domain is its own normal form.
pub fn sso_inputs(data: &[u8]) {
    use auth_core::sso::{self, metadata, Assertion, AttributeMapping};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    match metadata::parse(text) {
        Ok(m) => {
            assert!(!m.entity_id.is_empty() && m.entity_id.trim() == m.entity_id);
            assert!(m.entity_id.len() <= metadata::MAX_ENTITY_ID_BYTES);
            let url = url_scheme(&m.sso_url);
            assert!(
                url == "http" || url == "https",
                "an SSO URL that is not http(s)"
            );
            assert!(!m.certificates.is_empty(), "metadata without a certificate");
            for (i, pem) in m.certificates.iter().enumerate() {
                assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
                assert!(pem.ends_with("\n-----END CERTIFICATE-----\n"));
                assert!(pem.lines().all(|l| l.len() <= 64));
                assert!(
                    !m.certificates[..i].contains(pem),
                    "a duplicate certificate"
                );
            }
            assert!(m.cache_duration_s.is_none_or(|d| d >= 0));
        }
        Err(e) => assert!(
            e.to_string().len() <= 160,
            "a metadata refusal too long to be a fixed message: {e}"
        ),
    }

    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let (assertion, mapping) = match value.get("assertion") {
            Some(a) => (
                a.clone(),
                value.get("mapping").cloned().unwrap_or(Value::Null),
            ),
            None => (
                value.clone(),
                json!({"keys": {
                    "email": {"name": "upn"},
                    "name": {"name": "displayName", "names": ["cn"], "default": "anonymous"},
                    "groups": {"name": "memberOf", "array": true},
                    "sub": {"name": "sub"},
                    "iss": {"name": "nope", "default": "https://forged.example"},
                }}),
            ),
        };
        let mapping = AttributeMapping::parse(&mapping).unwrap_or_default();
        if let Ok(a) = Assertion::from_json(&assertion) {
            match a.profile(&mapping, SSO_ENTITY_ID) {
                Ok(p) => {
                    assert_eq!(Some(&p.subject), a.user_id().as_ref());
                    let email = p.email.as_deref().expect("a profile without an email");
                    assert_eq!(
                        auth_core::email::normalize(Some(email)).as_deref(),
                        Ok(email)
                    );
                    assert!(p.email_verified);
                    assert_eq!(p.claims["iss"], SSO_ENTITY_ID);
                    assert_eq!(p.claims["sub"], p.subject.as_str());
                    assert_eq!(p.claims["email"], email);
                    assert_eq!(p.claims["email_verified"], true);
                    assert!(a.attributes.len() <= sso::assertion::MAX_ATTRIBUTES);
                }
                Err(e) => {
                    assert_eq!(e.status(), 400);
                    assert!(
                        matches!(
                            e.code(),
                            "validation_failed"
                                | "saml_assertion_no_user_id"
                                | "saml_assertion_no_email"
                        ),
                        "unexpected refusal {e}"
                    );
                }
            }
        }
    }

    if let Ok(d) = sso::normalize_domain(text) {
        assert!(d.len() <= sso::MAX_DOMAIN_LEN && d.contains('.'));
        assert!(!d.contains(['@', '/', ':']) && d.trim() == d);
        assert_eq!(sso::normalize_domain(&d).as_deref(), Ok(d.as_str()));
    }
    if let Some(d) = sso::email_domain(text) {
        assert!(!d.is_empty() && !d.contains('@'));
    }
    if sso::check_name_id_format(Some(text)).is_ok() {
        assert!(text.is_empty() || sso::NAME_ID_FORMATS.contains(&text));
    }
    let _ = metadata::parse_datetime(text);
    assert!(metadata::parse_duration(text).is_none_or(|d| d >= 0));
}

fn url_scheme(u: &str) -> &str {
    u.split_once(':').map_or("", |(s, _)| s)
}

pub fn sso_inputs_seeds() -> Vec<Seed> {
    let seed = |name: &str, text: String| Seed {
        name: format!("seed-{name}"),
        bytes: text.into_bytes(),
        verifies: None,
    };
    // A self-signed P-256 certificate made for these seeds.
    const CERT: &str = "MIIBjTCCATOgAwIBAgIUEjEycdUgXtBqmpJSMuqK+dW3i3IwCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwRaWRwLWIuZXhhbXBsZS5jb20wHhcNMjYxMjAyMTE0NDU1WhcNMzYxMTI5MTE0NDU1WjAcMRowGAYDVQQDDBFpZHAtYi5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ/XvgfaTcmyRH9OSu9m7rzpQB1fyVP+nol/+Nudy5Y6qLvyPTGHVVkkMAZIJa8NidSDBSEXMJ9LTlXRXVixOfSjUzBRMB0GA1UdDgQWBBSNFXw3NlOPeno9ZQoGj5ICDZA5KDAfBgNVHSMEGDAWgBSNFXw3NlOPeno9ZQoGj5ICDZA5KDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDjww81EE+r6i4IOb/CMUJViLnT+VBLUlP8Fo3nXpUQ9AIgNYjUwyUtrG68gWglLL4mJLrxzSUrRmdk9S0FjfKP9is=";
    let entity = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{SSO_ENTITY_ID}" validUntil="2026-12-01T10:00:00.5+01:00" cacheDuration="P0Y0M1DT2H">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{}
{}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MAYCAQcCAQg=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.fuzz.example/sso/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.fuzz.example/sso/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
        &CERT[..76],
        &CERT[76..]
    );
    let assertion = |name_id: &str, format: &str, attributes: Value| {
        json!({
            "assertion_id": "_3f1c0d2e", "issuer": SSO_ENTITY_ID,
            "name_id": name_id, "name_id_format": format,
            "attributes": attributes,
            "session_not_on_or_after": 1_800_000_000, "not_on_or_after": 1_700_000_300,
            "in_response_to": "_0123456789abcdef0123456789abcdef"
        })
    };
    let persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    let email_format = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    let transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    vec![
        seed("metadata-realistic", entity.clone()),
        seed(
            "metadata-entities-descriptor",
            format!(
                r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2027-01-01T00:00:00Z">{entity}</EntitiesDescriptor>"#
            ),
        ),
        seed(
            "metadata-pysaml2",
            format!(
                r#"<?xml version='1.0' encoding='UTF-8'?><ns0:EntityDescriptor xmlns:ns0="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ns1="http://www.w3.org/2000/09/xmldsig#" entityID="https://pysaml2.example.org/idp.xml"><ns0:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><ns0:KeyDescriptor><ns1:KeyInfo><ns1:X509Data><ns1:X509Certificate>{CERT}</ns1:X509Certificate></ns1:X509Data></ns1:KeyInfo></ns0:KeyDescriptor><ns0:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://localhost:8088/sso/redirect" /></ns0:IDPSSODescriptor></ns0:EntityDescriptor>"#
            ),
        ),
        seed(
            "metadata-xxe",
            r#"<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"#.into(),
        ),
        seed("metadata-undeclared-entity", entity.replace(SSO_ENTITY_ID, "&ext;")),
        seed(
            "assertion-mapped",
            json!({
                "assertion": assertion("u-1", persistent, json!([
                    {"name": "urn:oid:2.5.4.3", "friendly_name": "cn", "values": ["Ada"]},
                    {"name": "groups", "friendly_name": null, "values": ["", "admins", "staff"]},
                    {"name": "mail", "friendly_name": null, "values": ["Ada@Example.COM"]},
                ])),
                "mapping": {"keys": {
                    "name": {"name": "cn"},
                    "groups": {"names": ["nope", "groups"], "array": true},
                    "tier": {"name": "tier", "default": {"level": 1}},
                    "email": {"name": "absent"},
                }},
            })
            .to_string(),
        ),
        seed(
            "assertion-subject-id",
            assertion("", "", json!([
                {"name": "urn:oasis:names:tc:SAML:attribute:subject-id", "friendly_name": null, "values": ["sid@corp.example"]},
                {"name": "upn", "friendly_name": null, "values": ["ada@corp.example"]},
                {"name": "sub", "friendly_name": null, "values": ["forged"]},
            ]))
            .to_string(),
        ),
        seed(
            "assertion-email-name-id",
            assertion(" Ada@Example.com ", email_format, json!([])).to_string(),
        ),
        seed(
            "assertion-transient",
            assertion("_t", transient, json!([{"name": "email", "friendly_name": null, "values": ["a@b.co"]}])).to_string(),
        ),
        seed(
            "assertion-invalid-email",
            assertion("u-2", persistent, json!([{"name": "mail", "friendly_name": null, "values": ["not an address"]}])).to_string(),
        ),
        seed("domain", " Corp.Example.COM ".into()),
        seed("duration", "PT5M30S".into()),
        seed("datetime", "2026-12-01T10:00:00+01:00".into()),
    ]
}

// ---------------------------------------------------------------------------------------------
// mfa_inputs: WebAuthn ceremonies, TOTP codes, recovery codes, phone factor codes

/// The relying party of every ceremony of `mfa_inputs`.
pub const MFA_RP_ID: &str = "fuzz.example";
pub const MFA_ORIGINS: [&str; 2] = ["https://app.fuzz.example", "http://localhost:3000"];
/// The user the ceremonies are for.
pub const MFA_USER: &str = "0f8c3a52-6d1e-4a53-9d4e-0c6f2b7d9a10";
/// The stored counter of the fixture's MFA credential: an accepted MFA sign-in is past it.
pub const MFA_SIGN_COUNT: u32 = 5;
/// The TOTP secret (RFC 6238's SHA-1 seed, base32) and clock of the `totp` check.
pub const TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// The code the `phone` check's challenge sent.
pub const PHONE_CODE: &str = "123456";
/// The selector bytes of `mfa_inputs` (the first byte, modulo their count).
pub const MFA_REGISTRATION: u8 = 0;
pub const MFA_ASSERTION: u8 = 1;
pub const MFA_EDIT: u8 = 2;
pub const MFA_USER_HANDLE: u8 = 3;
pub const MFA_TOTP: u8 = 4;
pub const MFA_RECOVERY_CODE: u8 = 5;
pub const MFA_PHONE: u8 = 6;
pub const MFA_STORED_CREDENTIAL: u8 = 7;
pub const MFA_START_REGISTRATION: u8 = 8;
const MFA_CHECKS: u8 = 9;

// Made for fuzzing only, fixed so that the seed ceremonies stay valid.
const SOFT_KEY_SEED: &str = "auth_ext fuzzing only: the P-256 key of the soft authenticator";
const SOFT_CREDENTIAL_ID: &[u8; 16] = b"fuzz-credential!";
const SOFT_AAGUID: [u8; 16] = [0xAA; 16];
/// What a hand-typed recovery code is checked against: the user's set, in canonical form.
const RECOVERY_CODES: [&str; 4] = [
    "abcdefghijklmnop",
    "k4m9x7qp2abhtz3q",
    "zzzzzzzzzzzzzzzz",
    "a2b3c4d5e6f7g2h3",
];
/// Stored as GoTrue's argon2id hash (a row imported from a Supabase database).
const RECOVERY_CODE_ARGON2: &str = "qrstuvwxyz234567";
/// Authenticator data flags.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// A software authenticator: one fixed ES256 key and credential id, "none" attestation. ECDSA
/// signatures are deterministic (RFC 6979), so what it answers to a fixed challenge is too.
pub struct SoftAuthenticator {
    key: p256::ecdsa::SigningKey,
    pub id: Vec<u8>,
}

impl SoftAuthenticator {
    fn new() -> Self {
        use sha2::{Digest, Sha256};
        let scalar = Sha256::digest(SOFT_KEY_SEED.as_bytes());
        SoftAuthenticator {
            key: p256::ecdsa::SigningKey::from_slice(scalar.as_slice()).unwrap(),
            id: SOFT_CREDENTIAL_ID.to_vec(),
        }
    }

    fn verifying_key(&self) -> &p256::ecdsa::VerifyingKey {
        self.key.verifying_key()
    }

    /// The COSE_Key of the public key (EC2, P-256, ES256).
    fn cose(&self) -> Vec<u8> {
        use serde_cbor_2::Value as Cbor;
        let point = self.verifying_key().to_encoded_point(false);
        let m = std::collections::BTreeMap::from([
            (Cbor::Integer(1), Cbor::Integer(2)),
            (Cbor::Integer(3), Cbor::Integer(-7)),
            (Cbor::Integer(-1), Cbor::Integer(1)),
            (Cbor::Integer(-2), Cbor::Bytes(point.x().unwrap().to_vec())),
            (Cbor::Integer(-3), Cbor::Bytes(point.y().unwrap().to_vec())),
        ]);
        serde_cbor_2::to_vec(&Cbor::Map(m)).unwrap()
    }

    fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind, "challenge": options["challenge"], "origin": origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    fn auth_data(&self, rp_id: &str, flags: u8, counter: u32, attested: bool) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut d = Sha256::digest(rp_id.as_bytes()).to_vec();
        d.push(UP | flags | if attested { AT } else { 0 });
        d.extend_from_slice(&counter.to_be_bytes());
        if attested {
            d.extend_from_slice(&SOFT_AAGUID);
            d.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            d.extend_from_slice(&self.id);
            d.extend_from_slice(&self.cose());
        }
        d
    }

    /// `navigator.credentials.create()`'s answer to `options` (unwrapped), as auth-js posts it.
    pub fn register(&self, options: &Value, origin: &str, flags: u8, counter: u32) -> String {
        use serde_cbor_2::Value as Cbor;
        let client_data = Self::client_data("webauthn.create", options, origin);
        let rp_id = options["rp"]["id"].as_str().unwrap();
        let object = Cbor::Map(std::collections::BTreeMap::from([
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(Default::default())),
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(self.auth_data(rp_id, flags, counter, true)),
            ),
        ]));
        json!({
            "id": B64.encode(&self.id),
            "rawId": B64.encode(&self.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(&client_data),
                "attestationObject": B64.encode(serde_cbor_2::to_vec(&object).unwrap()),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {"credProps": {"rk": true}},
            "authenticatorAttachment": "platform",
        })
        .to_string()
    }

    /// `navigator.credentials.get()`'s answer to `options` (unwrapped).
    pub fn sign_in(
        &self,
        options: &Value,
        origin: &str,
        flags: u8,
        counter: u32,
        handle: Option<&[u8]>,
    ) -> String {
        use p256::ecdsa::signature::Signer;
        use sha2::{Digest, Sha256};
        let client_data = Self::client_data("webauthn.get", options, origin);
        let auth_data = self.auth_data(options["rpId"].as_str().unwrap(), flags, counter, false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(Sha256::digest(&client_data).as_slice());
        let signature: p256::ecdsa::Signature = self.key.sign(&signed);
        let mut response = json!({
            "clientDataJSON": B64.encode(&client_data),
            "authenticatorData": B64.encode(&auth_data),
            "signature": B64.encode(signature.to_der().as_bytes()),
        });
        if let Some(h) = handle {
            response["userHandle"] = json!(B64.encode(h));
        }
        json!({
            "id": B64.encode(&self.id), "rawId": B64.encode(&self.id), "type": "public-key",
            "response": response, "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
        .to_string()
    }
}

/// One ceremony of the fixture: its stored state (with a fixed challenge), the options the
/// client was sent (unwrapped) and the soft authenticator's genuine answer.
pub struct MfaCeremony {
    pub flow: auth_core::mfa::webauthn::Flow,
    pub state: Value,
    pub options: Value,
    pub challenge: Vec<u8>,
    pub valid: String,
}

pub struct MfaFixture {
    pub rp: auth_core::mfa::webauthn::RelyingParty,
    pub user: uuid::Uuid,
    pub key: SoftAuthenticator,
    /// Registrations: MFA, passkey.
    pub registrations: [MfaCeremony; 2],
    /// Sign-ins: MFA (of `stored[0]`), passkey (of `stored[1]`).
    pub sign_ins: [MfaCeremony; 2],
    /// The soft authenticator's credential as each flow stored it.
    pub stored: [auth_core::mfa::webauthn::StoredCredential; 2],
    /// The hashes of [`RECOVERY_CODES`] for the user, then the argon2id one.
    pub recovery_hashes: Vec<String>,
    /// The same codes hashed for another user.
    pub stranger_hashes: Vec<String>,
}

/// base64url as the WebAuthn types decode it (serde_with's `Base64<UrlSafe, Unpadded>`: the
/// URL-safe alphabet, padding optional).
fn b64_webauthn(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{
        general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig,
    };
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine.decode(s).ok()
}

/// Replaces the random challenge of a `start_*` by one fixed for `name`, in the stored state
/// and in the options: what the fixture's answers sign stays valid from run to run.
fn fix_challenge(
    started: &mut auth_core::mfa::webauthn::Started,
    flow: auth_core::mfa::webauthn::Flow,
    name: &str,
) -> (Value, Vec<u8>) {
    use sha2::{Digest, Sha256};
    let challenge =
        Sha256::digest(format!("auth_ext fuzzing only: the {name} challenge").as_bytes()).to_vec();
    let text = json!(B64.encode(&challenge));
    let slot = started
        .state
        .pointer_mut("/state/challenge")
        .expect("a WebAuthn state keeps its challenge at /state/challenge");
    assert!(slot.is_string(), "the stored challenge is base64url text");
    *slot = text.clone();
    let mut options = match flow {
        auth_core::mfa::webauthn::Flow::Mfa => started.options["publicKey"].clone(),
        auth_core::mfa::webauthn::Flow::Passkey => started.options.clone(),
    };
    options["challenge"] = text;
    (options, challenge)
}

pub fn mfa_fixture() -> &'static MfaFixture {
    use auth_core::mfa::recovery_codes;
    use auth_core::mfa::webauthn::{self, Flow, RelyingParty};
    static FIXTURE: OnceLock<MfaFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rp = RelyingParty::new(MFA_RP_ID, "Fuzz", &MFA_ORIGINS).unwrap();
        let user = uuid::Uuid::parse_str(MFA_USER).unwrap();
        let key = SoftAuthenticator::new();
        let registration = |flow: Flow, name: &str, flags: u8| {
            let mut started =
                webauthn::start_registration(&rp, flow, user, "fuzz@fuzz.example", "Fuzz", &[])
                    .unwrap();
            let (options, challenge) = fix_challenge(&mut started, flow, name);
            let valid = key.register(&options, MFA_ORIGINS[0], flags, 0);
            MfaCeremony {
                flow,
                state: started.state,
                options,
                challenge,
                valid,
            }
        };
        let registrations = [
            registration(Flow::Mfa, "MFA registration", UV),
            registration(Flow::Passkey, "passkey registration", UV | BE | BS),
        ];
        let stored = [0, 1].map(|i| {
            let r = &registrations[i];
            webauthn::finish_registration(&rp, &r.state, &r.valid)
                .unwrap_or_else(|e| panic!("the fixture's registration {i} fails: {e:?}"))
        });
        let mut stored = stored;
        stored[0].sign_count = MFA_SIGN_COUNT;
        let sign_in = |flow: Flow, name: &str, credentials: &[webauthn::StoredCredential]| {
            let mut started = webauthn::start_authentication(&rp, flow, credentials).unwrap();
            let (options, challenge) = fix_challenge(&mut started, flow, name);
            let valid = match flow {
                Flow::Mfa => key.sign_in(&options, MFA_ORIGINS[0], UV, MFA_SIGN_COUNT + 1, None),
                Flow::Passkey => key.sign_in(
                    &options,
                    MFA_ORIGINS[1],
                    UV | BE | BS,
                    0,
                    Some(MFA_USER.as_bytes()),
                ),
            };
            MfaCeremony {
                flow,
                state: started.state,
                options,
                challenge,
                valid,
            }
        };
        let sign_ins = [
            sign_in(Flow::Mfa, "MFA sign-in", std::slice::from_ref(&stored[0])),
            sign_in(Flow::Passkey, "passkey sign-in", &[]),
        ];
        for (i, c) in sign_ins.iter().enumerate() {
            webauthn::finish_authentication(&rp, &c.state, &c.valid, &stored[i..=i], user)
                .unwrap_or_else(|e| panic!("the fixture's sign-in {i} fails: {e:?}"));
        }
        let cheap = password::Argon2Cost {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let mut recovery_hashes: Vec<String> = RECOVERY_CODES
            .iter()
            .map(|c| recovery_codes::hash(&user, c))
            .collect();
        recovery_hashes.push(password::hash(RECOVERY_CODE_ARGON2, cheap).unwrap());
        let stranger = uuid::Uuid::from_bytes([7; 16]);
        let stranger_hashes = RECOVERY_CODES
            .iter()
            .chain([&RECOVERY_CODE_ARGON2])
            .map(|c| recovery_codes::hash(&stranger, c))
            .collect();
        MfaFixture {
            rp,
            user,
            key,
            registrations,
            sign_ins,
            stored,
            recovery_hashes,
            stranger_hashes,
        }
    })
}

/// The first byte picks the check (modulo 9), the rest is its input:
/// - 0: the input as a registration response, finished against the fixture's MFA and passkey
///   registration states;
/// - 1: the input as a sign-in response, finished against the MFA and passkey sign-in states
///   (the passkey one also for another user), and through `passkey_user`;
/// - 2: edits of a genuine response: the second byte picks the response (4) and the part edited
///   (the JSON text, or the bytes of `clientDataJSON`, the attestation object or authenticator
///   data, the signature, the user handle, the credential id), then up to 16 four-byte edits;
/// - 3: the input as the user handle of the genuine passkey and MFA sign-ins;
/// - 4: `totp::verify` over `code\nsecret\nnow\nlast_used_step` (missing fields: the fixture's);
/// - 5: recovery codes: `read_code`, `find_match`, `verify` of the input as typed;
/// - 6: a phone factor's code: the input as typed against the code sent (its keyed hash);
/// - 7: `StoredCredential::from_gotrue_json` and `from_json` of the input (JSON);
/// - 8: `start_registration` with `user_name\ndisplay_name\nexcluded ids...`.
///
/// A refused response is a 400 `validation_failed` or `webauthn_verification_failed` (passkeys:
/// only the latter) whose message never quotes it. An accepted registration answers the state's
/// challenge from an origin of the relying party, and the stored credential is what its
/// authenticator data says. An accepted sign-in answers the challenge from an origin of the
/// relying party, for the fixture's credential, with a counter past the stored one, a user
/// handle that is the user's id as its 36-character text (required for passkeys), and is signed
/// by the soft authenticator's key; an edit of its signed parts (client data, authenticator data,
/// signature, credential id) is always refused.
pub fn mfa_inputs(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let f = mfa_fixture();
    match kind % MFA_CHECKS {
        MFA_REGISTRATION => {
            let text = String::from_utf8_lossy(rest);
            for c in &f.registrations {
                check_registration(f, c, &text);
            }
        }
        MFA_ASSERTION => {
            let text = String::from_utf8_lossy(rest);
            for (i, c) in f.sign_ins.iter().enumerate() {
                check_sign_in(f, c, &f.stored[i], &text);
            }
            check_passkey_user(&text);
        }
        MFA_EDIT => edit_valid_response(f, rest),
        MFA_USER_HANDLE => {
            let handle = canonical_user_handle(rest);
            for (i, c) in f.sign_ins.iter().enumerate() {
                let mut v: Value = serde_json::from_str(&c.valid).unwrap();
                v["response"]["userHandle"] = json!(B64.encode(rest));
                let response = v.to_string();
                let named = auth_core::mfa::webauthn::passkey_user(&response);
                assert_eq!(
                    named.as_ref().ok(),
                    handle.as_ref(),
                    "passkey_user names {named:?} for the handle {:?}",
                    String::from_utf8_lossy(rest)
                );
                let result = check_sign_in(f, c, &f.stored[i], &response);
                assert_eq!(
                    result,
                    handle == Some(f.user),
                    "the genuine sign-in {i} with the user handle {:?}",
                    String::from_utf8_lossy(rest)
                );
            }
        }
        MFA_TOTP => check_totp(rest),
        MFA_RECOVERY_CODE => check_recovery_code(f, rest),
        MFA_PHONE => check_phone_code(rest),
        MFA_STORED_CREDENTIAL => check_stored_credential(f, rest),
        _ => check_start_registration(f, rest),
    }
}

/// The user a handle names when it is a user id's 36-character text (lower-case hexadecimal,
/// hyphens at 8, 13, 18 and 23: GoTrue's `WebAuthnID`), else `None`. Written from that
/// definition, not with the parser under test.
fn canonical_user_handle(handle: &[u8]) -> Option<uuid::Uuid> {
    let well_formed = handle.len() == 36
        && handle.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        });
    well_formed.then(|| uuid::Uuid::parse_str(std::str::from_utf8(handle).unwrap()).unwrap())
}

/// What a refusal of a WebAuthn response may be: a 400 of the two codes (passkeys: only
/// `webauthn_verification_failed`), a short message that never quotes the response.
fn check_webauthn_refusal(e: &AuthError, flow: auth_core::mfa::webauthn::Flow, response: &str) {
    assert_eq!(e.status(), 400, "a refused response is a 400: {e:?}");
    match flow {
        auth_core::mfa::webauthn::Flow::Mfa => assert!(
            matches!(
                e.code(),
                "validation_failed" | "webauthn_verification_failed"
            ),
            "an MFA response refused as {e:?}"
        ),
        auth_core::mfa::webauthn::Flow::Passkey => assert_eq!(
            e.code(),
            "webauthn_verification_failed",
            "a passkey response refused as {e:?}"
        ),
    }
    let msg = e.message();
    assert!(msg.len() < 256, "an error message of {} bytes", msg.len());
    for word in long_words(response) {
        assert!(
            !msg.contains(word),
            "the error message echoes the response: {msg}"
        );
    }
}

/// The client data of an accepted response: of `kind`, answering `challenge`, from an origin of
/// the relying party (scheme, host and port), not cross-origin.
fn check_client_data(response: &Value, kind: &str, challenge: &[u8]) {
    let bytes = response["response"]["clientDataJSON"]
        .as_str()
        .and_then(b64_webauthn)
        .expect("accepted client data is base64url");
    let cd: Value = serde_json::from_slice(&bytes).expect("accepted client data is JSON");
    assert_eq!(cd["type"], kind, "accepted client data of another type");
    assert_eq!(
        cd["challenge"].as_str().and_then(b64_webauthn).as_deref(),
        Some(challenge),
        "accepted client data answers another challenge"
    );
    let origin = url::Url::parse(cd["origin"].as_str().expect("an origin")).unwrap();
    assert!(
        MFA_ORIGINS
            .iter()
            .any(|o| url::Url::parse(o).unwrap().origin() == origin.origin()),
        "accepted client data from the origin {origin}"
    );
    assert_ne!(cd["crossOrigin"], true, "accepted cross-origin client data");
}

/// Authenticator data, read from the WebAuthn definition: rpIdHash, flags, counter, then with
/// AT the AAGUID, the credential id and its COSE key (a CBOR value).
struct ReadAuthData {
    rp_id_hash: Vec<u8>,
    flags: u8,
    counter: u32,
    attested: Option<([u8; 16], Vec<u8>, serde_cbor_2::Value)>,
}

fn read_auth_data(d: &[u8]) -> Option<ReadAuthData> {
    use serde::Deserialize as _;
    if d.len() < 37 {
        return None;
    }
    let flags = d[32];
    let counter = u32::from_be_bytes(d[33..37].try_into().unwrap());
    let attested = if flags & AT != 0 {
        let rest = &d[37..];
        let aaguid: [u8; 16] = rest.get(..16)?.try_into().unwrap();
        let len = u16::from_be_bytes(rest.get(16..18)?.try_into().unwrap()) as usize;
        let id = rest.get(18..18 + len)?.to_vec();
        let mut de = serde_cbor_2::Deserializer::from_slice(&rest[18 + len..]);
        let key = serde_cbor_2::Value::deserialize(&mut de).ok()?;
        Some((aaguid, id, key))
    } else {
        None
    };
    Some(ReadAuthData {
        rp_id_hash: d[..32].to_vec(),
        flags,
        counter,
        attested,
    })
}

fn rp_id_hash() -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(MFA_RP_ID.as_bytes()).to_vec()
}

/// Finishes `response` against the registration `c`; true when it registered.
fn check_registration(f: &MfaFixture, c: &MfaCeremony, response: &str) -> bool {
    use auth_core::mfa::webauthn::{self, Flow, StoredCredential};
    let cred = match webauthn::finish_registration(&f.rp, &c.state, response) {
        Ok(cred) => cred,
        Err(e) => {
            check_webauthn_refusal(&e, c.flow, response);
            return false;
        }
    };
    let v: Value = serde_json::from_str(response).expect("an accepted registration is JSON");
    assert_eq!(v["type"], "public-key");
    check_client_data(&v, "webauthn.create", &c.challenge);
    let object: serde_cbor_2::Value = v["response"]["attestationObject"]
        .as_str()
        .and_then(b64_webauthn)
        .and_then(|b| serde_cbor_2::from_slice(&b).ok())
        .expect("an accepted attestation object is CBOR");
    let serde_cbor_2::Value::Map(object) = object else {
        panic!("an accepted attestation object is not a map");
    };
    let Some(serde_cbor_2::Value::Bytes(auth_data)) =
        object.get(&serde_cbor_2::Value::Text("authData".into()))
    else {
        panic!("an accepted attestation object without authData");
    };
    let a = read_auth_data(auth_data).expect("accepted authenticator data reads");
    assert_eq!(a.rp_id_hash, rp_id_hash(), "registered for another RP ID");
    assert!(a.flags & UP != 0, "registered without user presence");
    let (aaguid, id, key) = a
        .attested
        .expect("registered without attested credential data");
    // What is stored is what the authenticator said (the credential id of the attested data;
    // `id`/`rawId` of a registration are the client's copy, which the verifier does not use).
    assert_eq!(cred.credential_id_bytes().unwrap(), id);
    assert!(!id.is_empty() && id.len() <= webauthn::MAX_CREDENTIAL_ID_BYTES);
    let stored_key: serde_cbor_2::Value =
        serde_cbor_2::from_slice(&cred.public_key_bytes().unwrap()).unwrap();
    assert_eq!(
        stored_key, key,
        "the stored COSE key is not the attested one"
    );
    assert_eq!(cred.aaguid, Some(uuid::Uuid::from_bytes(aaguid)));
    assert_eq!(cred.sign_count, a.counter);
    assert_eq!(cred.user_verified, a.flags & UV != 0);
    assert_eq!(cred.backup_eligible, a.flags & BE != 0);
    assert_eq!(cred.backed_up, a.flags & BS != 0);
    assert!(cred.transports.len() <= 16);
    assert!(cred
        .transports
        .iter()
        .all(|t| !t.is_empty() && t.len() <= 32));
    // It is usable, and survives both storage forms.
    assert!(webauthn::start_authentication(&f.rp, Flow::Mfa, std::slice::from_ref(&cred)).is_ok());
    let json = serde_json::to_value(&cred).unwrap();
    assert_eq!(StoredCredential::from_json(&json).as_ref(), Ok(&cred));
    let go = cred.to_gotrue_json().unwrap();
    assert_eq!(StoredCredential::from_gotrue_json(&go).as_ref(), Ok(&cred));
    true
}

/// Finishes `response` against the sign-in `c` of the credential `stored`; true when accepted.
fn check_sign_in(
    f: &MfaFixture,
    c: &MfaCeremony,
    stored: &auth_core::mfa::webauthn::StoredCredential,
    response: &str,
) -> bool {
    use auth_core::mfa::webauthn::{self, Flow};
    let credentials = std::slice::from_ref(stored);
    if c.flow == Flow::Passkey {
        // A discoverable sign-in names its user: never anyone but the fixture's.
        let stranger = uuid::Uuid::from_bytes([7; 16]);
        match webauthn::finish_authentication(&f.rp, &c.state, response, credentials, stranger) {
            Ok(_) => panic!("a passkey sign-in accepted for another user: {response}"),
            Err(e) => check_webauthn_refusal(&e, c.flow, response),
        }
    }
    let outcome =
        match webauthn::finish_authentication(&f.rp, &c.state, response, credentials, f.user) {
            Ok(outcome) => outcome,
            Err(e) => {
                check_webauthn_refusal(&e, c.flow, response);
                return false;
            }
        };
    let v: Value = serde_json::from_str(response).expect("an accepted sign-in is JSON");
    assert_eq!(v["type"], "public-key");
    check_client_data(&v, "webauthn.get", &c.challenge);
    let field = |name: &str| {
        v["response"][name]
            .as_str()
            .and_then(b64_webauthn)
            .unwrap_or_else(|| panic!("an accepted sign-in without {name}"))
    };
    let raw_id = v["rawId"].as_str().and_then(b64_webauthn);
    assert_eq!(
        raw_id.as_deref(),
        Some(f.key.id.as_slice()),
        "accepted for another credential"
    );
    assert_eq!(
        v["id"].as_str().map(|s| s.trim_end_matches('=')),
        Some(B64.encode(&f.key.id).as_str()),
        "accepted with an id that is not rawId"
    );
    let auth_data = field("authenticatorData");
    let a = read_auth_data(&auth_data).expect("accepted authenticator data reads");
    assert_eq!(a.rp_id_hash, rp_id_hash(), "accepted for another RP ID");
    assert!(a.flags & UP != 0, "accepted without user presence");
    assert!(
        a.counter > stored.sign_count || (a.counter == 0 && stored.sign_count == 0),
        "accepted the counter {} after {}",
        a.counter,
        stored.sign_count
    );
    assert!(
        !stored.user_verified || a.flags & UV != 0,
        "accepted without user verification a credential registered with it"
    );
    // Signed by the soft authenticator's key over authenticatorData || SHA-256(clientDataJSON).
    {
        use p256::ecdsa::signature::Verifier;
        use sha2::{Digest, Sha256};
        let mut signed = auth_data.clone();
        signed.extend_from_slice(Sha256::digest(field("clientDataJSON")).as_slice());
        let signature = p256::ecdsa::Signature::from_der(&field("signature"))
            .expect("an accepted signature is DER");
        assert!(
            f.key.verifying_key().verify(&signed, &signature).is_ok(),
            "accepted a sign-in the key did not sign"
        );
    }
    match v["response"].get("userHandle") {
        None | Some(Value::Null) => assert_eq!(c.flow, Flow::Mfa, "a passkey without a handle"),
        Some(h) => {
            let handle = h
                .as_str()
                .and_then(b64_webauthn)
                .expect("a base64url handle");
            assert_eq!(
                canonical_user_handle(&handle),
                Some(f.user),
                "accepted the user handle {:?}",
                String::from_utf8_lossy(&handle)
            );
        }
    }
    // The outcome is what the authenticator said, for the stored credential.
    assert_eq!(outcome.credential_id, stored.credential_id);
    assert_eq!(outcome.sign_count, a.counter);
    assert_eq!(outcome.user_verified, a.flags & UV != 0);
    let mut expected = stored.clone();
    expected.sign_count = a.counter;
    expected.backup_eligible = a.flags & BE != 0;
    expected.backed_up = a.flags & BS != 0;
    assert_eq!(outcome.credential, expected);
    true
}

/// `passkey_user` of any text: a user only from a handle that is a user id's 36-character text;
/// refusals as for a passkey response.
fn check_passkey_user(response: &str) {
    use auth_core::mfa::webauthn::{self, Flow};
    match webauthn::passkey_user(response) {
        Ok(user) => {
            let v: Value = serde_json::from_str(response).expect("passkey_user read no JSON");
            let handle = v["response"]["userHandle"]
                .as_str()
                .and_then(b64_webauthn)
                .expect("passkey_user named a user without a handle");
            assert_eq!(
                canonical_user_handle(&handle),
                Some(user),
                "passkey_user accepted the handle {:?}",
                String::from_utf8_lossy(&handle)
            );
        }
        Err(e) => check_webauthn_refusal(&e, Flow::Passkey, response),
    }
}

/// The parts of a genuine response an edit may change: (JSON field under `response`, or `""` for
/// the whole text, `"id"` for id and rawId together; whether it is signed).
const REGISTRATION_PARTS: [(&str, bool); 4] = [
    ("", false),
    ("clientDataJSON", false),
    ("attestationObject", false),
    ("id", false),
];
const SIGN_IN_PARTS: [(&str, bool); 6] = [
    ("", false),
    ("clientDataJSON", true),
    ("authenticatorData", true),
    ("signature", true),
    ("userHandle", false),
    ("id", true),
];

/// Up to 16 edits (replace, insert, delete; four bytes each: the kind, the position (two bytes,
/// little-endian), the byte) of `bytes`.
fn apply_edits(bytes: &mut Vec<u8>, ops: &[u8]) {
    for op in ops.chunks_exact(4).take(16) {
        let pos = u16::from_le_bytes([op[1], op[2]]) as usize;
        match op[0] % 3 {
            0 if !bytes.is_empty() => {
                let i = pos % bytes.len();
                bytes[i] = op[3];
            }
            0 | 1 => bytes.insert(pos % (bytes.len() + 1), op[3]),
            _ => {
                if !bytes.is_empty() {
                    bytes.remove(pos % bytes.len());
                }
            }
        }
    }
}

/// The input as edits of a part of a genuine response; whatever changes, an edit of a signed
/// part of a sign-in is refused, and anything accepted passes the checks of its ceremony.
fn edit_valid_response(f: &MfaFixture, data: &[u8]) {
    let Some((&pick, ops)) = data.split_first() else {
        return;
    };
    let index = pick as usize % 4;
    let (c, parts): (&MfaCeremony, &[(&str, bool)]) = if index < 2 {
        (&f.registrations[index], &REGISTRATION_PARTS)
    } else {
        (&f.sign_ins[index - 2], &SIGN_IN_PARTS)
    };
    let (part, signed) = parts[(pick as usize / 4) % parts.len()];
    let (edited, changed) = if part.is_empty() {
        let mut bytes = c.valid.clone().into_bytes();
        apply_edits(&mut bytes, ops);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let changed = text != c.valid;
        (text, changed)
    } else {
        let mut v: Value = serde_json::from_str(&c.valid).unwrap();
        let slot = if part == "id" {
            &v["rawId"]
        } else {
            &v["response"][part]
        };
        let before = slot.as_str().map(|s| B64.decode(s).unwrap());
        let mut bytes = before.clone().unwrap_or_default();
        apply_edits(&mut bytes, ops);
        let changed = before.as_ref() != Some(&bytes) && !(before.is_none() && bytes.is_empty());
        if changed {
            let text = json!(B64.encode(&bytes));
            if part == "id" {
                v["id"] = text.clone();
                v["rawId"] = text;
            } else {
                v["response"][part] = text;
            }
        }
        (v.to_string(), changed)
    };
    let accepted = if index < 2 {
        check_registration(f, c, &edited)
    } else {
        let accepted = check_sign_in(f, c, &f.stored[index - 2], &edited);
        check_passkey_user(&edited);
        accepted
    };
    if !changed {
        assert!(accepted, "a genuine response is refused: {edited}");
    } else if signed {
        assert!(
            !accepted,
            "an edit of the signed {part} of a genuine sign-in is accepted:\n  {}\n  {edited}",
            c.valid
        );
    }
}

/// `totp::verify` over `code\nsecret\nnow\nlast_used_step`: a code that is not six ASCII digits
/// (once trimmed) is malformed whatever the secret; an accepted one is the code of the step it
/// returns, one of the three around `now`, after `last_used_step`; a refused one as wrong is
/// none of the three codes, as reused one of them at or before `last_used_step`.
fn check_totp(data: &[u8]) {
    use auth_core::mfa::totp::{self, TotpRefusal, PERIOD_S};
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(4, '\n');
    let code = fields.next().unwrap_or("");
    let secret = fields.next().unwrap_or(TOTP_SECRET);
    let now = fields
        .next()
        .map_or(NOW, |n| n.trim().parse().unwrap_or(NOW));
    let last_used = fields.next().and_then(|n| n.trim().parse::<i64>().ok());
    let result = totp::verify(secret, code, now, last_used);
    let trimmed = code.trim();
    let six_digits = trimmed.len() == 6 && trimmed.bytes().all(|b| b.is_ascii_digit());
    if !six_digits {
        assert_eq!(result, Err(TotpRefusal::Malformed), "the code {code:?}");
        return;
    }
    let step = now.div_euclid(PERIOD_S);
    let code_of = |s: i64| {
        s.checked_mul(PERIOD_S)
            .and_then(|t| totp::code_at(secret, t))
    };
    let matching: Vec<i64> = (step - 1..=step + 1)
        .filter(|&s| code_of(s).as_deref() == Some(trimmed))
        .collect();
    let eligible = matching
        .iter()
        .copied()
        .filter(|&s| last_used.is_none_or(|last| s > last))
        .max();
    let expected = match (eligible, matching.is_empty()) {
        (Some(s), _) => Ok(s),
        (None, false) => Err(TotpRefusal::Reused),
        (None, true) => Err(TotpRefusal::Wrong),
    };
    assert_eq!(
        result, expected,
        "totp::verify of {code:?} at {now} after {last_used:?}"
    );
    if let Ok(s) = result {
        assert_eq!(
            totp::verify(secret, code, now, Some(s)),
            Err(TotpRefusal::Reused),
            "a code accepted twice"
        );
    }
}

/// Recovery codes as typed: `read_code` is canonical (its output reads back as itself), bounded,
/// without separators; `find_match` finds exactly the user's code that is the canonical form,
/// never one of another user's; `verify` is the two; refusals are 400s that never quote the input.
fn check_recovery_code(f: &MfaFixture, data: &[u8]) {
    use auth_core::mfa::recovery_codes::{self, MAX_INPUT_CHARS};
    let text = String::from_utf8_lossy(data);
    let read = recovery_codes::read_code(Some(&text));
    match &read {
        Ok(code) => {
            assert!(
                text.chars().count() <= MAX_INPUT_CHARS,
                "read an overlong code"
            );
            assert!(!code.is_empty() && code.chars().count() <= MAX_INPUT_CHARS);
            assert!(
                !code.contains(|c: char| c == '-' || c.is_whitespace()),
                "a code with a separator: {code:?}"
            );
            assert_eq!(
                recovery_codes::read_code(Some(code)).as_ref(),
                Ok(code),
                "read_code is not canonical on {text:?}"
            );
            let expected = RECOVERY_CODES
                .iter()
                .chain([&RECOVERY_CODE_ARGON2])
                .position(|c| c == code);
            assert_eq!(
                recovery_codes::find_match(&f.user, code, &f.recovery_hashes),
                expected,
                "find_match of {code:?}"
            );
            assert_eq!(
                recovery_codes::find_match(&f.user, code, &f.stranger_hashes),
                None,
                "a code matched another user's"
            );
            // Without the code it is, nothing matches.
            if let Some(i) = expected {
                let mut others = f.recovery_hashes.clone();
                others.remove(i);
                assert_eq!(recovery_codes::find_match(&f.user, code, &others), None);
            }
            assert_eq!(
                recovery_codes::verify(&f.user, Some(&text), &f.recovery_hashes),
                Ok(expected)
            );
        }
        Err(e) => {
            assert_eq!((e.status(), e.code()), (400, "validation_failed"), "{e:?}");
            let msg = e.message();
            assert!(msg.len() < 128, "an error message of {} bytes", msg.len());
            for word in long_words(&text) {
                assert!(
                    !msg.contains(word),
                    "the error message echoes the code: {msg}"
                );
            }
            assert_eq!(
                recovery_codes::verify(&f.user, Some(&text), &f.recovery_hashes).as_ref(),
                Err(e)
            );
        }
    }
    // The input as a stored entry: only the hash of the code matches it. (Not argon2id
    // entries: their cost is the entry's, and entries come from the database, not a caller.)
    if !text.starts_with("$argon2id$") {
        let code = RECOVERY_CODES[0];
        let found = recovery_codes::find_match(&f.user, code, &[text.as_ref()]);
        assert_eq!(
            found.is_some(),
            text == recovery_codes::hash(&f.user, code),
            "find_match of the stored entry {text:?}"
        );
    }
}

/// A phone factor's code (as `auth.mfa_verify` checks it: the typed code's keyed hash against
/// the stored one): only the code sent matches, PKCE-prefixed or not; `hashes_match` is
/// equality once the prefix is dropped.
fn check_phone_code(data: &[u8]) {
    use auth_core::otp;
    let key = [0x5A; 32];
    let identity = "mfa_phone:0f8c3a52-6d1e-4a53-9d4e-0c6f2b7d9a10";
    let text = String::from_utf8_lossy(data);
    let typed = text.trim();
    let candidate = otp::token_hash(&key, identity, typed);
    assert_eq!(candidate.len(), 56);
    for pkce in [false, true] {
        let stored = otp::stored_hash(&key, identity, PHONE_CODE, pkce);
        assert_eq!(
            otp::hashes_match(&stored, &candidate),
            typed == PHONE_CODE,
            "the phone code {typed:?}"
        );
    }
    // For another identity (another challenge), even the right code does not match.
    let elsewhere = otp::token_hash(&key, "mfa_phone:other", typed);
    assert!(!otp::hashes_match(
        &otp::stored_hash(&key, identity, PHONE_CODE, false),
        &elsewhere
    ));
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    let bare = |s: &'_ str| s.strip_prefix(otp::PKCE_PREFIX).unwrap_or(s).to_owned();
    assert_eq!(otp::hashes_match(a, b), bare(a) == bare(b), "{a:?} {b:?}");
}

/// A stored credential from JSON (GoTrue's `web_authn_credential`, or ours): never a panic; one
/// that reads has base64url binary fields, bounded transports, round-trips through both forms,
/// and either offers itself in a sign-in or is refused as a database fault.
fn check_stored_credential(f: &MfaFixture, data: &[u8]) {
    use auth_core::mfa::webauthn::{self, Flow, StoredCredential};
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let check = |cred: &StoredCredential| {
        let id = cred.credential_id_bytes();
        let key = cred.public_key_bytes();
        match webauthn::start_authentication(&f.rp, Flow::Mfa, std::slice::from_ref(cred)) {
            Ok(started) => {
                assert!(id.is_ok() && key.is_ok());
                assert_eq!(
                    started.options["publicKey"]["allowCredentials"][0]["id"],
                    cred.credential_id.as_str()
                );
                // A sign-in against it by the soft authenticator passes only if it is its key.
                let options = &started.options["publicKey"];
                let response = f.key.sign_in(options, MFA_ORIGINS[0], UV, u32::MAX, None);
                let ok = webauthn::finish_authentication(
                    &f.rp,
                    &started.state,
                    &response,
                    std::slice::from_ref(cred),
                    f.user,
                )
                .is_ok();
                let own = id.as_deref().ok() == Some(f.key.id.as_slice())
                    && same_public_key(key.as_deref().unwrap(), &f.key.cose())
                    && cred.sign_count < u32::MAX;
                assert!(!ok || own, "a sign-in passed for a credential not its own");
            }
            Err(e) => assert_eq!(
                e,
                AuthError::Internal,
                "a stored credential refused as {e:?}"
            ),
        }
        assert!(cred.transports.len() <= 16);
    };
    if let Ok(cred) = StoredCredential::from_gotrue_json(&value) {
        assert!(cred.credential_id_bytes().is_ok() && cred.public_key_bytes().is_ok());
        assert!(cred
            .transports
            .iter()
            .all(|t| !t.is_empty() && t.len() <= 32));
        let go = cred.to_gotrue_json().unwrap();
        assert_eq!(StoredCredential::from_gotrue_json(&go).as_ref(), Ok(&cred));
        check(&cred);
    }
    if let Ok(cred) = StoredCredential::from_json(&value) {
        let again = StoredCredential::from_json(&serde_json::to_value(&cred).unwrap());
        assert_eq!(again.as_ref(), Ok(&cred));
        check(&cred);
    }
}

/// Whether two COSE keys have the same EC2 point (`x`, `y`): the one key, however encoded.
fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    use serde_cbor_2::Value as Cbor;
    let point = |bytes: &[u8]| match serde_cbor_2::from_slice::<Cbor>(bytes) {
        Ok(Cbor::Map(m)) => Some((
            m.get(&Cbor::Integer(-2)).cloned(),
            m.get(&Cbor::Integer(-3)).cloned(),
        )),
        _ => None,
    };
    point(a).is_some_and(|p| Some(p) == point(b))
}

/// `start_registration` with `user_name\ndisplay_name\nexcluded ids...`: the options carry the
/// names as given and the excluded ids, the state opens, the soft authenticator registers
/// unless its credential id is excluded; an exclusion that is not base64url is a fault (500).
fn check_start_registration(f: &MfaFixture, data: &[u8]) {
    use auth_core::mfa::webauthn::{self, Flow};
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or("");
    let display = lines.next().unwrap_or("");
    let excluded: Vec<String> = lines.map(str::to_owned).collect();
    let decoded: Option<Vec<Vec<u8>>> = excluded
        .iter()
        .map(|id| B64.decode(id.trim_end_matches('=')).ok())
        .collect();
    for flow in [Flow::Mfa, Flow::Passkey] {
        let started = webauthn::start_registration(&f.rp, flow, f.user, name, display, &excluded);
        let Some(decoded) = &decoded else {
            assert_eq!(started, Err(AuthError::Internal), "a bad exclusion");
            continue;
        };
        let started = started
            .unwrap_or_else(|e| panic!("start_registration refused {name:?} / {display:?}: {e:?}"));
        let options = match flow {
            Flow::Mfa => &started.options["publicKey"],
            Flow::Passkey => &started.options,
        };
        assert_eq!(options["user"]["name"], name);
        assert_eq!(options["user"]["displayName"], display);
        assert_eq!(options["user"]["id"], B64.encode(MFA_USER));
        assert_eq!(options["rp"]["id"], MFA_RP_ID);
        let challenge = options["challenge"].as_str().and_then(b64_webauthn);
        assert_eq!(challenge.map(|c| c.len()), Some(32));
        let listed: Vec<Vec<u8>> = options["excludeCredentials"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| B64.decode(d["id"].as_str().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(&listed, decoded, "the excluded credentials offered");
        let size = serde_json::to_vec(&started.state).unwrap().len();
        if size > webauthn::MAX_STATE_BYTES {
            continue;
        }
        let response = f.key.register(options, MFA_ORIGINS[0], UV, 0);
        let result = webauthn::finish_registration(&f.rp, &started.state, &response);
        let excluded_key = decoded.contains(&f.key.id);
        match result {
            Ok(cred) => {
                assert!(!excluded_key, "an excluded credential registered again");
                assert_eq!(cred.credential_id_bytes().unwrap(), f.key.id);
            }
            Err(e) => {
                assert!(excluded_key, "a genuine registration refused: {e:?}");
                check_webauthn_refusal(&e, flow, &response);
            }
        }
    }
}

pub fn mfa_inputs_seeds() -> Vec<Seed> {
    let f = mfa_fixture();
    let seed = |name: &str, kind: u8, bytes: &[u8]| Seed {
        name: format!("seed-{name}"),
        bytes: [&[kind][..], bytes].concat(),
        verifies: None,
    };
    let with = |response: &str, edit: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(response).unwrap();
        edit(&mut v);
        v.to_string()
    };
    let [reg_mfa, reg_passkey] = &f.registrations;
    let [sign_in_mfa, sign_in_passkey] = &f.sign_ins;
    let mut seeds = vec![
        seed(
            "registration-mfa",
            MFA_REGISTRATION,
            reg_mfa.valid.as_bytes(),
        ),
        seed(
            "registration-passkey",
            MFA_REGISTRATION,
            reg_passkey.valid.as_bytes(),
        ),
        seed(
            "registration-wrong-origin",
            MFA_REGISTRATION,
            f.key
                .register(&reg_mfa.options, "https://evil.fuzz.example", UV, 0)
                .as_bytes(),
        ),
        seed(
            "registration-no-user-verification",
            MFA_REGISTRATION,
            f.key
                .register(&reg_passkey.options, MFA_ORIGINS[1], 0, 7)
                .as_bytes(),
        ),
        seed(
            "registration-bad-type",
            MFA_REGISTRATION,
            with(&reg_mfa.valid, &|v| v["type"] = json!("password")).as_bytes(),
        ),
        seed("registration-empty-object", MFA_REGISTRATION, b"{}"),
        seed("sign-in-mfa", MFA_ASSERTION, sign_in_mfa.valid.as_bytes()),
        seed(
            "sign-in-passkey",
            MFA_ASSERTION,
            sign_in_passkey.valid.as_bytes(),
        ),
        seed(
            "sign-in-mfa-replayed-counter",
            MFA_ASSERTION,
            f.key
                .sign_in(
                    &sign_in_mfa.options,
                    MFA_ORIGINS[0],
                    UV,
                    MFA_SIGN_COUNT,
                    None,
                )
                .as_bytes(),
        ),
        seed(
            "sign-in-mfa-with-handle",
            MFA_ASSERTION,
            f.key
                .sign_in(
                    &sign_in_mfa.options,
                    MFA_ORIGINS[1],
                    UV,
                    u32::MAX,
                    Some(MFA_USER.as_bytes()),
                )
                .as_bytes(),
        ),
        seed(
            "sign-in-passkey-upper-case-handle",
            MFA_ASSERTION,
            f.key
                .sign_in(
                    &sign_in_passkey.options,
                    MFA_ORIGINS[1],
                    UV | BE | BS,
                    0,
                    Some(MFA_USER.to_uppercase().as_bytes()),
                )
                .as_bytes(),
        ),
        seed(
            "sign-in-passkey-no-user-verification",
            MFA_ASSERTION,
            f.key
                .sign_in(
                    &sign_in_passkey.options,
                    MFA_ORIGINS[1],
                    BE | BS,
                    0,
                    Some(MFA_USER.as_bytes()),
                )
                .as_bytes(),
        ),
        seed(
            "sign-in-passkey-answering-mfa",
            MFA_ASSERTION,
            f.key
                .sign_in(
                    &sign_in_mfa.options,
                    MFA_ORIGINS[0],
                    UV | BE | BS,
                    9,
                    Some(MFA_USER.as_bytes()),
                )
                .as_bytes(),
        ),
        seed("sign-in-junk", MFA_ASSERTION, br#"{"id":1}"#),
    ];
    // Edits: (response, part) as the pick byte, then four-byte edits.
    for (name, pick, ops) in [
        ("edit-registration-text", 0u8, &[1u8, 0, 0, b' '][..]),
        ("edit-registration-client-data", 4, &[0, 20, 0, b'x'][..]),
        (
            "edit-registration-attestation-flags",
            9,
            &[0, 70, 0, 0x41][..],
        ),
        ("edit-registration-id", 12, &[2, 3, 0, 0][..]),
        ("edit-sign-in-text", 2, &[2, 200, 0, 0][..]),
        ("edit-sign-in-client-data", 6, &[0, 30, 0, b'A'][..]),
        ("edit-sign-in-auth-data-flags", 10, &[0, 32, 0, 0x01][..]),
        ("edit-sign-in-auth-data-counter", 11, &[0, 36, 0, 0x07][..]),
        ("edit-sign-in-signature", 14, &[0, 10, 0, 0][..]),
        ("edit-sign-in-signature-der", 15, &[1, 2, 0, 0][..]),
        ("edit-sign-in-handle", 19, &[0, 0, 0, b'F'][..]),
        ("edit-sign-in-id", 22, &[0, 1, 0, b'?'][..]),
        ("edit-sign-in-unchanged", 3, &[][..]),
    ] {
        seeds.push(seed(name, MFA_EDIT, &[&[pick][..], ops].concat()));
    }
    let simple = MFA_USER.replace('-', "");
    for (name, handle) in [
        ("handle-canonical", MFA_USER.to_owned()),
        ("handle-upper-case", MFA_USER.to_uppercase()),
        ("handle-simple", simple),
        ("handle-braced", format!("{{{MFA_USER}}}")),
        ("handle-urn", format!("urn:uuid:{MFA_USER}")),
        (
            "handle-other-user",
            "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
        ),
        ("handle-empty", String::new()),
    ] {
        seeds.push(seed(name, MFA_USER_HANDLE, handle.as_bytes()));
    }
    let now_code = auth_core::mfa::totp::code_at(TOTP_SECRET, NOW).unwrap();
    let step = NOW / auth_core::mfa::totp::PERIOD_S;
    for (name, text) in [
        ("totp-current", now_code.clone()),
        ("totp-spaces", format!(" {now_code}\t")),
        (
            "totp-used",
            format!("{now_code}\n{TOTP_SECRET}\n{NOW}\n{step}"),
        ),
        (
            "totp-previous-step",
            format!("{now_code}\n{TOTP_SECRET}\n{}", NOW + 30),
        ),
        ("totp-five-digits", now_code[1..].to_owned()),
        ("totp-fullwidth", "１２３４５６".into()),
        (
            "totp-lower-case-secret",
            format!("{now_code}\n{}", TOTP_SECRET.to_lowercase()),
        ),
        ("totp-short-secret", format!("{now_code}\nGEZDGNBV")),
        (
            "totp-before-1970",
            "287082\nGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n-1".into(),
        ),
    ] {
        seeds.push(seed(name, MFA_TOTP, text.as_bytes()));
    }
    for (name, text) in [
        ("recovery-canonical", RECOVERY_CODES[1].to_owned()),
        (
            "recovery-display-upper",
            auth_core::mfa::recovery_codes::display(RECOVERY_CODES[0]).to_uppercase(),
        ),
        ("recovery-argon2", format!(" {RECOVERY_CODE_ARGON2} ")),
        ("recovery-kelvin", "\u{212a}4M9 X7QP 2ABH TZ3Q".into()),
        ("recovery-dotted-i", "\u{130}bcd".into()),
        ("recovery-separators", " -- - ".into()),
        ("recovery-overlong", "a".repeat(65)),
        (
            "recovery-stored-hash",
            auth_core::mfa::recovery_codes::hash(&f.user, RECOVERY_CODES[0]),
        ),
    ] {
        seeds.push(seed(name, MFA_RECOVERY_CODE, text.as_bytes()));
    }
    for (name, text) in [
        ("phone-code", PHONE_CODE),
        ("phone-code-spaces", " 123456\n"),
        ("phone-wrong", "123457"),
        ("phone-hashes", "pkce_abc\nabc"),
    ] {
        seeds.push(seed(name, MFA_PHONE, text.as_bytes()));
    }
    let go = f.stored[0].to_gotrue_json().unwrap();
    seeds.push(seed(
        "stored-gotrue",
        MFA_STORED_CREDENTIAL,
        go.to_string().as_bytes(),
    ));
    seeds.push(seed(
        "stored-gotrue-old",
        MFA_STORED_CREDENTIAL,
        json!({
            "id": go["id"], "publicKey": go["publicKey"], "attestationType": "none",
            "transport": ["usb", "", "x".repeat(40)],
            "authenticator": {"aaguid": go["authenticator"]["AAGUID"], "signCount": 7},
        })
        .to_string()
        .as_bytes(),
    ));
    seeds.push(seed(
        "stored-ours",
        MFA_STORED_CREDENTIAL,
        serde_json::to_string(&f.stored[1]).unwrap().as_bytes(),
    ));
    seeds.push(seed(
        "stored-bad-key",
        MFA_STORED_CREDENTIAL,
        br#"{"credential_id":"AAAA","public_key":"oQE","sign_count":1}"#,
    ));
    for (name, text) in [
        (
            "start-names",
            "fuzz@fuzz.example\nFuzz Ä \u{1F600}".to_owned(),
        ),
        ("start-blank", "\n".to_owned()),
        (
            "start-excluded",
            format!("a\nb\n{}\nb2xk", B64.encode(&f.key.id)),
        ),
        ("start-bad-exclusion", "a\nb\n***".to_owned()),
    ] {
        seeds.push(seed(name, MFA_START_REGISTRATION, text.as_bytes()));
    }
    seeds
}
