//! `reset_password_for_email` (`POST /recover`): a recovery code and link for a known address,
//! and the same answer and an audit row for an unknown one, so neither the answer nor the time
//! says whether the address has an account.
//!
//! A known address costs more (a token, the user's send time, an outbox row): measured, about
//! twice an unknown one's time. Every call therefore lasts at least [`RESPONSE_FLOOR`], above
//! either path, so that the time a caller sees is the floor's, not the work's.

use auth_core::otp::TokenType;
use auth_core::{email, pkce, AuthError};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::audit::{self, Action};
use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance;
use crate::one_time::{self, Channel, Code};
use crate::request;
use crate::signup::{existing_user, link_target, Address};

/// The least time a call takes. The known path takes about 0.5 ms in a release build (1.3 ms
/// in a debug one); the floor leaves room for a loaded server. A known address holds the
/// instance's email lock (the hourly limit) through the floor, one per user per
/// `smtp_max_frequency`, so the floor is kept short.
const RESPONSE_FLOOR: Duration = Duration::from_millis(5);

/// Sleeps until `started` + [`RESPONSE_FLOOR`], in short steps that let a cancel in.
/// (`pg_sleep` rounds each wait up to a whole millisecond, which the two paths would feel apart.)
fn pad(started: Instant) {
    while let Some(left) = RESPONSE_FLOOR.checked_sub(started.elapsed()) {
        pgrx::check_for_interrupts!();
        std::thread::sleep(left.min(Duration::from_millis(2)));
    }
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn reset_password_for_email(
    email: Option<&str>,
    redirect_to: default!(Option<&str>, "NULL"),
    code_challenge: default!(Option<&str>, "NULL"),
    code_challenge_method: default!(Option<&str>, "NULL"),
) -> JsonB {
    guard(move || {
        let started = Instant::now();
        let answer = request_recovery(email, redirect_to, code_challenge, code_challenge_method);
        pad(started);
        answer
    })
}

fn request_recovery(
    email: Option<&str>,
    redirect_to: Option<&str>,
    code_challenge: Option<&str>,
    code_challenge_method: Option<&str>,
) -> AuthResult<JsonB> {
    {
        let inst = instance::get()?;
        crate::rate_limit::limit(&inst, auth_core::rate_limit::Bucket::Otp)?;
        if !inst.settings.mailer.external_email_enabled {
            return Err(AuthError::ProviderDisabled {
                email: true,
                signup: false,
            });
        }
        let address = Address::Email(email::normalize(email)?);
        let challenge = pkce::read_challenge(code_challenge, code_challenge_method)?;
        let target = link_target(&inst, redirect_to);
        // The hourly limit is the instance's: it answers alike for every address. Counted here
        // without the instance-wide lock (a known address takes it to queue, in send_code), so
        // that requests for unknown addresses, padded below, hold no lock while they wait.
        crate::outbox::hourly_count_below_limit(&inst, Channel::Email)?;
        let user = existing_user(&address)?.filter(|u| !u.banned);
        let user_id = user.as_ref().map(|u| u.id.to_string()).unwrap_or_default();
        audit::record(
            Action::RecoveryRequested,
            &user_id,
            address.email(),
            json!({"provider": "email"}),
            &request::current(),
        )?;
        if let Some(user) = user {
            let sent = one_time::send_code(
                &inst,
                &Code {
                    user_id: db::uuid(user.id),
                    token_type: TokenType::Recovery,
                    channel: Channel::Email,
                    address: address.as_str(),
                    action: "recovery",
                    redirect_to: &target,
                    pkce: challenge
                        .as_ref()
                        .map(|(c, m)| (c.as_str(), *m, "recovery")),
                },
            );
            match sent {
                // Within the frequency, a known address is answered as an unknown one would be:
                // nothing is sent, and nothing says so.
                Err(AuthError::OverEmailSendRateLimit(Some(_))) => {}
                other => {
                    other?;
                }
            }
        }
        Ok(JsonB(json!({})))
    }
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "recovery_api",
    requires = [reset_password_for_email]
);
