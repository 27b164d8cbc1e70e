//! What a trace says and how it is written: the entry kinds, their bounded binary payloads, and
//! the statements that apply them (in the writer's transaction, or the reduced mode's one-off
//! worker). Payloads carry ids, an email, an IP address and an error code; never a token, a hash
//! or a password.
//!
//! To add a durable kind (say, attempt counters on one-time codes): a variant here, an encoder
//! for its payload, and a branch in [`apply`]; the queue, the writer and the waiting are shared.

use auth_core::AuthError;
use serde_json::json;

use crate::audit::{self, Action};
use crate::db;

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Revoke every live refresh token of the session of refresh token `id`, with an audit row.
    RevokeFamily = 1,
    /// An audit row for a failed sign-in.
    LoginFailed = 2,
    /// A wrong one-time code: one more failed attempt on each listed token; those at the limit
    /// die (src/one_time/).
    OtpFailed = 3,
    /// End every session of a user (a password verification hook's `should_logout_user`), with
    /// an audit row.
    EndSessions = 4,
    /// A wrong recovery code: one more failure on the user's set, which locks verification at
    /// the limit (src/mfa/recovery_codes.rs).
    RecoveryCodeFailed = 5,
}

impl Kind {
    pub fn from_u8(k: u8) -> Option<Kind> {
        match k {
            1 => Some(Kind::RevokeFamily),
            2 => Some(Kind::LoginFailed),
            3 => Some(Kind::OtpFailed),
            4 => Some(Kind::EndSessions),
            5 => Some(Kind::RecoveryCodeFailed),
            _ => None,
        }
    }
}

/// Longest IP address text kept (the column is varchar(64)).
const MAX_IP: usize = 64;

#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn i64(mut self, v: i64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
    /// A string of at most `max` bytes (cut at a char boundary), length-prefixed (u16).
    fn str(mut self, v: &str, max: usize) -> Self {
        let mut end = v.len().min(max);
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        self.0.extend_from_slice(&(end as u16).to_le_bytes());
        self.0.extend_from_slice(&v.as_bytes()[..end]);
        self
    }
}

pub struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Dec(b)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

pub fn revoke_family(token_id: i64, ip: Option<&str>) -> Vec<u8> {
    Enc::default().i64(token_id).str(ip.unwrap_or(""), MAX_IP).0
}

/// The GoTrue codes of the failed sign-ins we audit.
pub fn login_error_code(err: &AuthError) -> Option<u8> {
    match err {
        AuthError::InvalidCredentials => Some(0),
        AuthError::EmailNotConfirmed => Some(1),
        AuthError::UserBanned => Some(2),
        AuthError::PhoneNotConfirmed => Some(3),
        _ => None,
    }
}

fn login_error_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "invalid_credentials",
        1 => "email_not_confirmed",
        2 => "user_banned",
        3 => "phone_not_confirmed",
        _ => return None,
    })
}

/// `user_id`: 16 bytes of the user's uuid, or zeroes for an unknown email (no user has the nil
/// uuid). Built the same way on both paths.
pub fn login_failed(code: u8, user_id: [u8; 16], email: &str, ip: Option<&str>) -> Vec<u8> {
    Enc::default()
        .u8(code)
        .bytes(&user_id)
        .str(email, crate::trace::MAX_EMAIL)
        .str(ip.unwrap_or(""), MAX_IP)
        .0
}

/// At most this many tokens per wrong code (one address's live tokens of the verified kinds).
pub const MAX_OTP_TOKENS: usize = 6;

/// `ids`: the tokens the wrong code was tried against (at most [`MAX_OTP_TOKENS`]; none for an
/// unknown address, which is queued all the same); `max_attempts`: the limit.
pub fn otp_failed(ids: &[uuid::Uuid], max_attempts: i64) -> Vec<u8> {
    let ids = &ids[..ids.len().min(MAX_OTP_TOKENS)];
    let mut e = Enc::default().u8(ids.len() as u8).i64(max_attempts);
    for id in ids {
        e = e.bytes(id.as_bytes());
    }
    e.0
}

/// `user_id`: the user whose sessions end.
pub fn end_sessions(user_id: [u8; 16]) -> Vec<u8> {
    Enc::default().bytes(&user_id).0
}

/// `set_id`: the recovery-code set the wrong code was tried against; `max_attempts`: the wrong
/// codes that lock it; `lockout_s`: for how long.
pub fn recovery_code_failed(set_id: &uuid::Uuid, max_attempts: i64, lockout_s: i64) -> Vec<u8> {
    Enc::default()
        .bytes(set_id.as_bytes())
        .i64(max_attempts)
        .i64(lockout_s)
        .0
}

