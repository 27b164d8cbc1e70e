-- auth.authenticate(), the claims trust model, and revocable access tokens.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
SELECT s->>'access_token' AS a, s->'user'->>'id' AS uid FROM auth.sign_up('ivy@example.com', 'ivys-password') s \gset
CREATE TABLE diary (user_id uuid, entry text);
ALTER TABLE diary ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON diary TO authenticated USING (user_id = auth.uid());
GRANT SELECT ON diary TO authenticated;
INSERT INTO diary VALUES (:'uid', 'ivy''s entry'), (gen_random_uuid(), 'someone else''s entry');
CREATE ROLE mallory LOGIN;
GRANT authenticated TO mallory;

-- authenticate() makes a token's claims those of the transaction
SELECT c->>'email' AS email FROM auth.authenticate(:'a') c;
SELECT auth.uid() = :'uid' AS uid_matches, auth.role(), auth.email(), auth.jwt()->>'session_id' IS NOT NULL AS has_session_id;
SELECT (auth.get_user())->>'email' AS get_user;
SET LOCAL ROLE authenticated;
SELECT entry FROM diary;
RESET ROLE;
-- bad tokens: PT401 bad_jwt, and nothing is set
SAVEPOINT s;
SELECT auth.authenticate('garbage');
ROLLBACK TO s;
SELECT auth.authenticate(NULL);
ROLLBACK TO s;
SELECT auth.authenticate(auth.sign_jwt('{"role": "authenticated", "exp": 1}'));
ROLLBACK TO s;

-- default trust ('verified'): a session whose login role is not trusted cannot set claims itself
SET SESSION AUTHORIZATION mallory;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS forged;
SELECT auth.uid();
ROLLBACK TO s;
-- a superuser's session may (Supabase's test helpers set claims as one)
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS set_by_superuser;
SELECT auth.uid() = :'uid' AS superuser_accepted;
ROLLBACK TO s;
-- claims_trust 'any' (Supabase's behaviour): any session may set request.jwt.claims itself
SELECT auth.configure('{"claims_trust": "any"}')->'claims_trust' AS claims_trust;
SET SESSION AUTHORIZATION mallory;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS forged;
SELECT auth.uid() = :'uid' AS mallory_impersonates_ivy;
RESET SESSION AUTHORIZATION;
ROLLBACK TO s;

-- claims_trust = 'verified': forged claims are refused, authenticate() and trusted roles work
SELECT auth.configure('{"claims_trust": "verified", "trusted_roles": ["authenticator"]}')->'claims_trust' AS claims_trust;
SAVEPOINT v;
SET SESSION AUTHORIZATION mallory;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS forged;
SELECT auth.uid();
ROLLBACK TO v;
SET SESSION AUTHORIZATION mallory;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS forged;
SELECT entry FROM diary;
ROLLBACK TO v;
SET SESSION AUTHORIZATION mallory;
-- copying a mark from elsewhere does not help: it binds the exact claims
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS forged,
       set_config('auth_ext.claims_mac', repeat('0', 64), true) IS NOT NULL AS forged_mark;
SELECT auth.get_user();
ROLLBACK TO v;
SET SESSION AUTHORIZATION mallory;
SELECT set_config('request.jwt.claims', '', true) = '' AS no_claims,
       set_config('request.jwt.claim.sub', :'uid', true) IS NOT NULL AS forged_legacy;
SELECT auth.uid();
ROLLBACK TO v;
-- mallory with ivy's real token: authenticate() verifies it, then the helpers accept it
SET SESSION AUTHORIZATION mallory;
SELECT auth.authenticate(:'a')->>'email' AS authenticated_as;
SELECT auth.uid() = :'uid' AS uid_matches;
SET LOCAL ROLE authenticated;
SELECT entry FROM diary;
RESET ROLE;
-- changing the claims after authenticate() breaks the mark
SELECT set_config('request.jwt.claims', json_build_object('sub', gen_random_uuid(), 'role', 'authenticated')::text, true) IS NOT NULL AS tampered;
SELECT auth.uid();
ROLLBACK TO v;
-- the trusted login role (PostgREST's authenticator) may set claims directly
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated TO authenticator;
SELECT auth.configure('{"trusted_roles": ["authenticator"]}')->'trusted_roles' AS trusted_roles;
SET SESSION AUTHORIZATION authenticator;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'uid', 'role', 'authenticated')::text, true) IS NOT NULL AS set_by_authenticator;
SELECT auth.uid() = :'uid' AS accepted;
SELECT entry FROM diary;
RESET SESSION AUTHORIZATION;
ROLLBACK TO v;
ROLLBACK TO s;

