//! The identity providers auth_ext knows: GoTrue's built-in names with their default endpoints,
//! and custom OpenID Connect providers (`custom:<name>`) found by discovery. The owner's
//! configuration of a provider is a [`ProviderConfig`]; [`Endpoints::resolve`] gives the URLs a
//! flow uses, every one overridable.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AuthError, AuthResult};

/// How a provider is spoken to and how its user is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Google,
    Github,
    Apple,
    Azure,
    Gitlab,
    Discord,
    Keycloak,
    /// A custom OpenID Connect provider (`custom:<name>`), configured by issuer.
    Oidc,
}

/// The longest provider name (`custom:` included).
const MAX_NAME: usize = 64;

impl Flavor {
    /// The flavor of a provider name; `None` for a name auth_ext does not support.
    pub fn of(name: &str) -> Option<Flavor> {
        Some(match name {
            "google" => Flavor::Google,
            "github" => Flavor::Github,
            "apple" => Flavor::Apple,
            "azure" => Flavor::Azure,
            "gitlab" => Flavor::Gitlab,
            "discord" => Flavor::Discord,
            "keycloak" => Flavor::Keycloak,
            _ => {
                let slug = name.strip_prefix("custom:")?;
                let ok = !slug.is_empty()
                    && name.len() <= MAX_NAME
                    && slug.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    });
                if !ok {
                    return None;
                }
                Flavor::Oidc
            }
        })
    }

    /// Whether the provider issues ID tokens (OpenID Connect); the others are read through
    /// their user API.
    pub fn is_oidc(self) -> bool {
        !matches!(self, Flavor::Github | Flavor::Gitlab | Flavor::Discord)
    }

    /// GoTrue's default scopes (what is asked for besides the caller's `scopes`).
    pub fn default_scopes(self) -> &'static str {
        match self {
            Flavor::Google => "openid email profile",
            Flavor::Github => "user:email",
            Flavor::Apple => "email name",
            Flavor::Azure => "openid email profile",
            Flavor::Gitlab => "read_user",
            Flavor::Discord => "email identify",
            Flavor::Keycloak | Flavor::Oidc => "openid email profile",
        }
    }
}

/// A provider as the owner configures it (`auth.configure_provider(name, config)`). Unknown
/// members are refused, so a typo never silently leaves a default in place.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    pub enabled: bool,
    /// The client id used towards the provider, then others accepted as an ID token's `aud`
    /// (GoTrue's additional client ids: the iOS and Android apps' ids).
    pub client_id: ClientIds,
    /// Write-only: kept in its own column, never shown.
    pub secret: Option<String>,
    /// The provider's base URL (Keycloak's realm URL, a self-hosted GitLab).
    pub url: Option<String>,
    pub issuer: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    /// GitHub-style: the list of the user's addresses with their verification.
    pub emails_url: Option<String>,
    pub jwks_uri: Option<String>,
    /// Scopes asked for besides the defaults and the caller's.
    pub scopes: Option<String>,
    /// Accept ID tokens whose nonce cannot be checked (GoTrue's `skip_nonce_check`).
    pub skip_nonce_check: bool,
    /// PKCE towards the provider (RFC 7636); on by default, off for a provider that refuses it.
    pub pkce: Option<bool>,
    /// How the client authenticates at the token endpoint.
    pub token_auth: TokenAuth,
    /// Sign-ins without an email address are allowed (GoTrue's `email_optional`).
    pub email_optional: bool,
    /// The provider's JWKS, given by the owner instead of fetched (`{"keys": [...]}`).
    pub jwks: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClientIds {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl ClientIds {
    pub fn list(&self) -> Vec<String> {
        match self {
            ClientIds::None => Vec::new(),
            ClientIds::One(id) => vec![id.clone()],
            ClientIds::Many(ids) => ids.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
}

impl TokenAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuth::ClientSecretPost => "client_secret_post",
            TokenAuth::ClientSecretBasic => "client_secret_basic",
        }
    }
}

