-- refresh_session: anyone holding a refresh token; the auth_api wrapper has its rights.
REVOKE ALL ON FUNCTION auth.refresh_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.refresh_session(text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.refresh_session(refresh_token text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.refresh_session(refresh_token) $$;
REVOKE ALL ON FUNCTION auth_api.refresh_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.refresh_session(text) TO anon, authenticated, service_role;

-- It receives a token: a failure must not log the statement (see src/signup/api.sql).
ALTER FUNCTION auth.refresh_session(text) SET log_min_error_statement = panic;