-- revocable_access_tokens: a token dies with its session, at once
SELECT auth.configure('{"revocable_access_tokens": true}')->'revocable_access_tokens' AS revocable_access_tokens;
SELECT auth.authenticate(:'a')->>'email' AS before_sign_out;
SELECT auth.sign_out('local');
SELECT auth.uid();
ROLLBACK TO s;
SELECT auth.configure('{"revocable_access_tokens": true}')->'revocable_access_tokens' AS revocable_access_tokens;
DELETE FROM auth.sessions WHERE user_id = :'uid';
SELECT auth.authenticate(:'a');
ROLLBACK TO s;
SELECT auth.configure('{"revocable_access_tokens": true}')->'revocable_access_tokens' AS revocable_access_tokens;
UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE id = :'uid';
SELECT auth.authenticate(:'a');
ROLLBACK TO s;
-- PostgREST-set claims are checked too: once per transaction, whatever the number of rows
SELECT auth.configure('{"revocable_access_tokens": true}')->'revocable_access_tokens' AS revocable_access_tokens;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS set_like_postgrest;
SELECT count(auth.uid()) AS rows_checked FROM generate_series(1, 1000);
UPDATE auth.users SET deleted_at = now() WHERE id = :'uid';
SELECT auth.get_user();
ROLLBACK TO s;
-- the owner's lookups pin their search_path: a caller's schema cannot slip its own functions in
-- (claims_trust 'any', so that mallory's claims reach the lookup)
SELECT auth.configure('{"revocable_access_tokens": true, "claims_trust": "any"}')->'revocable_access_tokens' AS revocable_access_tokens;
CREATE SCHEMA evil;
CREATE FUNCTION evil.to_jsonb(boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'evil.to_jsonb() ran as %', current_user; END $$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET SESSION AUTHORIZATION mallory;
SET LOCAL search_path = evil, pg_catalog;
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS set;
SELECT auth.uid() = :'uid' AS checked_without_evil;
RESET SESSION AUTHORIZATION;
ROLLBACK TO s;
-- without the setting the same token keeps working until exp (Supabase's behaviour)
DELETE FROM auth.sessions WHERE user_id = :'uid';
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'a')::text, true) IS NOT NULL AS set_like_postgrest;
SELECT auth.uid() = :'uid' AS still_accepted_by_helpers;
ROLLBACK;

-- The mark authenticate() sets is bound to its transaction: copied out of it, into a later
-- transaction or into the session (a pooled connection's next client), it is refused.
BEGIN;
SELECT s->>'access_token' AS a2 FROM auth.sign_up('copy@example.com', 'copy-password') s \gset
CREATE ROLE eve LOGIN;
GRANT authenticated TO eve;
COMMIT;
SET SESSION AUTHORIZATION eve;
BEGIN;
SELECT auth.authenticate(:'a2')->>'email' AS authenticated_as;
SELECT current_setting('request.jwt.claims') AS copied_claims, current_setting('auth_ext.claims_mac') AS copied_mac \gset
SELECT auth.email() AS same_transaction;
COMMIT;
BEGIN;
SELECT set_config('request.jwt.claims', :'copied_claims', true) IS NOT NULL AS copied,
       set_config('auth_ext.claims_mac', :'copied_mac', true) IS NOT NULL AS copied_mark;
SELECT auth.email() AS later_transaction;
ROLLBACK;
SELECT set_config('request.jwt.claims', :'copied_claims', false) IS NOT NULL AS copied,
       set_config('auth_ext.claims_mac', :'copied_mac', false) IS NOT NULL AS copied_mark;
SELECT auth.email() AS session_level_copy;
RESET request.jwt.claims;
RESET auth_ext.claims_mac;
RESET SESSION AUTHORIZATION;
DELETE FROM auth.users WHERE email = 'copy@example.com';
DROP ROLE eve;
