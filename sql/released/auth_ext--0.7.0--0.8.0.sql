-- auth_ext 0.7.0 -> 0.8.0
--
-- TOTP multi-factor authentication (src/mfa/): factors and challenges (Supabase's tables) and
-- the MFA functions. SAML 2.0 single sign-on (src/sso/): SSO providers, their domains and SAML IdPs (Supabase's
-- tables), the sign-ins in progress and the assertions taken (private), the end of an SSO
-- session carried through a PKCE exchange (auth.flow_state.session_not_after), and the SSO
-- functions with their grants and auth_api wrappers. The rest is code (cleanup's new counts, the
-- user_sso_managed rule, settings, the rate limit of SSO): install the new library, run this
-- update, recycle connections opened before.

-- Multi-factor authentication (src/mfa/), in Supabase's shape: a user's factors and the
-- challenges made for them. A TOTP factor's `secret` is sealed with the instance's TOTP purpose
-- key (core/src/mfa/secret_box.rs: ChaCha20-Poly1305, the factor's id as associated data), never
-- readable by the API roles. Ours: `last_used_step`, the TOTP time step of the last code
-- accepted (a code works once).
CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
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
    last_used_step bigint
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
    otp_code text
);
CREATE INDEX mfa_challenge_created_at_idx ON auth.mfa_challenges (created_at DESC);

ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_challenges ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON auth.mfa_factors, auth.mfa_challenges FROM PUBLIC;

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

ALTER TABLE auth.sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_relay_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_assertions_seen ENABLE ROW LEVEL SECURITY;
-- As a fresh install's finalize.sql leaves every auth table: nothing for PUBLIC.
REVOKE ALL ON auth.sso_providers, auth.sso_domains, auth.saml_providers, auth.saml_relay_states,
              auth.saml_assertions_seen FROM PUBLIC;

-- Ours: the end of the session the exchange starts (an SSO IdP's SessionNotOnOrAfter).
ALTER TABLE auth.flow_state ADD COLUMN session_not_after timestamptz;

-- src/mfa/mod.rs:79
-- auth_ext::mfa::mfa_enroll
CREATE  FUNCTION auth."mfa_enroll"(
	"factor_type" TEXT, /* Option < & str > */
	"friendly_name" TEXT DEFAULT NULL, /* Option < & str > */
	"issuer" TEXT DEFAULT NULL, /* Option < & str > */
	"phone" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_enroll_wrapper';

-- src/mfa/mod.rs:153
-- auth_ext::mfa::mfa_challenge
CREATE  FUNCTION auth."mfa_challenge"(
	"factor_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_challenge_wrapper';

-- src/mfa/mod.rs:198
-- auth_ext::mfa::mfa_verify
CREATE  FUNCTION auth."mfa_verify"(
	"factor_id" TEXT, /* Option < & str > */
	"challenge_id" TEXT, /* Option < & str > */
	"code" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_verify_wrapper';

-- src/mfa/mod.rs:303
-- auth_ext::mfa::mfa_unenroll
CREATE  FUNCTION auth."mfa_unenroll"(
	"factor_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_unenroll_wrapper';

-- src/mfa/mod.rs:337
-- auth_ext::mfa::admin_list_factors
CREATE  FUNCTION auth."admin_list_factors"(
	"user_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_list_factors_wrapper';

-- src/mfa/mod.rs:354
-- auth_ext::mfa::admin_delete_factor
CREATE  FUNCTION auth."admin_delete_factor"(
	"user_id" TEXT, /* Option < & str > */
	"factor_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_delete_factor_wrapper';

-- src/sso/start.rs:22
-- auth_ext::sso::start::sso_start
CREATE  FUNCTION auth."sso_start"(
	"provider_id" TEXT DEFAULT NULL, /* Option < & str > */
	"domain" TEXT DEFAULT NULL, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sso_start_wrapper';

-- src/sso/start.rs:88
-- auth_ext::sso::start::sso_service_provider
CREATE  FUNCTION auth."sso_service_provider"() RETURNS jsonb /* JsonB */
STRICT STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sso_service_provider_wrapper';

-- src/sso/acs.rs:115
-- auth_ext::sso::acs::saml_acs_take
CREATE  FUNCTION auth."saml_acs_take"(
	"relay_state" TEXT, /* Option < & str > */
	"issuer" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'saml_acs_take_wrapper';

-- src/sso/acs.rs:176
-- auth_ext::sso::acs::saml_acs_finish
CREATE  FUNCTION auth."saml_acs_finish"(
	"relay_state" TEXT, /* Option < & str > */
	"assertion" jsonb /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'saml_acs_finish_wrapper';

-- src/sso/acs.rs:300
-- auth_ext::sso::acs::saml_metadata_refresh
CREATE  FUNCTION auth."saml_metadata_refresh"(
	"sso_provider_id" TEXT, /* Option < & str > */
	"metadata_xml" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'saml_metadata_refresh_wrapper';

-- src/sso/admin.rs:171
-- auth_ext::sso::admin::admin_sso_providers
CREATE  FUNCTION auth."admin_sso_providers"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_sso_providers_wrapper';

-- src/sso/admin.rs:184
-- auth_ext::sso::admin::admin_sso_provider
CREATE  FUNCTION auth."admin_sso_provider"(
	"id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_sso_provider_wrapper';

-- src/sso/admin.rs:196
-- auth_ext::sso::admin::admin_create_sso_provider
CREATE  FUNCTION auth."admin_create_sso_provider"(
	"params" jsonb, /* Option < JsonbArg > */
	"fetched_metadata" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_create_sso_provider_wrapper';

-- src/sso/admin.rs:238
-- auth_ext::sso::admin::admin_update_sso_provider
CREATE  FUNCTION auth."admin_update_sso_provider"(
	"id" TEXT, /* Option < & str > */
	"params" jsonb, /* Option < JsonbArg > */
	"fetched_metadata" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_update_sso_provider_wrapper';

-- src/sso/admin.rs:293
-- auth_ext::sso::admin::admin_delete_sso_provider
CREATE  FUNCTION auth."admin_delete_sso_provider"(
	"id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_delete_sso_provider_wrapper';

-- SAML SSO. Anyone may start a sign-in (the provider's domains decide where it goes).
REVOKE ALL ON FUNCTION auth.sso_start(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sso_start(text, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.sso_service_provider() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sso_service_provider() TO anon, authenticated, service_role;

-- The broker's (the shim's): it takes a relay state and the IdP's certificates, and hands
-- over an assertion it verified. Never the API roles.
REVOKE ALL ON FUNCTION auth.saml_acs_take(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_acs_take(text, text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.saml_acs_finish(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_acs_finish(text, jsonb) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.saml_metadata_refresh(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_metadata_refresh(text, text) TO auth_provider_broker;

-- The admin API's (each function refuses anyone but an admin with 403 not_admin, as
-- src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_sso_providers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_sso_providers() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_sso_provider(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_create_sso_provider(jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_create_sso_provider(jsonb, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_update_sso_provider(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_update_sso_provider(text, jsonb, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_sso_provider(text) TO anon, authenticated, service_role;

-- PostgREST: /rpc/sso_start and /rpc/admin_*sso* in the API schema.
CREATE FUNCTION auth_api.sso_start(provider_id text DEFAULT NULL, domain text DEFAULT NULL,
    redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
    code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sso_start(provider_id, domain, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sso_start(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sso_start(text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.admin_sso_providers()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_sso_providers() $$;
CREATE FUNCTION auth_api.admin_sso_provider(id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_sso_provider(id) $$;
CREATE FUNCTION auth_api.admin_create_sso_provider(params jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_create_sso_provider(params) $$;
CREATE FUNCTION auth_api.admin_update_sso_provider(id text, params jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_update_sso_provider(id, params) $$;
CREATE FUNCTION auth_api.admin_delete_sso_provider(id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_delete_sso_provider(id) $$;
REVOKE ALL ON FUNCTION auth_api.admin_sso_providers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_sso_providers() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_sso_provider(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_create_sso_provider(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_create_sso_provider(jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_update_sso_provider(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_update_sso_provider(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_delete_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_delete_sso_provider(text) TO anon, authenticated, service_role;

-- The assertion names the user (and the admin functions carry IdP metadata): a failure must not
-- log the statement.
ALTER FUNCTION auth.saml_acs_finish(text, jsonb) SET log_min_error_statement = panic;

-- MFA (GoTrue's /factors): the signed-in caller's own factors (the functions check).
REVOKE ALL ON FUNCTION auth.mfa_enroll(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_enroll(text, text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_challenge(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_challenge(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_verify(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_verify(text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_unenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_unenroll(text) TO authenticated, service_role;
-- The admin API's (admins only: not_admin for anyone else, as src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_list_factors(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_list_factors(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_factor(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_factor(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.mfa_enroll(factor_type text, friendly_name text DEFAULT NULL,
    issuer text DEFAULT NULL, phone text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_enroll(factor_type, friendly_name, issuer, phone) $$;
CREATE FUNCTION auth_api.mfa_challenge(factor_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_challenge(factor_id) $$;
CREATE FUNCTION auth_api.mfa_verify(factor_id text, challenge_id text, code text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_verify(factor_id, challenge_id, code) $$;
CREATE FUNCTION auth_api.mfa_unenroll(factor_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_unenroll(factor_id) $$;
REVOKE ALL ON FUNCTION auth_api.mfa_enroll(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_enroll(text, text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_challenge(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_challenge(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_verify(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_verify(text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_unenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_unenroll(text) TO authenticated, service_role;

-- They receive one-time codes or hand out a factor's secret: a failure must not log the
-- statement.
ALTER FUNCTION auth.mfa_verify(text, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_enroll(text, text, text, text) SET log_min_error_statement = panic;
