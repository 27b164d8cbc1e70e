//! One-time tokens: issuing a code (stored as GoTrue's hash, the user's send time, the frequency
//! and hourly limits) and consuming one (found by address and code, or by its hash; used once;
//! expiring; dead after `otp_max_attempts` wrong codes).
//!
//! Wrong codes must count although the failing call rolls back: the count is a trace
//! (src/trace/, kind `OtpFailed`) committed by the writer, which the caller waits for. Callers
//! verifying codes for one address queue behind a transaction-scoped advisory lock on it, and
//! read the tokens only once they hold it, so no two guesses are judged against the same count:
//! at most `otp_max_attempts` wrong codes are ever compared per token, whatever the concurrency.

mod send;

use std::time::Duration;

use auth_core::otp::{self, TokenType};
use auth_core::AuthError;
use serde::Deserialize;

use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;
use crate::trace::{self, kinds, Kind};

static ISSUE_TOKEN: &str = include_str!("issue_token.sql");
static LOCK_SENDER: &str = include_str!("lock_sender.sql");
static MARK_SENT: &str = include_str!("mark_sent.sql");
static CANDIDATES: &str = include_str!("candidates.sql");
static BY_HASH: &str = include_str!("by_hash.sql");
pub(crate) static COUNT_FAILURES: &str = include_str!("count_failures.sql");
pub(crate) static DELETE_DEAD: &str = include_str!("delete_dead.sql");

pub(crate) use send::{send, send_code, Code};

/// How long a verifier waits for its wrong code to be counted.
const COUNT_WAIT: Duration = Duration::from_secs(5);

/// How long a code sent on `channel` lives, in seconds.
fn lifetime(inst: &Instance, channel: Channel) -> i64 {
    match channel {
        Channel::Email => inst.settings.mailer.mailer_otp_exp,
        Channel::Sms => inst.settings.phone.sms_otp_exp,
    }
}

/// Where a code goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// Whether a new token starts a lineage or continues the pending one it replaces (a resend).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lineage {
    New,
    Continued,
}

/// A freshly issued code and its stored hash.
pub(crate) struct Issued {
    pub(crate) code: String,
    pub(crate) hash: String,
}

/// Checks that a message of `token_type` may go to the user now: locks the user's row, refuses
/// within the channel's frequency (`Some(seconds left)`), then the instance's hourly limit.
pub(crate) fn may_send(
    inst: &Instance,
    user_id: pgrx::Uuid,
    token_type: TokenType,
    channel: Channel,
) -> AuthResult<()> {
    let s = &inst.settings;
    let frequency = match channel {
        Channel::Email => s.mailer.smtp_max_frequency,
        Channel::Sms => s.phone.sms_max_frequency,
    };
    let since = db::json(LOCK_SENDER, &[user_id.into(), token_type.as_str().into()])?
        .ok_or(AuthError::UserNotFound)?;
    if let Some(since) = since.get("seconds_since").and_then(|v| v.as_f64()) {
        if since < frequency as f64 {
            let left = (frequency as f64 - since).ceil().max(1.0) as i64;
            return Err(match channel {
                Channel::Email => AuthError::OverEmailSendRateLimit(Some(left)),
                Channel::Sms => AuthError::OverSmsSendRateLimit(Some(left)),
            });
        }
    }
    crate::outbox::within_hourly_limit(inst, channel)
}

/// Stores a new token of `token_type` for the user, for the address `identity` (the code's hash
/// is over it), and records the send time. The caller queues the message.
pub(crate) fn issue(
    inst: &Instance,
    user_id: pgrx::Uuid,
    token_type: TokenType,
    identity: &str,
    channel: Channel,
    pkce: bool,
    lineage: Lineage,
) -> AuthResult<Issued> {
    let length = match channel {
        Channel::Email => inst.settings.mailer.mailer_otp_length,
        Channel::Sms => inst.settings.phone.sms_otp_length,
    };
    let code = otp::generate_code(length.clamp(6, 10) as usize);
    let hash = otp::stored_hash(&inst.keys.one_time_code, identity, &code, pkce);
    db::exec(
        ISSUE_TOKEN,
        &[
            user_id.into(),
            token_type.as_str().into(),
            hash.as_str().into(),
            identity.into(),
            (lineage == Lineage::Continued).into(),
            (lifetime(inst, channel) as f64).into(),
        ],
    )?;
    db::exec(MARK_SENT, &[user_id.into(), token_type.as_str().into()])?;
    Ok(Issued { code, hash })
}

/// A stored token, as the lookups return it (read strictly).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    token_type: String,
    token_hash: String,
    relates_to: String,
    /// Seconds since it was issued.
    age: f64,
    failed_attempts: i64,
    /// When it was issued (UTC, as stored).
    issued_at: String,
}

/// What a consumed token was.
pub(crate) struct Consumed {
    pub(crate) user_id: pgrx::Uuid,
    pub(crate) token_type: TokenType,
    pub(crate) relates_to: String,
    /// The token belonged to the PKCE flow (its hash had the `pkce_` prefix).
    pub(crate) pkce: bool,
    /// When it was issued (UTC): src/verify tells a sign-up's own token from later ones.
    pub(crate) issued_at: String,
}

fn token_type_of(name: &str) -> Option<TokenType> {
    use TokenType::*;
    [
        Confirmation,
        Reauthentication,
        Recovery,
        EmailChangeNew,
        EmailChangeCurrent,
        PhoneChange,
    ]
    .into_iter()
    .find(|t| t.as_str() == name)
}

