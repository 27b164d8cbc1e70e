-- auth.refresh_session: rotation, retries of a lost response, the reuse interval, expiry.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.sign_up('erin@example.com', 'erins-password') IS NOT NULL AS signed_up;
SELECT s->>'refresh_token' AS r0, s->>'access_token' AS a0 FROM auth.sign_in_with_password('erin@example.com', 'erins-password') s \gset

-- rotation: a new token in the same session; the old one is revoked
SELECT s->>'refresh_token' AS r1, s->>'access_token' AS a1 FROM auth.refresh_session(:'r0') s \gset
SELECT :'r1' <> :'r0' AS rotated,
       auth.verify_jwt(:'a1')->>'session_id' = auth.verify_jwt(:'a0')->>'session_id' AS same_session,
       auth.verify_jwt(:'a1')->'amr'->0->>'method' AS amr_method;
SELECT revoked, parent IS NULL AS is_first FROM auth.refresh_tokens
 WHERE session_id = (auth.verify_jwt(:'a0')->>'session_id')::uuid ORDER BY id;

-- the client lost the response and retries with r0: it gets r1 again, nothing new is written
SELECT s->>'refresh_token' = :'r1' AS same_current_token FROM auth.refresh_session(:'r0') s;
SELECT count(*) AS tokens_in_session FROM auth.refresh_tokens
 WHERE session_id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;

-- r1 rotates to r2; r0, two generations back, still leads to r2 inside the reuse interval
SELECT s->>'refresh_token' AS r2 FROM auth.refresh_session(:'r1') s \gset
SELECT s->>'refresh_token' = :'r2' AS r0_leads_to_current FROM auth.refresh_session(:'r0') s;
SELECT s->>'refresh_token' = :'r2' AS r1_leads_to_current FROM auth.refresh_session(:'r1') s;

-- outside the interval (0 s here) an old token that is not the current one's parent is reuse.
-- Its family is revoked by a worker in a transaction of its own, which cannot see tokens this
-- uncommitted transaction made: here the call fails closed (PT500). With committed tokens it
-- answers refresh_token_already_used: tests/refresh_races.rs.
SAVEPOINT s;
SELECT auth.configure('{"refresh_token_reuse_interval": 0}')->'refresh_token_reuse_interval' AS reuse_interval;
SELECT s->>'refresh_token' = :'r2' AS parent_still_retries FROM auth.refresh_session(:'r1') s;
SELECT auth.refresh_session(:'r0');
ROLLBACK TO s;

-- rotation disabled: the same refresh token comes back with a fresh access token
SAVEPOINT s;
SELECT auth.configure('{"refresh_token_rotation_enabled": false}')->'refresh_token_rotation_enabled' AS rotation;
SELECT s->>'refresh_token' = :'r2' AS same_token FROM auth.refresh_session(:'r2') s;
ROLLBACK TO s;

-- sessions end: timebox, inactivity timeout, not_after
SAVEPOINT s;
SELECT auth.configure('{"sessions_timebox": 3600}')->'sessions_timebox' AS timebox;
UPDATE auth.sessions SET created_at = now() - interval '2 hours' WHERE id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;
SELECT auth.refresh_session(:'r2');
ROLLBACK TO s;
SELECT auth.configure('{"sessions_inactivity_timeout": 600}')->'sessions_inactivity_timeout' AS inactivity_timeout;
UPDATE auth.sessions SET refreshed_at = (now() - interval '1 hour') AT TIME ZONE 'UTC' WHERE id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;
SELECT auth.refresh_session(:'r2');
ROLLBACK TO s;
UPDATE auth.sessions SET not_after = now() - interval '1 second' WHERE id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;
SELECT auth.refresh_session(:'r2');
ROLLBACK TO s;
-- a banned user cannot refresh
UPDATE auth.users SET banned_until = now() + interval '1 hour' WHERE email = 'erin@example.com';
SELECT auth.refresh_session(:'r2');
ROLLBACK TO s;
-- a deleted session (sign-out) takes its tokens with it
DELETE FROM auth.sessions WHERE id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;
SELECT auth.refresh_session(:'r2');
ROLLBACK TO s;

-- garbage tokens
SELECT auth.refresh_session(NULL);
ROLLBACK TO s;
SELECT auth.refresh_session('');
ROLLBACK TO s;
SELECT auth.refresh_session('not-a-token');
ROLLBACK TO s;
SELECT auth.refresh_session(:'r2' || 'x');
ROLLBACK TO s;
SELECT auth.refresh_session(repeat('r', 1048576));
ROLLBACK TO s;
SELECT auth.refresh_session(''' OR ''1''=''1');
ROLLBACK TO s;
SELECT auth.refresh_session('🔑🔑🔑');
ROLLBACK TO s;
-- an access token is not a refresh token
SELECT auth.refresh_session(:'a0');
ROLLBACK TO s;
-- none of that wrote anything
SELECT count(*) AS tokens_in_session FROM auth.refresh_tokens
 WHERE session_id = (auth.verify_jwt(:'a0')->>'session_id')::uuid;
ROLLBACK;

-- an unknown refresh token (anyone may present one) writes nothing, not even a transaction id
BEGIN;
SAVEPOINT s;
SELECT auth.refresh_session(repeat('x', 43));
ROLLBACK TO s;
SELECT txid_current_if_assigned() IS NULL AS no_transaction_id;
ROLLBACK;
