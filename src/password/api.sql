-- sign_in_with_password: anyone may try; the auth_api wrapper has the rights of the function.
REVOKE ALL ON FUNCTION auth.sign_in_with_password(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_password(text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_password(email text DEFAULT NULL, password text DEFAULT NULL,
                                               phone text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_password(email, password, phone) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_password(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_password(text, text, text) TO anon, authenticated, service_role;

-- It receives a password: a failure must not log the statement (see src/signup/api.sql).
ALTER FUNCTION auth.sign_in_with_password(text, text, text) SET log_min_error_statement = panic;
