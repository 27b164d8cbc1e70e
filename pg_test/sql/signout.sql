-- auth.sign_out(scope) for the session in the current claims.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.sign_up('frank@example.com', 'franks-password') IS NOT NULL AS signed_up;
SELECT s->>'access_token' AS a1 FROM auth.sign_in_with_password('frank@example.com', 'franks-password') s \gset
SELECT s->>'access_token' AS a2 FROM auth.sign_in_with_password('frank@example.com', 'franks-password') s \gset
SELECT s->>'access_token' AS a3, s->>'refresh_token' AS r3 FROM auth.sign_in_with_password('frank@example.com', 'franks-password') s \gset
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'frank@example.com';

-- no claims: no_authorization; a bad scope: validation_failed
SAVEPOINT s;
SELECT auth.sign_out();
ROLLBACK TO s;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a1')::text, true) IS NOT NULL AS as_session_1;
SELECT auth.sign_out('everything');
ROLLBACK TO s;

-- local: only this session
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a1')::text, true) IS NOT NULL AS as_session_1;
SELECT auth.sign_out('local');
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'frank@example.com';
-- get_user with the signed-out session's token: session_not_found
SAVEPOINT after_local;
SELECT auth.get_user();
ROLLBACK TO after_local;

-- others: all but this one
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a3')::text, true) IS NOT NULL AS as_session_3;
SELECT auth.sign_out('others');
SELECT s.id = (auth.verify_jwt(:'a3')->>'session_id')::uuid AS only_this_one_left
  FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'frank@example.com';

-- global: everything, and the refresh token dies with the session
SELECT auth.sign_out('global');
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'frank@example.com';
SAVEPOINT after_global;
SELECT auth.refresh_session(:'r3');
ROLLBACK TO after_global;
-- signing out again is harmless; a NULL scope means the default, global
SELECT auth.sign_out(NULL);
SELECT payload->>'action' AS action, count(*) FROM auth.audit_log_entries
 WHERE payload->>'actor_username' = 'frank@example.com'
 GROUP BY 1 ORDER BY 1;
ROLLBACK;
