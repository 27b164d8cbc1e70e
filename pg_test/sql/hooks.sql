-- Auth hooks (src/hooks, core/src/hooks.rs): the owner's SQL functions with GoTrue's JSON
-- contracts, run in the request's transaction as hook_role (supabase_auth_admin) within
-- hook_timeout_ms. Their errors reach the caller in their own words.
\set VERBOSITY terse
\set SHOW_CONTEXT never
-- (The sign-in backoff would space this file's many sign-ins of one account: off here.)
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "sign_in_backoff_max_seconds": 0}') IS NOT NULL AS configured;
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text; msg text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT;
    RETURN state || ' ' || code || ': ' || regexp_replace(msg, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>');
END $$;

-- The role exists, as on Supabase; a hook written for Supabase grants to it.
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'supabase_auth_admin';
BEGIN;
CREATE TABLE public.user_roles (user_id uuid PRIMARY KEY, role text NOT NULL);
CREATE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE claims jsonb := event->'claims';
BEGIN
    claims := jsonb_set(claims, '{user_role}',
        coalesce((SELECT to_jsonb(role) FROM public.user_roles WHERE user_id = (event->>'user_id')::uuid), 'null'));
    claims := jsonb_set(claims, '{method}', to_jsonb(event->>'authentication_method'));
    RETURN jsonb_build_object('claims', claims);
END $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) TO supabase_auth_admin;
GRANT SELECT ON public.user_roles TO supabase_auth_admin;
SELECT auth.configure('{"hook_custom_access_token": "pg-functions://postgres/public/custom_access_token_hook"}') IS NOT NULL AS configured;
SELECT auth.settings()->>'hook_custom_access_token' AS hook;
SELECT (auth.sign_up('editor@example.com', 'editor-password')->'user'->>'id') AS editor \gset
INSERT INTO public.user_roles VALUES (:'editor', 'editor');
-- every minting: sign-in, refresh
SELECT auth.sign_in_with_password('editor@example.com', 'editor-password') AS s \gset
SELECT auth.verify_jwt(:'s'::jsonb->>'access_token')->>'user_role' AS user_role,
       auth.verify_jwt(:'s'::jsonb->>'access_token')->>'method' AS method;
SELECT auth.verify_jwt(r->>'access_token')->>'user_role' AS user_role, auth.verify_jwt(r->>'access_token')->>'method' AS method
  FROM auth.refresh_session(:'s'::jsonb->>'refresh_token') r;
-- the claim in an RLS policy, through auth.jwt()
CREATE TABLE public.drafts (id int, body text);
ALTER TABLE public.drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY editors ON public.drafts TO authenticated USING (auth.jwt()->>'user_role' = 'editor');
GRANT SELECT ON public.drafts TO authenticated;
INSERT INTO public.drafts VALUES (1, 'draft');
SELECT auth.authenticate(:'s'::jsonb->>'access_token') IS NOT NULL AS authenticated;
SET LOCAL ROLE authenticated;
SELECT count(*) AS drafts_seen_by_editor FROM public.drafts;
RESET ROLE;
SELECT (auth.sign_up('reader@example.com', 'reader-password')->>'access_token') AS reader \gset
SELECT auth.authenticate(:'reader') IS NOT NULL AS authenticated;
SET LOCAL ROLE authenticated;
SELECT count(*) AS drafts_seen_by_reader FROM public.drafts;
RESET ROLE;
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS cleared;

-- What a hook may not do: another sub, a second factor, service_role, a longer life
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', event->'claims' || jsonb_build_object('sub', gen_random_uuid()::text)) $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS other_sub;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', event->'claims' || '{"aal": "aal2"}') $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS aal2;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', event->'claims' || '{"role": "service_role"}') $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS service_role;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', event->'claims' || jsonb_build_object('exp', (event->'claims'->>'exp')::int8 + 86400)) $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS longer_life;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', (event->'claims') - 'email' || '{"exp": "soon"}') $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS schema;
-- a role the owner allows
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('claims', event->'claims' || '{"role": "anon"}') $$;
SELECT auth.configure('{"hook_custom_access_token_roles": ["anon"]}') IS NOT NULL AS configured;
SELECT auth.verify_jwt(s->>'access_token')->>'role' AS role FROM auth.sign_in_with_password('editor@example.com', 'editor-password') s;

-- Failures in the hook's own words: an error object (its status), an exception, a timeout, a
-- missing grant; the hook runs as supabase_auth_admin, which reads no auth table
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT '{"error": {"http_code": 403, "message": "Not in the beta"}}'::jsonb $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS error_object;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'no profile for %', event->>'user_id'; END $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS exception;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(2); RETURN event; END $$;
SELECT auth.configure('{"hook_timeout_ms": 100}') IS NOT NULL AS configured;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS timeout;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN DELETE FROM auth.sessions; RETURN event; END $$;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS as_hook_role;
SELECT count(*) > 0 AS sessions_kept FROM auth.sessions;
REVOKE EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) FROM supabase_auth_admin, PUBLIC;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS no_grant;
SELECT pg_temp.attempt($$SELECT auth.configure('{"hook_send_email": "public.f; DROP TABLE auth.users"}')$$) AS injection;
SELECT current_user AS back_to, current_setting('search_path') AS search_path;
-- Nothing a hook sets outlives it, even without LOCAL: not claims (which a later transaction on
-- the connection would trust), not search_path, not statement_timeout; its notices reach no one
GRANT EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) TO supabase_auth_admin;
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', '{"role": "service_role"}', false),
            set_config('search_path', 'evil, public', false),
            set_config('statement_timeout', '123456', false);
    RAISE NOTICE 'a code: %', event->>'user_id';
    RETURN event;
