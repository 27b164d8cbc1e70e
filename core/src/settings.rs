//! Instance settings: defaults, validation of `auth.configure()` changes, and their JSON form.
//!
//! Settings are stored as one JSON object in a private table; this module is the only place that
//! knows their names, types and bounds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AuthError, AuthResult};
use crate::mfa::recovery_codes as rc;
use crate::password::{decode_required_characters, Argon2Cost, PasswordPolicy};

/// Every setting, in groups by what they govern. Stored and shown flat, one JSON object with
/// GoTrue-style names (`jwt_exp`, `mailer_autoconfirm`, ...); the groups are the Rust side's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub tokens: TokenSettings,
    #[serde(flatten)]
    pub signup: SignupSettings,
    #[serde(flatten)]
    pub passwords: PasswordSettings,
    #[serde(flatten)]
    pub sessions: SessionSettings,
    #[serde(flatten)]
    pub trust: TrustSettings,
    #[serde(flatten)]
    pub mailer: MailerSettings,
    #[serde(flatten)]
    pub phone: PhoneSettings,
    #[serde(flatten)]
    pub rate_limits: RateLimitSettings,
    #[serde(flatten)]
    pub hooks: HookSettings,
    #[serde(flatten)]
    pub retention: RetentionSettings,
    #[serde(flatten)]
    pub sso: SsoSettings,
    #[serde(flatten)]
    pub mfa: MfaSettings,
    #[serde(flatten)]
    pub webauthn: WebauthnSettings,
}

/// Access tokens: how they are signed and verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    /// Access-token lifetime, seconds.
    pub jwt_exp: i64,
    pub jwt_aud: String,
    pub jwt_issuer: String,
    /// Algorithm of the key that signs new tokens; changing it rotates to a key of that kind.
    pub jwt_signing_algorithm: crate::keys::Alg,
    /// Clock skew tolerated on exp/nbf/iat, seconds.
    pub jwt_leeway: i64,
    /// When set, verification requires this `aud`.
    pub jwt_verify_aud: Option<String>,
    /// When set, verification requires this `iss`.
    pub jwt_verify_iss: Option<String>,
    /// Refuse tokens without `exp` (GoTrue and PostgREST accept them; a token without one is
    /// valid forever unless its key is revoked).
    pub jwt_require_exp: bool,
}

/// Who may sign up, and whether they must confirm first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignupSettings {
    pub site_url: String,
    pub disable_signup: bool,
    pub mailer_autoconfirm: bool,
    /// `sign_in_anonymously` (GoTrue's default: off).
    pub external_anonymous_users_enabled: bool,
    /// `linkIdentity` / `unlinkIdentity` (GoTrue's `security_manual_linking_enabled`, off).
    pub security_manual_linking_enabled: bool,
}

/// Password policy and the cost of new hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordSettings {
    pub password_min_length: i64,
    pub argon2_memory_kib: i64,
    pub argon2_iterations: i64,
    pub argon2_parallelism: i64,
    /// `update_user({password})` needs the nonce `reauthenticate()` sent.
    pub update_password_require_reauthentication: bool,
    /// Sets of which a new password needs a character each, in GoTrue's notation (`:` between
    /// sets, `\:` for a colon; see `password::decode_required_characters`); "" is none.
    pub password_required_characters: String,
    /// Refuse new passwords whose SHA-1 is in `auth.breached_passwords` (docs/passwords.md).
    pub password_breached_check: bool,
}

/// Sessions and their refresh tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    pub refresh_token_rotation_enabled: bool,
    /// Seconds during which a rotated refresh token still yields the current session.
    pub refresh_token_reuse_interval: i64,
    /// Seconds after creation when a session ends; `None` is off.
    pub sessions_timebox: Option<i64>,
    /// Seconds without a refresh after which a session ends; `None` is off.
    pub sessions_inactivity_timeout: Option<i64>,
    /// Access tokens die with their session (sign-out, expiry) or user (ban, deletion) at once,
    /// rather than at `exp`.
    pub revocable_access_tokens: bool,
    /// A sign-in ends the user's other sessions, and only the newest session refreshes.
    pub sessions_single_per_user: bool,
}

/// Whose word about the request is taken: its claims and its client address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrustSettings {
    /// Whose `request.jwt.claims` the RLS helpers believe.
    pub claims_trust: ClaimsTrust,
    /// Login roles whose sessions may set `request.jwt.claims` directly (PostgREST's).
    pub trusted_roles: Vec<String>,
    /// The header a trusted proxy writes the client's address to (`None`: no header is trusted,
    /// the address is unknown); see `client_ip`.
    pub client_ip_header: Option<String>,
    /// How many trusted proxies append to `client_ip_header`.
    pub client_ip_trusted_proxies: i64,
    /// Token roles that may call the admin API (GoTrue's `jwt_admin_roles`).
    pub jwt_admin_roles: Vec<String>,
}