/// Serialises verifications of one address until the end of the transaction.
fn lock_address(address: &str) -> AuthResult<()> {
    db::exec(
        "SELECT pg_advisory_xact_lock(1635087464, hashtext($1))",
        &[address.into()],
    )?;
    Ok(())
}

/// Whether a token may still be used under `rules`: of the verification's channel (a phone's
/// code never passes as an email's, whose lifetime is an hour where an SMS code's is a minute),
/// not expired, not dead.
fn alive(c: &Candidate, rules: &Rules) -> bool {
    let is_phone_token = !c.relates_to.contains('@');
    is_phone_token == rules.phone
        && c.age >= 0.0
        && c.age < rules.lifetime as f64
        && c.failed_attempts < rules.max_attempts
}

/// The parameters of a verification.
pub(crate) struct Rules<'a> {
    pub(crate) types: &'a [TokenType],
    /// Verifying a phone's code (else an email's).
    pub(crate) phone: bool,
    /// Seconds a token lives.
    pub(crate) lifetime: i64,
    pub(crate) max_attempts: i64,
}

/// Consumes the token of `types` issued for `address` whose code is `code`. A wrong code counts
/// against every live token for the address (committed apart, waited for) and answers
/// `otp_expired`, as do expired, used and dead tokens; an unknown address does the same work.
pub(crate) fn consume_code(
    inst: &Instance,
    address: &str,
    code: &str,
    rules: &Rules,
) -> AuthResult<Consumed> {
    lock_address(address)?;
    let names: Vec<String> = rules.types.iter().map(|t| t.as_str().to_owned()).collect();
    let rows = db::json(CANDIDATES, &[address.into(), names.into()])?.unwrap_or_default();
    let candidates: Vec<Candidate> = match rows {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|r| db::typed::<Candidate>(Some(r)).map(|c| c.expect("a row")))
            .collect::<AuthResult<_>>()?,
        _ => return Err(AuthError::Internal),
    };
    let candidate_hash = otp::token_hash(&inst.keys.one_time_code, address, code);
    let live: Vec<&Candidate> = candidates.iter().filter(|c| alive(c, rules)).collect();
    // Every live token is compared (constant time each), so the time does not say which matched.
    let mut matched = None;
    for c in &live {
        if otp::hashes_match(&c.token_hash, &candidate_hash) && matched.is_none() {
            matched = Some(*c);
        }
    }
    match matched {
        Some(c) => take(c),
        None => {
            let ids: Vec<uuid::Uuid> = live.iter().map(|c| c.id).collect();
            Err(count_failure(&ids, rules.max_attempts))
        }
    }
}

/// Consumes the token whose stored hash is `token_hash` (a link, or an app's own page that
/// received `{{ .TokenHash }}`), if it is of one of `types` and alive.
pub(crate) fn consume_hash(token_hash: &str, rules: &Rules) -> AuthResult<Consumed> {
    let hash = otp::read_token_hash(token_hash)?;
    let found: Option<Candidate> = db::typed(db::json(BY_HASH, &[hash.as_str().into()])?)?;
    let Some(found) = found else {
        return Err(AuthError::OtpExpired);
    };
    // Judge it under its address's lock, as a code would be, on a fresh read.
    lock_address(&found.relates_to)?;
    let again: Option<Candidate> = db::typed(db::json(BY_HASH, &[hash.as_str().into()])?)?;
    match again {
        Some(c)
            if c.id == found.id
                && rules.types.iter().any(|t| t.as_str() == c.token_type)
                && alive(&c, rules)
                && otp::hashes_match(&c.token_hash, &hash) =>
        {
            take(&c)
        }
        _ => Err(AuthError::OtpExpired),
    }
}

fn take(c: &Candidate) -> AuthResult<Consumed> {
    // The user's row first, then the token: the order of every sender (src/one_time's may_send
    // locks the user, then replaces the token), so a verification and a resend of one user never
    // deadlock. Then the token goes only if it still holds the matched hash: a resend committed
    // meanwhile replaced it in place (same id), and its new code is not this one.
    db::exec(
        "SELECT 1 FROM auth.users WHERE id = $1 FOR UPDATE",
        &[db::uuid(c.user_id).into()],
    )?;
    let deleted = db::exec(
        "DELETE FROM auth.one_time_tokens WHERE id = $1 AND token_hash = $2",
        &[db::uuid(c.id).into(), c.token_hash.as_str().into()],
    )?;
    if deleted != 1 {
        return Err(AuthError::OtpExpired);
    }
    Ok(Consumed {
        user_id: db::uuid(c.user_id),
        token_type: token_type_of(&c.token_type).ok_or(AuthError::Internal)?,
        relates_to: c.relates_to.clone(),
        pkce: c.token_hash.starts_with(otp::PKCE_PREFIX),
        issued_at: c.issued_at.clone(),
    })
}

/// Counts a wrong code against `ids` (possibly none: an unknown address costs the same) and
/// returns `otp_expired`. Fails closed: a count that cannot be committed is PT500.
fn count_failure(ids: &[uuid::Uuid], max_attempts: i64) -> AuthError {
    let payload = kinds::otp_failed(ids, max_attempts);
    let counted = if trace::available() {
        match trace::enqueue(Kind::OtpFailed, &payload, true) {
            Ok(ticket) => trace::wait(&ticket, COUNT_WAIT),
            Err(why) => {
                pgrx::log!("auth_ext: could not queue a failed code's count ({why:?})");
                false
            }
        }
    } else {
        trace::apply_with_one_off_worker(Kind::OtpFailed, &payload)
    };
    if counted || ids.is_empty() {
        AuthError::OtpExpired
    } else {
        pgrx::log!("auth_ext: a wrong one-time code could not be counted; answering PT500");
        AuthError::Internal
    }
}
