//! The one error type of `auth_ext`.
//!
//! Every failure the extension reports is an [`AuthError`]. Each variant knows its HTTP status
//! (raised as SQLSTATE `PT<status>`, PostgREST's convention), the GoTrue error code that the
//! Supabase clients understand (sent in DETAIL) and a human message. Messages never contain
//! tokens, hashes, keys or passwords.

use std::fmt;

pub type AuthResult<T> = Result<T, AuthError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// 400 `validation_failed`: malformed or missing input.
    Validation(String),
    /// 422 `validation_failed`: input understood but not acceptable (e.g. a 2 KB password).
    Unprocessable(String),
    /// 422 `weak_password`, with the reasons (`length`, `characters`, ...).
    WeakPassword {
        message: String,
        reasons: Vec<&'static str>,
    },
    /// 422 `same_password`.
    SamePassword,
    /// 400 `invalid_credentials`: unknown email or wrong password, indistinguishably.
    InvalidCredentials,
    /// 422 `user_already_exists`.
    UserAlreadyExists,
    /// 422 `signup_disabled`.
    SignupDisabled,
    /// 400 `email_not_confirmed`.
    EmailNotConfirmed,
    /// 400 `user_banned`.
    UserBanned,
    /// 400 `refresh_token_not_found`.
    RefreshTokenNotFound,
    /// 400 `refresh_token_already_used`: reuse outside the reuse interval; the family is revoked.
    RefreshTokenAlreadyUsed,
    /// 400 `session_expired`: timebox, inactivity timeout or `not_after` passed.
    SessionExpired,
    /// 400 `session_expired`: a newer sign-in ended the session (`sessions_single_per_user`).
    SessionEndedByNewerLogin,
    /// 403 `session_not_found`: the session named by the claims no longer exists.
    SessionNotFound,
    /// 403 `user_not_found`: the user named by the claims no longer exists.
    UserNotFound,
    /// 401 `no_authorization`: the call needs an authenticated user and there is none.
    NoAuthorization,
    /// 401 `bad_jwt`: a token or a claims setting failed a check; the message says which.
    BadJwt(String),
    /// 403 `not_admin`.
    NotAdmin,
    /// 404 `user_not_found`: the admin API's user (by id or email) does not exist.
    AdminUserNotFound(&'static str),
    /// 404 `validation_failed`: an id in the path that is no UUID (GoTrue's 404).
    BadPathId(&'static str),
    /// 422 `anonymous_provider_disabled`.
    AnonymousProviderDisabled,
    /// A hook refused, failed or answered out of contract: its status, GoTrue's code and the
    /// hook's own message (never "Database error").
    Hook {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// The social-login and SSO flows' refusals (src/external/): GoTrue's status, code and
    /// message for each (`bad_oauth_state`, `provider_disabled`, `identity_already_exists`, ...),
    /// and likewise MFA's (`mfa_*`, `too_many_enrolled_mfa_factors`, `insufficient_aal`),
    /// built by the constructors below so that each code is written in one place.
    External {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// 409 `conflict`: concurrent requests on the same rows could not be serialised.
    Conflict,
    /// 403 `otp_expired`: a one-time code or link that is wrong, used, expired or dead after too
    /// many wrong codes, indistinguishably.
    OtpExpired,
    /// 403 `otp_expired`, as a link says it (`GET /verify`).
    LinkExpired,
    /// 429 `over_email_send_rate_limit`: `Some(seconds)` until this user may get this mail again,
    /// `None` when the instance's hourly limit is reached.
    OverEmailSendRateLimit(Option<i64>),
    /// 429 `over_sms_send_rate_limit`, as above for SMS.
    OverSmsSendRateLimit(Option<i64>),
    /// 429 `over_request_rate_limit`: a per-IP limit or the per-account sign-in backoff; the
    /// seconds until a retry can pass.
    OverRequestRateLimit(i64),
    /// 422 `otp_disabled`: a code for an unknown address with `create_user` false.
    OtpDisabled,
    /// `email_provider_disabled` / `phone_provider_disabled` (422 for sign-ups, 400 for logins).
    ProviderDisabled { email: bool, signup: bool },
    /// 422 `email_exists`.
    EmailExists,
    /// 422 `phone_exists`.
    PhoneExists,
    /// 400 `phone_not_confirmed`.
    PhoneNotConfirmed,
    /// 404 `flow_state_not_found`: an unknown or used PKCE auth code.
    FlowStateNotFound,
    /// 422 `flow_state_expired`.
    FlowStateExpired,
    /// 403 `bad_code_verifier`.
    BadCodeVerifier,
    /// 400 `reauthentication_needed`: a password change without the nonce.
    ReauthenticationNeeded,
    /// 400 `reauthentication_not_valid`: a wrong or expired nonce.
    ReauthenticationNotValid,
    /// 503 `unexpected_failure` when the database refuses writes (a read-only standby).
    ReadOnly,
    /// 500 `unexpected_failure`: a bug or an unexpected database error; details go nowhere.
    Internal,
}

impl AuthError {
    pub fn validation(msg: impl Into<String>) -> Self {
        AuthError::Validation(msg.into())
    }

    pub fn bad_jwt(msg: impl Into<String>) -> Self {
        AuthError::BadJwt(msg.into())
    }

    fn external(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        AuthError::External {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `bad_oidc_token`: an ID token that fails a check; the message says which.
    pub fn bad_oidc_token(msg: &str) -> Self {
        Self::external(400, "bad_oidc_token", format!("Bad ID token: {msg}"))
    }

    /// 400 `bad_oauth_state`: a `state` that is unknown, used, expired or forged.
    pub fn bad_oauth_state() -> Self {
        Self::external(
            400,
            "bad_oauth_state",
            "OAuth state is invalid or has expired",
        )
    }

    /// 400 `bad_oauth_callback`: the provider's answer could not be used; the message says why.
    pub fn bad_oauth_callback(msg: impl Into<String>) -> Self {
        Self::external(400, "bad_oauth_callback", msg)
    }

    /// 400 `validation_failed`: a provider name auth_ext does not know or is not configured.
    pub fn provider_not_supported() -> Self {
        Self::external(
            400,
            "validation_failed",
            "Unsupported provider: provider is not configured",
        )
    }

    /// 400 `provider_disabled`.
    pub fn provider_disabled(provider: &str) -> Self {
        Self::external(
            400,
            "provider_disabled",
            format!("Unsupported provider: {provider} is disabled"),
        )
    }

    /// 404 `manual_linking_disabled`.
    pub fn manual_linking_disabled() -> Self {
        Self::external(404, "manual_linking_disabled", "Manual linking is disabled")
    }

    /// 422 `identity_already_exists`.
    pub fn identity_already_exists() -> Self {
        Self::external(
            422,
            "identity_already_exists",
            "Identity is already linked to another user",
        )
    }

    /// 422 `provider_email_needs_verification`: the provider did not verify an address another
    /// user holds; there is nothing to confirm (GoTrue's second wording).
    pub fn provider_email_unverified(provider: &str) -> Self {
        Self::external(
            422,
            "provider_email_needs_verification",
            format!("Unverified email with {provider}. Verify the email with {provider} in order to sign in"),
        )
    }

    /// 422 `identity_already_exists`: linkIdentity of an identity the caller already has.
    pub fn identity_already_linked_here() -> Self {
        Self::external(422, "identity_already_exists", "Identity is already linked")
    }

    /// 422 `identity_not_found`.
    pub fn identity_not_found() -> Self {
        Self::external(422, "identity_not_found", "Identity doesn't exist")
    }

    /// 422 `single_identity_not_deletable`.
    pub fn single_identity_not_deletable() -> Self {
        Self::external(
            422,
            "single_identity_not_deletable",
            "User must have at least 1 identity after unlinking",
        )
    }

    /// 422 `provider_email_needs_verification`: a new user whose provider did not verify the
    /// address; a confirmation mail was queued.
    pub fn provider_email_needs_verification(provider: &str) -> Self {
        Self::external(
            422,
            "provider_email_needs_verification",
            format!("Unverified email with {provider}. A confirmation email has been sent to your {provider} email"),
        )
    }

    /// 400 `saml_assertion_no_user_id`: neither a `subject-id` attribute nor a persistent
    /// NameID names the user.
    pub fn saml_assertion_no_user_id() -> Self {
        Self::external(
            400,
            "saml_assertion_no_user_id",
            "SAML Assertion did not contain a persistent Subject Identifier attribute or Subject NameID uniquely identifying this user",
        )
    }

    /// 400 `saml_assertion_no_email`: no valid email address in the mapping, the usual
    /// attributes or an emailAddress NameID.
    pub fn saml_assertion_no_email() -> Self {
        Self::external(
            400,
            "saml_assertion_no_email",
            "SAML Assertion does not contain an email address",
        )
    }

    /// 404 `saml_provider_disabled`: SAML is off (`saml_enabled`); every SSO route says so.
    pub fn saml_disabled() -> Self {
        Self::external(404, "saml_provider_disabled", "SAML 2.0 is disabled")
    }

    /// 404 `sso_provider_not_found`: no provider by that id, or for that domain (`/sso`).
    pub fn sso_provider_not_found() -> Self {
        Self::external(
            404,
            "sso_provider_not_found",
            "No SSO provider assigned for this domain",
        )
    }

    /// 404 `sso_provider_not_found`: the admin API's answer for an unknown provider id.
    pub fn sso_admin_provider_not_found() -> Self {
        Self::external(
            404,
            "sso_provider_not_found",
            "SSO Identity Provider not found",
        )
    }

    /// 404 `sso_provider_disabled`: the provider is turned off.
    pub fn sso_provider_disabled() -> Self {
        Self::external(
            404,
            "sso_provider_disabled",
            "SSO Provider assigned for this domain is currently disabled",
        )
    }

    /// 404 `saml_relay_state_not_found`: the ACS got a relay state nobody issued, or one spent.
    pub fn saml_relay_state_not_found() -> Self {
        Self::external(
            404,
            "saml_relay_state_not_found",
            "SAML RelayState does not exist, try logging in again?",
        )
    }

    /// 422 `saml_relay_state_expired`: the IdP answered after the relay state's validity.
    pub fn saml_relay_state_expired() -> Self {
        Self::external(
            422,
            "saml_relay_state_expired",
            "SAML RelayState has expired. Try logging in again?",
        )
    }

    /// 404 `saml_idp_not_found`: an IdP-initiated response from an issuer no provider has.
    pub fn saml_idp_not_found() -> Self {
        Self::external(
            404,
            "saml_idp_not_found",
            "A SAML connection has not been established with this Identity Provider",
        )
    }

    /// 422 `saml_idp_already_exists`: a provider with this entity ID exists.
    pub fn saml_idp_already_exists(entity_id: &str) -> Self {
        Self::external(
            422,
            "saml_idp_already_exists",
            format!("SAML Identity Provider with this EntityID ({entity_id}) already exists"),
        )
    }

    /// 400 `sso_domain_already_exists`: the domain belongs to another provider.
    pub fn sso_domain_already_exists(domain: &str, owner: &str) -> Self {
        Self::external(
            400,
            "sso_domain_already_exists",
            format!(
                "SSO Domain '{domain}' is already assigned to an SSO identity provider ({owner})"
            ),
        )
    }

    /// 400 `saml_entity_id_mismatch`: an update with another IdP's metadata.
    pub fn saml_entity_id_mismatch(expected: &str, got: &str) -> Self {
        Self::external(
            400,
            "saml_entity_id_mismatch",
            format!("SAML Metadata can be updated only if the EntityID matches for the provider; expected '{expected}' but got '{got}'"),
        )
    }

    /// 422 `user_sso_managed`: an SSO user changing what its IdP manages.
    pub fn user_sso_managed() -> Self {
        Self::external(
            422,
            "user_sso_managed",
            "Updating email, phone, password of a SSO account only possible via SSO",
        )
    }

    /// 404 `mfa_factor_not_found`: no factor of this user has the id in the path.
    pub fn mfa_factor_not_found() -> Self {
        Self::external(404, "mfa_factor_not_found", "Factor not found")
    }

    /// 422 `mfa_factor_not_found`: the factor has no challenge with this id (GoTrue's code and
    /// status for an unknown or deleted challenge).
    pub fn mfa_challenge_not_found() -> Self {
        Self::external(
            422,
            "mfa_factor_not_found",
            "MFA factor with the provided challenge ID not found",
        )
    }

    /// 422 `mfa_challenge_expired`: the challenge is older than its lifetime (and is deleted).
    pub fn mfa_challenge_expired(challenge_id: &str) -> Self {
        Self::external(
            422,
            "mfa_challenge_expired",
            format!("MFA challenge {challenge_id} has expired, verify against another challenge or create a new challenge."),
        )
    }

    /// 422 `mfa_ip_address_mismatch`: verified from another IP address than the challenge was
    /// made from, or a challenge already verified (GoTrue says the same for both).
    pub fn mfa_ip_address_mismatch() -> Self {
        Self::external(
            422,
            "mfa_ip_address_mismatch",
            "Challenge and verify IP addresses mismatch.",
        )
    }

    /// 422 `mfa_verification_failed`: a wrong (or malformed, or replayed) TOTP code.
    pub fn mfa_verification_failed() -> Self {
        Self::external(422, "mfa_verification_failed", "Invalid TOTP code entered")
    }

    /// 422 `mfa_verification_failed`: a wrong phone factor code.
    pub fn mfa_phone_verification_failed() -> Self {
        Self::external(
            422,
            "mfa_verification_failed",
            "Invalid MFA Phone code entered",
        )
    }

    /// 403 `mfa_verification_rejected`: the MFA verification attempt hook said `reject`; its
    /// message, or GoTrue's default when it gave none.
    pub fn mfa_verification_rejected(hook_message: Option<&str>) -> Self {
        Self::external(
            403,
            "mfa_verification_rejected",
            hook_message
                .filter(|m| !m.is_empty())
                .unwrap_or("Further MFA verification attempts will be rejected."),
        )
    }

    /// 422 `too_many_enrolled_mfa_factors`: GoTrue's one message for both of its limits (all
    /// factors, verified factors).
    pub fn too_many_enrolled_mfa_factors() -> Self {
        Self::external(
            422,
            "too_many_enrolled_mfa_factors",
            "Maximum number of verified factors reached, unenroll to continue",
        )
    }

    /// 422 `mfa_factor_name_conflict`: the user has a factor of this friendly name; the name is
    /// quoted as Go's `%q` quotes it.
    pub fn mfa_factor_name_conflict(friendly_name: &str) -> Self {
        Self::external(
            422,
            "mfa_factor_name_conflict",
            format!(
                "A factor with the friendly name {} for this user already exists",
                go_quote(friendly_name)
            ),
        )
    }

    /// 401 `insufficient_aal`: an email or password change by an `aal1` session of a user with
    /// a verified factor.
    pub fn insufficient_aal() -> Self {
        Self::external(
            401,
            "insufficient_aal",
            "AAL2 session is required to update email or password when MFA is enabled.",
        )
    }

    /// 403 `insufficient_aal`: enrolling another factor from an `aal1` session while the user
    /// has a verified one.
    pub fn insufficient_aal_to_enroll() -> Self {
        Self::external(
            403,
            "insufficient_aal",
            "AAL2 required to enroll a new factor",
        )
    }

    /// 422 `insufficient_aal`: unenrolling a verified factor from an `aal1` session.
    pub fn insufficient_aal_to_unenroll() -> Self {
        Self::external(
            422,
            "insufficient_aal",
            "AAL2 required to unenroll verified factor",
        )
    }

    /// 422 `mfa_totp_enroll_not_enabled`.
    pub fn mfa_totp_enroll_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_totp_enroll_not_enabled",
            "MFA enroll is disabled for TOTP",
        )
    }

    /// 422 `mfa_totp_verify_not_enabled` (challenge and verify alike).
    pub fn mfa_totp_verify_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_totp_verify_not_enabled",
            "MFA verification is disabled for TOTP",
        )
    }

    /// 422 `mfa_phone_verify_not_enabled` (challenge and verify alike).
    pub fn mfa_phone_verify_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_phone_verify_not_enabled",
            "MFA verification is disabled for Phone",
        )
    }

    /// 422 `mfa_verified_factor_exists`: a phone factor of this number is verified already.
    pub fn mfa_verified_phone_factor_exists() -> Self {
        Self::external(
            422,
            "mfa_verified_factor_exists",
            "A verified phone factor already exists, unenroll the existing factor to continue",
        )
    }

    /// 422 `mfa_phone_enroll_not_enabled` (off by default, as GoTrue's).
    pub fn mfa_phone_enroll_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_phone_enroll_not_enabled",
            "MFA enroll is disabled for Phone",
        )
    }

    /// 422 `mfa_webauthn_verify_not_enabled` (challenges; GoTrue's verify answers with the
    /// enroll code, [`Self::mfa_webauthn_verify_disabled_at_verify`]).
    pub fn mfa_webauthn_verify_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_webauthn_verify_not_enabled",
            "MFA verification is disabled for WebAuthn",
        )
    }

    /// 422 `mfa_webauthn_enroll_not_enabled` "MFA verification is disabled for WebAuthn": what
    /// GoTrue's verify answers when WebAuthn verification is off (its code, kept for clients
    /// that look for it).
    pub fn mfa_webauthn_verify_disabled_at_verify() -> Self {
        Self::external(
            422,
            "mfa_webauthn_enroll_not_enabled",
            "MFA verification is disabled for WebAuthn",
        )
    }

    /// 403 `no_authorization`: an anonymous user at an endpoint GoTrue keeps from them.
    pub fn anonymous_not_allowed() -> Self {
        Self::external(
            403,
            "no_authorization",
            "Anonymous user not allowed to perform these actions",
        )
    }

    /// 404 `passkey_disabled`: the `/passkeys` API is off (the default).
    pub fn passkey_disabled() -> Self {
        Self::external(404, "passkey_disabled", "Passkeys are disabled")
    }

    /// 422 `too_many_passkeys`.
    pub fn too_many_passkeys() -> Self {
        Self::external(
            422,
            "too_many_passkeys",
            "Maximum number of passkeys reached",
        )
    }

    /// 400 `webauthn_challenge_not_found`: unknown, used, or of another ceremony or user.
    pub fn webauthn_challenge_not_found() -> Self {
        Self::external(
            400,
            "webauthn_challenge_not_found",
            "Challenge not found or already used",
        )
    }

    /// 400 `webauthn_challenge_expired`.
    pub fn webauthn_challenge_expired() -> Self {
        Self::external(400, "webauthn_challenge_expired", "Challenge has expired")
    }

    /// 422 `webauthn_credential_exists`: the authenticator registered this credential before.
    pub fn webauthn_credential_exists() -> Self {
        Self::external(
            422,
            "webauthn_credential_exists",
            "This credential is already registered",
        )
    }

    /// 404 `validation_failed` "Passkey not found" (GoTrue's code and status).
    pub fn passkey_not_found() -> Self {
        Self::external(404, "validation_failed", "Passkey not found")
    }

    /// 403 `insufficient_aal`: managing passkeys from an aal1 session of a user with MFA.
    pub fn insufficient_aal_for_passkeys() -> Self {
        Self::external(
            403,
            "insufficient_aal",
            "AAL2 session is required to manage passkeys when MFA is enabled",
        )
    }

    /// 422 `mfa_webauthn_enroll_not_enabled` (off by default, as GoTrue's).
    pub fn mfa_webauthn_enroll_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_webauthn_enroll_not_enabled",
            "MFA enroll is disabled for WebAuthn",
        )
    }

    /// 400 `webauthn_verification_failed`: a WebAuthn credential that fails a check (origin, RP
    /// ID, challenge, signature, flags, an unknown credential or user handle).
    pub fn webauthn_verification_failed() -> Self {
        Self::external(
            400,
            "webauthn_verification_failed",
            "Credential verification failed",
        )
    }

    /// 400 `webauthn_verification_failed`: a passkey response that is no credential at all
    /// (not JSON, too large, undecodable fields).
    pub fn webauthn_invalid_credential_response() -> Self {
        Self::external(
            400,
            "webauthn_verification_failed",
            "Invalid credential response",
        )
    }

    /// 400 `webauthn_verification_failed`: a valid signature whose counter did not increase past
    /// the stored one, the sign of a cloned authenticator (GoTrue only flags it; auth_ext
    /// refuses).
    pub fn webauthn_sign_count_regressed() -> Self {
        Self::external(
            400,
            "webauthn_verification_failed",
            "Credential verification failed: the authenticator's signature counter did not \
             increase, it may be cloned",
        )
    }

    /// 422 `mfa_verification_failed`: a wrong or used recovery code, or none enrolled (GoTrue
    /// answers the three alike).
    pub fn mfa_recovery_code_verification_failed() -> Self {
        Self::external(
            422,
            "mfa_verification_failed",
            "Invalid recovery code entered",
        )
    }

    /// 429 `mfa_recovery_codes_locked`: too many failed recovery codes; verification is locked
    /// for a while (regenerating the codes unlocks it).
    pub fn mfa_recovery_codes_locked() -> Self {
        Self::external(
            429,
            "mfa_recovery_codes_locked",
            "Too many failed verification attempts, try again later",
        )
    }

    /// 404 `mfa_factor_not_found`: the user has no recovery codes (status, regenerate, delete).
    pub fn mfa_recovery_codes_not_enrolled() -> Self {
        Self::external(
            404,
            "mfa_factor_not_found",
            "The user has not enrolled recovery codes",
        )
    }

    /// 422 `mfa_verified_factor_exists`: generating a second set of recovery codes.
    pub fn mfa_recovery_codes_already_enrolled() -> Self {
        Self::external(
            422,
            "mfa_verified_factor_exists",
            "Recovery codes are already enrolled for this user, use regenerate to rotate them",
        )
    }

    /// 422 `mfa_recovery_codes_sole_factor`: generating recovery codes without another verified
    /// factor whose verification is enabled.
    pub fn mfa_recovery_codes_sole_factor() -> Self {
        Self::external(
            422,
            "mfa_recovery_codes_sole_factor",
            "At least one other verified factor is required to generate recovery codes",
        )
    }

    /// 422 `mfa_recovery_codes_sole_factor`: unenrolling the last other usable verified factor
    /// of a user who has recovery codes.
    pub fn mfa_recovery_codes_last_other_factor() -> Self {
        Self::external(
            422,
            "mfa_recovery_codes_sole_factor",
            "Recovery codes cannot be the only verified factor. Please enroll another factor \
             before unenrolling this one or delete your recovery codes.",
        )
    }

    /// 422 `validation_failed`: `DELETE /factors/{id}` of the recovery-code factor.
    pub fn mfa_recovery_codes_unenroll_elsewhere() -> Self {
        AuthError::Unprocessable(
            "Recovery codes cannot be unenrolled with this endpoint, use DELETE \
             /factors/recovery-codes"
                .into(),
        )
    }

    /// 422 `mfa_recovery_codes_enroll_not_enabled` (generate and regenerate; off by default, as
    /// GoTrue's).
    pub fn mfa_recovery_codes_enroll_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_recovery_codes_enroll_not_enabled",
            "MFA enroll is disabled for recovery codes",
        )
    }

    /// 422 `mfa_recovery_codes_verify_not_enabled`.
    pub fn mfa_recovery_codes_verify_not_enabled() -> Self {
        Self::external(
            422,
            "mfa_recovery_codes_verify_not_enabled",
            "MFA verification is disabled for recovery codes",
        )
    }

    /// 403 `insufficient_aal`: generating, regenerating or deleting recovery codes (`action`:
    /// `generate`, `regenerate`, `delete`) from an `aal1` session.
    pub fn insufficient_aal_for_recovery_codes(action: &str) -> Self {
        Self::external(
            403,
            "insufficient_aal",
            format!("AAL2 required to {action} recovery codes"),
        )
    }

    /// The HTTP status; the SQLSTATE is `PT` followed by it.
    pub fn status(&self) -> u16 {
        use AuthError::*;
        match self {
            Validation(_)
            | InvalidCredentials
            | EmailNotConfirmed
            | UserBanned
            | RefreshTokenNotFound
            | RefreshTokenAlreadyUsed
            | SessionExpired
            | SessionEndedByNewerLogin
            | PhoneNotConfirmed
            | ReauthenticationNeeded
            | ReauthenticationNotValid => 400,
            ProviderDisabled { signup: false, .. } => 400,
            ProviderDisabled { signup: true, .. } => 422,
            OtpExpired | LinkExpired | BadCodeVerifier => 403,
            FlowStateNotFound | AdminUserNotFound(_) | BadPathId(_) => 404,
            OverEmailSendRateLimit(_) | OverSmsSendRateLimit(_) | OverRequestRateLimit(_) => 429,
            NoAuthorization | BadJwt(_) => 401,
            SessionNotFound | UserNotFound | NotAdmin => 403,
            Conflict => 409,
            Unprocessable(_)
            | WeakPassword { .. }
            | SamePassword
            | UserAlreadyExists
            | SignupDisabled
            | OtpDisabled
            | EmailExists
            | PhoneExists
            | FlowStateExpired
            | AnonymousProviderDisabled => 422,
            Internal => 500,
            ReadOnly => 503,
            Hook { status, .. } | External { status, .. } => *status,
        }
    }

    pub fn sqlstate(&self) -> String {
        format!("PT{}", self.status())
    }

    /// The GoTrue error code, sent in DETAIL.
    pub fn code(&self) -> &'static str {
        use AuthError::*;
        match self {
            Validation(_) | Unprocessable(_) => "validation_failed",
            WeakPassword { .. } => "weak_password",
            SamePassword => "same_password",
            InvalidCredentials => "invalid_credentials",
            UserAlreadyExists => "user_already_exists",
            SignupDisabled => "signup_disabled",
            EmailNotConfirmed => "email_not_confirmed",
            UserBanned => "user_banned",
            RefreshTokenNotFound => "refresh_token_not_found",
            RefreshTokenAlreadyUsed => "refresh_token_already_used",
            SessionExpired | SessionEndedByNewerLogin => "session_expired",
            SessionNotFound => "session_not_found",
            UserNotFound => "user_not_found",
            NoAuthorization => "no_authorization",
            BadJwt(_) => "bad_jwt",
            NotAdmin => "not_admin",
            AdminUserNotFound(_) => "user_not_found",
            BadPathId(_) => "validation_failed",
            AnonymousProviderDisabled => "anonymous_provider_disabled",
            Conflict => "conflict",
            OtpExpired | LinkExpired => "otp_expired",
            OverEmailSendRateLimit(_) => "over_email_send_rate_limit",
            OverSmsSendRateLimit(_) => "over_sms_send_rate_limit",
            OverRequestRateLimit(_) => "over_request_rate_limit",
            OtpDisabled => "otp_disabled",
            ProviderDisabled { email: true, .. } => "email_provider_disabled",
            ProviderDisabled { email: false, .. } => "phone_provider_disabled",
            EmailExists => "email_exists",
            PhoneExists => "phone_exists",
            PhoneNotConfirmed => "phone_not_confirmed",
            FlowStateNotFound => "flow_state_not_found",
            FlowStateExpired => "flow_state_expired",
            BadCodeVerifier => "bad_code_verifier",
            ReauthenticationNeeded => "reauthentication_needed",
            ReauthenticationNotValid => "reauthentication_not_valid",
            ReadOnly | Internal => "unexpected_failure",
            Hook { code, .. } | External { code, .. } => code,
        }
    }

    pub fn message(&self) -> String {
        use AuthError::*;
        match self {
            Validation(m) | Unprocessable(m) => m.clone(),
            WeakPassword { message, .. } => message.clone(),
            SamePassword => "New password should be different from the old password.".into(),
            InvalidCredentials => "Invalid login credentials".into(),
            UserAlreadyExists => "User already registered".into(),
            SignupDisabled => "Signups not allowed for this instance".into(),
            EmailNotConfirmed => "Email not confirmed".into(),
            UserBanned => "User is banned".into(),
            RefreshTokenNotFound => "Invalid Refresh Token: Refresh Token Not Found".into(),
            RefreshTokenAlreadyUsed => "Invalid Refresh Token: Already Used".into(),
            SessionExpired => "Invalid Refresh Token: Session Expired".into(),
            SessionEndedByNewerLogin => {
                "Invalid Refresh Token: Session Expired (Revoked by Newer Login)".into()
            }
            SessionNotFound => "Session from session_id claim in JWT does not exist".into(),
            UserNotFound => "User from sub claim in JWT does not exist".into(),
            NoAuthorization => "This endpoint requires a valid Bearer token".into(),
            BadJwt(m) => format!("invalid JWT: {m}"),
            NotAdmin => "User not allowed".into(),
            AdminUserNotFound(m) => (*m).into(),
            BadPathId(field) => format!("{field} must be an UUID"),
            AnonymousProviderDisabled => "Anonymous sign-ins are disabled".into(),
            Conflict => {
                "Concurrent requests on the same session could not be serialised; retry".into()
            }
            OtpExpired => "Token has expired or is invalid".into(),
            LinkExpired => "Email link is invalid or has expired".into(),
            OverEmailSendRateLimit(Some(n)) | OverSmsSendRateLimit(Some(n)) => {
                format!("For security purposes, you can only request this after {n} seconds.")
            }
            OverEmailSendRateLimit(None) => "Email rate limit exceeded".into(),
            OverSmsSendRateLimit(None) => "SMS rate limit exceeded".into(),
            OverRequestRateLimit(_) => "Request rate limit reached".into(),
            OtpDisabled => "Signups not allowed for otp".into(),
            ProviderDisabled { email, signup } => format!(
                "{} {} are disabled",
                if *email { "Email" } else { "Phone" },
                if *signup { "signups" } else { "logins" }
            ),
            EmailExists => "A user with this email address has already been registered".into(),
            PhoneExists => "A user with this phone number has already been registered".into(),
            PhoneNotConfirmed => "Phone not confirmed".into(),
            FlowStateNotFound => "invalid flow state, no valid flow state found".into(),
            FlowStateExpired => "invalid flow state, flow state has expired".into(),
            BadCodeVerifier => {
                "code challenge does not match previously saved code verifier".into()
            }
            ReauthenticationNeeded => "Password update requires reauthentication".into(),
            ReauthenticationNotValid => "Requires reauthentication".into(),
            ReadOnly => "auth_ext cannot write here: the database is read-only".into(),
            Internal => "Unexpected failure in auth_ext".into(),
            Hook { message, .. } | External { message, .. } => message.clone(),
        }
    }

    /// HINT: the weak-password reasons as a JSON array, as GoTrue's `weak_password.reasons`;
    /// for a rate limit, `{"retry_after": seconds}` (the shim's `Retry-After`).
    pub fn hint(&self) -> Option<String> {
        match self {
            AuthError::WeakPassword { reasons, .. } => {
                Some(serde_json::to_string(reasons).expect("a list of strings serialises"))
            }
            AuthError::OverRequestRateLimit(s)
            | AuthError::OverEmailSendRateLimit(Some(s))
            | AuthError::OverSmsSendRateLimit(Some(s)) => {
                Some(format!("{{\"retry_after\":{}}}", (*s).max(1)))
            }
            _ => None,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.sqlstate(),
            self.code(),
            self.message()
        )
    }
}