/// Mail: one-time codes and links, where links point, how often mail may go out, and its texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailerSettings {
    /// Email sign-up, sign-in and flows at all (GoTrue's `external_email_enabled`).
    pub external_email_enabled: bool,
    /// Seconds an emailed code or link stays valid.
    pub mailer_otp_exp: i64,
    /// Digits of an emailed code (6-10).
    pub mailer_otp_length: i64,
    /// Password sign-in before the address is confirmed.
    pub allow_unverified_email_sign_ins: bool,
    /// An email change needs a code from the current address too.
    pub mailer_secure_email_change_enabled: bool,
    /// Seconds between two mails of one kind to one user (`over_email_send_rate_limit`).
    pub smtp_max_frequency: i64,
    /// Mails queued per hour, all users together.
    pub rate_limit_email_sent: i64,
    /// Wrong codes after which a one-time token dies (beyond GoTrue).
    pub otp_max_attempts: i64,
    pub smtp_admin_email: String,
    pub smtp_sender_name: String,
    /// Where this API is reached from outside: mailed links start with it.
    pub api_external_url: String,
    /// Comma-separated URL globs a `redirect_to` may match besides `site_url`.
    pub uri_allow_list: String,
    /// Subjects and HTML bodies per mail; `None` is GoTrue's text. Supabase's names.
    pub mailer_subjects_confirmation: Option<String>,
    pub mailer_subjects_invite: Option<String>,
    pub mailer_subjects_magic_link: Option<String>,
    pub mailer_subjects_recovery: Option<String>,
    pub mailer_subjects_email_change: Option<String>,
    pub mailer_subjects_reauthentication: Option<String>,
    pub mailer_templates_confirmation_content: Option<String>,
    pub mailer_templates_invite_content: Option<String>,
    pub mailer_templates_magic_link_content: Option<String>,
    pub mailer_templates_recovery_content: Option<String>,
    pub mailer_templates_email_change_content: Option<String>,
    pub mailer_templates_reauthentication_content: Option<String>,
}

/// Phone sign-up and sign-in, and SMS codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhoneSettings {
    pub external_phone_enabled: bool,
    /// Phone users are confirmed at sign-up (no SMS).
    pub sms_autoconfirm: bool,
    /// Seconds an SMS code stays valid.
    pub sms_otp_exp: i64,
    /// Digits of an SMS code (6-10).
    pub sms_otp_length: i64,
    /// Seconds between two SMS of one kind to one user (`over_sms_send_rate_limit`).
    pub sms_max_frequency: i64,
    /// SMS queued per hour, all users together.
    pub rate_limit_sms_sent: i64,
    /// The SMS text; `{{ .Code }}` is the code.
    pub sms_template: String,
}

/// Per-IP request limits (GoTrue's names and defaults; counted per server in shared memory) and
/// the per-account sign-in backoff (beyond GoTrue; see `rate_limit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// `/token` grants (password, refresh, PKCE) per 5 minutes and address.
    pub rate_limit_token_refresh: i64,
    /// Verifications of codes and links per 5 minutes and address.
    pub rate_limit_verify: i64,
    /// Requests that send a code or link per 5 minutes and address.
    pub rate_limit_otp: i64,
    /// Anonymous sign-ins per hour and address.
    pub rate_limit_anonymous_users: i64,
    /// SSO sign-ins started (`/sso`) per 5 minutes and address.
    pub rate_limit_sso: i64,
    /// Passkey sign-ins started (`/passkeys/authentication/options`) per 5 minutes and address.
    pub rate_limit_passkey: i64,
    /// Password attempts on one account before the backoff starts.
    pub sign_in_backoff_free_attempts: i64,
    /// The longest wait between password attempts on one account, seconds; 0 is off.
    pub sign_in_backoff_max_seconds: i64,
}

/// Auth hooks: SQL functions (`schema.function`) called in the request's transaction, as the
/// role `hook_role`, each within `hook_timeout_ms` (see `hooks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HookSettings {
    pub hook_custom_access_token: Option<String>,
    pub hook_before_user_created: Option<String>,
    pub hook_password_verification_attempt: Option<String>,
    pub hook_mfa_verification_attempt: Option<String>,
    pub hook_send_email: Option<String>,
    pub hook_send_sms: Option<String>,
    /// The role hooks run as (Supabase's: `supabase_auth_admin`, which the extension creates).
    pub hook_role: String,
    /// GoTrue's 2 s.
    pub hook_timeout_ms: i64,
    /// Roles the custom access token hook may put in `role` besides the user's own.
    pub hook_custom_access_token_roles: Vec<String>,
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            hook_custom_access_token: None,
            hook_before_user_created: None,
            hook_password_verification_attempt: None,
            hook_mfa_verification_attempt: None,
            hook_send_email: None,
            hook_send_sms: None,
            hook_role: "supabase_auth_admin".into(),
            hook_timeout_ms: 2000,
            hook_custom_access_token_roles: Vec::new(),
        }
    }
}

impl HookSettings {
    /// The function configured for a hook point, if any.
    pub fn target(&self, point: crate::hooks::HookPoint) -> Option<crate::hooks::HookTarget> {
        use crate::hooks::HookPoint::*;
        let setting = match point {
            CustomAccessToken => &self.hook_custom_access_token,
            BeforeUserCreated => &self.hook_before_user_created,
            PasswordVerificationAttempt => &self.hook_password_verification_attempt,
            MfaVerificationAttempt => &self.hook_mfa_verification_attempt,
            SendEmail => &self.hook_send_email,
            SendSms => &self.hook_send_sms,
        };
        // Validated when configured; a hand-edited bad value names no function.
        setting
            .as_deref()
            .and_then(|s| crate::hooks::HookTarget::parse(s).ok())
    }
}

