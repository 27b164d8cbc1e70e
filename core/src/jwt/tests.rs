use super::*;
use crate::keys::{generate, import, Alg};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(s: &[u8]) -> String {
    B64.encode(s)
}

/// A ring with one key of each algorithm; `current` signs.
fn ring(current: Alg) -> KeyRing {
    let entries = [Alg::ES256, Alg::RS256, Alg::EdDSA, Alg::HS256]
        .into_iter()
        .map(|alg| {
            let status = if alg == current {
                KeyStatus::Current
            } else {
                KeyStatus::Previous
            };
            (
                format!("kid-{}", alg.as_str()),
                status,
                generate(alg).unwrap(),
            )
        })
        .collect();
    KeyRing::new(entries).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// A token with an arbitrary header and payload, signed with HS256 under `secret`.
fn forge_hs256(header: &str, payload: &str, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(secret),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{sig}")
}

#[test]
fn every_algorithm_signs_and_verifies_with_gotrue_headers() {
    for alg in [Alg::ES256, Alg::RS256, Alg::EdDSA, Alg::HS256] {
        let r = ring(alg);
        let claims = json!({"sub": "u", "role": "authenticated", "exp": now() + 60});
        let t = r.sign(&claims).unwrap();
        let h = header_of(&t);
        assert_eq!(h["alg"], alg.as_str());
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["kid"], format!("kid-{}", alg.as_str()));
        assert_eq!(
            r.verify(&t, &VerifyOptions::default(), now()).unwrap(),
            claims
        );
        // And with an independent implementation: jsonwebtoken's (RustCrypto) verifier.
        let key = r.keys().iter().find(|k| k.material.alg == alg).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg.jwt());
        v.validate_aud = false;
        let decoded = jsonwebtoken::decode::<Value>(&t, &key.material.decoding_key().unwrap(), &v);
        assert_eq!(decoded.unwrap().claims, claims, "{alg:?}");
    }
}

#[test]
fn jwks_publishes_public_keys_only() {
    let r = ring(Alg::ES256);
    let jwks = r.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "EC, RSA and OKP; never oct");
    for k in keys {
        assert!(k.get("d").is_none() && k.get("p").is_none() && k.get("k").is_none());
        assert!(k["kid"].is_string() && k["alg"].is_string() && k["use"] == "sig");
    }
    let all = r.verification_jwks();
    assert_eq!(
        all["keys"].as_array().unwrap().len(),
        4,
        "PostgREST's set includes the HS256 key"
    );
}

const RFC7515_PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/// Before the examples' exp (1300819380): a clock override, not a fifteen-year leeway.
const RFC_NOW: i64 = 1_300_819_000;
const RFC_RSA_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

fn rfc_ring(jwk: Value, alg: Alg) -> KeyRing {
    KeyRing::new(vec![(
        "rfc".into(),
        KeyStatus::Current,
        import(&jwk.to_string(), Some(alg)).unwrap(),
    )])
    .unwrap()
}

fn check_rfc7515(ring: KeyRing, token: &str) {
    let claims = ring
        .verify(token, &VerifyOptions::default(), RFC_NOW)
        .unwrap();
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["http://example.com/is_root"], true);
    // at the real clock the example has long expired
    assert!(ring
        .verify(token, &VerifyOptions::default(), now())
        .unwrap_err()
        .message()
        .contains("expired"));
    // one flipped signature character breaks it
    let mut bad = token.to_string();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    assert!(ring
        .verify(&bad, &VerifyOptions::default(), RFC_NOW)
        .is_err());
}

