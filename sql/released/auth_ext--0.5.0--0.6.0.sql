-- auth_ext 0.5.0 -> 0.6.0
--
-- The admin API, anonymous users, auth hooks and rate limits (issue 13): the admin and anonymous
-- functions with their grants and auth_api wrappers, and the role hooks run as. Rate limits and
-- hooks are settings (new settings take their defaults; the ones set stay as they are) and code:
-- install the new library, run this update, recycle connections opened before.

-- The role auth hooks run as (hook_role): Supabase's name, so that a hook's migration written for
-- Supabase runs unchanged.
DO $hooks$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
        CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT;
    END IF;
END
$hooks$;

-- Private: passwords known to be breached (SHA-1 digests of HIBP's downloadable list), loaded by
-- the owner (docs/passwords.md); used when `password_breached_check` is on.
CREATE TABLE auth.breached_passwords (
    hash bytea PRIMARY KEY CHECK (length(hash) = 20)
);
ALTER TABLE auth.breached_passwords ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON auth.breached_passwords FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.breached_passwords', '');

-- auth.cleanup() deletes audit entries past the retention by age, in batches.
CREATE INDEX audit_log_entries_created_at_idx ON auth.audit_log_entries (created_at);

CREATE  FUNCTION auth."sign_in_anonymously"(
	"data" jsonb DEFAULT '{}' /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sign_in_anonymously_wrapper';

CREATE  FUNCTION auth."admin_delete_user"(
	"id" TEXT, /* Option < & str > */
	"should_soft_delete" bool DEFAULT false /* Option < bool > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_delete_user_wrapper';

CREATE  FUNCTION auth."cleanup"(
	"max_rows" INT DEFAULT 1000 /* Option < i32 > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'cleanup_wrapper';

CREATE  FUNCTION auth."admin_audit_log"(
	"page" bigint DEFAULT 1, /* Option < i64 > */
	"per_page" bigint DEFAULT 50, /* Option < i64 > */
	"query" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_audit_log_wrapper';

CREATE  FUNCTION auth."admin_update_user"(
	"id" TEXT, /* Option < & str > */
	"attributes" jsonb /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_update_user_wrapper';

CREATE  FUNCTION auth."admin_list_users"(
	"page" bigint DEFAULT 1, /* Option < i64 > */
	"per_page" bigint DEFAULT 50, /* Option < i64 > */
	"filter" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_list_users_wrapper';

CREATE  FUNCTION auth."_admin_generate_link"(
	"link_type" TEXT, /* Option < & str > */
	"email" TEXT, /* Option < & str > */
	"password" TEXT DEFAULT NULL, /* Option < & str > */
	"data" jsonb DEFAULT NULL, /* Option < JsonbArg > */
	"new_email" TEXT DEFAULT NULL, /* Option < & str > */
	"redirect_to" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', '_admin_generate_link_wrapper';

CREATE  FUNCTION auth."admin_create_user"(
	"attributes" jsonb /* Option < JsonbArg > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_create_user_wrapper';

CREATE  FUNCTION auth."admin_sign_out_user"(
	"id" TEXT /* Option < & str > */
) RETURNS void
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_sign_out_user_wrapper';

CREATE  FUNCTION auth."admin_get_user"(
	"id" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_get_user_wrapper';

CREATE  FUNCTION auth."admin_invite_user"(
	"email" TEXT, /* Option < & str > */
	"data" jsonb DEFAULT NULL, /* Option < JsonbArg > */
	"redirect_to" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admin_invite_user_wrapper';

-- src/admin/api.sql
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

-- src/anonymous/api.sql
-- sign_in_anonymously: anyone may ask (external_anonymous_users_enabled decides, and
-- rate_limit_anonymous_users per address).
REVOKE ALL ON FUNCTION auth.sign_in_anonymously(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_anonymously(jsonb) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_anonymously(data jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_anonymously(data) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_anonymously(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_anonymously(jsonb) TO anon, authenticated, service_role;

-- src/cleanup/api.sql
-- cleanup: for the owner (pg_cron runs a job as the role that scheduled it) and service_role. No
-- auth_api wrapper: it is maintenance, not something a client asks for over HTTP.
REVOKE ALL ON FUNCTION auth.cleanup(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.cleanup(integer) TO service_role;