/// SAML 2.0 single sign-on (GoTrue's `GOTRUE_SAML_*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SsoSettings {
    /// `/sso`, the ACS and the SSO admin API at all (GoTrue's `saml_enabled`, off).
    pub saml_enabled: bool,
    /// Seconds from `/sso` within which the IdP's answer must arrive (GoTrue's
    /// `SAML_RELAY_STATE_VALIDITY_PERIOD`).
    pub saml_relay_state_validity_period: i64,
}

impl Default for SsoSettings {
    fn default() -> Self {
        SsoSettings {
            saml_enabled: false,
            saml_relay_state_validity_period: 120,
        }
    }
}

/// Multi-factor authentication (GoTrue's `GOTRUE_MFA_*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaSettings {
    /// New TOTP factors may be enrolled (GoTrue's default: on).
    pub mfa_totp_enroll_enabled: bool,
    /// TOTP factors may be challenged and verified (GoTrue's default: on).
    pub mfa_totp_verify_enabled: bool,
    /// Factors a user may have, verified or not (GoTrue's `mfa_max_enrolled_factors`: 10).
    pub mfa_max_enrolled_factors: i64,
    /// New phone factors may be enrolled (GoTrue's default: off).
    pub mfa_phone_enroll_enabled: bool,
    /// Phone factors may be challenged (an SMS sent) and verified (GoTrue's default: off).
    pub mfa_phone_verify_enabled: bool,
    /// Digits of a phone factor's code (6-10).
    pub mfa_phone_otp_length: i64,
    /// Seconds between two challenges of one phone factor (`over_sms_send_rate_limit`).
    pub mfa_phone_max_frequency: i64,
    /// The text of a phone factor's SMS; `{{ .Code }}` is the code.
    pub mfa_phone_template: String,
    /// Recovery codes may be generated and regenerated (GoTrue's
    /// `MFA_RECOVERY_CODES_ENROLL_ENABLED`, default off).
    pub mfa_recovery_codes_enroll_enabled: bool,
    /// Recovery codes may be used to reach `aal2` (GoTrue's `MFA_RECOVERY_CODES_VERIFY_ENABLED`,
    /// default off).
    pub mfa_recovery_codes_verify_enabled: bool,
    /// Codes in a set (4-16).
    pub mfa_recovery_codes_count: i64,
    /// Characters of a code, 5 random bits each (13-32).
    pub mfa_recovery_codes_code_length: i64,
    /// Wrong codes in a row that lock verification (3-15).
    pub mfa_recovery_codes_max_verify_attempts: i64,
    /// Seconds verification stays locked then (60-86400; GoTrue's `LOCKOUT_DURATION`, 15m).
    pub mfa_recovery_codes_lockout_duration: i64,
}

impl Default for MfaSettings {
    fn default() -> Self {
        MfaSettings {
            mfa_totp_enroll_enabled: true,
            mfa_totp_verify_enabled: true,
            mfa_max_enrolled_factors: 10,
            mfa_phone_enroll_enabled: false,
            mfa_phone_verify_enabled: false,
            mfa_phone_otp_length: 6,
            mfa_phone_max_frequency: 5,
            mfa_phone_template: "Your code is {{ .Code }}".into(),
            mfa_recovery_codes_enroll_enabled: false,
            mfa_recovery_codes_verify_enabled: false,
            mfa_recovery_codes_count: rc::DEFAULT_COUNT as i64,
            mfa_recovery_codes_code_length: rc::DEFAULT_LENGTH as i64,
            mfa_recovery_codes_max_verify_attempts: rc::DEFAULT_MAX_VERIFY_ATTEMPTS,
            mfa_recovery_codes_lockout_duration: rc::DEFAULT_LOCKOUT_S,
        }
    }
}

/// WebAuthn: the relying party of MFA `webauthn` factors and passkeys (GoTrue's
/// `GOTRUE_WEBAUTHN_*`, `GOTRUE_MFA_WEB_AUTHN_*`, `GOTRUE_PASSKEY_*`). Both uses are off until
/// switched on, and need the relying party's id, name and origins then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebauthnSettings {
    /// The domain credentials belong to (`example.com`); empty: WebAuthn is not set up.
    pub webauthn_rp_id: String,
    /// The name authenticators show (`rp.name`).
    pub webauthn_rp_display_name: String,
    /// The origins a ceremony may come from, comma-separated (`https://app.example.com`), each
    /// compared exactly.
    pub webauthn_rp_origins: String,
    /// Seconds a passkey challenge can be answered.
    pub webauthn_challenge_expiry_duration: i64,
    /// New WebAuthn factors may be enrolled (GoTrue's default: off).
    pub mfa_webauthn_enroll_enabled: bool,
    /// WebAuthn factors may be challenged and verified (GoTrue's default: off).
    pub mfa_webauthn_verify_enabled: bool,
    /// The `/passkeys` API at all: registration, sign-in, management (GoTrue's default: off).
    pub passkey_enabled: bool,
    /// Passkeys a user may register.
    pub passkey_max_passkeys_per_user: i64,
}

