-- auth_ext schema: Supabase-shaped tables in `auth`, plus the private tables of the extension.
-- Runs first (bootstrap), before the functions that pgrx generates.

-- Tokens, emails and claims are UTF-8 throughout; in another database encoding every non-ASCII
-- argument would fail deep inside a call, so refuse to install instead.
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'auth_ext requires a UTF8 database (this one is %)', pg_catalog.getdatabaseencoding()
            USING ERRCODE = 'PT400', DETAIL = 'validation_failed';
    END IF;
END
$encoding$;

-- Roles are cluster-wide: create them only when missing, and never drop them.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        -- As in Supabase: the service key's role sees every row.
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
END
$roles$;

CREATE SCHEMA IF NOT EXISTS auth;
-- The schema PostgREST exposes (db-schemas = "public, auth_api"); `auth` itself stays private.
-- Thin SECURITY INVOKER wrappers, created by each capability's api.sql: the rights are those of
-- the auth.* functions they call.
CREATE SCHEMA auth_api;

CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');

CREATE TABLE auth.users (
    instance_id uuid,
    id uuid NOT NULL PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    phone text DEFAULT NULL,
    phone_confirmed_at timestamptz,
    phone_change text DEFAULT '',
    phone_change_token varchar(255) DEFAULT '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current varchar(255) DEFAULT '',
    email_change_confirm_status smallint DEFAULT 0 CHECK (email_change_confirm_status BETWEEN 0 AND 2),
    banned_until timestamptz,
    reauthentication_token varchar(255) DEFAULT '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE auth.users IS 'Auth: stores user login data within a secure schema.';
-- Emails are stored lower-cased by auth_ext; the index makes them unique case-insensitively even
-- for rows inserted by other tools.
CREATE UNIQUE INDEX users_email_partial_key ON auth.users (lower(email)) WHERE (is_sso_user = false);
CREATE INDEX users_is_anonymous_idx ON auth.users (is_anonymous);
CREATE UNIQUE INDEX users_phone_key ON auth.users (phone);

CREATE TABLE auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamptz,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX identities_email_idx ON auth.identities (email text_pattern_ops);

CREATE TABLE auth.sessions (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp without time zone,
    user_agent text,
    ip inet,
    tag text
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX user_id_created_at_idx ON auth.sessions (user_id, created_at);
CREATE INDEX sessions_not_after_idx ON auth.sessions (not_after DESC);

-- `token` holds the hex SHA-256 of the refresh token, never the token (Supabase stores it in
-- clear); `parent` likewise holds the parent's hash.
CREATE TABLE auth.refresh_tokens (
    instance_id uuid,
    id bigserial PRIMARY KEY,
    token varchar(255),
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    parent varchar(255),
    session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_token_unique UNIQUE (token)
);
-- Indexes serve the queries auth_ext runs. Supabase's indexes on instance_id, (instance_id,
-- user_id) and parent (here and on users and audit_log_entries) serve GoTrue's multi-instance
-- queries; with one instance every row has the same instance_id and nothing looks tokens up by
-- parent, while each index costs every refresh a write (two for the old token's update).
CREATE INDEX refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX refresh_tokens_updated_at_idx ON auth.refresh_tokens (updated_at DESC);

CREATE TABLE auth.audit_log_entries (
    instance_id uuid,
    id uuid NOT NULL PRIMARY KEY,
    payload json,
    created_at timestamptz,
    ip_address varchar(64) NOT NULL DEFAULT ''
);
-- auth.cleanup() deletes entries past the retention by age, in batches; without this index each
-- batch would read the whole log. Entries arrive in time order, so its inserts go to the
-- rightmost leaf (unlike the random uuid key's).
CREATE INDEX audit_log_entries_created_at_idx ON auth.audit_log_entries (created_at);

-- Which methods authenticated a session (feeds the `amr` claim), as in Supabase.
CREATE TABLE auth.mfa_amr_claims (
    session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    authentication_method text NOT NULL,
    id uuid NOT NULL PRIMARY KEY,
    CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
);

-- Multi-factor authentication (src/mfa/), in Supabase's shape: a user's factors and the
-- challenges made for them. A TOTP factor's `secret` is sealed with the instance's TOTP purpose
-- key (core/src/mfa/secret_box.rs: ChaCha20-Poly1305, the factor's id as associated data), never
-- readable by the API roles. Ours: `last_used_step`, the TOTP time step of the last code
-- accepted (a code works once).
CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone', 'recovery_code');
CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
CREATE TABLE auth.mfa_factors (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    friendly_name text,
    factor_type auth.factor_type NOT NULL,
    status auth.factor_status NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    secret text,
    phone text,
    last_challenged_at timestamptz,
    last_used_step bigint,
    -- WebAuthn factors: the credential (GoTrue's JSON), its authenticator's model, and the
    -- last challenge it answered.
    web_authn_credential jsonb,
    web_authn_aaguid uuid,
    last_webauthn_challenge_data jsonb
);
CREATE UNIQUE INDEX mfa_factors_user_friendly_name_unique ON auth.mfa_factors (friendly_name, user_id)
    WHERE trim(friendly_name) <> '';
CREATE INDEX factor_id_created_at_idx ON auth.mfa_factors (user_id, created_at);
CREATE INDEX mfa_factors_user_id_idx ON auth.mfa_factors (user_id);
CREATE TABLE auth.mfa_challenges (
    id uuid NOT NULL PRIMARY KEY,
    factor_id uuid NOT NULL REFERENCES auth.mfa_factors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    verified_at timestamptz,
    ip_address inet NOT NULL,
    otp_code text,
    -- A WebAuthn challenge's ceremony state (core/src/mfa/webauthn.rs), until it is answered.
    web_authn_session_data jsonb
);
CREATE INDEX mfa_challenge_created_at_idx ON auth.mfa_challenges (created_at DESC);
-- Recovery codes (src/mfa/recovery_codes.rs), in GoTrue's shape: a user's one set, the
-- `recovery_code` factor it belongs to (`verified` from the start), and its codes, each stored
-- only as a hash (core/src/mfa/recovery_codes.rs). A used code keeps its row, with `consumed_at`.
-- Wrong codes in a row lock verification until `verification_locked_until`.
CREATE TABLE auth.mfa_recovery_code_sets (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL UNIQUE REFERENCES auth.users (id) ON DELETE CASCADE,
    mfa_factor_id uuid NOT NULL UNIQUE REFERENCES auth.mfa_factors (id) ON DELETE CASCADE,
    failed_verification_count integer NOT NULL DEFAULT 0 CHECK (failed_verification_count >= 0),
    verification_locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE auth.mfa_recovery_codes (
    id uuid NOT NULL PRIMARY KEY,
    mfa_recovery_code_set_id uuid NOT NULL REFERENCES auth.mfa_recovery_code_sets (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    consumed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_recovery_codes_set_id_idx ON auth.mfa_recovery_codes (mfa_recovery_code_set_id);

-- Passkeys (first-factor WebAuthn credentials), as GoTrue stores them; src/passkeys/.
CREATE TABLE auth.webauthn_credentials (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    credential_id bytea NOT NULL UNIQUE,
    public_key bytea NOT NULL,
    attestation_type text NOT NULL DEFAULT '',
    aaguid uuid,
    sign_count bigint NOT NULL DEFAULT 0,
    transports jsonb NOT NULL DEFAULT '[]',
    backup_eligible boolean NOT NULL DEFAULT false,
    backed_up boolean NOT NULL DEFAULT false,
    friendly_name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    -- Ours: the user was verified (PIN, biometrics) at registration, so every sign-in must
    -- verify them too.
    user_verified boolean NOT NULL DEFAULT false
);
CREATE INDEX webauthn_credentials_user_id_idx ON auth.webauthn_credentials (user_id);
-- A passkey ceremony between its options and its verify: the state, bound to its user
-- (registration) or to none (sign-in).
CREATE TABLE auth.webauthn_challenges (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    challenge_type text NOT NULL CHECK (challenge_type IN ('signup', 'registration', 'authentication')),
    session_data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expires_at_idx ON auth.webauthn_challenges (expires_at);

-- Private: instance settings (one row). Validated by auth.configure(), read through auth.settings().
CREATE TABLE auth.config (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    settings jsonb NOT NULL DEFAULT '{}',
    -- Key of the refresh-token chain (see core/src/refresh.rs); never leaves the database.
    refresh_token_key bytea NOT NULL CHECK (length(refresh_token_key) >= 32),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Private: the key ring. States as Supabase names them: standby (published, not signing) ->
-- current (exactly one; signs) -> previous (verifies only) -> revoked (rejected).
-- HS256 keys hold `secret`; asymmetric keys hold `private_key` (DER: PKCS#8 for ES256 and EdDSA,
-- PKCS#1 for RS256; NULL for an imported public key, which can never be current) and `public_jwk`.
CREATE TABLE auth.signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL CHECK (algorithm IN ('HS256', 'RS256', 'ES256', 'EdDSA')),
    status text NOT NULL CHECK (status IN ('standby', 'current', 'previous', 'revoked')),
    secret bytea CHECK (length(secret) >= 32),
    private_key bytea,
    public_jwk jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((algorithm = 'HS256') = (secret IS NOT NULL)),
    CHECK ((algorithm = 'HS256') = (public_jwk IS NULL)),
    CHECK (status <> 'current' OR secret IS NOT NULL OR private_key IS NOT NULL)
);
CREATE UNIQUE INDEX signing_keys_one_current ON auth.signing_keys (status) WHERE status = 'current';

-- One-time tokens (Supabase's table): the hash of each code or link a user was sent, one per
-- user and kind. `token_hash` has GoTrue's shape (56 hex digits of SHA-224 over email_or_phone
-- + code, prefixed `pkce_` in the PKCE flow) but is keyed with the one-time-code key, so it
-- cannot be computed from an address and a guessed code (core/src/otp.rs); the code itself is never stored. `created_at` is UTC, as GoTrue writes it.
-- `failed_attempts` is auth_ext's: wrong codes counted apart from the failing call
-- (src/one_time/), the token dying at `otp_max_attempts`.
CREATE TYPE auth.one_time_token_type AS ENUM (
    'confirmation_token', 'reauthentication_token', 'recovery_token',
    'email_change_token_new', 'email_change_token_current', 'phone_change_token');
CREATE TABLE auth.one_time_tokens (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_type auth.one_time_token_type NOT NULL,
    token_hash text NOT NULL CHECK (char_length(token_hash) > 0),
    relates_to text NOT NULL,
    created_at timestamp without time zone NOT NULL DEFAULT now(),
    updated_at timestamp without time zone NOT NULL DEFAULT now(),
    failed_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);
CREATE UNIQUE INDEX one_time_tokens_user_id_token_type_key ON auth.one_time_tokens (user_id, token_type);

-- PKCE flow states (Supabase's shape). `auth_code` holds the hex SHA-256 of the code handed to
-- the client, never the code; a state lives 300 s from the code's issue (or its creation).
CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
CREATE TABLE auth.flow_state (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid,
    auth_code text NOT NULL,
    code_challenge_method auth.code_challenge_method NOT NULL,
    code_challenge text NOT NULL,
    provider_type text NOT NULL,
    provider_access_token text,
    provider_refresh_token text,
    created_at timestamptz,
    updated_at timestamptz,
    authentication_method text NOT NULL,
    auth_code_issued_at timestamptz,
    -- Ours: the end of the session the exchange starts (an SSO IdP's SessionNotOnOrAfter).
    session_not_after timestamptz
);
CREATE INDEX idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX flow_state_created_at_idx ON auth.flow_state (created_at DESC);

-- Private: the transactional outbox. A message is queued in the transaction that issued its
-- code (a rolled-back call sends nothing; a committed one is never lost), with GoTrue's
-- send-email / send-SMS hook input as `payload`; consumers claim rows through
-- auth.outbox_claim() (README, "The outbox"). Codes are wiped from `payload` once sent.
CREATE TABLE auth.outbox (
    id bigserial PRIMARY KEY,
    channel text NOT NULL CHECK (channel IN ('email', 'sms')),
    action text NOT NULL,
    recipient text NOT NULL,
    user_id uuid,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_due_idx ON auth.outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_channel_created_at_idx ON auth.outbox (channel, created_at);

-- Whoever drains the outbox (the shim, another worker): granted by the owner to its login role
-- (GRANT auth_outbox_consumer TO shim_login). Cluster-wide, like the API roles.
DO $consumer$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auth_outbox_consumer') THEN
        CREATE ROLE auth_outbox_consumer NOLOGIN NOINHERIT;
    END IF;
END
$consumer$;

-- Private: passwords known to be breached, as the SHA-1 digests of HIBP's downloadable list,
-- loaded by the owner (docs/passwords.md). With `password_breached_check` on, a new password
-- whose digest is here is refused (`weak_password`, reason `pwned`); nothing leaves the database.
CREATE TABLE auth.breached_passwords (
    hash bytea PRIMARY KEY CHECK (length(hash) = 20)
);

-- The role auth hooks run as (hook_role): Supabase's name, so that a hook's migration written for
-- Supabase ("GRANT EXECUTE ON FUNCTION public.custom_access_token_hook TO supabase_auth_admin")
-- runs unchanged. It owns nothing and can log in nowhere; the owner grants it what hooks read.
DO $hooks$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
        CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT;
    END IF;
END
$hooks$;

-- Private: the identity providers of social login (src/external/), configured by the owner
-- through auth.configure_provider(). `config` is core's ProviderConfig without the secret; the
-- client secret has its own column and leaves the database only towards the shim's token
-- exchange (auth.oauth_callback_take). The provider documents the shim fetched (a custom
-- provider's discovery, the JWKS ID tokens are verified with) are kept with their expiry.
CREATE TABLE auth.identity_providers (
    name text PRIMARY KEY,
    config jsonb NOT NULL,
    secret text,
    discovery jsonb,
    discovery_expires_at timestamptz,
    jwks jsonb,
    jwks_expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Private: the social-login flows in progress, one per `state` handed to a provider (stored as
-- its hex SHA-256), for 10 minutes and once: taken by the callback, deleted when it finishes.
-- `provider_code_verifier` is the PKCE verifier towards the provider; `code_challenge` the
-- app's own PKCE challenge (the callback then answers with ?code=); `link_user_id` the user a
-- linkIdentity adds the identity to, from the session `link_session_id` (which must still be in
-- force when the flow finishes).
CREATE TABLE auth.oauth_states (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    state_hash text NOT NULL UNIQUE,
    provider text NOT NULL REFERENCES auth.identity_providers (name) ON DELETE CASCADE,
    redirect_to text NOT NULL,
    code_challenge text,
    code_challenge_method auth.code_challenge_method,
    provider_code_verifier text,
    nonce text,
    link_user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    link_session_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    taken_at timestamptz
);
CREATE INDEX oauth_states_created_at_idx ON auth.oauth_states (created_at);

-- SAML 2.0 single sign-on (src/sso/), in Supabase's shape: an SSO provider, the e-mail domains
-- that lead to it, and its SAML identity provider (the IdP's metadata as given; what the database
-- needs from it is parsed when needed, never stored twice). Managed by the admin API.
CREATE TABLE auth.sso_providers (
    id uuid NOT NULL PRIMARY KEY,
    resource_id text,
    created_at timestamptz,
    updated_at timestamptz,
    disabled boolean,
    CONSTRAINT "resource_id not empty" CHECK (resource_id IS NULL OR char_length(resource_id) > 0)
);
CREATE UNIQUE INDEX sso_providers_resource_id_idx ON auth.sso_providers (lower(resource_id));
CREATE TABLE auth.sso_domains (
    id uuid NOT NULL PRIMARY KEY,
    sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
    domain text NOT NULL,
    created_at timestamptz,
    updated_at timestamptz,
    CONSTRAINT "domain not empty" CHECK (char_length(domain) > 0)
);
CREATE INDEX sso_domains_sso_provider_id_idx ON auth.sso_domains (sso_provider_id);
CREATE UNIQUE INDEX sso_domains_domain_idx ON auth.sso_domains (lower(domain));
CREATE TABLE auth.saml_providers (
    id uuid NOT NULL PRIMARY KEY,
    sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
    entity_id text NOT NULL UNIQUE,
    metadata_xml text NOT NULL,
    metadata_url text,
    attribute_mapping jsonb,
    created_at timestamptz,
    updated_at timestamptz,
    name_id_format text,
    CONSTRAINT "entity_id not empty" CHECK (char_length(entity_id) > 0),
    CONSTRAINT "metadata_xml not empty" CHECK (char_length(metadata_xml) > 0),
    CONSTRAINT "metadata_url not empty" CHECK (metadata_url IS NULL OR char_length(metadata_url) > 0)
);
CREATE INDEX saml_providers_sso_provider_id_idx ON auth.saml_providers (sso_provider_id);

-- Private: the SAML sign-ins in progress, one per AuthnRequest (`request_id`), named by the
-- RelayState (the row's id) for saml_relay_state_validity_period and once: `taken_at` is set
-- when the ACS takes it, the row deleted when the sign-in finishes. Ours beside Supabase's
-- columns: the app's PKCE challenge (the ACS then answers with ?code=) and `taken_at`.
CREATE TABLE auth.saml_relay_states (
    id uuid NOT NULL PRIMARY KEY,
    sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
    request_id text NOT NULL,
    for_email text,
    redirect_to text,
    created_at timestamptz,
    updated_at timestamptz,
    flow_state_id uuid REFERENCES auth.flow_state (id) ON DELETE CASCADE,
    code_challenge text,
    code_challenge_method auth.code_challenge_method,
    taken_at timestamptz,
    CONSTRAINT "request_id not empty" CHECK (char_length(request_id) > 0)
);
CREATE INDEX saml_relay_states_sso_provider_id_idx ON auth.saml_relay_states (sso_provider_id);
CREATE INDEX saml_relay_states_created_at_idx ON auth.saml_relay_states (created_at DESC);

-- Private: the assertions taken, by the IdP's assertion ID, until they expire: a response
-- posted twice (an IdP-initiated one has no relay state to spend) signs in once.
CREATE TABLE auth.saml_assertions_seen (
    sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
    assertion_id text NOT NULL,
    not_on_or_after timestamptz NOT NULL,
    PRIMARY KEY (sso_provider_id, assertion_id)
);
CREATE INDEX saml_assertions_seen_not_on_or_after_idx ON auth.saml_assertions_seen (not_on_or_after);

-- Whoever talks to identity providers for the database (the shim): granted by the owner to its
-- login role (GRANT auth_provider_broker TO shim_login). It may take a flow's state (and with it
-- the client secret), finish the flow with what the provider answered, and store the provider
-- documents it fetched; nothing else.
DO $broker$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auth_provider_broker') THEN
        CREATE ROLE auth_provider_broker NOLOGIN NOINHERIT;
    END IF;
END
$broker$;

-- Supabase enables RLS on every auth table and grants nothing to the API roles; so do we.
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_log_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_amr_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.webauthn_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.webauthn_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_recovery_code_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.config ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.signing_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.breached_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identity_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_relay_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_assertions_seen ENABLE ROW LEVEL SECURITY;
