-- The admin API. Granted to every API role: each function decides itself, from the token's
-- role (jwt_admin_roles), and refuses anyone else with 403 not_admin, as GoTrue's /admin does
-- (a grant to service_role alone would give other roles PostgREST's own 401/403 instead of
-- GoTrue's answer, and ignore jwt_admin_roles). `type` is a Rust keyword: the Rust function is
-- _admin_generate_link and admin_generate_link is declared here over it.
REVOKE ALL ON FUNCTION auth.admin_list_users(bigint, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_list_users(bigint, bigint, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_get_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_get_user(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_create_user(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_create_user(jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_update_user(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_update_user(text, jsonb) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_user(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_user(text, boolean) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_sign_out_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_sign_out_user(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_audit_log(bigint, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_audit_log(bigint, bigint, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth._admin_generate_link(text, text, text, jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth._admin_generate_link(text, text, text, jsonb, text, text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_invite_user(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_invite_user(text, jsonb, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth.admin_generate_link(type text, email text, password text DEFAULT NULL,
                                         data jsonb DEFAULT NULL, new_email text DEFAULT NULL,
                                         redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._admin_generate_link(type, email, password, data, new_email, redirect_to) $$;
REVOKE ALL ON FUNCTION auth.admin_generate_link(text, text, text, jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_generate_link(text, text, text, jsonb, text, text) TO anon, authenticated, service_role;

-- PostgREST: /rpc/admin_* in the API schema.
CREATE FUNCTION auth_api.admin_list_users(page bigint DEFAULT 1, per_page bigint DEFAULT 50, filter text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_list_users(page, per_page, filter) $$;
CREATE FUNCTION auth_api.admin_get_user(id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_get_user(id) $$;
CREATE FUNCTION auth_api.admin_create_user(attributes jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_create_user(attributes) $$;
CREATE FUNCTION auth_api.admin_update_user(id text, attributes jsonb)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_update_user(id, attributes) $$;
CREATE FUNCTION auth_api.admin_delete_user(id text, should_soft_delete boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_delete_user(id, should_soft_delete) $$;
CREATE FUNCTION auth_api.admin_sign_out_user(id text)
RETURNS void LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_sign_out_user(id) $$;
CREATE FUNCTION auth_api.admin_audit_log(page bigint DEFAULT 1, per_page bigint DEFAULT 50, query text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_audit_log(page, per_page, query) $$;
CREATE FUNCTION auth_api.admin_generate_link(type text, email text, password text DEFAULT NULL,
                                             data jsonb DEFAULT NULL, new_email text DEFAULT NULL,
                                             redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth._admin_generate_link(type, email, password, data, new_email, redirect_to) $$;
CREATE FUNCTION auth_api.admin_invite_user(email text, data jsonb DEFAULT NULL, redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.admin_invite_user(email, data, redirect_to) $$;
REVOKE ALL ON FUNCTION auth_api.admin_list_users(bigint, bigint, text), auth_api.admin_get_user(text),
    auth_api.admin_create_user(jsonb), auth_api.admin_update_user(text, jsonb),
    auth_api.admin_delete_user(text, boolean), auth_api.admin_sign_out_user(text),
    auth_api.admin_audit_log(bigint, bigint, text),
    auth_api.admin_generate_link(text, text, text, jsonb, text, text),
    auth_api.admin_invite_user(text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.admin_list_users(bigint, bigint, text), auth_api.admin_get_user(text),
    auth_api.admin_create_user(jsonb), auth_api.admin_update_user(text, jsonb),
    auth_api.admin_delete_user(text, boolean), auth_api.admin_sign_out_user(text),
    auth_api.admin_audit_log(bigint, bigint, text),
    auth_api.admin_generate_link(text, text, text, jsonb, text, text),
    auth_api.admin_invite_user(text, jsonb, text) TO anon, authenticated, service_role;

-- They receive passwords and return codes: a failure must not log the statement.
ALTER FUNCTION auth.admin_create_user(jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.admin_update_user(text, jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth._admin_generate_link(text, text, text, jsonb, text, text) SET log_min_error_statement = panic;
