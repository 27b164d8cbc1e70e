-- Runs last: secrets, cache invalidation, dump registration, grants and the PostgREST API schema.

SELECT auth._install_secrets();

CREATE FUNCTION auth._config_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM auth._invalidate_instance_cache(TG_RELID);
    RETURN NULL;
END
$$;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.config
    FOR EACH STATEMENT EXECUTE FUNCTION auth._config_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION auth._config_changed();

-- pg_dump keeps the data of extension tables only when they are registered.
SELECT pg_catalog.pg_extension_config_dump('auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('auth.identities', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('auth.refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('auth.refresh_tokens_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('auth.audit_log_entries', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_amr_claims', '');
SELECT pg_catalog.pg_extension_config_dump('auth.config', '');
SELECT pg_catalog.pg_extension_config_dump('auth.signing_keys', '');

-- Least privilege. Functions are executable by PUBLIC by default; undo that, then grant each
-- entry point to the roles that need it. Tables: nothing for anon/authenticated.
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

-- Planner support for the helpers (src/planner.rs): a bare auth.uid() is planned as
-- (SELECT auth._uid_value()), evaluated once per query instead of once per row. The twins are the
-- same C functions without the support function, so the rewrite does not recurse.
CREATE FUNCTION auth._uid_value() RETURNS uuid LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'uid_wrapper';
CREATE FUNCTION auth._role_value() RETURNS text LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'role_wrapper';
CREATE FUNCTION auth._email_value() RETURNS text LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'email_wrapper';
CREATE FUNCTION auth._jwt_value() RETURNS jsonb LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jwt_wrapper';
CREATE FUNCTION auth._helper_support(internal) RETURNS internal LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'auth_ext_helper_support';
ALTER FUNCTION auth.uid() SUPPORT auth._helper_support;
ALTER FUNCTION auth.role() SUPPORT auth._helper_support;
ALTER FUNCTION auth.email() SUPPORT auth._helper_support;
ALTER FUNCTION auth.jwt() SUPPORT auth._helper_support;
REVOKE ALL ON FUNCTION auth._helper_support(internal) FROM PUBLIC;

-- RLS helpers: policies are evaluated with the querying role's rights, so everyone needs them.
-- authenticate() verifies a token before trusting it; jwks() is public by nature.
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt(), auth.authenticate(text), auth.jwks(),
    auth._uid_value(), auth._role_value(), auth._email_value(), auth._jwt_value()
TO PUBLIC;

-- The user-facing flows (SECURITY DEFINER, search_path pinned).
GRANT EXECUTE ON FUNCTION
    auth.sign_up(text, text, jsonb),
    auth.sign_in_with_password(text, text),
    auth.refresh_session(text),
    auth.sign_out(text),
    auth.get_user(),
    auth.update_user(jsonb),
    auth.verify_jwt(text)
TO anon, authenticated, service_role;

-- Service-only: minting arbitrary tokens and reading settings.
GRANT EXECUTE ON FUNCTION auth.sign_jwt(jsonb), auth.settings(), auth.signing_keys() TO service_role;
-- Owner only: auth.configure(), auth.postgrest_jwt_secret(), auth.create_signing_key(),
-- auth.import_signing_key(), auth.set_signing_key_status() and the _internal functions.

-- The schema PostgREST exposes (db-schemas = "public, auth_api"); `auth` itself stays private.
-- Thin SECURITY INVOKER wrappers: the rights are those of the auth.* functions they call.
CREATE SCHEMA auth_api;
GRANT USAGE ON SCHEMA auth_api TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_up(email text, password text, data jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_up(email, password, data) $$;

CREATE FUNCTION auth_api.sign_in_with_password(email text, password text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_password(email, password) $$;

CREATE FUNCTION auth_api.refresh_session(refresh_token text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.refresh_session(refresh_token) $$;

CREATE FUNCTION auth_api.sign_out(scope text DEFAULT 'global')
RETURNS void LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_out(scope) $$;

CREATE FUNCTION auth_api.get_user()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.get_user() $$;

CREATE FUNCTION auth_api.update_user(attributes jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.update_user(attributes) $$;

CREATE FUNCTION auth_api.jwks()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.jwks() $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth_api FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth_api.sign_up(text, text, jsonb),
    auth_api.sign_in_with_password(text, text),
    auth_api.refresh_session(text),
    auth_api.jwks()
TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth_api.sign_out(text), auth_api.get_user(), auth_api.update_user(jsonb)
TO authenticated, service_role;

-- Functions that receive passwords, tokens or secrets: when they fail, the server log must not
-- repeat the statement (it may hold them as literals). Errors auth_ext raises itself already set
-- this (src/error.rs); the clause also covers errors from below (a cancel, a timeout). The setting
-- applies while the error is reported, which happens before the transaction's settings are rolled
-- back. verify_jwt() and sign_jwt() go without: they are the hot path.
ALTER FUNCTION auth.sign_up(text, text, jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.sign_in_with_password(text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.refresh_session(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.update_user(jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.configure(jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.authenticate(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.import_signing_key(text, text) SET log_min_error_statement = panic;