fn http_url(field: &str, value: &str) -> AuthResult<()> {
    let parsed = url::Url::parse(value)
        .map_err(|_| AuthError::validation(format!("{field} must be an absolute URL")))?;
    let ok = matches!(parsed.scheme(), "https" | "http")
        && parsed.host_str().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.fragment().is_none();
    if !ok || value.len() > 2048 {
        return Err(AuthError::validation(format!(
            "{field} must be an http(s) URL without credentials or fragment"
        )));
    }
    Ok(())
}

impl ProviderConfig {
    /// Parses and checks an owner's configuration of provider `name`, as `auth.configure_provider`
    /// receives it: [`ProviderConfig::parse`] and the owner's `jwks`, whose keys are imported
    /// (which costs tens of milliseconds for RSA keys, so it is done here, not at every read).
    pub fn parse_new(name: &str, config: &Value) -> AuthResult<(Flavor, ProviderConfig)> {
        let (flavor, parsed) = Self::parse(name, config)?;
        if let Some(jwks) = &parsed.jwks {
            crate::external::id_token::provider_ring(jwks).map_err(|_| {
                AuthError::validation("jwks must be a JWKS with a usable signing key")
            })?;
        }
        Ok((flavor, parsed))
    }

    /// Parses and checks a configuration of provider `name` (a stored one when a flow reads it).
    pub fn parse(name: &str, config: &Value) -> AuthResult<(Flavor, ProviderConfig)> {
        let flavor = Flavor::of(name).ok_or_else(|| {
            AuthError::validation(
                "the provider must be one of google, github, apple, azure, gitlab, discord, \
                 keycloak, or custom:<name> (lower-case letters, digits, - and _)",
            )
        })?;
        let config: ProviderConfig = serde_path_to_error::deserialize(config.clone())
            .map_err(|e| AuthError::validation(format!("provider configuration: {e}")))?;
        config.check(flavor)?;
        Ok((flavor, config))
    }

    fn check(&self, flavor: Flavor) -> AuthResult<()> {
        let ids = self.client_id.list();
        if self.enabled && ids.is_empty() {
            return Err(AuthError::validation(
                "an enabled provider needs a client_id",
            ));
        }
        if ids.iter().any(|id| id.is_empty() || id.len() > 512) {
            return Err(AuthError::validation(
                "a client_id must be 1 to 512 characters",
            ));
        }
        if self.secret.as_ref().is_some_and(|s| s.len() > 4096) {
            return Err(AuthError::validation("the secret is too long"));
        }
        for (field, value) in [
            ("url", &self.url),
            ("issuer", &self.issuer),
            ("authorize_url", &self.authorize_url),
            ("token_url", &self.token_url),
            ("userinfo_url", &self.userinfo_url),
            ("emails_url", &self.emails_url),
            ("jwks_uri", &self.jwks_uri),
        ] {
            if let Some(v) = value {
                http_url(field, v)?;
            }
        }
        if self.scopes.as_ref().is_some_and(|s| s.len() > 1024) {
            return Err(AuthError::validation("scopes are too long"));
        }
        if matches!(flavor, Flavor::Oidc) && self.issuer.is_none() {
            return Err(AuthError::validation(
                "a custom OpenID Connect provider needs an issuer",
            ));
        }
        if matches!(flavor, Flavor::Keycloak) && self.url.is_none() && self.issuer.is_none() {
            return Err(AuthError::validation("keycloak needs its realm url"));
        }
        Ok(())
    }
}

/// The URLs of a flow with one provider.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    /// Where the user is read when there is no ID token (or to complete one).
    pub userinfo: Option<String>,
    pub emails: Option<String>,
    /// OpenID Connect: the accepted `iss` values and where the keys are.
    pub issuers: Vec<String>,
    /// Azure's multi-tenant endpoints (`common`, `organizations`): any tenant's issuer
    /// (`https://login.microsoftonline.com/<tenant>/v2.0`), as GoTrue accepts.
    pub any_azure_tenant: bool,
    pub jwks_uri: Option<String>,
}

