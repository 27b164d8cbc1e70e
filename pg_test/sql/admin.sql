-- The admin API (src/admin) and anonymous users (src/anonymous). An admin is a caller whose
-- token's role is in jwt_admin_roles (service_role, supabase_admin), or the owner over SQL.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": false}') IS NOT NULL AS configured;
-- What a call answers: ok, or its SQLSTATE and GoTrue code.
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL;
    RETURN state || ' ' || code;
END $$;

-- create: confirmed, with metadata; app_metadata merged over provider/providers
SELECT u->>'email' AS email, u->'email_confirmed_at' IS NOT NULL AS confirmed,
       u->'app_metadata' AS app_metadata, u->'user_metadata' AS user_metadata,
       jsonb_array_length(u->'identities') AS identities
  FROM auth.admin_create_user('{"email": "Ada@Example.com", "password": "ada-password-1", "email_confirm": true,
                                "user_metadata": {"full_name": "Ada Lovelace"}, "app_metadata": {"plan": "pro"}}') u;
SELECT id AS ada FROM auth.users WHERE email = 'ada@example.com' \gset
-- both addresses; a phone is stored as digits
SELECT u->>'phone' AS phone, u->'app_metadata'->'providers' AS providers
  FROM auth.admin_create_user('{"email": "both@example.com", "phone": "+1 555 000 1234"}') u;
