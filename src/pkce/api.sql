-- exchange_code_for_session: anyone holding an auth code and its verifier.
REVOKE ALL ON FUNCTION auth.exchange_code_for_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.exchange_code_for_session(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.exchange_code_for_session(auth_code text, code_verifier text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.exchange_code_for_session(auth_code, code_verifier) $$;
REVOKE ALL ON FUNCTION auth_api.exchange_code_for_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.exchange_code_for_session(text, text) TO anon, authenticated, service_role;

-- It receives secrets: a failure must not log the statement.
ALTER FUNCTION auth.exchange_code_for_session(text, text) SET log_min_error_statement = panic;
