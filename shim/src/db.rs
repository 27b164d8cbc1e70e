//! The one thing the shim does with the database: run a call in a transaction that carries the
//! request the way PostgREST passes it (`request.method`, `request.path`, `request.headers`),
//! after `auth.authenticate()` when the request has a bearer token.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

use crate::api::ApiError;
use crate::Config;

pub fn pool(config: &Config) -> Result<Pool, String> {
    let pg = tokio_postgres::Config::from_str(&config.database_url).map_err(|e| e.to_string())?;
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| e.to_string())
}

/// What travels into `request.*`.
pub struct RequestInfo {
    pub method: String,
    pub path: String,
    /// JSON object of lower-cased header names (user-agent, x-forwarded-for).
    pub headers: String,
}

/// Runs `sql` (returning one text column, or none) in its own transaction; returns the parsed
/// JSON of the first row, `None` when the call returns nothing.
pub async fn call(
    pool: &Pool,
    request: &RequestInfo,
    bearer: Option<&str>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Value>, ApiError> {
    let mut client = pool.get().await.map_err(|e| {
        tracing::warn!(error = %e, "database unavailable");
        ApiError::unavailable()
    })?;
    let tx = client.transaction().await.map_err(ApiError::from_db)?;
    tx.execute(
        "SELECT set_config('request.method', $1, true), set_config('request.path', $2, true),
                set_config('request.headers', $3, true)",
        &[&request.method, &request.path, &request.headers],
    )
    .await
    .map_err(ApiError::from_db)?;
    if let Some(token) = bearer {
        tx.execute("SELECT auth.authenticate($1)", &[&token])
            .await
            .map_err(ApiError::from_db)?;
    }
    let rows = tx.query(sql, params).await.map_err(ApiError::from_db)?;
    tx.commit().await.map_err(ApiError::from_db)?;
    match rows.first() {
        None => Ok(None),
        Some(row) => match row.try_get::<_, Option<String>>(0) {
            Ok(Some(text)) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| ApiError::internal()),
            Ok(None) | Err(_) => Ok(None),
        },
    }
}
