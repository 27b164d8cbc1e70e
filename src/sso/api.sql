-- SAML SSO. Anyone may start a sign-in (the provider's domains decide where it goes).
REVOKE ALL ON FUNCTION auth.sso_start(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sso_start(text, text, text, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.sso_service_provider() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sso_service_provider() TO anon, authenticated, service_role;

-- The broker's (the shim's): it takes a relay state and the IdP's certificates, and hands
-- over an assertion it verified. Never the API roles.
REVOKE ALL ON FUNCTION auth.saml_acs_take(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_acs_take(text, text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.saml_acs_finish(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_acs_finish(text, jsonb) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.saml_metadata_refresh(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.saml_metadata_refresh(text, text) TO auth_provider_broker;

-- The admin API's (each function refuses anyone but an admin with 403 not_admin, as
-- src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_sso_providers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_sso_providers() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_sso_provider(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_create_sso_provider(jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_create_sso_provider(jsonb, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_update_sso_provider(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_update_sso_provider(text, jsonb, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_sso_provider(text) TO anon, authenticated, service_role;

-- PostgREST: /rpc/sso_start and /rpc/admin_*sso* in the API schema.
CREATE FUNCTION auth_api.sso_start(provider_id text DEFAULT NULL, domain text DEFAULT NULL,
    redirect_to text DEFAULT NULL, code_challenge text DEFAULT NULL,
    code_challenge_method text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sso_start(provider_id, domain, redirect_to, code_challenge, code_challenge_method) $$;
REVOKE ALL ON FUNCTION auth_api.sso_start(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sso_start(text, text, text, text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.admin_sso_providers()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_sso_providers() $$;
CREATE FUNCTION auth_api.admin_sso_provider(id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_sso_provider(id) $$;
CREATE FUNCTION auth_api.admin_create_sso_provider(params jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_create_sso_provider(params) $$;
CREATE FUNCTION auth_api.admin_update_sso_provider(id text, params jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_update_sso_provider(id, params) $$;
CREATE FUNCTION auth_api.admin_delete_sso_provider(id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_delete_sso_provider(id) $$;
REVOKE ALL ON FUNCTION auth_api.admin_sso_providers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_sso_providers() TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_sso_provider(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_create_sso_provider(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_create_sso_provider(jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_update_sso_provider(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_update_sso_provider(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.admin_delete_sso_provider(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_delete_sso_provider(text) TO anon, authenticated, service_role;

-- The assertion names the user (and the admin functions carry IdP metadata): a failure must not
-- log the statement.
ALTER FUNCTION auth.saml_acs_finish(text, jsonb) SET log_min_error_statement = panic;
