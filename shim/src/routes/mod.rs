//! The GoTrue endpoints, at the root (GoTrue's own layout) and under `/auth/v1` (where
//! supabase-js looks for them relative to a project URL), and what wraps every request.

mod admin;
mod external;
mod meta;
mod mfa;
mod otp;
mod passkeys;
mod reply;
mod sso;
mod token;
mod user;
mod verify;

use std::time::Instant;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use deadpool_postgres::Pool;

use crate::error::ApiError;

/// Bodies larger than this are refused with 413 before they are read.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The SAML ACS's limit (see the route).
const ACS_MAX_BODY_BYTES: usize = 384 * 1024;
const API_VERSION_HEADER: &str = "x-supabase-api-version";

fn endpoints() -> Router<Pool> {
    Router::new()
        .route("/signup", post(token::signup))
        .route("/token", post(token::token))
        .route("/otp", post(otp::otp))
        .route("/magiclink", post(otp::magiclink))
        .route("/recover", post(otp::recover))
        .route("/resend", post(otp::resend))
        .route("/verify", get(verify::verify_link).post(verify::verify))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/reauthenticate", get(user::reauthenticate))
        .route("/logout", post(user::logout))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route("/settings", get(meta::settings))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(admin::get_user)
                .put(admin::update_user)
                .delete(admin::delete_user),
        )
        .route("/admin/generate_link", post(admin::generate_link))
        .route("/admin/audit", get(admin::audit))
        .route("/invite", post(admin::invite))
        .route("/authorize", get(external::authorize))
        .route(
            "/callback",
            get(external::callback).post(external::callback),
        )
        .route("/user/identities/authorize", get(external::link_identity))
        .route("/user/identities/{id}", delete(external::unlink_identity))
        .route("/factors", post(mfa::enroll))
        // Literal segments win over `{id}` in axum's router (matchit): these are never a factor
        // id, whatever the order here.
        .route(
            "/factors/recovery-codes",
            get(mfa::recovery_codes_status)
                .post(mfa::recovery_codes_generate)
                .delete(mfa::recovery_codes_delete),
        )
        .route(
            "/factors/recovery-codes/verify",
            post(mfa::recovery_codes_verify),
        )
        .route(
            "/factors/recovery-codes/regenerate",
            post(mfa::recovery_codes_regenerate),
        )
        .route("/factors/{id}", delete(mfa::unenroll))
        .route("/factors/{id}/challenge", post(mfa::challenge))
        .route("/factors/{id}/verify", post(mfa::verify))
        .route("/admin/users/{id}/factors", get(mfa::admin_list))
        .route(
            "/admin/users/{id}/factors/{factor_id}",
            delete(mfa::admin_delete),
        )
        .route("/passkeys", get(passkeys::list))
        .route(
            "/passkeys/{id}",
            delete(passkeys::delete).patch(passkeys::update),
        )
        .route(
            "/passkeys/registration/options",
            post(passkeys::registration_options),
        )
        .route(
            "/passkeys/registration/verify",
            post(passkeys::registration_verify),
        )
        .route(
            "/passkeys/authentication/options",
            post(passkeys::authentication_options),
        )
        .route(
            "/passkeys/authentication/verify",
            post(passkeys::authentication_verify),
        )
        .route("/admin/users/{id}/passkeys", get(passkeys::admin_list))
        .route(
            "/admin/users/{id}/passkeys/{passkey_id}",
            delete(passkeys::admin_delete),
        )
        .route("/sso", post(sso::start))
        .route("/sso/saml/metadata", get(sso::metadata))
        .route(
            "/admin/sso/providers",
            get(sso::list_providers).post(sso::create_provider),
        )
        .route(
            "/admin/sso/providers/{id}",
            get(sso::get_provider)
                .put(sso::update_provider)
                .delete(sso::delete_provider),
        )
        .route("/health", get(meta::health))
}

/// The SAML ACS, with its own body limit: an IdP's signed response with its attributes
/// outgrows MAX_BODY_BYTES (auth_saml refuses more than 256 KiB of base64, which form encoding
/// can stretch by a third).
fn acs() -> Router<Pool> {
    Router::new().route("/sso/saml/acs", post(sso::acs)).layer(
        tower_http::limit::RequestBodyLimitLayer::new(ACS_MAX_BODY_BYTES),
    )
}

pub fn router(pool: Pool) -> Router {
    Router::new()
        .merge(endpoints())
        .nest("/auth/v1", endpoints())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .merge(acs())
        .nest("/auth/v1", acs())
        .fallback(|| async { ApiError::not_found() })
        .layer(cors())
        .layer(middleware::from_fn(log_and_echo_version))
        .with_state(pool)
}

/// GoTrue's CORS: any origin (mirrored), its methods and headers, so that a browser app
/// (supabase-js, a passkey page) calls the API from its own origin. Tokens travel in headers and
/// the shim keeps no cookies, so credentialed requests are not allowed (GoTrue allows them).
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::ACCEPT,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("apikey"),
            HeaderName::from_static("x-client-ip"),
            HeaderName::from_static("x-client-info"),
            HeaderName::from_static("x-jwt-aud"),
            HeaderName::from_static("x-use-cookie"),
            HeaderName::from_static(API_VERSION_HEADER),
        ])
        .expose_headers([
            HeaderName::from_static("x-total-count"),
            header::LINK,
            HeaderName::from_static(API_VERSION_HEADER),
        ])
}

/// Echoes `X-Supabase-Api-Version`, turns the body limit's bare 413 into GoTrue's shape, and
/// logs method, path (without the query), status and latency; never headers or bodies.
async fn log_and_echo_version(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let version = request.headers().get(API_VERSION_HEADER).cloned();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response = ApiError::too_large().into_response();
    }
    if let Some(v) = version {
        response.headers_mut().insert(API_VERSION_HEADER, v);
    }
    tracing::info!(%method, path, status = response.status().as_u16(), latency_ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    response
}
