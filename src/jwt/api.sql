-- verify_jwt: every API role. sign_jwt mints arbitrary tokens: service_role (and the owner) only.
-- Neither sets log_min_error_statement: they are the hot path.
REVOKE ALL ON FUNCTION auth.sign_jwt(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_jwt(jsonb) TO service_role;
REVOKE ALL ON FUNCTION auth.verify_jwt(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_jwt(text) TO anon, authenticated, service_role;
