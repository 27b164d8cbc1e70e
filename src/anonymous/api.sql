-- sign_in_anonymously: anyone may ask (external_anonymous_users_enabled decides, and
-- rate_limit_anonymous_users per address).
REVOKE ALL ON FUNCTION auth.sign_in_anonymously(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_anonymously(jsonb) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_anonymously(data jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_anonymously(data) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_anonymously(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_anonymously(jsonb) TO anon, authenticated, service_role;
