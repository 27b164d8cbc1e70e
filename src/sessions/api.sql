-- sign_out: the function answers anon with an error (no claims); through auth_api only
-- signed-in roles reach it.
REVOKE ALL ON FUNCTION auth.sign_out(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_out(text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_out(scope text DEFAULT 'global')
RETURNS void LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_out(scope) $$;
REVOKE ALL ON FUNCTION auth_api.sign_out(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_out(text) TO authenticated, service_role;
