//! SAML 2.0 single sign-on. The XML is the shim's (or another broker's): it builds the
//! AuthnRequest, verifies the IdP's signed response with libxmlsec1 (never inside a backend:
//! PostgreSQL links libxml2 itself) and hands the database the verified assertion. Everything
//! else is decided here: which provider, the relay state (once, in time), the request the
//! response answers, replays, which user, linking, the session.
//!
//! - `start`: `POST /sso` (`signInWithSSO`): a relay state and what the AuthnRequest needs.
//! - `acs`: `POST /sso/saml/acs` in two calls of the broker: take the relay state (and the
//!   IdP's certificates to verify with), then finish with the verified assertion.
//! - `account`: which user an SSO identity signs in as (its own linking domain, as GoTrue).
//! - `admin`: `/admin/sso/providers` (list, create, read, update, delete).

mod account;
mod acs;
mod admin;
mod start;

use auth_core::sso::metadata::{self, IdpMetadata};
use auth_core::AuthError;
use serde::Deserialize;
use serde_json::Value;

use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;

static PROVIDER: &str = include_str!("provider.sql");

/// An SSO provider and its SAML IdP (src/sso/provider.sql).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderRow {
    id: uuid::Uuid,
    disabled: bool,
    entity_id: String,
    metadata_xml: String,
    attribute_mapping: Option<Value>,
    name_id_format: Option<String>,
    metadata_url: Option<String>,
    /// Seconds since the metadata was stored.
    metadata_age: f64,
}

/// An enabled SSO provider, its metadata read.
pub(crate) struct SsoProvider {
    id: uuid::Uuid,
    entity_id: String,
    metadata: IdpMetadata,
    attribute_mapping: Option<Value>,
    name_id_format: Option<String>,
    /// The metadata's URL when the stored document has gone stale: the broker fetches it again.
    refresh_url: Option<String>,
}

/// How a provider is asked for.
enum Lookup<'a> {
    Id(uuid::Uuid),
    /// Lower-case.
    Domain(String),
    EntityId(&'a str),
}

/// The provider, if there is one; `sso_provider_disabled` when it is turned off.
fn find(lookup: Lookup) -> AuthResult<Option<SsoProvider>> {
    let (id, domain, entity) = match lookup {
        Lookup::Id(id) => (Some(db::uuid(id)), None, None),
        Lookup::Domain(ref d) => (None, Some(d.as_str()), None),
        Lookup::EntityId(e) => (None, None, Some(e)),
    };
    let Some(row): Option<ProviderRow> = db::typed(db::json(
        PROVIDER,
        &[id.into(), domain.into(), entity.into()],
    )?)?
    else {
        return Ok(None);
    };
    if row.disabled {
        return Err(AuthError::sso_provider_disabled());
    }
    // Checked when stored (src/sso/admin.rs); a row written by hand that does not parse is the
    // owner's error, not the caller's.
    let metadata = metadata::parse(&row.metadata_xml).map_err(|e| {
        pgrx::log!(
            "auth_ext: SSO provider {}: its metadata does not parse: {e}",
            row.id
        );
        AuthError::Internal
    })?;
    let stale = metadata::is_stale(&metadata, row.metadata_age, crate::now());
    Ok(Some(SsoProvider {
        id: row.id,
        entity_id: row.entity_id,
        refresh_url: row.metadata_url.filter(|_| stale),
        metadata,
        attribute_mapping: row.attribute_mapping,
        name_id_format: row.name_id_format,
    }))
}

impl SsoProvider {
    /// The identities' provider name: GoTrue's `sso:<provider id>`, its own linking domain.
    fn identity_provider(&self) -> String {
        format!("sso:{}", self.id)
    }
}

/// GoTrue answers every SSO route with this while SAML is off.
fn require_enabled(inst: &Instance) -> AuthResult<()> {
    if inst.settings.sso.saml_enabled {
        Ok(())
    } else {
        Err(AuthError::saml_disabled())
    }
}

/// The service provider's own names, from `api_external_url` (GoTrue's `<external URL>/sso/`).
struct ServiceProvider {
    entity_id: String,
    acs_url: String,
}

fn service_provider(inst: &Instance) -> ServiceProvider {
    let base = &inst.settings.mailer.api_external_url;
    ServiceProvider {
        entity_id: auth_core::sso::sp_entity_id(base),
        acs_url: auth_core::sso::acs_url(base),
    }
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "sso_api",
    requires = [
        sso_start,
        sso_service_provider,
        saml_acs_take,
        saml_acs_finish,
        saml_metadata_refresh,
        admin_sso_providers,
        admin_sso_provider,
        admin_create_sso_provider,
        admin_update_sso_provider,
        admin_delete_sso_provider,
    ]
);
