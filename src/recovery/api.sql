-- reset_password_for_email: anyone may ask; the answer is the same for every address.
REVOKE ALL ON FUNCTION auth.reset_password_for_email(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reset_password_for_email(text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.reset_password_for_email(email text, redirect_to text DEFAULT NULL,
                                                  code_challenge text DEFAULT NULL,
                                                  code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.reset_password_for_email(email, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.reset_password_for_email(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.reset_password_for_email(text, text, text, text) TO anon, authenticated, service_role;
