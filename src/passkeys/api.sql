-- Passkeys (GoTrue's /passkeys): registration and management by the signed-in user; sign-in by
-- anyone (passkey_enabled decides, rate_limit_passkey per address).
REVOKE ALL ON FUNCTION auth.passkey_registration_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_registration_options() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_registration_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_registration_verify(text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_authentication_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_authentication_options() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_authentication_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_authentication_verify(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkeys_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkeys_list() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_update(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_update(text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.passkey_delete(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.passkey_delete(text) TO authenticated, service_role;
-- The admin API's (admins only: not_admin for anyone else, as src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_list_passkeys(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_list_passkeys(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_passkey(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_passkey(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.passkey_registration_options()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_registration_options() $$;
CREATE FUNCTION auth_api.passkey_registration_verify(challenge_id text, credential jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_registration_verify(challenge_id, credential) $$;
CREATE FUNCTION auth_api.passkey_authentication_options()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_authentication_options() $$;
CREATE FUNCTION auth_api.passkey_authentication_verify(challenge_id text, credential jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_authentication_verify(challenge_id, credential) $$;
CREATE FUNCTION auth_api.passkeys_list()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkeys_list() $$;
CREATE FUNCTION auth_api.passkey_update(passkey_id text, friendly_name text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_update(passkey_id, friendly_name) $$;
CREATE FUNCTION auth_api.passkey_delete(passkey_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.passkey_delete(passkey_id) $$;
REVOKE ALL ON FUNCTION auth_api.passkey_registration_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_registration_options() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_registration_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_registration_verify(text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_authentication_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_authentication_options() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_authentication_verify(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_authentication_verify(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkeys_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkeys_list() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_update(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_update(text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.passkey_delete(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.passkey_delete(text) TO authenticated, service_role;
