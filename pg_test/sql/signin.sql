-- auth.sign_in_with_password: one answer for unknown email and wrong password, one hash each.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.sign_up('carol@example.com', 'carols-password') IS NOT NULL AS signed_up;
SELECT count(*) AS sessions_before FROM auth.sessions;

-- success: a new session; emails match whatever the case and spacing
SELECT s->'user'->>'email' AS email, s->>'token_type' AS token_type, s->'user'->'last_sign_in_at' IS NOT NULL AS last_sign_in_set
  FROM auth.sign_in_with_password('  CAROL@example.com', 'carols-password') s;
SELECT count(*) AS sessions_after FROM auth.sessions;

SAVEPOINT s;
-- wrong password and unknown email: the same error
SELECT auth.sign_in_with_password('carol@example.com', 'not-her-password');
ROLLBACK TO s;
SELECT auth.sign_in_with_password('nobody@example.com', 'carols-password');
ROLLBACK TO s;
SELECT auth.sign_in_with_password('not-an-email', 'carols-password');
ROLLBACK TO s;
SELECT auth.sign_in_with_password('carol@example.com'' OR 1=1 --', 'x');
ROLLBACK TO s;
SELECT auth.sign_in_with_password(NULL, 'carols-password');
ROLLBACK TO s;
SELECT auth.sign_in_with_password('carol@example.com', NULL);
ROLLBACK TO s;
SELECT auth.sign_in_with_password('carol@example.com', '');
ROLLBACK TO s;
SELECT auth.sign_in_with_password('carol@example.com', repeat('p', 1048576));
ROLLBACK TO s;
SELECT count(*) AS sessions_after_failures FROM auth.sessions;

-- banned and unconfirmed users are refused after the password check
UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE email = 'carol@example.com';
SELECT auth.sign_in_with_password('carol@example.com', 'carols-password');
ROLLBACK TO s;
UPDATE auth.users SET email_confirmed_at = NULL WHERE email = 'carol@example.com';
SELECT auth.sign_in_with_password('carol@example.com', 'carols-password');
ROLLBACK TO s;
-- a soft-deleted user is unknown
UPDATE auth.users SET deleted_at = now() WHERE email = 'carol@example.com';
SELECT auth.sign_in_with_password('carol@example.com', 'carols-password');
ROLLBACK TO s;
-- a user inserted by a test helper with no password cannot sign in
INSERT INTO auth.users (id, email, raw_user_meta_data, raw_app_meta_data, created_at, updated_at)
VALUES (gen_random_uuid(), 'helper@example.com', '{}', '{}', now(), now());
SELECT auth.sign_in_with_password('helper@example.com', 'anything-at-all');
ROLLBACK TO s;
ROLLBACK;

-- the default cost is argon2id m=19456 KiB, t=2, p=1, and a cheaper stored hash is upgraded on sign-in
BEGIN;
SELECT auth.sign_up('dave@example.com', 'daves-password') IS NOT NULL AS signed_up;
SELECT encrypted_password LIKE '$argon2id$v=19$m=1024,t=1,p=1$%' AS cheap_hash FROM auth.users WHERE email = 'dave@example.com';
SELECT auth.configure('{"argon2_memory_kib": 19456, "argon2_iterations": 2}')->'argon2_memory_kib' AS argon2_memory_kib;
SELECT auth.sign_in_with_password('dave@example.com', 'daves-password') ? 'access_token' AS signed_in;
SELECT encrypted_password LIKE '$argon2id$v=19$m=19456,t=2,p=1$%' AS default_cost_hash FROM auth.users WHERE email = 'dave@example.com';
ROLLBACK;

-- users moved from Supabase keep their bcrypt passwords; the first sign-in re-hashes with argon2id
BEGIN;
INSERT INTO auth.users (id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
VALUES ('11111111-1111-4111-8111-111111111111', 'moved@example.com',
        -- bcrypt cost 4 of 'password-from-supabase'
        '$2b$04$70Y58Hn60N1BJBw8MU85TOZxZ3Q7emxBaKbymg2UVS.hMHOZYgaqy', now(), '{"provider": "email"}', '{}');
SELECT auth.sign_in_with_password('moved@example.com', 'password-from-supabase') ? 'access_token' AS signed_in;
SELECT encrypted_password LIKE '$argon2id$%' AS rehashed FROM auth.users WHERE email = 'moved@example.com';
SELECT auth.sign_in_with_password('moved@example.com', 'password-from-supabase') ? 'access_token' AS signed_in_again;
ROLLBACK;
