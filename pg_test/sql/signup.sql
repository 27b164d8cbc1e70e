-- auth.sign_up: a session on success; a PTxxx error and nothing written on bad input.
\set VERBOSITY verbose
\set SHOW_CONTEXT never

BEGIN;
SELECT auth.sign_up('  New.User@Example.COM ', 'a-good-password', '{"plan": "pro"}') AS s \gset
-- the GoTrue token response
SELECT jsonb_object_keys(:'s'::jsonb) AS session_keys ORDER BY 1;
SELECT :'s'::jsonb->>'token_type' AS token_type, :'s'::jsonb->'expires_in' AS expires_in,
       (:'s'::jsonb->>'expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 3590 AND 3610 AS expires_at_ok,
       length(:'s'::jsonb->>'refresh_token') >= 22 AS refresh_token_long_enough;
-- the user object
SELECT jsonb_object_keys(:'s'::jsonb->'user') AS user_keys ORDER BY 1;
SELECT u->>'email' AS email, u->>'aud' AS aud, u->>'role' AS role, u->'app_metadata' AS app_metadata,
       u->'user_metadata' AS user_metadata, u->'is_anonymous' AS is_anonymous,
       u->'email_confirmed_at' IS NOT NULL AS confirmed, jsonb_array_length(u->'identities') AS identities,
       u->'identities'->0->>'provider' AS provider, u->'identities'->0->>'id' = u->>'id' AS provider_id_is_user_id
  FROM (SELECT :'s'::jsonb->'user' AS u) x;
-- the access token: header and claims exactly as GoTrue's
SELECT convert_from(decode(rpad(translate(split_part(:'s'::jsonb->>'access_token', '.', 1), '-_', '+/'),
       (length(split_part(:'s'::jsonb->>'access_token', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb - 'kid' AS header,
       (SELECT kid FROM auth.signing_keys WHERE status = 'current') =
       convert_from(decode(rpad(translate(split_part(:'s'::jsonb->>'access_token', '.', 1), '-_', '+/'),
       (length(split_part(:'s'::jsonb->>'access_token', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'kid' AS kid_is_current;
SELECT jsonb_object_keys(auth.verify_jwt(:'s'::jsonb->>'access_token')) AS claim ORDER BY 1;
SELECT c->>'sub' = :'s'::jsonb->'user'->>'id' AS sub_is_user, c->>'aud' AS aud, c->>'role' AS role,
       c->>'email' AS email, c->>'phone' AS phone, c->>'aal' AS aal, c->'amr'->0->>'method' AS amr_method,
       c->>'iss' AS iss, (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime, c->'is_anonymous' AS is_anonymous,
       c->'user_metadata' AS user_metadata, c->'app_metadata' AS app_metadata,
       (SELECT count(*) FROM auth.sessions WHERE id = (c->>'session_id')::uuid) AS session_rows
  FROM auth.verify_jwt(:'s'::jsonb->>'access_token') c;
-- stored: lower-cased email, argon2id hash, the refresh token only as its SHA-256
SELECT email, encrypted_password LIKE '$argon2id$v=19$m=1024,t=1,p=1$%' AS argon2id FROM auth.users;
SELECT count(*) AS plaintext_refresh_tokens FROM auth.refresh_tokens WHERE token = :'s'::jsonb->>'refresh_token';
SELECT count(*) AS hashed_refresh_tokens FROM auth.refresh_tokens
 WHERE token = encode(sha256(convert_to(:'s'::jsonb->>'refresh_token', 'UTF8')), 'hex');
SELECT payload->>'action' AS action FROM auth.audit_log_entries
 WHERE payload->>'actor_username' = 'new.user@example.com' ORDER BY payload->>'action';

-- the same email again, in any case: user_already_exists, nothing written
SELECT auth.sign_up('new.user@example.com', 'another-password');
ROLLBACK;
BEGIN;
SELECT auth.sign_up('dup@example.com', 'a-good-password') IS NOT NULL AS first;
SAVEPOINT again;
SELECT auth.sign_up('DUP@example.com', 'a-good-password');
ROLLBACK TO again;
SELECT count(*) AS users FROM auth.users;
ROLLBACK;

-- bad input: each is a clean PTxxx error
SELECT count(*) AS audit_before FROM auth.audit_log_entries \gset
SELECT auth.sign_up('weak@example.com', 'short');
SELECT auth.sign_up('weak@example.com', 'ééééééé');
SELECT auth.sign_up('weak@example.com', NULL);
SELECT auth.sign_up('weak@example.com', '');
SELECT auth.sign_up('weak@example.com', repeat('x', 1025));
SELECT auth.sign_up('weak@example.com', repeat('x', 1048576));
SELECT auth.sign_up(NULL, 'a-good-password');
SELECT auth.sign_up('', 'a-good-password');
SELECT auth.sign_up('   ', 'a-good-password');
SELECT auth.sign_up('not-an-email', 'a-good-password');
SELECT auth.sign_up('a@b', 'a-good-password');
SELECT auth.sign_up('x''); DROP TABLE auth.users; --@example.com', 'a-good-password');
SELECT auth.sign_up('zero' || chr(8203) || 'width@example.com', 'a-good-password');
SELECT auth.sign_up('ünïcode@exämple.com', 'a-good-password');
SELECT auth.sign_up(repeat('a', 250) || '@example.com', 'a-good-password');
SELECT auth.sign_up('data@example.com', 'a-good-password', '[1, 2, 3]');
SELECT auth.sign_up('data@example.com', 'a-good-password', '"text"');
SELECT auth.sign_up('data@example.com', 'a-good-password', jsonb_build_object('blob', repeat('x', 70000)));
SELECT count(*) AS users_after_bad_input FROM auth.users;
SELECT count(*) - :audit_before AS audit_entries_from_bad_input FROM auth.audit_log_entries;

-- a password of exactly 1024 bytes and one of odd Unicode are fine
BEGIN;
SELECT auth.sign_up('long@example.com', repeat('x', 1024)) ? 'access_token' AS long_ok;
SELECT auth.sign_up('emoji@example.com', '🔐🔑🗝️ pässwörd') ? 'access_token' AS unicode_ok;
ROLLBACK;

-- signups disabled
BEGIN;
SELECT auth.configure('{"disable_signup": true}')->'disable_signup' AS disable_signup;
SELECT auth.sign_up('closed@example.com', 'a-good-password');
ROLLBACK;

-- without autoconfirm: the bare user, unconfirmed, and no session
BEGIN;
SELECT auth.configure('{"mailer_autoconfirm": false}')->'mailer_autoconfirm' AS mailer_autoconfirm;
SELECT u ? 'access_token' AS has_session, u->>'email' AS email, u ? 'email_confirmed_at' AS confirmed
  FROM auth.sign_up('later@example.com', 'a-good-password') u;
SELECT count(*) AS sessions FROM auth.sessions;
ROLLBACK;