#[test]
fn rfc7515_a1_hs256() {
    let ring = rfc_ring(
        json!({"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}),
        Alg::HS256,
    );
    check_rfc7515(ring, &format!("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.{RFC7515_PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
}

#[test]
fn rfc7515_a2_rs256() {
    let ring = rfc_ring(
        json!({"kty": "RSA", "n": RFC_RSA_N, "e": "AQAB"}),
        Alg::RS256,
    );
    check_rfc7515(ring, &format!("eyJhbGciOiJSUzI1NiJ9.{RFC7515_PAYLOAD}.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"));
}

#[test]
fn rfc7515_a3_es256() {
    let ring = rfc_ring(
        json!({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        Alg::ES256,
    );
    check_rfc7515(ring, &format!("eyJhbGciOiJFUzI1NiJ9.{RFC7515_PAYLOAD}.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"));
}

#[test]
fn rfc8037_a4_ed25519() {
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let ring = rfc_ring(jwk, Alg::EdDSA);
    let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    let payload = ring.verify_signature(token).unwrap();
    assert_eq!(payload, b"Example of Ed25519 signing");
    // Ed25519 is deterministic: signing the same input with the imported private key gives the RFC's signature
    let sig = jsonwebtoken::crypto::sign(
        b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
        &ring.current().unwrap().material.encoding_key().unwrap(),
        jsonwebtoken::Algorithm::EdDSA,
    )
    .unwrap();
    assert_eq!(sig, token.rsplit('.').next().unwrap());
    // the payload is a sentence, not claims: as a JWT it is refused
    assert!(ring
        .verify(token, &VerifyOptions::default(), now())
        .unwrap_err()
        .message()
        .contains("JSON"));
}

#[test]
fn attack_tokens_are_rejected_with_the_failed_check_named() {
    let r = ring(Alg::ES256);
    let opts = VerifyOptions {
        leeway: 30,
        audience: Some("authenticated".into()),
        issuer: Some("https://auth.example".into()),
        require_exp: true,
    };
    let t = now();
    let good_claims = json!({"sub": "u", "aud": "authenticated", "iss": "https://auth.example", "exp": t + 60, "iat": t});
    let good = r.sign(&good_claims).unwrap();
    assert!(r.verify(&good, &opts, t).is_ok());
    let [h, p, s]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let es_pub = r
        .keys()
        .iter()
        .find(|k| k.material.alg == Alg::ES256)
        .unwrap()
        .material
        .public_jwk
        .clone()
        .unwrap();
    let payload = good_claims.to_string();
    let hs_secret = r
        .keys()
        .iter()
        .find(|k| k.material.alg == Alg::HS256)
        .unwrap()
        .material
        .secret
        .clone()
        .unwrap();
    let hs_header = r#"{"alg":"HS256","kid":"kid-HS256"}"#;
    let signed_raw = |payload_part: &str| {
        let message = format!("{}.{payload_part}", b64(hs_header.as_bytes()));
        let sig = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(&hs_secret),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{sig}")
    };

    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), p), "not accepted"),
        ("alg none with a signature", format!("{}.{}.{}", b64(br#"{"alg":"none"}"#), p, s), "not accepted"),
        ("alg swapped to HS256, signed with the public key",
            forge_hs256(r#"{"alg":"HS256","kid":"kid-ES256"}"#, &payload, es_pub.to_string().as_bytes()), "does not match its signing key"),
        ("HS256 with the public key and no kid", forge_hs256(r#"{"alg":"HS256"}"#, &payload, es_pub.to_string().as_bytes()), "signature"),
        ("stripped signature", format!("{h}.{p}."), "no signature"),
        ("wrong kid", forge_hs256(r#"{"alg":"HS256","kid":"nope"}"#, &payload, b"x"), "unknown"),
        ("garbage signature", format!("{h}.{p}.{}", b64(b"not a signature")), "signature"),
        ("payload swapped", format!("{h}.{}.{s}", b64(br#"{"sub":"admin","exp":9999999999}"#)), "signature"),
        ("expired", r.sign(&json!({"aud": "authenticated", "iss": "https://auth.example", "exp": t - 31})).unwrap(), "expired"),
        ("not yet valid", r.sign(&json!({"aud": "authenticated", "iss": "https://auth.example", "exp": t + 600, "nbf": t + 31})).unwrap(), "nbf"),
        ("issued in the future", r.sign(&json!({"aud": "authenticated", "iss": "https://auth.example", "exp": t + 600, "iat": t + 31})).unwrap(), "iat"),
        ("no exp", r.sign(&json!({"aud": "authenticated", "iss": "https://auth.example"})).unwrap(), "no exp"),
        ("exp not a number", r.sign(&json!({"aud": "authenticated", "iss": "https://auth.example", "exp": "soon"})).unwrap(), "not a number"),
        ("wrong aud", r.sign(&json!({"aud": "other", "iss": "https://auth.example", "exp": t + 60})).unwrap(), "audience"),
        ("wrong iss", r.sign(&json!({"aud": "authenticated", "iss": "https://evil.example", "exp": t + 60})).unwrap(), "issuer"),
        ("oversized", format!("{h}.{}.{s}", "A".repeat(MAX_TOKEN_BYTES)), "larger than"),
        ("broken base64 header", format!("!!!!.{p}.{s}"), "base64url"),
        ("broken base64 payload, validly signed", signed_raw("!!!!"), "base64url"),
        ("unsigned broken payload", format!("{h}.!!!!.{s}"), "signature"),
        ("padded base64", format!("{h}=.{p}.{s}"), "base64url"),
        ("broken header JSON", format!("{}.{p}.{s}", b64(b"{\"alg\":")), "not valid JSON"),
        ("broken claims JSON, validly signed", forge_hs256(hs_header, "{\"exp\":", &hs_secret), "not valid JSON"),
        ("claims not an object, validly signed", forge_hs256(hs_header, "[1,2]", &hs_secret), "not a JSON object"),
        ("duplicate header keys", format!("{}.{p}.{s}", b64(br#"{"alg":"ES256","alg":"none"}"#)), "duplicate"),
        ("crit header", format!("{}.{p}.{s}", b64(br#"{"alg":"ES256","kid":"kid-ES256","crit":["exp"]}"#)), "crit"),
        ("two parts", format!("{h}.{p}"), "three"),
        ("four parts", format!("{good}.{s}"), "three"),
        ("empty", String::new(), "empty"),
        ("kid not a string", format!("{}.{p}.{s}", b64(br#"{"alg":"ES256","kid":7}"#)), "kid"),
    ];
    for (name, token, expect) in cases {
        let e = r.verify(&token, &opts, t).expect_err(name);
        assert_eq!(e.code(), "bad_jwt", "{name}");
        assert!(e.message().contains(expect), "{name}: {}", e.message());
        if token.len() > 20 {
            assert!(!e.message().contains(&token), "{name}: the token is echoed");
        }
    }
    // jwt_require_exp = false: a token without exp is accepted (service keys minted by tooling),
    // one with a non-numeric or passed exp still is not.
    let lax = VerifyOptions {
        require_exp: false,
        ..opts.clone()
    };
    let no_exp = r
        .sign(
            &json!({"aud": "authenticated", "iss": "https://auth.example", "role": "service_role"}),
        )
        .unwrap();
    assert_eq!(r.verify(&no_exp, &lax, t).unwrap()["role"], "service_role");
    for bad_exp in [json!("soon"), json!(t - 31)] {
        let token = r
            .sign(&json!({"aud": "authenticated", "iss": "https://auth.example", "exp": bad_exp}))
            .unwrap();
        assert!(r.verify(&token, &lax, t).is_err());
    }
}

#[test]
fn duplicate_claims_and_revoked_keys() {
    let hs = generate(Alg::HS256).unwrap();
    let secret = hs.secret.clone().unwrap();
    let live = KeyRing::new(vec![("h".into(), KeyStatus::Current, hs.clone())]).unwrap();
    let t = now();
    let dup = forge_hs256(
        r#"{"alg":"HS256","kid":"h"}"#,
        &format!(
            r#"{{"role":"anon","role":"service_role","exp":{}}}"#,
            t + 60
        ),
        &secret,
    );
    assert!(live
        .verify(&dup, &VerifyOptions::default(), t)
        .unwrap_err()
        .message()
        .contains("duplicate"));
    let nested = forge_hs256(
        r#"{"alg":"HS256","kid":"h"}"#,
        &format!(r#"{{"app_metadata":{{"a":1,"a":2}},"exp":{}}}"#, t + 60),
        &secret,
    );
    assert!(live
        .verify(&nested, &VerifyOptions::default(), t)
        .unwrap_err()
        .message()
        .contains("duplicate"));
    let ok = forge_hs256(
        r#"{"alg":"HS256","kid":"h"}"#,
        &format!(r#"{{"role":"anon","exp":{}}}"#, t + 60),
        &secret,
    );
    assert!(live.verify(&ok, &VerifyOptions::default(), t).is_ok());
    let revoked = KeyRing::new(vec![("h".into(), KeyStatus::Revoked, hs)]).unwrap();
    assert!(revoked
        .verify(&ok, &VerifyOptions::default(), t)
        .unwrap_err()
        .message()
        .contains("revoked"));
    let no_kid = forge_hs256(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"exp":{}}}"#, t + 60),
        &secret,
    );
    assert!(
        revoked
            .verify(&no_kid, &VerifyOptions::default(), t)
            .is_err(),
        "revoked keys are not tried for kid-less tokens"
    );
}

#[test]
fn claims_have_gotrue_shape() {
    let user = json!({"id": "u1", "aud": "authenticated", "role": "authenticated",
        "email": "a@b.co", "phone": "", "app_metadata": {"provider": "email"},
        "user_metadata": {"n": 1}, "is_anonymous": false});
    let amr = [("password".to_string(), 100)];
    let ctx = TokenContext {
        issuer: "iss",
        session_id: "s1",
        aal: "aal1",
        amr: &amr,
        now: 1000,
        lifetime: 3600,
        default_aud: "authenticated",
    };
    let c = access_token_claims(&user, &ctx);
    for k in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "email",
        "phone",
        "app_metadata",
        "user_metadata",
        "role",
        "aal",
        "amr",
        "session_id",
        "is_anonymous",
    ] {
        assert!(c.get(k).is_some(), "missing {k}");
    }
    assert_eq!(c["exp"], 4600);
    assert_eq!(c["amr"][0]["method"], "password");
    let s = session_response("a".into(), "r".into(), &ctx, user);
    assert_eq!(s["token_type"], "bearer");
    assert_eq!(s["expires_at"], 4600);
}
