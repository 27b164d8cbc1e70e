-- Grows the population to :users users (bulk inserts, not sign-ups: a million argon2 hashes
-- would take hours), each with one session and ten refresh tokens (nine rotated, one live), so
-- 1,000,000 users come with 10,000,000 refresh-token rows. Every grown user has the password
-- bench-password-1 (one hash, made by a real sign-up, shared). The email flows' tables grow too:
-- every user's confirmation mail sent a day ago stays in the outbox (as sent rows stay, its codes
-- wiped), and every tenth user has an expired code pending in one_time_tokens and a session that
-- ended two days ago (what auth.cleanup() removes).
\set QUIET on
SELECT encrypted_password AS hash FROM auth.users WHERE email = 'bench-0@example.com' \gset
SELECT count(*) AS have FROM auth.users WHERE email LIKE 'grow-%' \gset
BEGIN;
CREATE TEMP TABLE grown ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, gen_random_uuid() AS session_id, 'grow-' || g || '@example.com' AS email
  FROM generate_series(:have + 1, :users) g;
INSERT INTO auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
SELECT id, 'authenticated', 'authenticated', email, :'hash', now(),
       '{"provider": "email", "providers": ["email"]}', '{}', now(), now() FROM grown;
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
SELECT id::text, id, jsonb_build_object('sub', id::text, 'email', email), 'email', now(), now() FROM grown;
INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, not_after)
SELECT session_id, id, now(), now(), 'aal1',
       CASE WHEN right(email, 13) = '0@example.com' THEN now() - interval '2 days' END FROM grown;
INSERT INTO auth.refresh_tokens (token, user_id, revoked, session_id, parent, created_at, updated_at)
SELECT md5(random()::text) || md5(random()::text), id::text, k < 10, session_id, NULL, now(), now()
  FROM grown, generate_series(1, 10) k;
INSERT INTO auth.outbox (channel, action, recipient, user_id, payload, status, attempts,
                         next_attempt_at, created_at, sent_at)
SELECT 'email', 'signup', email, id, jsonb_build_object('user', jsonb_build_object('id', id, 'email', email)),
       'sent', 1, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day' FROM grown;
INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
SELECT gen_random_uuid(), id, 'recovery_token', md5(random()::text) || md5(random()::text), email,
       timezone('UTC', now()) - interval '2 hours', timezone('UTC', now()) - interval '2 hours'
  FROM grown WHERE right(email, 13) = '0@example.com';
COMMIT;
VACUUM ANALYZE auth.users, auth.identities, auth.sessions, auth.refresh_tokens, auth.outbox, auth.one_time_tokens;
SELECT (SELECT count(*) FROM auth.users) AS users, (SELECT count(*) FROM auth.refresh_tokens) AS refresh_tokens;
