//! Social login: OAuth 2.0 / OpenID Connect providers, sign-in with a provider's ID token, and
//! identity linking. The network is the shim's (or another broker's): the database hands it
//! what to ask a provider for and takes the provider's answer back; every decision (which user,
//! which identity, linking, the session) is taken here.
//!
//! - `configure`: the owner's provider settings (`auth.configure_provider`, `auth.providers`).
//! - `authorize`: `GET /authorize` and `GET /user/identities/authorize`: a flow's state and the
//!   provider's URL.
//! - `callback`: `GET|POST /callback` in two calls of the broker: take the state (and the client
//!   secret), then finish with the provider's answer.
//! - `id_token`: `POST /token?grant_type=id_token`.
//! - `accounts`: which user an identity signs in as (GoTrue's linking rules), and the writes.
//! - `identities`: `DELETE /user/identities/{id}`.
//! - `documents`: the provider documents the broker fetched (discovery, JWKS).

pub(crate) mod accounts;
mod authorize;
mod callback;
mod configure;
mod documents;
mod id_token;
mod identities;

use auth_core::external::{Endpoints, Flavor, Missing, ProviderConfig};
use auth_core::AuthError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;

static PROVIDER: &str = include_str!("provider.sql");

/// A provider's row (src/external/provider.sql); documents only while fresh.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderRow {
    name: String,
    config: Value,
    has_secret: bool,
    discovery: Option<Value>,
    jwks: Option<Value>,
}

/// A configured, enabled provider.
pub(crate) struct Provider {
    name: String,
    flavor: Flavor,
    config: ProviderConfig,
    /// The redirect flow needs one; an ID-token-only provider (mobile apps) does not.
    has_secret: bool,
    discovery: Option<Value>,
    /// The owner's JWKS, else the fetched one while fresh.
    jwks: Option<Value>,
}

/// The provider named `name` (lower-cased, as GoTrue reads it), if configured and enabled.
fn provider(name: Option<&str>) -> AuthResult<Provider> {
    let name = name.map(str::to_lowercase).unwrap_or_default();
    if name.is_empty() {
        return Err(AuthError::validation(
            "Unsupported provider: provider is required",
        ));
    }
    let flavor = Flavor::of(&name).ok_or_else(AuthError::provider_not_supported)?;
    let row: ProviderRow = db::typed(db::json(PROVIDER, &[name.as_str().into()])?)?
        .ok_or_else(AuthError::provider_not_supported)?;
    let (_, config) =
        ProviderConfig::parse(&row.name, &row.config).map_err(|_| AuthError::Internal)?;
    if !config.enabled {
        return Err(AuthError::provider_disabled(&row.name));
    }
    let jwks = config.jwks.clone().or(row.jwks);
    Ok(Provider {
        name: row.name,
        flavor,
        config,
        has_secret: row.has_secret,
        discovery: row.discovery,
        jwks,
    })
}

impl Provider {
    fn endpoints(&self) -> Result<Endpoints, Missing> {
        Endpoints::resolve(self.flavor, &self.config, self.discovery.as_ref())
    }

    fn client_id(&self) -> AuthResult<String> {
        self.config
            .client_id
            .list()
            .into_iter()
            .next()
            .ok_or_else(|| AuthError::provider_disabled(&self.name))
    }
}

/// What the broker must fetch before the call can go on: answered instead of a result, the
/// broker stores the document (`auth.provider_document_store`) and calls again.
fn fetch(provider: &str, kind: &str, url: &str) -> Value {
    json!({"fetch": {"provider": provider, "kind": kind, "url": url}})
}

fn missing(provider: &Provider, m: Missing) -> Value {
    match m {
        Missing::Discovery(url) => fetch(&provider.name, "discovery", &url),
    }
}

/// The callback URL registered with every provider: `<api_external_url>/callback`.
fn callback_url(inst: &Instance) -> String {
    format!(
        "{}/callback",
        inst.settings.mailer.api_external_url.trim_end_matches('/')
    )
}
