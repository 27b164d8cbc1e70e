-- auth.get_user() and auth.update_user(attributes) for the user in the current claims.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
SELECT s->>'access_token' AS a FROM auth.sign_up('gina@example.com', 'ginas-password', '{"theme": "dark", "lang": "en"}') s \gset
SAVEPOINT s;
SELECT auth.get_user();
ROLLBACK TO s;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS as_gina;
SELECT u->>'email' AS email, u->'user_metadata' AS user_metadata, jsonb_array_length(u->'identities') AS identities
  FROM auth.get_user() u;

-- data merges key by key; null removes a key
SELECT u->'user_metadata' AS user_metadata FROM auth.update_user('{"data": {"lang": "fr", "theme": null, "tz": "UTC"}}') u;
-- unknown attributes are ignored, the same email is not a change
SELECT u->'user_metadata' AS user_metadata FROM auth.update_user('{"nonce": "x", "email": "GINA@example.com"}') u;

-- password change: the policy applies, the same password is refused, the new one works
SAVEPOINT s;
SELECT auth.update_user('{"password": "short"}');
ROLLBACK TO s;
SELECT auth.update_user('{"password": "ginas-password"}');
ROLLBACK TO s;
SELECT auth.update_user('{"password": 12345678}');
ROLLBACK TO s;
SELECT auth.update_user(jsonb_build_object('password', repeat('p', 2000)));
ROLLBACK TO s;
-- an email change waits for confirmation (pg_test/sql/flows.sql): the address stays
SELECT u->>'email' AS email, u->>'new_email' AS new_email FROM auth.update_user('{"email": "other@example.com"}') u;
ROLLBACK TO s;
SELECT auth.update_user('{"email": "not an address"}');
ROLLBACK TO s;
SELECT auth.update_user('{"data": [1]}');
ROLLBACK TO s;
SELECT auth.update_user('[1]');
ROLLBACK TO s;
SELECT auth.update_user(NULL);
ROLLBACK TO s;
SELECT auth.sign_in_with_password('gina@example.com', 'ginas-password') IS NOT NULL AS another_session;
SELECT count(*) AS sessions_before FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'gina@example.com';
SELECT auth.update_user('{"password": "ginas-new-password"}') ? 'id' AS updated;
-- a new password ends the other sessions; the caller's stays
SELECT count(*) AS sessions_after, bool_and(s.id = (auth.jwt()->>'session_id')::uuid) AS only_the_callers
  FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'gina@example.com';
SELECT auth.sign_in_with_password('gina@example.com', 'ginas-new-password') ? 'access_token' AS new_password_works;
SAVEPOINT s2;
SELECT auth.sign_in_with_password('gina@example.com', 'ginas-password');
ROLLBACK TO s2;

-- claims naming a user that does not exist, or a sub that is not a UUID
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-00000000dead", "role": "authenticated"}', true) IS NOT NULL AS as_ghost;
SELECT auth.get_user();
ROLLBACK TO s2;
SELECT set_config('request.jwt.claims', '{"sub": "robert''); drop table auth.users; --", "role": "authenticated"}', true) IS NOT NULL AS as_bobby;
SELECT auth.get_user();
ROLLBACK TO s2;
SELECT payload->>'action' AS action, payload->'traits' AS traits FROM auth.audit_log_entries
 WHERE payload->>'action' = 'user_modified' AND payload->>'actor_username' = 'gina@example.com'
 ORDER BY payload->'traits'->>'changed';
ROLLBACK;
