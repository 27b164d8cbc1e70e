-- CREATE EXTENSION: tables, roles, RLS, privileges, and where the secret lives.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
CREATE EXTENSION auth_ext;

-- the Supabase-shaped tables and the private ones
SELECT tablename, rowsecurity FROM pg_tables WHERE schemaname = 'auth' ORDER BY tablename;

-- the three API roles exist and cannot log in; service_role bypasses RLS as in Supabase
SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles
 WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY rolname;

-- no table, sequence or column privilege for the API roles or PUBLIC
SELECT count(*) AS table_grants FROM information_schema.role_table_grants
 WHERE table_schema = 'auth' AND grantee IN ('anon', 'authenticated', 'service_role', 'PUBLIC');
SELECT count(*) AS column_grants FROM information_schema.column_privileges
 WHERE table_schema = 'auth' AND grantee IN ('anon', 'authenticated', 'service_role', 'PUBLIC');

-- what each role may execute in auth and auth_api
SELECT r.rolname, string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text) AS executable
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  CROSS JOIN (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 WHERE n.nspname IN ('auth', 'auth_api') AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')
 GROUP BY r.rolname ORDER BY r.rolname;

-- every SECURITY DEFINER function pins its search_path
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('auth', 'auth_api') AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- a 256-bit random secret in the private table, exactly one current key, not in any setting
SELECT algorithm, status, length(secret) AS secret_length FROM auth.signing_keys;
SELECT count(*) AS settings_holding_the_secret FROM pg_settings s, auth.signing_keys k
 WHERE position(convert_from(k.secret, 'UTF8') IN coalesce(s.setting, '')) > 0;
SELECT length(refresh_token_key) AS refresh_chain_key_length FROM auth.config;

-- the default settings
SELECT jsonb_pretty(auth.settings());

-- the API roles cannot read the private tables (Postgres' own errors: default verbosity,
-- whose text does not depend on the server's minor version)
\set VERBOSITY default
SET ROLE anon;
SELECT * FROM auth.signing_keys;
RESET ROLE;
SET ROLE authenticated;
SELECT * FROM auth.users;
RESET ROLE;
SET ROLE service_role;
SELECT * FROM auth.config;
SELECT auth.configure('{"jwt_exp": 60}');
SELECT auth.postgrest_jwt_secret();
RESET ROLE;
\set VERBOSITY verbose

-- cheap hashing keeps the rest of the suite fast; signin.sql checks the default cost itself
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1}')->'argon2_memory_kib' AS argon2_memory_kib;
