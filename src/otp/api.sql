-- sign_in_with_otp / resend: anyone may ask for a code. GoTrue's `type` parameter is a Rust
-- keyword: auth.resend is declared here over auth._resend.
REVOKE ALL ON FUNCTION auth.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth._resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._resend(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.resend(type text, email text DEFAULT NULL, phone text DEFAULT NULL,
                            redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                            code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._resend(type, email, phone, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth.resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.resend(text, text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_otp(email text DEFAULT NULL, phone text DEFAULT NULL,
                                          create_user boolean DEFAULT true, data jsonb DEFAULT '{}',
                                          channel text DEFAULT 'sms', redirect_to text DEFAULT NULL,
                                          code_challenge text DEFAULT NULL,
                                          code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_otp(email, phone, create_user, data, channel, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_otp(text, text, boolean, jsonb, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.resend(type text, email text DEFAULT NULL, phone text DEFAULT NULL,
                                redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
                                code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._resend(type, email, phone, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.resend(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.resend(text, text, text, text, text, text) TO anon, authenticated, service_role;
