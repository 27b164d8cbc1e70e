-- The PostgREST contract: each request is one transaction that sets role, search_path and
-- request.* with set_config(..., true) in one statement, then calls the RPC in auth_api.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
-- auth stays private: only auth_api is meant for db-schemas, and it holds only these functions
SELECT p.oid::regprocedure AS api_function, has_function_privilege('anon', p.oid, 'EXECUTE') AS anon,
       has_function_privilege('authenticated', p.oid, 'EXECUTE') AS authenticated
  FROM pg_proc p WHERE p.pronamespace = 'auth_api'::regnamespace ORDER BY p.oid::regprocedure::text;

-- POST /rpc/sign_up as anon, through one proxy (the default client_ip_trusted_proxies = 1): the
-- client wrote 203.0.113.9 itself; the address is the entry the proxy appended, 10.0.0.1
BEGIN;
SELECT set_config('search_path', 'auth_api', true), set_config('role', 'anon', true),
       set_config('request.jwt.claims', '{"role":"anon"}', true), set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/sign_up', true),
       set_config('request.headers', '{"user-agent":"regress/1.0","x-forwarded-for":"203.0.113.9, 10.0.0.1"}', true) \g /dev/null
SELECT s->>'access_token' AS ha, s->>'refresh_token' AS hr FROM auth_api.sign_up(email => 'hana@example.com', password => 'hanas-password') s \gset
COMMIT;
SELECT user_agent, ip FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'hana@example.com';
SELECT ip_address FROM auth.audit_log_entries WHERE payload->>'actor_username' = 'hana@example.com' LIMIT 1;
SELECT current_setting('request.jwt.claims', true) = '' AS claims_cleared_after_commit, auth.uid() IS NULL AS no_uid_after_commit;
-- behind two proxies (a CDN, then ours), the entry the first one appended; a header with fewer
-- entries than proxies, or a header that is not trusted, gives no address at all
BEGIN;
SELECT auth.configure('{"client_ip_trusted_proxies": 2}') IS NOT NULL AS two_proxies;
SELECT set_config('request.headers', '{"x-forwarded-for":"6.6.6.6, 203.0.113.9, 10.0.0.1"}', true) \g /dev/null
SELECT auth.sign_in_with_password('hana@example.com', 'hanas-password') IS NOT NULL AS signed_in;
SELECT set_config('request.headers', '{"x-forwarded-for":"10.0.0.1"}', true) \g /dev/null
SELECT auth.sign_in_with_password('hana@example.com', 'hanas-password') IS NOT NULL AS signed_in;
SELECT auth.configure('{"client_ip_header": "x-real-ip", "client_ip_trusted_proxies": 1}') IS NOT NULL AS real_ip;
SELECT set_config('request.headers', '{"x-forwarded-for":"6.6.6.6", "x-real-ip": "198.51.100.7"}', true) \g /dev/null
SELECT auth.sign_in_with_password('hana@example.com', 'hanas-password') IS NOT NULL AS signed_in;
SELECT auth.configure('{"client_ip_header": null}') IS NOT NULL AS no_header;
SELECT auth.sign_in_with_password('hana@example.com', 'hanas-password') IS NOT NULL AS signed_in;
SELECT ip FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'hana@example.com' ORDER BY s.ip NULLS LAST;
ROLLBACK;

-- POST /rpc/get_user as the user: claims come from the verified token
BEGIN;
SELECT set_config('search_path', 'auth_api', true), set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', auth.verify_jwt(:'ha')::text, true) \g /dev/null
SELECT u->>'email' AS email FROM auth_api.get_user() u;
SELECT u->'user_metadata' AS user_metadata FROM auth_api.update_user('{"data": {"n": 1}}') u;
COMMIT;

-- POST /rpc/get_user as anon: refused by privileges (PostgREST answers 401)
BEGIN;
SELECT set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role":"anon"}', true) \g /dev/null
\set VERBOSITY default
SELECT auth_api.get_user();
\set VERBOSITY verbose
ROLLBACK;

-- POST /rpc/sign_in_with_password with a wrong password: PT400, which PostgREST turns into HTTP 400
BEGIN;
SELECT set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role":"anon"}', true) \g /dev/null
SELECT auth_api.sign_in_with_password('hana@example.com', 'wrong-password');
ROLLBACK;

-- POST /rpc/refresh_session and /rpc/sign_out
BEGIN;
SELECT set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role":"anon"}', true) \g /dev/null
SELECT s->>'access_token' AS ha2 FROM auth_api.refresh_session(:'hr') s \gset
COMMIT;
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', auth.verify_jwt(:'ha2')::text, true) \g /dev/null
SELECT auth_api.sign_out('local') IS NULL AS signed_out;
COMMIT;
SELECT count(*) AS hana_sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'hana@example.com';
DELETE FROM auth.users WHERE email = 'hana@example.com';
