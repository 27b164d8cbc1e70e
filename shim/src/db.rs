//! The one thing the shim does with the database: run one auth_ext function in a statement that
//! first tells it about the request the way PostgREST does (`request.method`, `request.path`,
//! `request.headers`) and, for a bearer token, runs `auth.authenticate()`.

use std::fmt::Write;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

use crate::config::Config;
use crate::error::ApiError;

/// The connection settings of `--database-url`. No statement may run indefinitely (a refresh
/// queued behind a stuck session lock): the database cancels it and the caller gets an error
/// instead of a hang.
pub fn pg_config(database_url: &str) -> Result<tokio_postgres::Config, String> {
    let mut pg = tokio_postgres::Config::from_str(database_url).map_err(|e| e.to_string())?;
    if pg.get_options().is_none() {
        pg.options("-c statement_timeout=15000");
    }
    Ok(pg)
}

pub fn pool(config: &Config) -> Result<Pool, String> {
    let pg = pg_config(&config.database_url)?;
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
    /// JSON object of lower-cased header names to values.
    pub headers: String,
}

/// The request settings take `$1..$4`; a call's own arguments follow.
const FIRST_ARG: usize = 5;

/// One call of an auth_ext function, its arguments by name (`auth.sign_up(email => $5, ...)`), so
/// that no handler depends on parameter positions. Every argument travels as text and is cast in
/// the statement. A required argument that is `None` is SQL NULL (the function decides what NULL
/// means); an optional one that is `None` is left out, so that the parameter's DEFAULT applies.
#[derive(Debug)]
pub struct SqlCall {
    /// `None`: no function, only the round trip (the health check).
    function: Option<&'static str>,
    args: Vec<Arg>,
    bearer: Option<String>,
}

#[derive(Debug)]
struct Arg {
    name: &'static str,
    cast: Cast,
    value: Option<String>,
}

/// The SQL type an argument is cast to from its text.
#[derive(Clone, Copy, Debug)]
enum Cast {
    Text,
    Jsonb,
    Boolean,
    Bigint,
}

impl Cast {
    fn sql(self) -> &'static str {
        match self {
            Cast::Text => "::text",
            Cast::Jsonb => "::text::jsonb",
            Cast::Boolean => "::text::boolean",
            Cast::Bigint => "::text::bigint",
        }
    }
}

impl SqlCall {
    /// `function` is schema-qualified and returns something castable to text (jsonb, text or
    /// void).
    pub fn new(function: &'static str) -> SqlCall {
        SqlCall {
            function: Some(function),
            args: Vec::new(),
            bearer: None,
        }
    }

    /// A statement that only sets the request and returns NULL: proves the database answers.
    pub fn ping() -> SqlCall {
        SqlCall {
            function: None,
            args: Vec::new(),
            bearer: None,
        }
    }

    /// A text argument; `None` is NULL.
    pub fn arg(self, name: &'static str, value: impl Into<Option<String>>) -> SqlCall {
        self.push(name, Cast::Text, value.into())
    }

    /// A jsonb argument, given as JSON text; `None` is NULL.
    pub fn jsonb(self, name: &'static str, value: impl Into<Option<String>>) -> SqlCall {
        self.push(name, Cast::Jsonb, value.into())
    }

    /// A text argument of a parameter with a DEFAULT: `None` leaves it out.
    pub fn arg_or_default(self, name: &'static str, value: Option<String>) -> SqlCall {
        self.push_given(name, Cast::Text, value)
    }

    /// A jsonb argument (JSON text) of a parameter with a DEFAULT: `None` leaves it out.
    pub fn jsonb_or_default(self, name: &'static str, value: Option<String>) -> SqlCall {
        self.push_given(name, Cast::Jsonb, value)
    }

    /// A boolean argument of a parameter with a DEFAULT: `None` leaves it out.
    pub fn bool_or_default(self, name: &'static str, value: Option<bool>) -> SqlCall {
        self.push_given(name, Cast::Boolean, value.map(|b| b.to_string()))
    }

    /// A bigint argument of a parameter with a DEFAULT: `None` leaves it out.
    pub fn int_or_default(self, name: &'static str, value: Option<i64>) -> SqlCall {
        self.push_given(name, Cast::Bigint, value.map(|n| n.to_string()))
    }

    /// Runs the call as the holder of `token` (verified by `auth.authenticate()` first).
    pub fn bearer(mut self, token: &str) -> SqlCall {
        self.bearer = Some(token.to_owned());
        self
    }

    fn push_given(self, name: &'static str, cast: Cast, value: Option<String>) -> SqlCall {
        match value {
            Some(value) => self.push(name, cast, Some(value)),
            None => self,
        }
    }

