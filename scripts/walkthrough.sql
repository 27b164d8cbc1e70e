-- The quick-start tour, run by ./run against a fresh database.
\set QUIET on
\pset footer off
\echo
\echo '1. CREATE EXTENSION auth_ext: the auth schema, the roles anon/authenticated/service_role, a fresh signing secret'
DROP DATABASE IF EXISTS auth_demo;
CREATE DATABASE auth_demo;
\c auth_demo
CREATE EXTENSION auth_ext;
SELECT count(*) AS auth_tables FROM pg_tables WHERE schemaname = 'auth';

\echo
\echo '2. auth.sign_up: alice and bob sign up (mailer_autoconfirm is on, so each gets a session)'
SELECT s->'user'->>'id' AS alice_id FROM auth.sign_up('Alice@Example.com ', 'correct horse battery staple', '{"name": "Alice"}') s \gset
SELECT s->'user'->>'id' AS bob_id FROM auth.sign_up('bob@example.com', 'tr0ub4dor&3-but-longer') s \gset
SELECT email, raw_user_meta_data, left(encrypted_password, 30) || '…' AS encrypted_password FROM auth.users ORDER BY email;

\echo
\echo '3. auth.sign_in_with_password: alice signs in and receives a GoTrue token response'
SELECT s->>'access_token' AS alice_token, s->>'refresh_token' AS alice_refresh
  FROM auth.sign_in_with_password('alice@example.com', 'correct horse battery staple') s \gset
SELECT claims->>'sub' AS sub, claims->>'role' AS role, claims->>'email' AS email, claims->'amr' AS amr
  FROM auth.verify_jwt(:'alice_token') AS claims;

\echo
\echo '4. Row-level security with auth.uid(): a todos table whose policy is user_id = auth.uid()'
CREATE TABLE public.todos (id serial PRIMARY KEY, user_id uuid NOT NULL, task text NOT NULL);
ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_todos ON public.todos FOR ALL TO authenticated USING (user_id = auth.uid());
GRANT SELECT, INSERT, UPDATE, DELETE ON public.todos TO authenticated;
INSERT INTO public.todos (user_id, task) VALUES
    (:'alice_id', 'alice: write the report'), (:'alice_id', 'alice: water the plants'), (:'bob_id', 'bob: fix the bike');
\echo '   as PostgREST does per request: SET LOCAL role and request.jwt.claims from the verified token'
BEGIN;
SELECT set_config('role', 'authenticated', true) AS role,
       set_config('request.jwt.claims', auth.verify_jwt(:'alice_token')::text, true) IS NOT NULL AS claims_set \gset
SELECT id, task FROM public.todos ORDER BY id;
COMMIT;

\echo
\echo '5. auth.refresh_session: the refresh token rotates; the old one is revoked'
SELECT s->>'refresh_token' AS alice_refresh2, s->>'access_token' AS alice_token2
  FROM auth.refresh_session(:'alice_refresh') s \gset
SELECT token IS NOT NULL AS stored_hash_only, revoked, parent IS NOT NULL AS has_parent
  FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
 WHERE s.id = (auth.verify_jwt(:'alice_token')->>'session_id')::uuid ORDER BY t.id;

\echo
\echo '6. auth.sign_out (scope global) for the session in the claims; refreshing afterwards fails'
BEGIN;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'alice_token2')::text, true) IS NOT NULL AS claims_set \gset
SELECT auth.sign_out();
COMMIT;
SELECT count(*) AS alice_sessions FROM auth.sessions WHERE user_id = :'alice_id';
\set ON_ERROR_STOP 0
\set VERBOSITY verbose
SELECT auth.refresh_session(:'alice_refresh2');
\set ON_ERROR_STOP 1
\echo
\echo '7. The audit log'
SELECT payload->>'action' AS action, payload->>'actor_username' AS actor FROM auth.audit_log_entries ORDER BY created_at, payload->>'action';