/// What [`Endpoints::resolve`] needs fetched first (by the shim: the database never waits on a
/// provider).
#[derive(Clone, Debug, PartialEq)]
pub enum Missing {
    /// The issuer's `/.well-known/openid-configuration`.
    Discovery(String),
}

fn trimmed(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// GoTrue's defaults for a built-in provider: authorize, token, user API, emails API, issuer,
/// JWKS. `base`: the configured `url` (GitHub Enterprise, self-hosted GitLab, an Azure tenant).
fn builtin(flavor: Flavor, base: Option<&str>) -> [Option<String>; 6] {
    let s = |v: &str| Some(v.to_owned());
    match flavor {
        Flavor::Google => [
            s("https://accounts.google.com/o/oauth2/v2/auth"),
            s("https://oauth2.googleapis.com/token"),
            s("https://openidconnect.googleapis.com/v1/userinfo"),
            None,
            s("https://accounts.google.com"),
            s("https://www.googleapis.com/oauth2/v3/certs"),
        ],
        Flavor::Github => {
            let (web, api) = match base {
                Some(b) => (b.to_owned(), format!("{b}/api/v3")),
                None => ("https://github.com".into(), "https://api.github.com".into()),
            };
            [
                Some(format!("{web}/login/oauth/authorize")),
                Some(format!("{web}/login/oauth/access_token")),
                Some(format!("{api}/user")),
                Some(format!("{api}/user/emails")),
                None,
                None,
            ]
        }
        Flavor::Apple => [
            s("https://appleid.apple.com/auth/authorize"),
            s("https://appleid.apple.com/auth/token"),
            None,
            None,
            s("https://appleid.apple.com"),
            s("https://appleid.apple.com/auth/keys"),
        ],
        Flavor::Azure => {
            let web = base.unwrap_or("https://login.microsoftonline.com/common");
            [
                Some(format!("{web}/oauth2/v2.0/authorize")),
                Some(format!("{web}/oauth2/v2.0/token")),
                None,
                None,
                // A tenant's URL pins its issuer; `common` and `organizations` take any tenant.
                base.filter(|b| !b.ends_with("/common") && !b.ends_with("/organizations"))
                    .map(|b| format!("{b}/v2.0")),
                Some(format!("{web}/discovery/v2.0/keys")),
            ]
        }
        Flavor::Gitlab => {
            let web = base.unwrap_or("https://gitlab.com");
            [
                Some(format!("{web}/oauth/authorize")),
                Some(format!("{web}/oauth/token")),
                Some(format!("{web}/api/v4/user")),
                None,
                None,
                None,
            ]
        }
        Flavor::Discord => [
            s("https://discord.com/api/oauth2/authorize"),
            s("https://discord.com/api/oauth2/token"),
            s("https://discord.com/api/users/@me"),
            None,
            None,
            None,
        ],
        Flavor::Keycloak => {
            let realm = base.unwrap_or("");
            let at = |path: &str| Some(format!("{realm}/protocol/openid-connect/{path}"));
            [
                at("auth"),
                at("token"),
                at("userinfo"),
                None,
                base.map(str::to_owned),
                at("certs"),
            ]
        }
        Flavor::Oidc => [None, None, None, None, None, None],
    }
}

impl Endpoints {
    /// The provider's endpoints: the configuration's overrides, else the discovery document's
    /// (custom providers), else GoTrue's defaults.
    pub fn resolve(
        flavor: Flavor,
        config: &ProviderConfig,
        discovery: Option<&Value>,
    ) -> Result<Endpoints, Missing> {
        let base = config.url.as_deref().map(trimmed);
        let [authorize, token, userinfo, emails, issuer, jwks] = builtin(flavor, base);
        let doc = |member: &str| {
            discovery
                .and_then(|d| d.get(member))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let authorize = config
            .authorize_url
            .clone()
            .or(doc("authorization_endpoint"))
            .or(authorize);
        let token = config.token_url.clone().or(doc("token_endpoint")).or(token);
        let jwks_uri = config.jwks_uri.clone().or(doc("jwks_uri")).or(jwks);
        let issuer = config.issuer.clone().or(doc("issuer")).or(issuer);
        let (Some(authorize), Some(token)) = (authorize, token) else {
            // Only a custom provider lacks defaults: its discovery document has them.
            let issuer = issuer.as_deref().map(trimmed).unwrap_or("");
            return Err(Missing::Discovery(format!(
                "{issuer}/.well-known/openid-configuration"
            )));
        };
        if flavor == Flavor::Oidc && jwks_uri.is_none() && config.jwks.is_none() {
            let issuer = issuer.as_deref().map(trimmed).unwrap_or("");
            return Err(Missing::Discovery(format!(
                "{issuer}/.well-known/openid-configuration"
            )));
        }
        let any_azure_tenant = flavor == Flavor::Azure && issuer.is_none();
        let mut issuers: Vec<String> = issuer.into_iter().collect();
        // Google's tokens say either form.
        if flavor == Flavor::Google && issuers.iter().any(|i| i == "https://accounts.google.com") {
            issuers.push("accounts.google.com".into());
        }
        Ok(Endpoints {
            authorize,
            token,
            userinfo: config
                .userinfo_url
                .clone()
                .or(doc("userinfo_endpoint"))
                .or(userinfo),
            emails: config.emails_url.clone().or(emails),
            issuers,
            any_azure_tenant,
            jwks_uri,
        })
    }
}

/// An Azure tenant's issuer: `https://login.microsoftonline.com/<tenant>/v2.0`.
pub fn is_azure_tenant_issuer(iss: &str) -> bool {
    let Some(rest) = iss.strip_prefix("https://login.microsoftonline.com/") else {
        return false;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest.strip_suffix("/v2.0") {
        Some(tenant) => {
            !tenant.is_empty()
                && tenant
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
        None => false,
    }
}

/// Checks a discovery document fetched for `issuer` (OpenID Connect Discovery §4.3: its
/// `issuer` must be the one asked for) and keeps the members auth_ext uses.
pub fn check_discovery(issuer: &str, document: &Value) -> AuthResult<Value> {
    let said = document.get("issuer").and_then(Value::as_str).unwrap_or("");
    if trimmed(said) != trimmed(issuer) {
        return Err(AuthError::bad_oauth_callback(
            "the provider's discovery document names another issuer",
        ));
    }
    let mut kept = serde_json::Map::new();
    for member in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        match document.get(member) {
            Some(Value::String(url)) => {
                http_url(member, url).map_err(|_| {
                    AuthError::bad_oauth_callback("the provider's discovery document is invalid")
                })?;
                kept.insert(member.to_owned(), Value::String(url.clone()));
            }
            None if member == "userinfo_endpoint" => {}
            _ => {
                return Err(AuthError::bad_oauth_callback(
                    "the provider's discovery document is invalid",
                ))
            }
        }
    }
    Ok(Value::Object(kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert_eq!(Flavor::of("google"), Some(Flavor::Google));
        assert_eq!(Flavor::of("custom:acme-1"), Some(Flavor::Oidc));
        for bad in [
            "",
            "custom:",
            "custom:Acme",
            "custom:a/b",
            "facebookk",
            "Google",
        ] {
            assert_eq!(Flavor::of(bad), None, "{bad}");
        }
    }

    #[test]
    fn configurations_are_checked() {
        let ok = json!({"enabled": true, "client_id": "id", "secret": "s"});
        assert!(ProviderConfig::parse("github", &ok).is_ok());
        for (name, bad) in [
            ("github", json!({"enabled": true})),
            (
                "github",
                json!({"enabled": true, "client_id": "id", "scopez": "x"}),
            ),
            (
                "github",
                json!({"client_id": "id", "token_url": "javascript:alert(1)"}),
            ),
            (
                "github",
                json!({"client_id": "id", "token_url": "https://u:p@h.example/t"}),
            ),
            ("custom:x", json!({"client_id": "id"})),
            ("keycloak", json!({"client_id": "id"})),
            ("nope", ok.clone()),
        ] {
            assert!(ProviderConfig::parse(name, &bad).is_err(), "{name} {bad}");
        }
    }

    #[test]
    fn endpoints_default_and_override() {
        let (flavor, config) = ProviderConfig::parse(
            "github",
            &json!({"client_id": "id", "url": "http://127.0.0.1:1/", "emails_url": "http://127.0.0.1:1/e"}),
        )
        .unwrap();
        let e = Endpoints::resolve(flavor, &config, None).unwrap();
        assert_eq!(e.authorize, "http://127.0.0.1:1/login/oauth/authorize");
        assert_eq!(
            e.userinfo.as_deref(),
            Some("http://127.0.0.1:1/api/v3/user")
        );
        assert_eq!(e.emails.as_deref(), Some("http://127.0.0.1:1/e"));
        let (flavor, config) =
            ProviderConfig::parse("google", &json!({"client_id": "id"})).unwrap();
        let e = Endpoints::resolve(flavor, &config, None).unwrap();
        assert_eq!(e.issuers[0], "https://accounts.google.com");
    }

    #[test]
    fn azure_and_google_issuers() {
        let (flavor, config) = ProviderConfig::parse("azure", &json!({"client_id": "id"})).unwrap();
        let e = Endpoints::resolve(flavor, &config, None).unwrap();
        assert!(e.any_azure_tenant && e.issuers.is_empty());
        assert!(is_azure_tenant_issuer(
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
        ));
        for bad in [
            "https://login.microsoftonline.com/v2.0",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://evil.example/t/v2.0",
            "https://login.microsoftonline.com.evil.example/t/v2.0",
        ] {
            assert!(!is_azure_tenant_issuer(bad), "{bad}");
        }
        let (flavor, config) = ProviderConfig::parse(
            "azure",
            &json!({"client_id": "id", "url": "https://login.microsoftonline.com/contoso"}),
        )
        .unwrap();
        let e = Endpoints::resolve(flavor, &config, None).unwrap();
        assert!(!e.any_azure_tenant);
        assert_eq!(
            e.issuers,
            vec!["https://login.microsoftonline.com/contoso/v2.0".to_string()]
        );
        let (flavor, config) =
            ProviderConfig::parse("google", &json!({"client_id": "id"})).unwrap();
        let e = Endpoints::resolve(flavor, &config, None).unwrap();
        assert!(e.issuers.contains(&"accounts.google.com".to_string()));
    }

    #[test]
    fn a_custom_provider_needs_its_discovery() {
        let (flavor, config) = ProviderConfig::parse(
            "custom:idp",
            &json!({"client_id": "id", "issuer": "http://127.0.0.1:9/"}),
        )
        .unwrap();
        assert_eq!(
            Endpoints::resolve(flavor, &config, None),
            Err(Missing::Discovery(
                "http://127.0.0.1:9/.well-known/openid-configuration".into()
            ))
        );
        let doc = json!({"issuer": "http://127.0.0.1:9/", "authorization_endpoint": "http://127.0.0.1:9/auth",
                         "token_endpoint": "http://127.0.0.1:9/token", "jwks_uri": "http://127.0.0.1:9/jwks",
                         "userinfo_endpoint": "http://127.0.0.1:9/me", "extra": 1});
        let kept = check_discovery("http://127.0.0.1:9/", &doc).unwrap();
        assert!(kept.get("extra").is_none());
        let e = Endpoints::resolve(flavor, &config, Some(&kept)).unwrap();
        assert_eq!(e.token, "http://127.0.0.1:9/token");
        assert_eq!(e.jwks_uri.as_deref(), Some("http://127.0.0.1:9/jwks"));
        assert!(check_discovery("http://127.0.0.1:8/", &doc).is_err());
    }
}
