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
    let mut pg =
        tokio_postgres::Config::from_str(&config.database_url).map_err(|e| e.to_string())?;
    // No request may hold a connection indefinitely (a refresh queued behind a stuck session
    // lock): the database cancels it and the client gets an error instead of a hang.
    if pg.get_options().is_none() {
        pg.options("-c statement_timeout=15000");
    }
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

/// Calls `expr`, an SQL expression over parameters `$5…` (e.g. `auth.refresh_session($5)::text`),
/// in one statement and so one implicit transaction, after the request settings and, for a
/// bearer token, `auth.authenticate()`: the sub-select in FROM (an optimisation fence) runs first. One round trip per
/// request, with the statement prepared once per connection. Returns the parsed JSON of the
/// result, `None` when it is NULL or empty.
pub async fn call(
    pool: &Pool,
    request: &RequestInfo,
    bearer: Option<&str>,
    expr: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Value>, ApiError> {
    let client = pool.get().await.map_err(|e| {
        tracing::warn!(error = %e, "database unavailable");
        ApiError::unavailable()
    })?;
    let sql = format!(
        "SELECT {expr} FROM (SELECT set_config('request.method', $1, true), set_config('request.path', $2, true),
                set_config('request.headers', $3, true),
                CASE WHEN $4::text IS NOT NULL THEN auth.authenticate($4) END OFFSET 0) AS request"
    );
    let statement = client
        .prepare_cached(&sql)
        .await
        .map_err(ApiError::from_db)?;
    let mut all: Vec<&(dyn ToSql + Sync)> =
        vec![&request.method, &request.path, &request.headers, &bearer];
    all.extend_from_slice(params);
    let rows = client
        .query(&statement, &all)
        .await
        .map_err(ApiError::from_db)?;
    match rows.first().map(|row| row.try_get::<_, Option<String>>(0)) {
        Some(Ok(Some(text))) if !text.is_empty() => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| ApiError::internal()),
        _ => Ok(None),
    }
}