END $$;
SELECT auth.configure('{"hook_timeout_ms": 2000}') IS NOT NULL AS configured;
SELECT auth.sign_in_with_password('editor@example.com', 'editor-password') ? 'access_token' AS signed_in;
SELECT current_setting('request.jwt.claims', true) AS claims_after, current_setting('search_path') AS search_path,
       current_setting('statement_timeout') AS statement_timeout;
-- a hook that catches its cancel and goes on still ran out of time
CREATE OR REPLACE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    BEGIN PERFORM pg_sleep(1); EXCEPTION WHEN query_canceled THEN NULL; END;
    RETURN event;
END $$;
SELECT auth.configure('{"hook_timeout_ms": 100}') IS NOT NULL AS configured;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS caught_cancel;
-- a hook role above its station is refused
SELECT auth.configure('{"hook_role": "postgres", "hook_timeout_ms": 2000}') IS NOT NULL AS configured;
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('editor@example.com', 'editor-password')$$) AS superuser_role;
ROLLBACK;

-- before_user_created: reject with the hook's status and words; nothing is created
BEGIN;
CREATE FUNCTION public.before_user_created(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN event->'user'->>'email' LIKE '%@blocked.example'
                THEN '{"error": {"http_code": 403, "message": "Sign-ups from this domain are closed"}}'::jsonb
                ELSE '{}'::jsonb END $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.before_user_created(jsonb) TO supabase_auth_admin;
SELECT auth.configure('{"hook_before_user_created": "public.before_user_created", "external_anonymous_users_enabled": true}') IS NOT NULL AS configured;
SELECT pg_temp.attempt($$SELECT auth.sign_up('eve@blocked.example', 'eve-password-1')$$) AS blocked;
SELECT count(*) AS created FROM auth.users WHERE email = 'eve@blocked.example';
SELECT auth.sign_up('amy@open.example', 'amy-password-1')->'user'->>'email' AS allowed;
SELECT auth.sign_in_anonymously() ? 'access_token' AS anonymous_allowed;
ROLLBACK;

-- send_email replaces the outbox: the hook gets GoTrue's payload, nothing waits to be sent
BEGIN;
CREATE TABLE public.sent (payload jsonb);
CREATE FUNCTION public.send_email(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO public.sent VALUES (event); SELECT '{}'::jsonb $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.send_email(jsonb) TO supabase_auth_admin;
GRANT INSERT ON public.sent TO supabase_auth_admin;
SELECT auth.configure('{"hook_send_email": "public.send_email", "mailer_autoconfirm": false}') IS NOT NULL AS configured;
SELECT count(*) AS queued_before FROM auth.outbox \gset
SELECT auth.sign_up('mailed@example.com', 'mailed-password') IS NOT NULL AS signed_up;
SELECT payload->'email_data'->>'email_action_type' AS action, payload->'user'->>'email' AS email,
       length(payload->'email_data'->>'token') AS code_length, payload->'metadata'->>'name' AS hook
  FROM public.sent;
-- kept as sent without its payload (no code stored), so the hourly mail limit counts it
SELECT count(*) - :queued_before AS recorded, min(status) AS status, min(payload::text) AS payload FROM auth.outbox;
SELECT auth.verify_otp('signup', (SELECT payload->'email_data'->>'token' FROM public.sent), email => 'mailed@example.com') ? 'access_token' AS verified;
ROLLBACK;

-- password_verification_attempt: it sees every attempt on a known account and may reject, and
-- end the user's sessions (apart from the refused call, which rolls back). Outside a
-- transaction: the sessions it ends are committed ones.
CREATE FUNCTION public.password_check(event jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN NOT (event->>'valid')::boolean
                THEN '{"decision": "reject", "message": "Too many attempts", "should_logout_user": true}'::jsonb
                ELSE '{"decision": "continue"}'::jsonb END $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.password_check(jsonb) TO supabase_auth_admin;
SELECT auth.sign_up('guarded@example.com', 'guarded-password') ? 'access_token' AS signed_up;
SELECT auth.configure('{"hook_password_verification_attempt": "public.password_check"}') IS NOT NULL AS configured;
SELECT auth.sign_in_with_password('guarded@example.com', 'guarded-password') ? 'access_token' AS right_password;
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'guarded@example.com';
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('guarded@example.com', 'wrong-password')$$) AS wrong_password;
SELECT count(*) AS sessions_after FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'guarded@example.com';
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('nobody@example.com', 'wrong-password')$$) AS unknown_account;
SELECT auth.configure('{"hook_password_verification_attempt": null, "sign_in_backoff_max_seconds": 60}') IS NOT NULL AS restored;
DELETE FROM auth.users WHERE email = 'guarded@example.com';
DROP FUNCTION public.password_check(jsonb);
REVOKE USAGE ON SCHEMA public FROM supabase_auth_admin;
