-- sign_up: anyone may try (SECURITY DEFINER, search_path pinned); the PostgREST wrapper in
-- auth_api is SECURITY INVOKER, so its rights are those of auth.sign_up.
REVOKE ALL ON FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_up(email text DEFAULT NULL, password text DEFAULT NULL, data jsonb DEFAULT '{}',
                                 phone text DEFAULT NULL, channel text DEFAULT 'sms',
                                 redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                                 code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_up(email, password, data, phone, channel, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sign_up(text, text, jsonb, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_up(text, text, jsonb, text, text, text, text, text) TO anon, authenticated, service_role;

-- It receives a password: when it fails, the server log must not repeat the statement (it may
-- hold it as a literal). Errors auth_ext raises already set this (src/error.rs); the clause also
-- covers errors from below (a cancel, a timeout).
ALTER FUNCTION auth.sign_up(text, text, jsonb, text, text, text, text, text) SET log_min_error_statement = panic;
