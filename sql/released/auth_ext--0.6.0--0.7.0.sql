-- auth_ext 0.6.0 -> 0.7.0
--
-- Social login (src/external/): the identity providers' settings and the flows in progress (new
-- private tables), the role of whoever talks to providers for the database (the shim), and the
-- social-login functions with their grants and auth_api wrappers. The PKCE exchange returning a
-- social login's provider tokens is code: install the new library, run this update, recycle
-- connections opened before.

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

ALTER TABLE auth.identity_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.oauth_states ENABLE ROW LEVEL SECURITY;
-- The providers' settings are the owner's configuration (dumped); the flows in progress are not.
SELECT pg_catalog.pg_extension_config_dump('auth.identity_providers', '');
REVOKE ALL ON auth.identity_providers, auth.oauth_states FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO auth_provider_broker;

CREATE  FUNCTION auth."oauth_authorize"(
	"provider" TEXT, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL, /* Option < & str > */
	"scopes" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge" TEXT DEFAULT NULL, /* Option < & str > */
	"code_challenge_method" TEXT DEFAULT NULL, /* Option < & str > */
	"params" jsonb DEFAULT NULL, /* Option < JsonbArg > */
	"link" bool DEFAULT false /* bool */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'oauth_authorize_wrapper';

CREATE  FUNCTION auth."oauth_callback_take"(
	"state" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'oauth_callback_take_wrapper';

CREATE  FUNCTION auth."oauth_callback_finish"(
	"state" TEXT, /* Option < & str > */
	"id_token" TEXT DEFAULT NULL, /* Option < & str > */
	"userinfo" jsonb DEFAULT NULL, /* Option < JsonbArg > */
	"emails" jsonb DEFAULT NULL, /* Option < JsonbArg > */
	"provider_access_token" TEXT DEFAULT NULL, /* Option < & str > */
	"provider_refresh_token" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'oauth_callback_finish_wrapper';

CREATE  FUNCTION auth."provider_document_store"(
	"provider" TEXT, /* Option < & str > */
	"kind" TEXT, /* Option < & str > */
	"document" jsonb, /* Option < JsonbArg > */
	"max_age" bigint DEFAULT NULL /* Option < i64 > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'provider_document_store_wrapper';

CREATE  FUNCTION auth."sign_in_with_id_token"(
	"provider" TEXT, /* Option < & str > */
	"id_token" TEXT, /* Option < & str > */
	"nonce" TEXT DEFAULT NULL, /* Option < & str > */
	"access_token" TEXT DEFAULT NULL, /* Option < & str > */
	"link_identity" bool DEFAULT false /* bool */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sign_in_with_id_token_wrapper';

CREATE  FUNCTION auth."unlink_identity"(
	"identity_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'unlink_identity_wrapper';

CREATE  FUNCTION auth."configure_provider"(
	"name" TEXT, /* Option < & str > */
	"config" jsonb /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'configure_provider_wrapper';

CREATE  FUNCTION auth."remove_provider"(
	"name" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'remove_provider_wrapper';

CREATE  FUNCTION auth."providers"() RETURNS jsonb /* JsonB */
STRICT 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'providers_wrapper';

-- src/external/api.sql
-- Social login. Anyone may start a flow and sign in with an ID token (the provider's
-- configuration decides); linking and unlinking need a signed-in caller (the functions check).
REVOKE ALL ON FUNCTION auth.oauth_authorize(text, text, text, text, text, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_authorize(text, text, text, text, text, jsonb, boolean) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.unlink_identity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.unlink_identity(text) TO authenticated, service_role;

-- The broker's (the shim's): they hand out the client secret, or take a provider's word for
-- who the user is. Never the API roles.
REVOKE ALL ON FUNCTION auth.oauth_callback_take(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_callback_take(text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.provider_document_store(text, text, jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.provider_document_store(text, text, jsonb, bigint) TO auth_provider_broker;

-- The owner's.
REVOKE ALL ON FUNCTION auth.configure_provider(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.remove_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.providers() FROM PUBLIC;

CREATE FUNCTION auth_api.oauth_authorize(provider text, redirect_to text DEFAULT NULL,
    scopes text DEFAULT NULL, code_challenge text DEFAULT NULL,
    code_challenge_method text DEFAULT NULL, params jsonb DEFAULT NULL, link boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.oauth_authorize(provider, redirect_to, scopes, code_challenge, code_challenge_method, params, link) $$;
REVOKE ALL ON FUNCTION auth_api.oauth_authorize(text, text, text, text, text, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.oauth_authorize(text, text, text, text, text, jsonb, boolean) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_id_token(provider text, id_token text, nonce text DEFAULT NULL,
    access_token text DEFAULT NULL, link_identity boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_id_token(provider, id_token, nonce, access_token, link_identity) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_id_token(text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_id_token(text, text, text, text, boolean) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.unlink_identity(identity_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.unlink_identity(identity_id) $$;
REVOKE ALL ON FUNCTION auth_api.unlink_identity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.unlink_identity(text) TO authenticated, service_role;

-- They receive secrets (ID tokens, provider tokens, a client secret): a failure must not log
-- the statement.
ALTER FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) SET log_min_error_statement = panic;
ALTER FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.oauth_callback_take(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.configure_provider(text, jsonb) SET log_min_error_statement = panic;
