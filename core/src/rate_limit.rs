//! Rate limits and the per-account sign-in backoff: which requests share a limit, how long their
//! windows are, and how long a guessed-at account waits. The counting itself lives in shared
//! memory (the extension's `trace::counter`); this module only decides.
//!
//! Two mechanisms:
//! - **Per-IP limits**, GoTrue's (`rate_limit_*`): a fixed window per client address and
//!   [`Bucket`]; past the limit a request is refused until the window ends.
//! - **Per-account backoff** (beyond GoTrue): password attempts against one email or phone,
//!   from any number of addresses. The first [`Backoff::free_attempts`] pass; each later attempt
//!   must wait `2^(n - free)` seconds after the previous one, up to [`Backoff::max_delay_s`].
//!   Attempts are counted when they are admitted (before the password is checked, so concurrent
//!   guesses cannot share a slot) and forgotten when one succeeds.

use crate::settings::Settings;

/// Requests that share a per-IP limit (GoTrue's groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Every `/token` grant: password, refresh token, PKCE (`rate_limit_token_refresh`).
    Token,
    /// `verify_otp`, `/verify` links (`rate_limit_verify`).
    Verify,
    /// Requests that send a code or link: sign-up, OTP and magic link, recovery, resend, email
    /// and phone change (`rate_limit_otp`).
    Otp,
    /// Anonymous sign-ins (`rate_limit_anonymous_users`).
    AnonymousUsers,
    /// SSO sign-ins started, `/sso` (`rate_limit_sso`).
    Sso,
    /// Responses posted to the SAML ACS (`rate_limit_sso` too, counted apart: a sign-in is one
    /// of each).
    SamlAssertion,
    /// Passkey sign-ins started, `/passkeys/authentication/options` (`rate_limit_passkey`).
    Passkey,
}

impl Bucket {
    /// The window, seconds.
    pub fn window_s(self) -> i64 {
        match self {
            Bucket::Token
            | Bucket::Verify
            | Bucket::Otp
            | Bucket::Sso
            | Bucket::SamlAssertion
            | Bucket::Passkey => 300,
            Bucket::AnonymousUsers => 3600,
        }
    }

    /// Requests allowed per window and address.
    pub fn limit(self, s: &Settings) -> i64 {
        let r = &s.rate_limits;
        match self {
            Bucket::Token => r.rate_limit_token_refresh,
            Bucket::Verify => r.rate_limit_verify,
            Bucket::Otp => r.rate_limit_otp,
            Bucket::AnonymousUsers => r.rate_limit_anonymous_users,
            Bucket::Sso | Bucket::SamlAssertion => r.rate_limit_sso,
            Bucket::Passkey => r.rate_limit_passkey,
        }
    }

    /// Part of the counter key, so buckets never share a counter.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Token => "token",
            Bucket::Verify => "verify",
            Bucket::Otp => "otp",
            Bucket::AnonymousUsers => "anonymous",
            Bucket::Sso => "sso",
            Bucket::SamlAssertion => "saml_acs",
            Bucket::Passkey => "passkey",
        }
    }
}

/// The per-account sign-in backoff schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts admitted without delay.
    pub free_attempts: u32,
    /// The longest wait between two attempts, seconds; 0 turns the backoff off.
    pub max_delay_s: i64,
}

/// An account's state is forgotten after this long without an attempt.
pub const BACKOFF_IDLE_RESET_S: i64 = 3600;

impl Backoff {
    pub fn from_settings(s: &Settings) -> Backoff {
        Backoff {
            free_attempts: s.rate_limits.sign_in_backoff_free_attempts.clamp(0, 1000) as u32,
            max_delay_s: s.rate_limits.sign_in_backoff_max_seconds.max(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_delay_s > 0
    }

    /// How long after the previous attempt the next may come, milliseconds, when `attempts`
    /// have been admitted since the account's state was last forgotten.
    pub fn gap_ms(&self, attempts: u32) -> i64 {
        if !self.enabled() || attempts < self.free_attempts {
            return 0;
        }
        let doublings = (attempts - self.free_attempts).min(30);
        (1i64 << doublings).min(self.max_delay_s) * 1000
    }
}

/// Seconds to tell the client to wait (`Retry-After`), at least 1.
pub fn retry_after_s(retry_after_ms: i64) -> i64 {
    ((retry_after_ms + 999) / 1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        let b = Backoff {
            free_attempts: 5,
            max_delay_s: 60,
        };
        let gaps: Vec<i64> = (0..14).map(|n| b.gap_ms(n) / 1000).collect();
        assert_eq!(gaps, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.gap_ms(u32::MAX), 60_000);
    }

    #[test]
    fn backoff_off() {
        let b = Backoff {
            free_attempts: 0,
            max_delay_s: 0,
        };
        assert!(!b.enabled());
        assert_eq!(b.gap_ms(1000), 0);
    }

    #[test]
    fn attempts_per_hour_under_attack_are_bounded() {
        // Admitted attempts in the first hour of a continuous attack on one account, however
        // many addresses it comes from: the schedule alone decides.
        let b = Backoff::from_settings(&Settings::default());
        let (mut t, mut n) = (0i64, 0u32);
        loop {
            t += b.gap_ms(n);
            if t > 3_600_000 {
                break;
            }
            n += 1;
        }
        assert!(n < 80, "{n} attempts in an hour");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_s(1), 1);
        assert_eq!(retry_after_s(0), 1);
        assert_eq!(retry_after_s(1000), 1);
        assert_eq!(retry_after_s(1001), 2);
    }

    #[test]
    fn buckets_read_their_settings() {
        let s = Settings::default();
        assert_eq!(Bucket::Token.limit(&s), 150);
        assert_eq!(Bucket::Verify.limit(&s), 30);
        assert_eq!(Bucket::Otp.limit(&s), 30);
        assert_eq!(Bucket::AnonymousUsers.limit(&s), 30);
        assert_eq!(Bucket::AnonymousUsers.window_s(), 3600);
    }
}
