//! The owner's provider settings: `auth.configure_provider(name, config)`,
//! `auth.remove_provider(name)` and `auth.providers()` (never the secret).

use auth_core::external::{Endpoints, ProviderConfig};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::db;
use crate::error::guard;
use crate::ffi::jsonb::JsonbArg;

static UPSERT: &str = "\
    INSERT INTO auth.identity_providers AS p (name, config, secret) VALUES ($1, $2, $3) \
    ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, \
           secret = coalesce(EXCLUDED.secret, p.secret), discovery = NULL, \
           discovery_expires_at = NULL, jwks = NULL, jwks_expires_at = NULL, updated_at = now()";
static LIST: &str = "\
    SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'config', config, \
           'has_secret', secret IS NOT NULL, 'discovery', discovery, \
           'jwks_expires_at', jwks_expires_at) ORDER BY name), '[]') \
      FROM auth.identity_providers";

/// What the owner sees of a provider: its settings without the secret, and the endpoints a
/// flow will use.
fn summary(row: &Value) -> Value {
    let name = db::str_field(row, "name").unwrap_or("");
    let parsed = ProviderConfig::parse(name, &row["config"]);
    let endpoints = parsed.as_ref().ok().map(|(flavor, config)| {
        match Endpoints::resolve(
            *flavor,
            config,
            row.get("discovery").filter(|d| !d.is_null()),
        ) {
            Ok(e) => json!(e),
            Err(_) => json!("discovered at the first sign-in"),
        }
    });
    json!({
        "name": name,
        "config": row["config"],
        "has_secret": row["has_secret"],
        "endpoints": endpoints,
        "jwks_expires_at": row["jwks_expires_at"],
    })
}

/// Adds or replaces provider `name`'s settings (core's ProviderConfig as JSON; a `secret`
/// left out keeps the stored one). Cached documents are dropped: the endpoints may have moved.
#[pg_extern(schema = "auth")]
fn configure_provider(name: Option<&str>, config: Option<JsonbArg>) -> JsonB {
    guard(move || {
        let name = name.map(str::to_lowercase).unwrap_or_default();
        let mut value = config
            .map(|c| c.to_value("config"))
            .transpose()?
            .unwrap_or_else(|| json!({}));
        let (_, parsed) = ProviderConfig::parse_new(&name, &value)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("secret");
        }
        db::exec(
            UPSERT,
            &[
                name.as_str().into(),
                JsonB(value).into(),
                parsed.secret.as_deref().into(),
            ],
        )?;
        Ok(JsonB(json!({"name": name, "configured": true})))
    })
}

/// Removes a provider (its flows in progress with it); its users' identities stay.
#[pg_extern(schema = "auth")]
fn remove_provider(name: Option<&str>) -> bool {
    guard(move || {
        let name = name.map(str::to_lowercase).unwrap_or_default();
        let n = db::exec(
            "DELETE FROM auth.identity_providers WHERE name = $1",
            &[name.as_str().into()],
        )?;
        Ok(n > 0)
    })
}

/// The configured providers, for the owner.
#[pg_extern(schema = "auth")]
fn providers() -> JsonB {
    guard(|| {
        let rows = db::json(LIST, &[])?.unwrap_or_else(|| json!([]));
        let list: Vec<Value> = rows.as_array().into_iter().flatten().map(summary).collect();
        Ok(JsonB(Value::Array(list)))
    })
}