impl Default for WebauthnSettings {
    fn default() -> Self {
        WebauthnSettings {
            webauthn_rp_id: String::new(),
            webauthn_rp_display_name: String::new(),
            webauthn_rp_origins: String::new(),
            webauthn_challenge_expiry_duration: 300,
            mfa_webauthn_enroll_enabled: false,
            mfa_webauthn_verify_enabled: false,
            passkey_enabled: false,
            passkey_max_passkeys_per_user: 10,
        }
    }
}

impl WebauthnSettings {
    /// The configured origins, trimmed, empty entries dropped.
    pub fn origins(&self) -> Vec<String> {
        self.webauthn_rp_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// What `auth.cleanup()` keeps (src/cleanup/).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Days the audit log is kept; 0 keeps it forever.
    pub audit_log_retention_days: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            audit_log_retention_days: 90,
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            rate_limit_token_refresh: 150,
            rate_limit_verify: 30,
            rate_limit_otp: 30,
            rate_limit_anonymous_users: 30,
            rate_limit_sso: 30,
            rate_limit_passkey: 30,
            sign_in_backoff_free_attempts: 5,
            sign_in_backoff_max_seconds: 60,
        }
    }
}

impl Default for MailerSettings {
    fn default() -> Self {
        MailerSettings {
            external_email_enabled: true,
            mailer_otp_exp: 3600,
            mailer_otp_length: 6,
            allow_unverified_email_sign_ins: false,
            mailer_secure_email_change_enabled: true,
            smtp_max_frequency: 60,
            rate_limit_email_sent: 30,
            otp_max_attempts: 5,
            smtp_admin_email: "noreply@example.com".into(),
            smtp_sender_name: String::new(),
            api_external_url: "http://localhost:9999".into(),
            uri_allow_list: String::new(),
            mailer_subjects_confirmation: None,
            mailer_subjects_invite: None,
            mailer_subjects_magic_link: None,
            mailer_subjects_recovery: None,
            mailer_subjects_email_change: None,
            mailer_subjects_reauthentication: None,
            mailer_templates_confirmation_content: None,
            mailer_templates_invite_content: None,
            mailer_templates_magic_link_content: None,
            mailer_templates_recovery_content: None,
            mailer_templates_email_change_content: None,
            mailer_templates_reauthentication_content: None,
        }
    }
}

impl Default for PhoneSettings {
    fn default() -> Self {
        PhoneSettings {
            external_phone_enabled: false,
            sms_autoconfirm: false,
            sms_otp_exp: 60,
            sms_otp_length: 6,
            sms_max_frequency: 60,
            rate_limit_sms_sent: 30,
            sms_template: "Your code is {{ .Code }}".into(),
        }
    }
}

/// Whose `request.jwt.claims` the RLS helpers believe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimsTrust {
    /// Whatever the setting holds, from anyone (Supabase's behaviour).
    Any,
    /// Only claims set by `auth.authenticate()` in the same transaction, or by a session whose
    /// login role is trusted (`trusted_roles`, superusers, the extension's owner).
    Verified,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            jwt_exp: 3600,
            jwt_aud: "authenticated".into(),
            jwt_issuer: "http://localhost:54321/auth/v1".into(),
            jwt_signing_algorithm: crate::keys::Alg::ES256,
            jwt_leeway: crate::jwt::DEFAULT_LEEWAY_SECONDS,
            jwt_verify_aud: None,
            jwt_verify_iss: None,
            jwt_require_exp: true,
        }
    }
}

impl Default for SignupSettings {
    fn default() -> Self {
        SignupSettings {
            site_url: "http://localhost:3000".into(),
            disable_signup: false,
            mailer_autoconfirm: true,
            external_anonymous_users_enabled: false,
            security_manual_linking_enabled: false,
        }
    }
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let cost = Argon2Cost::default();
        PasswordSettings {
            password_min_length: 8,
            argon2_memory_kib: cost.m_cost as i64,
            argon2_iterations: cost.t_cost as i64,
            argon2_parallelism: cost.p_cost as i64,
            update_password_require_reauthentication: false,
            password_required_characters: String::new(),
            password_breached_check: false,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            refresh_token_rotation_enabled: true,
            refresh_token_reuse_interval: 10,
            sessions_timebox: None,
            sessions_inactivity_timeout: None,
            revocable_access_tokens: false,
            sessions_single_per_user: false,
        }
    }
}

impl Default for TrustSettings {
    fn default() -> Self {
        TrustSettings {
            claims_trust: ClaimsTrust::Verified,
            trusted_roles: vec!["authenticator".into()],
            client_ip_header: Some("x-forwarded-for".into()),
            client_ip_trusted_proxies: 1,
            jwt_admin_roles: vec!["service_role".into(), "supabase_admin".into()],
        }
    }
}

/// The write-only key: accepted by `configure`, stored apart, never shown.
pub const JWT_SECRET: &str = "jwt_secret";
pub const MIN_JWT_SECRET_LEN: usize = 32;
const MAX_JWT_SECRET_LEN: usize = 4096;

/// The result of validating a `configure` call.
#[derive(Debug)]
pub struct Change {
    pub settings: Settings,
    /// A new HS256 secret to adopt, when `jwt_secret` was given.
    pub jwt_secret: Option<String>,
}