    fn push(mut self, name: &'static str, cast: Cast, value: Option<String>) -> SqlCall {
        // Names are written into the SQL text: code constants, never input.
        debug_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        self.args.push(Arg { name, cast, value });
        self
    }

    /// The statement: one per function and argument list, so `prepare_cached` keeps it per
    /// connection. The sub-select in FROM (an optimisation fence) runs first.
    fn sql(&self) -> String {
        let mut expr = String::new();
        match self.function {
            None => expr.push_str("NULL::text"),
            Some(function) => {
                expr.push_str(function);
                expr.push('(');
                for (i, arg) in self.args.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    let cast = arg.cast.sql();
                    let _ = write!(expr, "{sep}{} => ${}{cast}", arg.name, FIRST_ARG + i);
                }
                expr.push_str(")::text");
            }
        }
        format!(
            "SELECT {expr} FROM (SELECT set_config('request.method', $1, true), set_config('request.path', $2, true),
                set_config('request.headers', $3, true),
                CASE WHEN $4::text IS NOT NULL THEN auth.authenticate($4) END OFFSET 0) AS request"
        )
    }
}

/// Runs `call` in one statement, so one implicit transaction and one round trip. Returns the
/// parsed JSON of the result, `None` when it is NULL or empty (a void function).
pub async fn call(
    pool: &Pool,
    request: &RequestInfo,
    call: &SqlCall,
) -> Result<Option<Value>, ApiError> {
    match call_text(pool, request, call).await? {
        Some(text) if !text.is_empty() => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| ApiError::internal()),
        _ => Ok(None),
    }
}

/// As [`call`], for a function that returns text: the text itself, `None` when NULL.
pub async fn call_text(
    pool: &Pool,
    request: &RequestInfo,
    call: &SqlCall,
) -> Result<Option<String>, ApiError> {
    let result = run(pool, request, call).await;
    if call.bearer.is_some() {
        result.map_err(ApiError::for_bearer)
    } else {
        result
    }
}

async fn run(
    pool: &Pool,
    request: &RequestInfo,
    call: &SqlCall,
) -> Result<Option<String>, ApiError> {
    let client = pool.get().await.map_err(|e| {
        tracing::warn!(error = %e, "database unavailable");
        ApiError::unavailable()
    })?;
    let statement = client
        .prepare_cached(&call.sql())
        .await
        .map_err(ApiError::from_db)?;
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &request.method,
        &request.path,
        &request.headers,
        &call.bearer,
    ];
    params.extend(call.args.iter().map(|a| &a.value as &(dyn ToSql + Sync)));
    let rows = client
        .query(&statement, &params)
        .await
        .map_err(ApiError::from_db)?;
    match rows.first().map(|row| row.try_get::<_, Option<String>>(0)) {
        Some(Ok(text)) => Ok(text),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(call: &SqlCall) -> String {
        let sql = call.sql();
        sql[..sql.find(" FROM").unwrap()].to_string()
    }

    #[test]
    fn arguments_by_name_after_the_request_settings() {
        let call = SqlCall::new("auth.sign_up")
            .arg("email", Some("a@b.co".to_string()))
            .arg("password", None)
            .jsonb("data", "{}".to_string());
        assert_eq!(
            head(&call),
            "SELECT auth.sign_up(email => $5::text, password => $6::text, data => $7::text::jsonb)::text"
        );
        assert!(call.sql().contains("auth.authenticate($4)"));
        let values: Vec<_> = call.args.iter().map(|a| a.value.as_deref()).collect();
        assert_eq!(values, [Some("a@b.co"), None, Some("{}")]);
    }

    #[test]
    fn optional_arguments_are_left_out_when_not_given() {
        let call = SqlCall::new("auth.sign_in_with_otp")
            .arg_or_default("email", Some("a@b.co".to_string()))
            .arg_or_default("phone", None)
            .bool_or_default("create_user", Some(false))
            .jsonb_or_default("data", None)
            .arg("redirect_to", None);
        assert_eq!(
            head(&call),
            "SELECT auth.sign_in_with_otp(email => $5::text, create_user => $6::text::boolean, redirect_to => $7::text)::text"
        );
        let values: Vec<_> = call.args.iter().map(|a| a.value.as_deref()).collect();
        assert_eq!(values, [Some("a@b.co"), Some("false"), None]);
    }

    #[test]
    fn no_arguments_and_the_ping() {
        assert_eq!(
            head(&SqlCall::new("auth.get_user")),
            "SELECT auth.get_user()::text"
        );
        assert_eq!(head(&SqlCall::ping()), "SELECT NULL::text");
        assert!(SqlCall::new("auth.get_user").bearer("t").bearer.is_some());
    }
}
