-- auth_ext 0.8.0 -> 0.9.0
--
-- The rest of multi-factor authentication: phone factors (codes by SMS through the outbox),
-- WebAuthn factors and passkeys (src/mfa/webauthn.rs, src/passkeys/), recovery codes; the MFA
-- verification attempt hook. Schema: WebAuthn columns on the MFA tables (GoTrue's), the passkey
-- tables, and the recovery code tables. Functions: mfa_challenge and mfa_verify take GoTrue's
-- `channel` / `webauthn` fields (new signatures: the old ones are dropped), the passkey and
-- recovery code functions are new. Install the new library, run this update, recycle
-- connections opened before.

-- WebAuthn factors: the credential (GoTrue's JSON), its authenticator's model, and the last
-- challenge it answered; a WebAuthn challenge's ceremony state until it is answered.
ALTER TABLE auth.mfa_factors ADD COLUMN web_authn_credential jsonb,
    ADD COLUMN web_authn_aaguid uuid, ADD COLUMN last_webauthn_challenge_data jsonb;
ALTER TABLE auth.mfa_challenges ADD COLUMN web_authn_session_data jsonb;

-- Recovery codes (src/mfa/recovery_codes.rs), in GoTrue's shape: a user's one set, the
-- `recovery_code` factor it belongs to, and its codes, each stored only as a hash. (The enum
-- value is added in this transaction and not used by this script, as PostgreSQL requires.)
ALTER TYPE auth.factor_type ADD VALUE IF NOT EXISTS 'recovery_code';
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
ALTER TABLE auth.mfa_recovery_code_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_recovery_codes ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON auth.mfa_recovery_code_sets, auth.mfa_recovery_codes FROM PUBLIC;

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
CREATE TABLE auth.webauthn_challenges (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    challenge_type text NOT NULL CHECK (challenge_type IN ('signup', 'registration', 'authentication')),
    session_data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expires_at_idx ON auth.webauthn_challenges (expires_at);
ALTER TABLE auth.webauthn_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.webauthn_challenges ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON auth.webauthn_credentials, auth.webauthn_challenges FROM PUBLIC;

-- pg_dump keeps the data of extension tables only when they are registered: the SSO
-- configuration and MFA factors (0.8.0) were not, and passkeys are new.
SELECT pg_catalog.pg_extension_config_dump('auth.sso_providers', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sso_domains', '');
SELECT pg_catalog.pg_extension_config_dump('auth.saml_providers', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_factors', '');
SELECT pg_catalog.pg_extension_config_dump('auth.webauthn_credentials', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_recovery_code_sets', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_recovery_codes', '');

-- mfa_challenge and mfa_verify with GoTrue's new fields: the old signatures go.
DROP FUNCTION auth_api.mfa_challenge(text);
DROP FUNCTION auth_api.mfa_verify(text, text, text);
DROP FUNCTION auth.mfa_challenge(text);
DROP FUNCTION auth.mfa_verify(text, text, text);


-- The new and changed functions (the library's entry points).
CREATE  FUNCTION auth."mfa_challenge"(
	"factor_id" TEXT, /* Option < & str > */
	"channel" TEXT DEFAULT NULL, /* Option < & str > */
	"webauthn" jsonb DEFAULT NULL /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_challenge_wrapper';
CREATE  FUNCTION auth."mfa_verify"(
	"factor_id" TEXT, /* Option < & str > */
	"challenge_id" TEXT, /* Option < & str > */
	"code" TEXT DEFAULT NULL, /* Option < & str > */
	"webauthn" jsonb DEFAULT NULL /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_verify_wrapper';
CREATE  FUNCTION auth."passkey_registration_options"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_registration_options_wrapper';
CREATE  FUNCTION auth."passkey_registration_verify"(
	"challenge_id" TEXT, /* Option < & str > */
	"credential" jsonb DEFAULT NULL /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_registration_verify_wrapper';
CREATE  FUNCTION auth."passkey_authentication_options"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_authentication_options_wrapper';
CREATE  FUNCTION auth."passkey_authentication_verify"(
	"challenge_id" TEXT, /* Option < & str > */
	"credential" jsonb DEFAULT NULL /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_authentication_verify_wrapper';
CREATE  FUNCTION auth."passkeys_list"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkeys_list_wrapper';
CREATE  FUNCTION auth."passkey_update"(
	"passkey_id" TEXT, /* Option < & str > */
	"friendly_name" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_update_wrapper';
CREATE  FUNCTION auth."passkey_delete"(
	"passkey_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'passkey_delete_wrapper';
CREATE  FUNCTION auth."admin_list_passkeys"(
	"user_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_list_passkeys_wrapper';
CREATE  FUNCTION auth."admin_delete_passkey"(
	"user_id" TEXT, /* Option < & str > */
	"passkey_id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_delete_passkey_wrapper';
CREATE  FUNCTION auth."mfa_recovery_codes_status"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_recovery_codes_status_wrapper';
CREATE  FUNCTION auth."mfa_recovery_codes_generate"(
	"friendly_name" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_recovery_codes_generate_wrapper';
CREATE  FUNCTION auth."mfa_recovery_codes_verify"(
	"code" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_recovery_codes_verify_wrapper';
CREATE  FUNCTION auth."mfa_recovery_codes_regenerate"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_recovery_codes_regenerate_wrapper';
CREATE  FUNCTION auth."mfa_recovery_codes_delete"() RETURNS jsonb /* JsonB */
STRICT SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'mfa_recovery_codes_delete_wrapper';

-- src/passkeys/api.sql
-- Passkeys (GoTrue's /passkeys): registration and management by the signed-in user; sign-in by
-- anyone (passkey_enabled decides, rate_limit_passkey per address).
REVOKE ALL ON FUNCTION auth.passkey_registration_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_registration_options() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_registration_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_registration_verify(text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_authentication_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_authentication_options() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_authentication_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_authentication_verify(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkeys_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkeys_list() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_update(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_update(text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_delete(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_delete(text) TO authenticated, service_role;
-- The admin API's (admins only: not_admin for anyone else, as src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_list_passkeys(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_list_passkeys(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_passkey(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_passkey(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.passkey_registration_options()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_registration_options() $$;
CREATE FUNCTION auth_api.passkey_registration_verify(challenge_id text, credential jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_registration_verify(challenge_id, credential) $$;
CREATE FUNCTION auth_api.passkey_authentication_options()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_authentication_options() $$;
CREATE FUNCTION auth_api.passkey_authentication_verify(challenge_id text, credential jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_authentication_verify(challenge_id, credential) $$;
CREATE FUNCTION auth_api.passkeys_list()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkeys_list() $$;
CREATE FUNCTION auth_api.passkey_update(passkey_id text, friendly_name text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_update(passkey_id, friendly_name) $$;
CREATE FUNCTION auth_api.passkey_delete(passkey_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_delete(passkey_id) $$;
REVOKE ALL ON FUNCTION auth_api.passkey_registration_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_registration_options() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_registration_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_registration_verify(text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_authentication_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_authentication_options() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_authentication_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_authentication_verify(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkeys_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkeys_list() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_update(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_update(text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_delete(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_delete(text) TO authenticated, service_role;

-- src/mfa/api.sql: the grants and auth_api wrappers of the new mfa_challenge and mfa_verify.
REVOKE ALL ON FUNCTION auth.mfa_challenge(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_challenge(text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_verify(text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_verify(text, text, text, jsonb) TO authenticated, service_role;
CREATE FUNCTION auth_api.mfa_challenge(factor_id text, channel text DEFAULT NULL,
    webauthn jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_challenge(factor_id, channel, webauthn) $$;
CREATE FUNCTION auth_api.mfa_verify(factor_id text, challenge_id text, code text DEFAULT NULL,
    webauthn jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_verify(factor_id, challenge_id, code, webauthn) $$;
REVOKE ALL ON FUNCTION auth_api.mfa_challenge(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_challenge(text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_verify(text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_verify(text, text, text, jsonb) TO authenticated, service_role;
ALTER FUNCTION auth.mfa_verify(text, text, text, jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_challenge(text, text, jsonb) SET log_min_error_statement = panic;

-- src/mfa/api.sql: recovery codes' grants and auth_api wrappers.
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_status() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_generate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_generate(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_verify(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_verify(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_regenerate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_regenerate() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_delete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_delete() TO authenticated, service_role;
CREATE FUNCTION auth_api.mfa_recovery_codes_status()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_status() $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_generate(friendly_name text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_generate(friendly_name) $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_verify(code text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_verify(code) $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_regenerate()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_regenerate() $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_delete()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_delete() $$;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_status() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_generate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_generate(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_verify(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_verify(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_regenerate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_regenerate() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_delete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_delete() TO authenticated, service_role;
ALTER FUNCTION auth.mfa_recovery_codes_generate(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_recovery_codes_regenerate() SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_recovery_codes_verify(text) SET log_min_error_statement = panic;