impl Settings {
    /// Reads stored settings; keys missing from storage take their defaults.
    pub fn from_stored(stored: &Value) -> AuthResult<Settings> {
        // Flattened groups cannot deny unknown fields themselves: a stored key that no setting
        // has (a typo made by hand in auth.config) fails the load instead of being ignored.
        let known = Settings::default().to_json();
        let stored_keys = stored.as_object().ok_or(AuthError::Internal)?;
        if stored_keys.keys().any(|k| known.get(k).is_none()) {
            return Err(AuthError::Internal);
        }
        serde_json::from_value(stored.clone()).map_err(|_| AuthError::Internal)
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("settings serialise")
    }

    pub fn verify_options(&self) -> crate::jwt::VerifyOptions {
        crate::jwt::VerifyOptions {
            leeway: self.tokens.jwt_leeway,
            audience: self.tokens.jwt_verify_aud.clone(),
            issuer: self.tokens.jwt_verify_iss.clone(),
            require_exp: self.tokens.jwt_require_exp,
        }
    }

    pub fn ip_rule(&self) -> crate::client_ip::IpRule {
        crate::client_ip::IpRule {
            header: self
                .trust
                .client_ip_header
                .as_ref()
                .map(|h| h.to_ascii_lowercase()),
            trusted_proxies: self.trust.client_ip_trusted_proxies.max(0) as usize,
        }
    }

    pub fn signing_alg(&self) -> crate::keys::Alg {
        self.tokens.jwt_signing_algorithm
    }

    pub fn argon2_cost(&self) -> Argon2Cost {
        Argon2Cost {
            m_cost: self.passwords.argon2_memory_kib as u32,
            t_cost: self.passwords.argon2_iterations as u32,
            p_cost: self.passwords.argon2_parallelism as u32,
        }
    }

    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_length: self.passwords.password_min_length.max(0) as usize,
            required_characters: decode_required_characters(
                &self.passwords.password_required_characters,
            ),
            breached_check: self.passwords.password_breached_check,
        }
    }

    /// Validates `changes` (a JSON object of setting → new value) against these settings.
    pub fn apply(&self, changes: &Value) -> AuthResult<Change> {
        let Some(changes) = changes.as_object() else {
            return Err(AuthError::validation(
                "configure expects a JSON object of settings",
            ));
        };
        let mut merged: Map<String, Value> = match self.to_json() {
            Value::Object(m) => m,
            _ => unreachable!("settings serialise to an object"),
        };
        let mut jwt_secret = None;
        for (key, value) in changes {
            if key == JWT_SECRET {
                jwt_secret = Some(check_secret(value)?);
                continue;
            }
            let Some(slot) = merged.get_mut(key) else {
                return Err(AuthError::validation(format!(
                    "unknown setting \"{}\"",
                    shorten(key)
                )));
            };
            check_value(key, value)?;
            *slot = value.clone();
        }
        let settings: Settings = serde_json::from_value(Value::Object(merged))
            .map_err(|e| AuthError::validation(format!("invalid settings: {e}")))?;
        Ok(Change {
            settings,
            jwt_secret,
        })
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

fn check_secret(value: &Value) -> AuthResult<String> {
    let Some(s) = value.as_str() else {
        return Err(AuthError::validation("jwt_secret must be a string"));
    };
    let n = s.chars().count();
    if !(MIN_JWT_SECRET_LEN..=MAX_JWT_SECRET_LEN).contains(&n) {
        return Err(AuthError::validation(format!(
            "jwt_secret must be between {MIN_JWT_SECRET_LEN} and {MAX_JWT_SECRET_LEN} characters"
        )));
    }
    Ok(s.to_owned())
}

fn int_in(key: &str, value: &Value, lo: i64, hi: i64) -> AuthResult<()> {
    match value.as_i64() {
        Some(n) if value.is_i64() && (lo..=hi).contains(&n) => Ok(()),
        _ => Err(AuthError::validation(format!(
            "{key} must be an integer between {lo} and {hi}"
        ))),
    }
}

fn text(key: &str, value: &Value, max: usize) -> AuthResult<()> {
    match value.as_str() {
        Some(s) if !s.is_empty() && s.len() <= max => Ok(()),
        _ => Err(AuthError::validation(format!(
            "{key} must be a non-empty string of at most {max} bytes"
        ))),
    }
}

/// An absolute http(s) URL: mailed links and redirects are built from it.
fn url_text(key: &str, value: &Value) -> AuthResult<()> {
    text(key, value, 2048)?;
    let s = value.as_str().unwrap_or_default();
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Ok(())
        }
        _ => Err(AuthError::validation(format!(
            "{key} must be an absolute http or https URL"
        ))),
    }
}