impl std::error::Error for AuthError {}

/// A string as Go's `%q` (`strconv.Quote`) writes it: in double quotes, with `"` and `\`
/// escaped and control characters as escape sequences.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_five_characters_starting_with_pt() {
        for e in [
            AuthError::validation("x"),
            AuthError::InvalidCredentials,
            AuthError::BadJwt("x".into()),
            AuthError::SessionNotFound,
            AuthError::Conflict,
            AuthError::UserAlreadyExists,
            AuthError::Internal,
            AuthError::ReadOnly,
        ] {
            let s = e.sqlstate();
            assert_eq!(s.len(), 5, "{s}");
            assert!(s.starts_with("PT"));
        }
    }

    #[test]
    fn a_session_ended_by_a_newer_login_says_so_in_gotrue_words() {
        let e = AuthError::SessionEndedByNewerLogin;
        assert_eq!((e.status(), e.code()), (400, "session_expired"));
        assert_eq!(
            e.message(),
            "Invalid Refresh Token: Session Expired (Revoked by Newer Login)"
        );
    }

    #[test]
    fn weak_password_hint_is_a_json_array() {
        let e = AuthError::WeakPassword {
            message: "too short".into(),
            reasons: vec!["length"],
        };
        assert_eq!(e.hint().as_deref(), Some(r#"["length"]"#));
        assert_eq!(e.status(), 422);
        assert_eq!(e.code(), "weak_password");
    }
    #[test]
    fn mfa_errors_carry_gotrue_statuses_codes_and_messages() {
        let cases: [(AuthError, u16, &str, &str); 14] = [
            (AuthError::mfa_factor_not_found(), 404, "mfa_factor_not_found", "Factor not found"),
            (
                AuthError::mfa_challenge_not_found(),
                422,
                "mfa_factor_not_found",
                "MFA factor with the provided challenge ID not found",
            ),
            (
                AuthError::mfa_challenge_expired("c0ffee"),
                422,
                "mfa_challenge_expired",
                "MFA challenge c0ffee has expired, verify against another challenge or create a new challenge.",
            ),
            (
                AuthError::mfa_ip_address_mismatch(),
                422,
                "mfa_ip_address_mismatch",
                "Challenge and verify IP addresses mismatch.",
            ),
            (
                AuthError::mfa_verification_failed(),
                422,
                "mfa_verification_failed",
                "Invalid TOTP code entered",
            ),
            (
                AuthError::mfa_verification_rejected(None),
                403,
                "mfa_verification_rejected",
                "Further MFA verification attempts will be rejected.",
            ),
            (
                AuthError::mfa_verification_rejected(Some("locked")),
                403,
                "mfa_verification_rejected",
                "locked",
            ),
            (
                AuthError::too_many_enrolled_mfa_factors(),
                422,
                "too_many_enrolled_mfa_factors",
                "Maximum number of verified factors reached, unenroll to continue",
            ),
            (
                AuthError::mfa_factor_name_conflict("My \"key\""),
                422,
                "mfa_factor_name_conflict",
                r#"A factor with the friendly name "My \"key\"" for this user already exists"#,
            ),
            (
                AuthError::insufficient_aal(),
                401,
                "insufficient_aal",
                "AAL2 session is required to update email or password when MFA is enabled.",
            ),
            (
                AuthError::insufficient_aal_to_enroll(),
                403,
                "insufficient_aal",
                "AAL2 required to enroll a new factor",
            ),
            (
                AuthError::insufficient_aal_to_unenroll(),
                422,
                "insufficient_aal",
                "AAL2 required to unenroll verified factor",
            ),
            (
                AuthError::mfa_totp_enroll_not_enabled(),
                422,
                "mfa_totp_enroll_not_enabled",
                "MFA enroll is disabled for TOTP",
            ),
            (
                AuthError::mfa_totp_verify_not_enabled(),
                422,
                "mfa_totp_verify_not_enabled",
                "MFA verification is disabled for TOTP",
            ),
        ];
        for (e, status, code, message) in cases {
            assert_eq!(
                (e.status(), e.code(), e.message().as_str()),
                (status, code, message)
            );
        }
        assert_eq!(
            AuthError::mfa_verification_rejected(Some("")).message(),
            "Further MFA verification attempts will be rejected."
        );
        assert_eq!(
            AuthError::mfa_phone_enroll_not_enabled().code(),
            "mfa_phone_enroll_not_enabled"
        );
        assert_eq!(AuthError::mfa_webauthn_enroll_not_enabled().status(), 422);
    }

    #[test]
    fn mfa_name_conflict_quotes_as_go_does() {
        assert_eq!(go_quote(""), r#""""#);
        assert_eq!(go_quote(r"a\b"), r#""a\\b""#);
        assert_eq!(go_quote("tab\there\u{1}"), r#""tab\there\x01""#);
        assert_eq!(go_quote("clé \u{85}"), r#""clé \u0085""#);
    }
}
