-- The public JWKS: everyone, also through auth_api. The key listing: service_role. Creating,
-- importing and rotating keys and postgrest_jwt_secret() (it holds the HS256 secret): the owner.
REVOKE ALL ON FUNCTION auth.jwks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwks() TO PUBLIC;
REVOKE ALL ON FUNCTION auth.signing_keys() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.signing_keys() TO service_role;
REVOKE ALL ON FUNCTION auth.create_signing_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.import_signing_key(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.set_signing_key_status(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.postgrest_jwt_secret() FROM PUBLIC;

CREATE FUNCTION auth_api.jwks()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.jwks() $$;
REVOKE ALL ON FUNCTION auth_api.jwks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.jwks() TO anon, authenticated, service_role;

-- An imported key is a secret: a failure must not log the statement (see src/signup/api.sql).
ALTER FUNCTION auth.import_signing_key(text, text) SET log_min_error_statement = panic;
