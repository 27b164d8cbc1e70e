//! auth-ext-shim: speaks GoTrue's REST API (what supabase-js and supabase_auth call) and turns
//! every request into one call of an auth_ext SQL function. It holds no auth logic of its own:
//! verification, sessions and errors all come from the database.

mod api;
mod db;

use std::net::SocketAddr;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

/// Configuration from flags (`--database-url`, `--listen`, `--pool-size`, `--trust-proxy`) or
/// the environment (`DATABASE_URL`, `LISTEN`, `POOL_SIZE`, `TRUST_PROXY`), flags first.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub pool_size: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_proxy: bool,
}

impl Config {
    fn load() -> Result<Config, String> {
        let mut args = std::env::args().skip(1);
        let mut flags = std::collections::HashMap::new();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg}"));
            };
            if name == "help" {
                return Err(USAGE.into());
            }
            if name == "trust-proxy" {
                flags.insert(name.to_string(), "true".to_string());
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            flags.insert(name.to_string(), value);
        }
        let get = |flag: &str, env: &str, default: &str| {
            flags
                .get(flag)
                .cloned()
                .or_else(|| std::env::var(env).ok())
                .unwrap_or_else(|| default.to_string())
        };
        Ok(Config {
            // The quick-start cluster of ./run.
            database_url: get(
                "database-url",
                "DATABASE_URL",
                "host=127.0.0.1 port=54329 user=postgres dbname=auth_demo",
            ),
            listen: get("listen", "LISTEN", "127.0.0.1:9999")
                .parse()
                .map_err(|e| format!("--listen: {e}"))?,
            pool_size: get("pool-size", "POOL_SIZE", "16")
                .parse()
                .map_err(|e| format!("--pool-size: {e}"))?,
            trust_proxy: matches!(
                get("trust-proxy", "TRUST_PROXY", "false").as_str(),
                "true" | "1" | "yes"
            ),
        })
    }
}

const USAGE: &str =
    "auth-ext-shim [--database-url URL] [--listen ADDR:PORT] [--pool-size N] [--trust-proxy]
  env: DATABASE_URL, LISTEN, POOL_SIZE, TRUST_PROXY, RUST_LOG (default info)";

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let pool = match db::pool(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bad database configuration: {e}");
            std::process::exit(2);
        }
    };
    let app = api::router(api::State {
        pool,
        trust_proxy: config.trust_proxy,
    });
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
    tracing::info!(listen = %config.listen, pool_size = config.pool_size, "auth-ext-shim ready");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .expect("server");
    tracing::info!("auth-ext-shim stopped");
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
    // Requests in flight get a moment; new connections are refused from now on.
    tokio::time::sleep(Duration::from_millis(50)).await;
}
