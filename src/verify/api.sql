-- verify_otp / verify_link / redirect_target: anyone holding a code or a link. GoTrue's
-- parameter `type` is a Rust keyword, so the Rust functions are _verify_otp and _verify_link and
-- the functions callers use are declared here over them.
REVOKE ALL ON FUNCTION auth._verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth._verify_link(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._verify_link(text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.redirect_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.redirect_target(text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.verify_otp(type text, token text DEFAULT NULL, token_hash text DEFAULT NULL,
                                email text DEFAULT NULL, phone text DEFAULT NULL,
                                redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_otp(type, token, token_hash, email, phone, redirect_to) $$;
REVOKE ALL ON FUNCTION auth.verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.verify_link(token text, type text, redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_link(token, type, redirect_to) $$;
REVOKE ALL ON FUNCTION auth.verify_link(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.verify_link(text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.verify_otp(type text, token text DEFAULT NULL, token_hash text DEFAULT NULL,
                                    email text DEFAULT NULL, phone text DEFAULT NULL,
                                    redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._verify_otp(type, token, token_hash, email, phone, redirect_to) $$;
REVOKE ALL ON FUNCTION auth_api.verify_otp(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.verify_otp(text, text, text, text, text, text) TO anon, authenticated, service_role;

-- Codes and hashes are secrets: failures must not log the statement. (Only on the SECURITY
-- DEFINER functions: the setting is a superuser's, and an invoker's wrapper that set it would
-- refuse every caller but a superuser with 42501.)
ALTER FUNCTION auth._verify_otp(text, text, text, text, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth._verify_link(text, text, text) SET log_min_error_statement = panic;
