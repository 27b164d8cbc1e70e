//! `/admin/sso/providers`: SAML identity providers, managed by an admin (a token whose role is
//! in `jwt_admin_roles`, or the owner over SQL), with GoTrue's validation and answers. A
//! `metadata_url` is fetched by the broker (the shim), which passes the document along as
//! `fetched_metadata`; over SQL, give `metadata_xml`.

use auth_core::sso::{self, assertion::AttributeMapping, metadata};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde::Deserialize;
use serde_json::{json, Value};

use super::require_enabled;
use crate::admin::require_admin;
use crate::db;
use crate::error::{guard, AuthResult};
use crate::ffi::jsonb::JsonbArg;
use crate::instance;

static PROVIDER_JSON: &str = include_str!("provider_json.sql");
static PROVIDERS_JSON: &str = include_str!("providers_json.sql");
static INSERT_PROVIDER: &str = include_str!("insert_provider.sql");
static UPDATE_PROVIDER: &str = include_str!("update_provider.sql");
static DOMAIN_OWNER: &str =
    "SELECT to_jsonb(sso_provider_id) FROM auth.sso_domains WHERE lower(domain) = $1";
static ENTITY_TAKEN: &str =
    "SELECT to_jsonb(sso_provider_id) FROM auth.saml_providers WHERE entity_id = $1";

const MAX_DOMAINS: usize = 100;

/// GoTrue's body for create and update; fields it does not know are ignored, as GoTrue does.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    #[serde(rename = "type")]
    kind: Option<String>,
    metadata_url: Option<String>,
    metadata_xml: Option<String>,
    domains: Option<Vec<String>>,
    attribute_mapping: Option<Value>,
    name_id_format: Option<String>,
    resource_id: Option<String>,
    disabled: Option<bool>,
}

fn params(p: Option<JsonbArg>) -> AuthResult<Params> {
    let value = p
        .map(|p| p.to_value("params"))
        .transpose()?
        .unwrap_or(json!({}));
    serde_json::from_value(value)
        .map_err(|_| AuthError::validation("Could not read the SSO provider's parameters"))
}

fn not_found() -> AuthError {
    AuthError::sso_admin_provider_not_found()
}

/// A provider id from the path: anything but a known UUID is 404 (GoTrue's answer).
fn path_id(id: Option<&str>) -> AuthResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id.unwrap_or("").trim()).map_err(|_| not_found())
}

fn provider_json(id: uuid::Uuid) -> AuthResult<Value> {
    db::json(PROVIDER_JSON, &[db::uuid(id).into()])?.ok_or_else(not_found)
}

/// GoTrue's checks of the body, before any metadata is read.
fn validate(p: &Params, for_update: bool) -> AuthResult<()> {
    let url = p.metadata_url.as_deref().filter(|u| !u.is_empty());
    let xml = p.metadata_xml.as_deref().filter(|x| !x.is_empty());
    if !for_update && p.kind.as_deref() != Some("saml") {
        return Err(AuthError::validation(
            "Only 'saml' supported for SSO provider type",
        ));
    }
    if url.is_some() && xml.is_some() {
        return Err(AuthError::validation(
            "Only one of metadata_xml or metadata_url needs to be set",
        ));
    }
    if !for_update && url.is_none() && xml.is_none() {
        return Err(AuthError::validation(
            "Either metadata_xml or metadata_url must be set",
        ));
    }
    if let Some(url) = url {
        if url.len() > 2048 || url.chars().any(char::is_whitespace) || !url.contains("://") {
            return Err(AuthError::validation("metadata_url is not a valid URL"));
        }
        if !url.starts_with("https://") {
            return Err(AuthError::validation("metadata_url is not a HTTPS URL"));
        }
    }
    sso::check_name_id_format(p.name_id_format.as_deref().filter(|f| !f.is_empty()))
        .map_err(AuthError::validation)?;
    if let Some(mapping) = &p.attribute_mapping {
        AttributeMapping::parse(mapping).map_err(AuthError::validation)?;
    }
    if let Some(r) = &p.resource_id {
        if r.is_empty() || r.len() > 255 {
            return Err(AuthError::validation(
                "resource_id must be 1 to 255 characters",
            ));
        }
    }
    if p.domains.as_ref().is_some_and(|d| d.len() > MAX_DOMAINS) {
        return Err(AuthError::validation("too many domains"));
    }
    Ok(())
}

/// The metadata document given or fetched, read: `(xml, entity id)`; `None` when the body
/// changes no metadata.
fn metadata_of(p: &Params, fetched: Option<&str>) -> AuthResult<Option<(String, String)>> {
    let xml = match (
        p.metadata_xml.as_deref().filter(|x| !x.is_empty()),
        p.metadata_url.as_deref().filter(|u| !u.is_empty()),
    ) {
        (Some(xml), _) => xml,
        (None, Some(_)) => fetched.ok_or_else(|| {
            AuthError::validation(
                "metadata_url is fetched by the shim; over SQL, give metadata_xml",
            )
        })?,
        (None, None) => return Ok(None),
    };
    let parsed = metadata::parse(xml).map_err(|e| AuthError::validation(e.to_string()))?;
    Ok(Some((xml.to_owned(), parsed.entity_id)))
}