fn check_value(key: &str, value: &Value) -> AuthResult<()> {
    const DAY: i64 = 86_400;
    match key {
        "jwt_exp" => int_in(key, value, 120, 7 * DAY),
        "jwt_aud" => text(key, value, 255),
        "jwt_issuer" => text(key, value, 2048),
        "site_url" | "api_external_url" => url_text(key, value),
        "smtp_admin_email" => match value.as_str() {
            Some(s) if crate::email::normalize(Some(s)).is_ok() => Ok(()),
            _ => Err(AuthError::validation(
                "smtp_admin_email must be an email address",
            )),
        },
        "smtp_sender_name" => match value.as_str() {
            Some(s) if s.len() <= 255 && !s.chars().any(char::is_control) => Ok(()),
            _ => Err(AuthError::validation(
                "smtp_sender_name must be a string of at most 255 bytes without control characters",
            )),
        },
        "uri_allow_list" => match value.as_str() {
            Some(s) if s.len() <= 16 * 1024 => Ok(()),
            _ => Err(AuthError::validation(
                "uri_allow_list must be a comma-separated string of URL globs",
            )),
        },
        "sms_template" | "mfa_phone_template" => text(key, value, 1024),
        // Checked as a relying party when a ceremony starts (core/src/mfa/webauthn.rs); here
        // only bounded.
        "webauthn_rp_id" | "webauthn_rp_display_name" => match value.as_str() {
            Some(s) if s.len() <= 255 => Ok(()),
            _ => Err(AuthError::validation(format!(
                "{key} must be a string of at most 255 bytes"
            ))),
        },
        "webauthn_rp_origins" => match value.as_str() {
            Some(s) if s.len() <= 4096 => Ok(()),
            _ => Err(AuthError::validation(
                "webauthn_rp_origins must be a comma-separated string of origins",
            )),
        },
        "webauthn_challenge_expiry_duration" => int_in(key, value, 10, DAY),
        "passkey_max_passkeys_per_user" => int_in(key, value, 1, 100),
        "password_required_characters" => match value.as_str() {
            Some(s) if s.len() <= 1024 => Ok(()),
            _ => Err(AuthError::validation(
                "password_required_characters must be a string of at most 1024 bytes",
            )),
        },
        k if k.starts_with("mailer_subjects_") || k.starts_with("mailer_templates_") => {
            if value.is_null() {
                Ok(())
            } else {
                text(
                    key,
                    value,
                    if k.starts_with("mailer_subjects_") {
                        1024
                    } else {
                        64 * 1024
                    },
                )
            }
        }
        "mailer_otp_exp" => int_in(key, value, 60, DAY),
        "sms_otp_exp" => int_in(key, value, 30, DAY),
        "mailer_otp_length" | "sms_otp_length" | "mfa_phone_otp_length" => {
            int_in(key, value, 6, 10)
        }
        "smtp_max_frequency" | "sms_max_frequency" | "mfa_phone_max_frequency" => {
            int_in(key, value, 0, DAY)
        }
        "rate_limit_email_sent"
        | "rate_limit_sms_sent"
        | "rate_limit_token_refresh"
        | "rate_limit_verify"
        | "rate_limit_otp"
        | "rate_limit_anonymous_users"
        | "rate_limit_sso"
        | "rate_limit_passkey" => int_in(key, value, 0, 1_000_000_000),
        "sign_in_backoff_free_attempts" => int_in(key, value, 1, 1000),
        "sign_in_backoff_max_seconds" => int_in(key, value, 0, DAY),
        "otp_max_attempts" => int_in(key, value, 1, 100),
        "jwt_signing_algorithm" => {
            crate::keys::Alg::parse(value.as_str().unwrap_or("")).map(|_| ())
        }
        "jwt_leeway" => int_in(key, value, 0, 300),
        "jwt_verify_aud" | "jwt_verify_iss" => {
            if value.is_null() {
                Ok(())
            } else {
                text(key, value, 2048)
            }
        }
        "claims_trust" => match value.as_str() {
            Some("any" | "verified") => Ok(()),
            _ => Err(AuthError::validation(
                "claims_trust must be \"any\" or \"verified\"",
            )),
        },
        "hook_custom_access_token"
        | "hook_before_user_created"
        | "hook_password_verification_attempt"
        | "hook_mfa_verification_attempt"
        | "hook_send_email"
        | "hook_send_sms" => match value {
            Value::Null => Ok(()),
            Value::String(s) => crate::hooks::HookTarget::parse(s).map(|_| ()),
            _ => Err(AuthError::validation(format!(
                "{key} must be null or a function name"
            ))),
        },
        "hook_role" => match value.as_str() {
            Some(r) if !r.is_empty() && r.len() <= 63 => Ok(()),
            _ => Err(AuthError::validation("hook_role must be a role name")),
        },
        "hook_timeout_ms" => int_in(key, value, 10, 60_000),
        "trusted_roles" | "jwt_admin_roles" | "hook_custom_access_token_roles" => {
            match value.as_array() {
                Some(roles)
                    if roles.len() <= 64
                        && roles.iter().all(|r| {
                            r.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 63)
                        }) =>
                {
                    Ok(())
                }
                _ => Err(AuthError::validation(format!(
                    "{key} must be an array of role names"
                ))),
            }
        }
        "client_ip_header" => match value {
            Value::Null => Ok(()),
            Value::String(h)
                if !h.is_empty()
                    && h.len() <= 64
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Ok(())
            }
            _ => Err(AuthError::validation(
                "client_ip_header must be null or an HTTP header name",
            )),
        },
        "client_ip_trusted_proxies" => int_in(key, value, 1, 16),
        "disable_signup"
        | "jwt_require_exp"
        | "mailer_autoconfirm"
        | "refresh_token_rotation_enabled"
        | "revocable_access_tokens"
        | "external_email_enabled"
        | "allow_unverified_email_sign_ins"
        | "mailer_secure_email_change_enabled"
        | "external_phone_enabled"
        | "external_anonymous_users_enabled"
        | "security_manual_linking_enabled"
        | "saml_enabled"
        | "mfa_totp_enroll_enabled"
        | "mfa_totp_verify_enabled"
        | "mfa_phone_enroll_enabled"
        | "mfa_phone_verify_enabled"
        | "mfa_webauthn_enroll_enabled"
        | "mfa_webauthn_verify_enabled"
        | "passkey_enabled"
        | "mfa_recovery_codes_enroll_enabled"
        | "mfa_recovery_codes_verify_enabled"
        | "sms_autoconfirm"
        | "update_password_require_reauthentication"
        | "password_breached_check"
        | "sessions_single_per_user" => {
            if value.is_boolean() {
                Ok(())
            } else {
                Err(AuthError::validation(format!(
                    "{key} must be true or false"
                )))
            }
        }
        "password_min_length" => int_in(key, value, 6, 1024),
        "refresh_token_reuse_interval" => int_in(key, value, 0, 3600),
        "audit_log_retention_days" => int_in(key, value, 0, 36_500),
        "saml_relay_state_validity_period" => int_in(key, value, 10, DAY),
        "mfa_max_enrolled_factors" => int_in(key, value, 1, 100),
        // GoTrue checks these bounds only while a switch is on; here always.
        "mfa_recovery_codes_count" => {
            int_in(key, value, rc::MIN_COUNT as i64, rc::MAX_COUNT as i64)
        }
        "mfa_recovery_codes_code_length" => {
            int_in(key, value, rc::MIN_LENGTH as i64, rc::MAX_LENGTH as i64)
        }
        "mfa_recovery_codes_max_verify_attempts" => int_in(
            key,
            value,
            rc::MIN_MAX_VERIFY_ATTEMPTS,
            rc::MAX_MAX_VERIFY_ATTEMPTS,
        ),
        "mfa_recovery_codes_lockout_duration" => {
            int_in(key, value, rc::MIN_LOCKOUT_S, rc::MAX_LOCKOUT_S)
        }
        "sessions_timebox" | "sessions_inactivity_timeout" => {
            if value.is_null() {
                Ok(())
            } else {
                int_in(key, value, 60, 3650 * DAY)
            }
        }
        // Bounds keep a sign-in between about a millisecond and a second on current hardware.
        "argon2_memory_kib" => int_in(key, value, 1024, 1_048_576),
        "argon2_iterations" => int_in(key, value, 1, 16),
        "argon2_parallelism" => int_in(key, value, 1, 16),
        _ => Err(AuthError::validation(format!(
            "unknown setting \"{}\"",
            shorten(key)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_round_trip() {
        let s = Settings::default();
        assert_eq!(Settings::from_stored(&s.to_json()).unwrap(), s);
        assert_eq!(
            Settings::from_stored(&json!({})).unwrap(),
            s,
            "missing keys take defaults"
        );
        assert_eq!(s.tokens.jwt_exp, 3600);
        assert_eq!(s.sessions.refresh_token_reuse_interval, 10);
        assert_eq!(s.argon2_cost(), Argon2Cost::default());
        // secure by default: only verified claims, tokens must expire, the rightmost proxy entry
        assert_eq!(s.trust.claims_trust, ClaimsTrust::Verified);
        assert!(s.tokens.jwt_require_exp);
        assert_eq!(s.ip_rule().header.as_deref(), Some("x-forwarded-for"));
        assert_eq!(s.ip_rule().trusted_proxies, 1);
        // stored flat; a stored key that no setting has fails the load
        assert!(s.to_json().get("jwt_exp").is_some() && s.to_json().get("tokens").is_none());
        let mut typo = s.to_json();
        typo["jwt_expiry"] = json!(60);
        assert!(Settings::from_stored(&typo).is_err());
        let any = s.apply(&json!({"claims_trust": "any"})).unwrap().settings;
        assert_eq!(any.trust.claims_trust, ClaimsTrust::Any);
    }

    #[test]
    fn apply_changes() {
        let s = Settings::default();
        let c = s
            .apply(&json!({"jwt_exp": 600, "disable_signup": true, "sessions_timebox": 86400}))
            .unwrap();
        assert_eq!(c.settings.tokens.jwt_exp, 600);
        assert!(c.settings.signup.disable_signup);
        assert_eq!(c.settings.sessions.sessions_timebox, Some(86400));
        assert!(c.jwt_secret.is_none());
        let off = c
            .settings
            .apply(&json!({"sessions_timebox": null}))
            .unwrap();
        assert_eq!(off.settings.sessions.sessions_timebox, None);
    }

    #[test]
    fn password_policy_from_settings() {
        let s = Settings::default();
        assert_eq!(
            s.password_policy(),
            PasswordPolicy {
                min_length: 8,
                required_characters: vec![],
                breached_check: false,
            }
        );
        assert!(!s.sessions.sessions_single_per_user);
        assert_eq!(s.retention.audit_log_retention_days, 90);
        let c = s
            .apply(&json!({
                "password_min_length": 12,
                "password_required_characters": "abc:0-9\\:",
                "password_breached_check": true,
                "sessions_single_per_user": true,
                "audit_log_retention_days": 0,
            }))
            .unwrap()
            .settings;
        assert_eq!(
            c.password_policy(),
            PasswordPolicy {
                min_length: 12,
                required_characters: vec!["abc".into(), "0-9:".into()],
                breached_check: true,
            }
        );
        assert!(c.sessions.sessions_single_per_user);
        assert_eq!(c.retention.audit_log_retention_days, 0);
        assert_eq!(Settings::from_stored(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn secret_is_write_only_and_bounded() {
        let s = Settings::default();
        let secret = "x".repeat(40);
        let c = s.apply(&json!({ "jwt_secret": secret })).unwrap();
        assert_eq!(c.jwt_secret.as_deref(), Some(secret.as_str()));
        assert!(!c.settings.to_json().to_string().contains(&secret));
        let e = s
            .apply(&json!({"jwt_secret": "too-short-secret"}))
            .unwrap_err();
        assert!(!e.message().contains("too-short-secret"));
        assert!(s.apply(&json!({"jwt_secret": 42})).is_err());
    }

    #[test]
    fn recovery_code_settings_have_gotrues_defaults_and_bounds() {
        let s = Settings::default();
        let m = &s.mfa;
        assert!(!m.mfa_recovery_codes_enroll_enabled && !m.mfa_recovery_codes_verify_enabled);
        assert_eq!(
            (
                m.mfa_recovery_codes_count,
                m.mfa_recovery_codes_code_length,
                m.mfa_recovery_codes_max_verify_attempts,
                m.mfa_recovery_codes_lockout_duration
            ),
            (10, 16, 5, 900)
        );
        let on = s
            .apply(&json!({
                "mfa_recovery_codes_enroll_enabled": true,
                "mfa_recovery_codes_verify_enabled": true,
                "mfa_recovery_codes_count": 16,
                "mfa_recovery_codes_code_length": 13,
                "mfa_recovery_codes_max_verify_attempts": 3,
                "mfa_recovery_codes_lockout_duration": 86_400,
            }))
            .unwrap()
            .settings;
        assert!(
            on.mfa.mfa_recovery_codes_enroll_enabled && on.mfa.mfa_recovery_codes_verify_enabled
        );
        assert_eq!(on.mfa.mfa_recovery_codes_lockout_duration, 86_400);
        assert_eq!(Settings::from_stored(&on.to_json()).unwrap(), on);
        for bad in [
            json!({"mfa_recovery_codes_enroll_enabled": "true"}),
            json!({"mfa_recovery_codes_verify_enabled": 1}),
            json!({"mfa_recovery_codes_count": 3}),
            json!({"mfa_recovery_codes_count": 17}),
            json!({"mfa_recovery_codes_code_length": 12}),
            json!({"mfa_recovery_codes_code_length": 33}),
            json!({"mfa_recovery_codes_max_verify_attempts": 2}),
            json!({"mfa_recovery_codes_max_verify_attempts": 16}),
            json!({"mfa_recovery_codes_lockout_duration": 59}),
            json!({"mfa_recovery_codes_lockout_duration": 86_401}),
            json!({"mfa_recovery_codes_lockout_duration": "15m"}),
        ] {
            let e = s.apply(&bad).unwrap_err();
            assert_eq!(e.code(), "validation_failed", "{bad}");
        }
    }

    #[test]
    fn rejects_unknown_keys_and_wrong_types() {
        let s = Settings::default();
        for bad in [
            json!({"nope": 1}),
            json!({"jwt_exp": "3600"}),
            json!({"jwt_exp": 1.5}),
            json!({"jwt_exp": 10}),
            json!({"disable_signup": "true"}),
            json!({"disable_signup": 1}),
            json!({"jwt_aud": ""}),
            json!({"password_min_length": 2}),
            json!({"refresh_token_reuse_interval": -1}),
            json!({"argon2_memory_kib": 1}),
            json!({"sessions_timebox": false}),
            json!({"jwt_signing_algorithm": "none"}),
            json!({"jwt_signing_algorithm": "HS512"}),
            json!({"claims_trust": "some"}),
            json!({"claims_trust": null}),
            json!({"jwt_require_exp": "no"}),
            json!({"client_ip_header": "x forwarded for"}),
            json!({"client_ip_header": ""}),
            json!({"client_ip_trusted_proxies": 0}),
            json!({"trusted_roles": "authenticator"}),
            json!({"trusted_roles": [1]}),
            json!({"jwt_leeway": 3600}),
            json!({"revocable_access_tokens": "yes"}),
            json!({"password_required_characters": null}),
            json!({"password_required_characters": ["abc"]}),
            json!({"password_required_characters": "x".repeat(1025)}),
            json!({"password_breached_check": 1}),
            json!({"sessions_single_per_user": "true"}),
            json!({"audit_log_retention_days": -1}),
            json!({"audit_log_retention_days": 90.5}),
            json!([1, 2]),
            json!("jwt_exp"),
        ] {
            let e = s.apply(&bad).unwrap_err();
            assert_eq!(e.code(), "validation_failed", "{bad}");
        }
    }
}
