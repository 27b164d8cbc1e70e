//! auth-ext-shim: speaks GoTrue's REST API (what supabase-js and supabase_auth call) and turns
//! every request into one call of an auth_ext SQL function. It holds no auth logic of its own:
//! verification, sessions, errors and the client's address all come from the database.
//! Given an SMTP server or an SMS webhook it also delivers the database's outbox.

mod config;
mod db;
mod delivery;
mod error;
mod extract;
mod providers;
mod routes;
mod saml;

use std::net::SocketAddr;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::config::Config;

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
    if config.trust_proxy_given {
        tracing::warn!(
            "--trust-proxy / TRUST_PROXY has no effect: the client-IP rule lives in the database \
             settings client_ip_header and client_ip_trusted_proxies (the shim counts as one proxy)"
        );
    }
    let pool = match db::pool(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bad database configuration: {e}");
            std::process::exit(2);
        }
    };
    let delivery = match delivery::start(&config) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bad delivery configuration: {e}");
            std::process::exit(2);
        }
    };
    let app = routes::router(pool);
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
    // A message being sent now stays claimed until its lease runs out, then is sent again.
    if let Some(delivery) = delivery {
        delivery.abort();
    }
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