/// The domains, normalised and unique; each must be free or already this provider's.
fn domains_of(p: &Params, own: Option<uuid::Uuid>) -> AuthResult<Option<Vec<String>>> {
    let Some(list) = &p.domains else {
        return Ok(None);
    };
    let mut out: Vec<String> = Vec::new();
    for d in list {
        let d = sso::normalize_domain(d).map_err(AuthError::validation)?;
        let owner = db::json(DOMAIN_OWNER, &[d.as_str().into()])?
            .and_then(|v| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()));
        if let Some(owner) = owner {
            if Some(owner) != own {
                return Err(AuthError::sso_domain_already_exists(&d, &owner.to_string()));
            }
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(Some(out))
}

/// `GET /admin/sso/providers`: `{items}`, without their metadata documents.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_sso_providers() -> JsonB {
    guard(|| {
        let inst = instance::get()?;
        require_admin(&inst)?;
        require_enabled(&inst)?;
        let items = db::json(PROVIDERS_JSON, &[])?.unwrap_or(json!([]));
        Ok(JsonB(json!({ "items": items })))
    })
}

/// `GET /admin/sso/providers/{id}`.
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_sso_provider(id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        require_enabled(&inst)?;
        Ok(JsonB(provider_json(path_id(id)?)?))
    })
}

/// `POST /admin/sso/providers`: a new SAML provider (201 in the shim).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_create_sso_provider(
    params: Option<JsonbArg>,
    fetched_metadata: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        require_enabled(&inst)?;
        let p = self::params(params)?;
        validate(&p, false)?;
        let (xml, entity_id) = metadata_of(&p, fetched_metadata)?.ok_or(AuthError::Internal)?;
        if db::json(ENTITY_TAKEN, &[entity_id.as_str().into()])?.is_some() {
            return Err(AuthError::saml_idp_already_exists(&entity_id));
        }
        let domains = domains_of(&p, None)?.unwrap_or_default();
        let id = uuid::Uuid::new_v4();
        db::exec(
            INSERT_PROVIDER,
            &[
                db::uuid(id).into(),
                p.resource_id.as_deref().into(),
                p.disabled.into(),
                entity_id.as_str().into(),
                xml.as_str().into(),
                p.metadata_url.as_deref().filter(|u| !u.is_empty()).into(),
                p.attribute_mapping.clone().map(JsonB).into(),
                p.name_id_format.as_deref().filter(|f| !f.is_empty()).into(),
                domains.into_iter().collect::<Vec<String>>().into(),
            ],
        )?;
        Ok(JsonB(provider_json(id)?))
    })
}

/// `PUT /admin/sso/providers/{id}`: what the body names changes (`domains` replaces the list
/// when given; metadata only with the same entity ID).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_update_sso_provider(
    id: Option<&str>,
    params: Option<JsonbArg>,
    fetched_metadata: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        require_enabled(&inst)?;
        let id = path_id(id)?;
        let current = provider_json(id)?;
        let p = self::params(params)?;
        validate(&p, true)?;
        let metadata = metadata_of(&p, fetched_metadata)?;
        if let Some((_, entity_id)) = &metadata {
            let own = current["saml"]["entity_id"].as_str().unwrap_or("");
            if own != entity_id {
                return Err(AuthError::saml_entity_id_mismatch(own, entity_id));
            }
        }
        let domains = domains_of(&p, Some(id))?;
        let (xml, url) = match &metadata {
            Some((xml, _)) => (
                Some(xml.as_str()),
                p.metadata_url.as_deref().filter(|u| !u.is_empty()),
            ),
            None => (None, None),
        };
        db::exec(
            UPDATE_PROVIDER,
            &[
                db::uuid(id).into(),
                xml.into(),
                url.into(),
                p.attribute_mapping.clone().map(JsonB).into(),
                p.name_id_format.is_some().into(),
                p.name_id_format.as_deref().filter(|f| !f.is_empty()).into(),
                domains.is_some().into(),
                domains.unwrap_or_default().into(),
                p.resource_id.as_deref().into(),
                p.disabled.into(),
            ],
        )?;
        Ok(JsonB(provider_json(id)?))
    })
}

/// `DELETE /admin/sso/providers/{id}`: the provider as it was. Its users stay (their SSO
/// identity leads nowhere until a provider of that id exists again).
#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn admin_delete_sso_provider(id: Option<&str>) -> JsonB {
    guard(move || {
        let inst = instance::get()?;
        require_admin(&inst)?;
        require_enabled(&inst)?;
        let id = path_id(id)?;
        let before = provider_json(id)?;
        db::exec(
            "DELETE FROM auth.sso_providers WHERE id = $1",
            &[db::uuid(id).into()],
        )?;
        Ok(JsonB(before))
    })
}