/// Applies one entry in the current transaction. Returns a line of context for the log (ids
/// only) and whether it wrote something, or why it failed.
pub fn apply(kind: u8, payload: &[u8]) -> Result<String, String> {
    let mut d = Dec::new(payload);
    match Kind::from_u8(kind) {
        Some(Kind::RevokeFamily) => {
            let (Some(token_id), Some(ip)) = (d.i64(), d.str()) else {
                return Err("malformed revocation entry".into());
            };
            revoke(token_id, ip)
        }
        Some(Kind::LoginFailed) => {
            let (Some(code), Some(user), Some(email), Some(ip)) =
                (d.u8(), d.take(16), d.str(), d.str())
            else {
                return Err("malformed failed sign-in entry".into());
            };
            let name = login_error_name(code).ok_or("unknown sign-in error code")?;
            let user_id = if user.iter().all(|b| *b == 0) {
                String::new()
            } else {
                uuid::Uuid::from_slice(user)
                    .map_err(|_| "bad uuid")?
                    .to_string()
            };
            let payload = audit::payload(
                Action::LoginFailed,
                &user_id,
                Some(email),
                json!({"provider": "email", "error_code": name}),
            );
            db::exec(
                audit::INSERT.as_str(),
                &[payload.as_str().into(), ip.into()],
            )
            .map_err(|e| format!("audit insert failed: {}", e.code()))?;
            Ok(format!("failed sign-in audited ({name})"))
        }
        Some(Kind::OtpFailed) => {
            let (Some(n), Some(max)) = (d.u8(), d.i64()) else {
                return Err("malformed failed code entry".into());
            };
            let mut ids = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let raw = d.take(16).ok_or("malformed failed code entry")?;
                ids.push(db::uuid(
                    uuid::Uuid::from_slice(raw).map_err(|_| "bad uuid")?,
                ));
            }
            if ids.is_empty() {
                return Ok("wrong code for an address without tokens".into());
            }
            let n = ids.len();
            db::exec(crate::one_time::COUNT_FAILURES, &[ids.clone().into()])
                .map_err(|e| format!("counting a wrong code failed: {}", e.code()))?;
            let partners = db::exec(crate::one_time::DELETE_DEAD, &[ids.into(), max.into()])
                .map_err(|e| format!("ending a token failed: {}", e.code()))?;
            Ok(format!(
                "wrong code counted on {n} tokens; {partners} email-change partners cancelled"
            ))
        }
        Some(Kind::EndSessions) => {
            let raw = d.take(16).ok_or("malformed end-sessions entry")?;
            let user = uuid::Uuid::from_slice(raw).map_err(|_| "bad uuid")?;
            let ended = db::exec(
                "DELETE FROM auth.sessions WHERE user_id = $1",
                &[db::uuid(user).into()],
            )
            .map_err(|e| format!("ending sessions failed: {}", e.code()))?;
            let payload = audit::payload(
                Action::Logout,
                &user.to_string(),
                None,
                json!({"reason": "password_verification_hook", "sessions": ended}),
            );
            db::exec(
                audit::INSERT.as_str(),
                &[payload.as_str().into(), "".into()],
            )
            .map_err(|e| format!("audit insert failed: {}", e.code()))?;
            Ok(format!(
                "{ended} sessions ended by a password verification hook"
            ))
        }
        Some(Kind::RecoveryCodeFailed) => {
            let (Some(set), Some(max), Some(lockout)) = (d.take(16), d.i64(), d.i64()) else {
                return Err("malformed failed recovery code entry".into());
            };
            let set = uuid::Uuid::from_slice(set).map_err(|_| "bad uuid")?;
            let counted = db::exec(
                crate::mfa::recovery_codes::COUNT_FAILURE,
                &[db::uuid(set).into(), max.into(), lockout.into()],
            )
            .map_err(|e| format!("counting a wrong recovery code failed: {}", e.code()))?;
            Ok(format!(
                "wrong recovery code counted on set {set} ({counted} rows)"
            ))
        }
        None => Err(format!("unknown entry kind {kind}")),
    }
}

const REVOKE: &str = include_str!("revoke_family.sql");

/// What the revocation statement reports (read strictly: a missing field is a failed revocation).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoked {
    session_id: uuid::Uuid,
    user_id: Option<String>,
    revoked: i64,
}

fn revoke(token_id: i64, ip: &str) -> Result<String, String> {
    let row = db::json(REVOKE, &[token_id.into()])
        .map_err(|e| format!("revocation of token id {token_id} failed: {}", e.code()))?;
    let Some(row) = row else {
        // Deleted meanwhile (sign-out, user deletion): nothing left to revoke.
        return Ok(format!("token id {token_id}: gone, nothing to revoke"));
    };
    let Revoked {
        session_id,
        user_id,
        revoked,
    } = db::typed(Some(row))
        .map_err(|e| format!("revocation of token id {token_id}: {}", e.code()))?
        .ok_or_else(|| format!("revocation of token id {token_id}: no row"))?;
    if revoked > 0 {
        let payload = audit::payload(
            Action::TokenRevoked,
            user_id.as_deref().unwrap_or(""),
            None,
            json!({"session_id": session_id, "reason": "refresh_token_reused"}),
        );
        db::exec(
            audit::INSERT.as_str(),
            &[payload.as_str().into(), ip.into()],
        )
        .map_err(|e| {
            format!(
                "audit of session {session_id}'s revocation failed: {}",
                e.code()
            )
        })?;
    }
    Ok(format!("session {session_id}: {revoked} tokens revoked"))
}
