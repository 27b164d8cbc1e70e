//! Rate limits in the database, so they hold the same through PostgREST RPC and the shim, with
//! any number of shims and poolers in front: per-IP limits (GoTrue's) and the per-account
//! sign-in backoff (beyond GoTrue). The decisions are `auth_core::rate_limit`'s; the counts live
//! in shared memory (`trace::counter`), which survives the caller's rollback: a refused or
//! failing request counts like any other.
//!
//! A call that did not come over HTTP (no `request.headers`: the owner's own SQL, a backend's
//! direct connection) is not limited per IP; an HTTP request whose address cannot be told (no
//! trusted header) shares the one bucket of unknown addresses, so a misconfigured proxy fails
//! closed. Without `shared_preload_libraries` there are no counters and no limits (logged).

use std::sync::atomic::AtomicU64;

use auth_core::rate_limit::{retry_after_s, Backoff, Bucket, BACKOFF_IDLE_RESET_S};
use auth_core::AuthError;

use crate::db;
use crate::error::AuthResult;
use crate::instance::Instance;
use crate::request::RequestInfo;
use crate::trace::counter::{self, Class};

static NOT_PRELOADED: AtomicU64 = AtomicU64::new(0);

fn no_counters() {
    crate::trace::log_sparsely(&NOT_PRELOADED, |n| {
        format!(
            "auth_ext: rate limits are off: auth_ext is not in shared_preload_libraries \
             ({n} unlimited requests in this process)"
        )
    });
}

fn refused(verdict: Option<Result<u32, i64>>) -> AuthResult<()> {
    match verdict {
        None => {
            no_counters();
            Ok(())
        }
        Some(Ok(_)) => Ok(()),
        Some(Err(ms)) => Err(AuthError::OverRequestRateLimit(retry_after_s(ms))),
    }
}

/// Counts the current request against its bucket's per-IP limit.
pub(crate) fn limit(inst: &Instance, bucket: Bucket) -> AuthResult<()> {
    check(inst, bucket, &crate::request::current())
}

/// Counts this request against its bucket's per-IP limit; `over_request_rate_limit` past it.
pub(crate) fn check(inst: &Instance, bucket: Bucket, req: &RequestInfo) -> AuthResult<()> {
    if !req.http {
        return Ok(());
    }
    let key = format!(
        "{}:{}",
        bucket.name(),
        req.ip
            .as_deref()
            .map(network)
            .unwrap_or_else(|| "unknown".into())
    );
    let max = bucket.limit(&inst.settings).clamp(0, u32::MAX as i64) as u32;
    refused(counter::take(
        Class::IpLimit,
        &key,
        bucket.window_s() * 1000,
        max,
    ))
}

/// What one client holds: an IPv4 address, or an IPv6 /64 (one subscriber's usual share; a
/// limit per IPv6 address would let one client draw on 2^64 budgets).
fn network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

static KNOWN_IP_BY_EMAIL: &str = "SELECT to_jsonb(EXISTS (SELECT 1 FROM auth.users u \
     JOIN auth.sessions s ON s.user_id = u.id \
     WHERE lower(u.email) = $1 AND u.is_sso_user = false AND u.deleted_at IS NULL \
       AND s.ip = $2::inet))";
static KNOWN_IP_BY_PHONE: &str = "SELECT to_jsonb(EXISTS (SELECT 1 FROM auth.users u \
     JOIN auth.sessions s ON s.user_id = u.id \
     WHERE u.phone = $1 AND u.deleted_at IS NULL AND s.ip = $2::inet))";

/// The account a password attempt names, as the backoff keys it: the normalized address, or
/// what was typed when it is no address (which can name no account but is spaced the same).
pub(crate) enum AttemptOn<'a> {
    Email(&'a str),
    Phone(&'a str),
    Unparsed(&'a str),
    /// An MFA factor's codes (src/mfa/): guesses at a factor back off as password guesses do.
    Factor(&'a str),
}

impl AttemptOn<'_> {
    fn key(&self) -> String {
        match self {
            AttemptOn::Email(e) => format!("email:{e}"),
            AttemptOn::Phone(p) => format!("phone:{p}"),
            AttemptOn::Factor(id) => format!("factor:{id}"),
            AttemptOn::Unparsed(raw) => {
                let raw: String = raw.trim().to_lowercase().chars().take(320).collect();
                format!("raw:{raw}")
            }
        }
    }

    /// Whether `ip` is the address of one of the account's sessions.
    fn has_session_from(&self, ip: &str) -> AuthResult<bool> {
        let (sql, address) = match self {
            AttemptOn::Email(e) => (KNOWN_IP_BY_EMAIL, *e),
            AttemptOn::Phone(p) => (KNOWN_IP_BY_PHONE, *p),
            AttemptOn::Unparsed(_) | AttemptOn::Factor(_) => return Ok(false),
        };
        Ok(db::json(sql, &[address.into(), ip.into()])? == Some(serde_json::Value::Bool(true)))
    }
}

/// An admitted password attempt; [`Admitted::succeeded`] forgets the account's attempts.
pub(crate) struct Admitted {
    key: String,
    class: Class,
}

impl Admitted {
    pub(crate) fn succeeded(self) {
        counter::reset(self.class, &self.key);
        if let Class::AccountSignInFromKnownIp = self.class {
            // The owner is in: the guesses from elsewhere stop costing them.
            let account = self.key.split_once('@').map(|(_, k)| k.to_owned());
            if let Some(account) = account {
                counter::reset(Class::AccountSignIn, &account);
            }
        }
    }
}

/// Admits a password attempt on an account under the backoff, before the password is checked
/// (so concurrent guesses cannot share one slot). An account in backoff still admits, on their
/// own schedule, attempts from an address it has a session from: guesses from elsewhere cannot
/// lock its owner out there. The same work for known and unknown accounts.
pub(crate) fn admit_sign_in(
    inst: &Instance,
    on: AttemptOn<'_>,
    req: &RequestInfo,
) -> AuthResult<Admitted> {
    let backoff = Backoff::from_settings(&inst.settings);
    let key = on.key();
    let admitted = Admitted {
        key: key.clone(),
        class: Class::AccountSignIn,
    };
    if !backoff.enabled() {
        return Ok(admitted);
    }
    let idle_ms = BACKOFF_IDLE_RESET_S * 1000;
    let gap = |n| backoff.gap_ms(n);
    let wait_ms = match counter::take_spaced(Class::AccountSignIn, &key, idle_ms, gap) {
        None => {
            no_counters();
            return Ok(admitted);
        }
        Some(Ok(_)) => return Ok(admitted),
        Some(Err(ms)) => ms,
    };
    if let Some(ip) = req.ip.as_deref() {
        if on.has_session_from(ip)? {
            let known = format!("{ip}@{key}");
            if let Some(Ok(_)) =
                counter::take_spaced(Class::AccountSignInFromKnownIp, &known, idle_ms, gap)
            {
                return Ok(Admitted {
                    key: known,
                    class: Class::AccountSignInFromKnownIp,
                });
            }
        }
    }
    Err(AuthError::OverRequestRateLimit(retry_after_s(wait_ms)))
}
