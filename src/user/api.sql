-- get_user / update_user: the caller's own record; through auth_api only signed-in roles.
REVOKE ALL ON FUNCTION auth.get_user() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.get_user() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.update_user(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.update_user(jsonb) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.get_user()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.get_user() $$;
REVOKE ALL ON FUNCTION auth_api.get_user() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.get_user() TO authenticated, service_role;

CREATE FUNCTION auth_api.update_user(attributes jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.update_user(attributes) $$;
REVOKE ALL ON FUNCTION auth_api.update_user(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.update_user(jsonb) TO authenticated, service_role;

-- update_user may receive a password: a failure must not log the statement (see
-- src/signup/api.sql).
ALTER FUNCTION auth.update_user(jsonb) SET log_min_error_statement = panic;

-- reauthenticate: a signed-in user asks for a nonce (to their email, else phone).
REVOKE ALL ON FUNCTION auth.reauthenticate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reauthenticate() TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.reauthenticate()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.reauthenticate() $$;
REVOKE ALL ON FUNCTION auth_api.reauthenticate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.reauthenticate() TO authenticated, service_role;