-- imported hashes: bcrypt and argon2 accepted as they are, anything else refused
SELECT auth.admin_create_user('{"email": "imported@example.com", "email_confirm": true,
       "password_hash": "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}') IS NOT NULL AS imported;
SELECT encrypted_password = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' AS stored_as_given
  FROM auth.users WHERE email = 'imported@example.com';
SELECT auth.sign_in_with_password('imported@example.com', 'U*U') ? 'access_token' AS imported_signs_in;
SELECT encrypted_password LIKE '$argon2id$%' AS upgraded_on_first_use FROM auth.users WHERE email = 'imported@example.com';
SELECT pg_temp.attempt($$SELECT auth.admin_create_user('{"email": "x1@example.com", "password_hash": "{SHA}abc"}')$$) AS unknown_hash,
       pg_temp.attempt($$SELECT auth.admin_create_user('{"email": "x2@example.com", "password": "p", "password_hash": "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}')$$) AS both_given,
       pg_temp.attempt($$SELECT auth.admin_create_user('{"email": "ada@example.com"}')$$) AS taken_email,
       pg_temp.attempt($$SELECT auth.admin_create_user('{"phone": "15550001234"}')$$) AS taken_phone,
       pg_temp.attempt($$SELECT auth.admin_create_user('{}')$$) AS no_address,
       pg_temp.attempt($$SELECT auth.admin_create_user('{"email": "x3@example.com", "email_confirm": "yes"}')$$) AS wrong_type,
       pg_temp.attempt($$SELECT auth.admin_create_user('{"email": "x4@example.com", "ban_duration": "24"}')$$) AS bad_ban;

-- list: a page and the total (newest first; these share one transaction's now()); a filter on
-- part of an email or a name, or an id
SELECT jsonb_array_length(l->'users') AS on_page, l->'total' AS total, l->>'aud' AS aud
  FROM auth.admin_list_users(1, 2) l;
SELECT l->'total' AS total, l->'users'->0->>'email' AS email FROM auth.admin_list_users(1, 50, 'lovelace') l;
SELECT l->'total' AS total FROM auth.admin_list_users(1, 50, :'ada') l;
SELECT l->'total' AS total FROM auth.admin_list_users(1, 50, '%') l;
SELECT pg_temp.attempt($$SELECT auth.admin_list_users(1, 0)$$) AS per_page_zero,
       pg_temp.attempt($$SELECT auth.admin_list_users(1, 100000)$$) AS per_page_huge;

-- get, and GoTrue's 404s
SELECT auth.admin_get_user(:'ada')->>'email' AS email;
SELECT pg_temp.attempt($$SELECT auth.admin_get_user('not-a-uuid')$$) AS bad_id,
       pg_temp.attempt($$SELECT auth.admin_get_user(gen_random_uuid()::text)$$) AS unknown_id;

-- update: metadata merged key by key (null removes), role, address set directly
SELECT u->'user_metadata' AS user_metadata, u->'app_metadata'->'plan' AS plan, u->>'role' AS role
  FROM auth.admin_update_user(:'ada', '{"user_metadata": {"team": "a"}, "app_metadata": {"plan": null}, "role": "staff"}') u;
SELECT u->>'email' AS email, u->'identities'->0->'identity_data'->>'email' AS identity_email
  FROM auth.admin_update_user(:'ada', '{"email": "ada.l@example.com", "email_confirm": true}') u;
SELECT pg_temp.attempt(format($$SELECT auth.admin_update_user(%L, '{"email": "both@example.com"}')$$, :'ada')) AS taken;
-- a ban ends the user's sessions and refuses sign-in; none lifts it
SELECT auth.sign_in_with_password('ada.l@example.com', 'ada-password-1') ? 'access_token' AS signed_in;
SELECT count(*) AS sessions FROM auth.sessions WHERE user_id = :'ada';
SELECT auth.admin_update_user(:'ada', '{"ban_duration": "1h"}')->'banned_until' IS NOT NULL AS banned;
SELECT count(*) AS sessions_after_ban FROM auth.sessions WHERE user_id = :'ada';
SELECT pg_temp.attempt($$SELECT auth.sign_in_with_password('ada.l@example.com', 'ada-password-1')$$) AS banned_sign_in;
SELECT auth.admin_update_user(:'ada', '{"ban_duration": "none"}') ? 'banned_until' AS still_banned;
-- a new password ends the sessions too
SELECT auth.sign_in_with_password('ada.l@example.com', 'ada-password-1') ? 'access_token' AS signed_in;
SELECT auth.admin_update_user(:'ada', '{"password": "ada-password-2"}') IS NOT NULL AS updated;
SELECT count(*) AS sessions_after_password FROM auth.sessions WHERE user_id = :'ada';
SELECT pg_temp.attempt($$SELECT auth.admin_update_user(gen_random_uuid()::text, '{}')$$) AS unknown_user;

-- generate_link: the code and its hash, nothing queued; a magic link for a stranger signs them up
SELECT count(*) AS queued_before FROM auth.outbox \gset
SELECT l->>'verification_type' AS type, l->>'email_otp' ~ '^\d{6}$' AS code,
       l->>'hashed_token' ~ '^[0-9a-f]{56}$' AS hashed,
       l->>'action_link' LIKE 'http://localhost:9999/verify?token=' || (l->>'hashed_token') || '&type=recovery&redirect_to=%' AS link
  FROM auth.admin_generate_link('recovery', 'ada.l@example.com') l;
SELECT l->>'verification_type' AS type, l->>'email' AS email FROM auth.admin_generate_link('magiclink', 'stranger@example.com') l;
SELECT count(*) - :queued_before AS queued FROM auth.outbox;
SELECT pg_temp.attempt($$SELECT auth.admin_generate_link('recovery', 'nobody@example.com')$$) AS unknown,
       pg_temp.attempt($$SELECT auth.admin_generate_link('signup', 'ada.l@example.com', 'pw-123456')$$) AS confirmed,
       pg_temp.attempt($$SELECT auth.admin_generate_link('signup', 'new@example.com')$$) AS no_password,
       pg_temp.attempt($$SELECT auth.admin_generate_link('launch', 'ada.l@example.com')$$) AS bad_type;
-- the code verifies as the link says
SELECT auth.verify_otp('signup', token_hash => (SELECT l->>'hashed_token' FROM auth.admin_generate_link('signup', 'linked@example.com', 'linked-pw-1') l)) ? 'access_token' AS verified;

-- invite: the user and an invitation in the outbox
SELECT u->'invited_at' IS NOT NULL AS invited, u->'user_metadata' AS data
  FROM auth.admin_invite_user('guest@example.com', '{"team": "b"}') u;
SELECT action, recipient FROM auth.outbox ORDER BY id DESC LIMIT 1;
SELECT pg_temp.attempt($$SELECT auth.admin_invite_user('ada.l@example.com')$$) AS invite_confirmed;

-- delete: soft keeps an obfuscated row and frees the address; hard removes the row
SELECT auth.admin_delete_user(:'ada', true) AS answer;
SELECT email <> 'ada.l@example.com' AS obfuscated, length(email) AS length, deleted_at IS NOT NULL AS deleted,
       encrypted_password IS NULL AS no_password, raw_user_meta_data AS data
  FROM auth.users WHERE id = :'ada';
SELECT auth.admin_get_user(:'ada') ? 'deleted_at' AS still_listed;
SELECT auth.admin_create_user('{"email": "ada.l@example.com"}') IS NOT NULL AS address_free_again;
SELECT auth.admin_delete_user((SELECT id::text FROM auth.users WHERE email = 'both@example.com')) AS answer;
SELECT count(*) AS rows_left FROM auth.users WHERE email = 'both@example.com';

-- the audit log, newest first, searchable
SELECT e->'payload'->>'action' AS action, e->'payload'->>'actor_username' AS actor
  FROM jsonb_array_elements(auth.admin_audit_log(1, 3, 'action:user_deleted')->'entries') e;

-- Not an admin: a user's token, an anon token; the admin's token passes
SELECT auth.sign_in_with_password('imported@example.com', 'U*U')->>'access_token' AS user_token \gset
SELECT auth.authenticate(:'user_token') IS NOT NULL AS as_user;
SELECT pg_temp.attempt($$SELECT auth.admin_list_users()$$) AS list,
       pg_temp.attempt(format($$SELECT auth.admin_delete_user(%L)$$, :'ada')) AS del,
       pg_temp.attempt($$SELECT auth.admin_generate_link('magiclink', 'imported@example.com')$$) AS link;
SELECT auth.authenticate(auth.sign_jwt('{"role": "service_role"}')) IS NOT NULL AS as_service_role;
SELECT auth.admin_list_users(1, 1) ? 'users' AS listed;
SELECT auth.configure('{"jwt_admin_roles": ["dashboard"]}') IS NOT NULL AS other_admin_roles;
SELECT pg_temp.attempt($$SELECT auth.admin_list_users()$$) AS service_role_no_longer;
SELECT auth.configure('{"jwt_admin_roles": ["service_role", "supabase_admin"]}') IS NOT NULL AS restored;
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;

-- Anonymous users: off by default; on, an is_anonymous token with amr anonymous
SELECT pg_temp.attempt($$SELECT auth.sign_in_anonymously()$$) AS disabled;
SELECT auth.configure('{"external_anonymous_users_enabled": true}') IS NOT NULL AS enabled;
SELECT s->'user'->'is_anonymous' AS is_anonymous, s->'user'->>'email' AS email, s->'user'->'app_metadata' AS app_metadata,
       s->'user'->'user_metadata' AS data, jsonb_array_length(s->'user'->'identities') AS identities,
       auth.verify_jwt(s->>'access_token')->'is_anonymous' AS claim,
       auth.verify_jwt(s->>'access_token')->'amr'->0->>'method' AS amr
  FROM auth.sign_in_anonymously('{"cart": 2}') s;
ROLLBACK;
