//! Social login and SSO's pure part: the providers and their configuration, the authorization
//! request towards a provider, reading the user it vouches for, verifying its ID tokens, and
//! deciding which auth_ext user an external identity signs in as (or links to).
//!
//! The network (token exchange, user API, JWKS and discovery documents) is the shim's; every
//! decision is taken from what this module returns, in the database (src/external/).

pub mod id_token;
pub mod linking;
pub mod profile;
pub mod providers;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::redirect::query_escape;
pub use providers::{Endpoints, Flavor, Missing, ProviderConfig};

/// A `state` lives this long (GoTrue: the state JWT's 10 minutes... of a login at the provider).
pub const STATE_LIFETIME_SECS: i64 = 600;
/// A provider's JWKS or discovery document is kept this long when its answer says nothing.
pub const DEFAULT_DOCUMENT_MAX_AGE: i64 = 3600;
/// ... and at most this long, whatever it says (a rotated key must be picked up).
pub const MAX_DOCUMENT_MAX_AGE: i64 = 86_400;
/// The longest `scopes` a caller may add.
pub const MAX_SCOPES_LEN: usize = 1024;

/// A fresh `state` (or PKCE verifier, or nonce): 32 random bytes, base64url.
pub fn random_token() -> String {
    B64.encode(crate::random::bytes::<32>())
}

/// How a state is stored: its hex SHA-256 (the browser holds the state; a read of the table
/// cannot replay a flow).
pub fn state_hash(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 7636's S256 challenge of a verifier.
pub fn s256(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// The scopes asked of the provider: its defaults, the owner's, then the caller's, each once.
pub fn scopes(flavor: Flavor, config: &ProviderConfig, requested: Option<&str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    let sources = [
        Some(flavor.default_scopes()),
        config.scopes.as_deref(),
        requested,
    ];
    for scope in sources
        .into_iter()
        .flatten()
        .flat_map(|s| s.split([' ', ',']))
    {
        if !scope.is_empty() && !out.contains(&scope) {
            out.push(scope);
        }
    }
    out.join(" ")
}

/// What goes into the provider's authorization URL.
pub struct AuthorizeRequest<'a> {
    pub endpoints: &'a Endpoints,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub scopes: &'a str,
    /// The S256 challenge towards the provider, when PKCE is used with it.
    pub code_challenge: Option<&'a str>,
    /// The nonce an ID token must carry (OpenID Connect providers).
    pub nonce: Option<&'a str>,
    /// Apple: the callback is a form POST (Apple's rule when name or email is asked for).
    pub form_post: bool,
    /// Extra query parameters the caller passed through (`access_type`, `prompt`, ...).
    pub extra: &'a [(String, String)],
}

/// The provider's authorization URL.
pub fn authorize_url(r: &AuthorizeRequest) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", r.client_id),
        ("redirect_uri", r.redirect_uri),
        ("response_type", "code"),
        ("scope", r.scopes),
        ("state", r.state),
    ];
    if let Some(challenge) = r.code_challenge {
        pairs.push(("code_challenge", challenge));
        pairs.push(("code_challenge_method", "S256"));
    }
    if let Some(nonce) = r.nonce {
        pairs.push(("nonce", nonce));
    }
    if r.form_post {
        pairs.push(("response_mode", "form_post"));
    }
    for (k, v) in r.extra {
        if !pairs.iter().any(|(set, _)| set == k) {
            pairs.push((k.as_str(), v.as_str()));
        }
    }
    let mut url = r.endpoints.authorize.clone();
    url.push(if url.contains('?') { '&' } else { '?' });
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect();
    url.push_str(&query.join("&"));
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_merge_once() {
        let (flavor, config) =
            ProviderConfig::parse("github", &json!({"client_id": "x", "scopes": "read:org"}))
                .unwrap();
        assert_eq!(
            scopes(flavor, &config, Some("repo user:email,gist")),
            "user:email read:org repo gist"
        );
    }

    #[test]
    fn the_authorize_url_escapes_everything() {
        let endpoints = Endpoints {
            authorize: "https://idp.example/auth?tenant=1".into(),
            token: String::new(),
            userinfo: None,
            emails: None,
            issuers: vec![],
            any_azure_tenant: false,
            jwks_uri: None,
        };
        let extra = vec![("prompt".to_string(), "consent&x=1".to_string())];
        let url = authorize_url(&AuthorizeRequest {
            endpoints: &endpoints,
            client_id: "c id",
            redirect_uri: "https://auth.example/callback",
            state: "st",
            scopes: "openid email",
            code_challenge: Some("ch"),
            nonce: Some("n"),
            form_post: false,
            extra: &extra,
        });
        assert_eq!(
            url,
            "https://idp.example/auth?tenant=1&client_id=c+id&redirect_uri=https%3A%2F%2Fauth.example%2Fcallback\
             &response_type=code&scope=openid+email&state=st&code_challenge=ch&code_challenge_method=S256\
             &nonce=n&prompt=consent%26x%3D1"
        );
    }

    #[test]
    fn states_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(state_hash(&a).len(), 64);
        assert_ne!(state_hash(&a), a);
        // The same S256 the client-side PKCE check computes.
        let verifier = random_token();
        assert!(crate::pkce::verifier_matches(
            &verifier,
            &s256(&verifier),
            crate::pkce::Method::S256
        )
        .unwrap());
    }
}
