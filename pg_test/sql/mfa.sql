-- MFA (src/mfa, core/src/mfa): TOTP factors as GoTrue's /factors API has them: enroll,
-- challenge, verify (the session raised to aal2), unenroll, and the step-up rule for the address
-- and password. Codes are computed here independently (RFC 6238 in PL/pgSQL over pgcrypto's
-- HMAC-SHA1), from the secret enroll hands out.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": true,
                        "site_url": "https://app.example.com"}') IS NOT NULL AS configured;
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text; msg text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT;
    RETURN state || ' ' || coalesce(nullif(code, ''), '-') || ': '
        || regexp_replace(msg, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g');
END $$;
-- RFC 4648 base32 (no padding) to bytes.
CREATE FUNCTION pg_temp.base32(s text) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'; bits text := ''; out bytea := '';
BEGIN
    FOR i IN 1 .. length(s) LOOP
        bits := bits || lpad((position(substr(s, i, 1) IN alphabet) - 1)::bit(5)::text, 5, '0');
    END LOOP;
    FOR i IN 0 .. length(bits) / 8 - 1 LOOP
        out := out || set_byte('\x00'::bytea, 0, substr(bits, i * 8 + 1, 8)::bit(8)::int);
    END LOOP;
    RETURN out;
END $$;
-- RFC 6238: the 6-digit code of a base32 secret at time step `step` (HMAC-SHA1, dynamic truncation).
CREATE FUNCTION pg_temp.totp(secret text, step bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE mac bytea := public.hmac(int8send(step), pg_temp.base32(secret), 'sha1'); o int; v bigint;
BEGIN
    o := get_byte(mac, 19) & 15;
    v := ((get_byte(mac, o) & 127)::bigint << 24) | (get_byte(mac, o + 1) << 16)
         | (get_byte(mac, o + 2) << 8) | get_byte(mac, o + 3);
    RETURN lpad((v % 1000000)::text, 6, '0');
END $$;
CREATE FUNCTION pg_temp.now_step() RETURNS bigint LANGUAGE sql AS $$
    SELECT floor(extract(epoch FROM clock_timestamp()) / 30)::bigint $$;
-- RFC 6238's own vector (SHA-1, seed "12345678901234567890", T = 59 s: 94287082, last six digits)
SELECT pg_temp.totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1) AS rfc6238_at_59s;
-- Acting as a user: the claims of their access token.
CREATE FUNCTION pg_temp.as_user(token text) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('request.jwt.claims', auth.verify_jwt(token)::text, true) IS NOT NULL $$;

SELECT s->>'access_token' AS mia_token, s->>'refresh_token' AS mia_refresh
  FROM auth.sign_up('mia@example.com', 'a long password 1') s \gset
SELECT pg_temp.as_user(:'mia_token') AS as_mia;

-- Enroll: an unverified factor and what an authenticator app needs
SELECT auth.mfa_enroll('totp', 'Mia''s phone') AS enrolled \gset
SELECT (:'enrolled'::jsonb)->>'type' AS type, (:'enrolled'::jsonb)->>'friendly_name' AS friendly_name,
       (:'enrolled'::jsonb)#>>'{totp,secret}' ~ '^[A-Z2-7]{32}$' AS base32_secret,
       (:'enrolled'::jsonb)#>>'{totp,uri}' LIKE 'otpauth://totp/app.example.com:mia@example.com?%' AS uri,
       position('secret=' || ((:'enrolled'::jsonb)#>>'{totp,secret}') IN (:'enrolled'::jsonb)#>>'{totp,uri}') > 0 AS uri_has_secret,
       (:'enrolled'::jsonb)#>>'{totp,qr_code}' ~ '^(<\?xml[^>]*>)?<svg ' AS qr_svg;
SELECT (:'enrolled'::jsonb)->>'id' AS factor, (:'enrolled'::jsonb)#>>'{totp,secret}' AS secret \gset
-- the secret is sealed at rest (never the plain base32), the factor listed on the user, unverified
SELECT status, factor_type, secret LIKE 'v1:%' AS sealed, position(:'secret' IN secret) = 0 AS not_in_clear
  FROM auth.mfa_factors WHERE id = :'factor';
SELECT jsonb_path_query((auth.get_user())->'factors', '$[*]') - 'id' - 'created_at' - 'updated_at' AS factors;
-- a name taken, an unknown type, the disabled types
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('totp', 'Mia''s phone')$$) AS name_taken,
       pg_temp.attempt($$SELECT auth.mfa_enroll('sms')$$) AS unknown_type,
       pg_temp.attempt($$SELECT auth.mfa_enroll('phone', phone => '+15550100')$$) AS phone;

-- Someone else with the password, before MFA is on: their own session, their own factor
SELECT (auth.sign_in_with_password('mia@example.com', 'a long password 1'))->>'access_token' AS attacker \gset
SELECT pg_temp.as_user(:'attacker') AS as_attacker;
SELECT (auth.mfa_enroll('totp', 'attacker''s key'))->>'id' AS attacker_factor \gset
SELECT pg_temp.as_user(:'mia_token') AS as_mia_again;

-- Challenge and verify
SELECT auth.mfa_challenge(:'factor') AS challenge \gset
SELECT (:'challenge'::jsonb)->>'type' AS type,
       ((:'challenge'::jsonb)->>'expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 299 AND 300 AS expires_in_300s;
SELECT (:'challenge'::jsonb)->>'id' AS challenge_id \gset
-- a wrong code, a malformed one, an unknown challenge, another factor's id
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'challenge_id',
           lpad(((pg_temp.totp(:'secret', pg_temp.now_step())::int + 1) % 1000000)::text, 6, '0'))) AS wrong_code,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, 'abc')$$, :'factor', :'challenge_id')) AS malformed,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, gen_random_uuid()::text, '123456')$$, :'factor')) AS unknown_challenge,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(gen_random_uuid()::text, %L, '123456')$$, :'challenge_id')) AS unknown_factor;
-- the right code: an aal2 session with totp beside password in its amr
SELECT auth.mfa_verify(:'factor', :'challenge_id', pg_temp.totp(:'secret', pg_temp.now_step())) AS verified \gset
SELECT auth.verify_jwt((:'verified'::jsonb)->>'access_token') AS aal2_claims \gset
SELECT (:'aal2_claims'::jsonb)->>'aal' AS aal,
       (SELECT array_agg(e->>'method' ORDER BY e->>'method') FROM jsonb_array_elements((:'aal2_claims'::jsonb)->'amr') e) AS amr,
       (:'aal2_claims'::jsonb)->>'session_id' = (auth.verify_jwt(:'mia_token'))->>'session_id' AS same_session,
       (:'verified'::jsonb)->'user'->'factors'->0->>'status' AS factor_status;
-- the new refresh token refreshes as aal2 (the session's earlier ones too: aal is the session's)
SELECT (auth.verify_jwt((auth.refresh_session((:'verified'::jsonb)->>'refresh_token'))->>'access_token'))->>'aal' AS refreshed_aal,
       (auth.verify_jwt((auth.refresh_session(:'mia_refresh'))->>'access_token'))->>'aal' AS earlier_token_aal;
-- the attacker's aal1 session is gone, and their unverified factor with it
SELECT count(*) AS attacker_sessions FROM auth.sessions WHERE id = ((auth.verify_jwt(:'attacker'))->>'session_id')::uuid;
SELECT count(*) AS attacker_factors FROM auth.mfa_factors WHERE friendly_name = 'attacker''s key';
-- the challenge is spent; the code just used (its time step is kept), or an older one, is
-- refused on a new challenge
SELECT last_used_step AS used_step FROM auth.mfa_factors WHERE id = :'factor' \gset
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'challenge_id',
           pg_temp.totp(:'secret', :'used_step'))) AS challenge_again;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor',
           (auth.mfa_challenge(:'factor'))->>'id', pg_temp.totp(:'secret', :'used_step'))) AS code_again,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor',
           (auth.mfa_challenge(:'factor'))->>'id', pg_temp.totp(:'secret', :'used_step' - 1))) AS older_code;
-- a challenge older than five minutes
SELECT (auth.mfa_challenge(:'factor'))->>'id' AS old_challenge \gset
UPDATE auth.mfa_challenges SET created_at = now() - interval '301 seconds' WHERE id = :'old_challenge';
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'old_challenge',
           pg_temp.totp(:'secret', pg_temp.now_step() + 1))) AS expired_challenge;

-- Step-up: with a verified factor, an aal1 session may not change the password or address, nor
-- remove the factor
SELECT (auth.sign_in_with_password('mia@example.com', 'a long password 1'))->>'access_token' AS mia_aal1 \gset
SELECT pg_temp.as_user(:'mia_aal1') AS as_mia_aal1;
SELECT pg_temp.attempt($$SELECT auth.update_user('{"password": "another long password"}')$$) AS password_aal1,
       pg_temp.attempt($$SELECT auth.update_user('{"email": "mia2@example.com"}')$$) AS email_aal1,
       (auth.update_user('{"data": {"plan": "pro"}}'))->'user_metadata'->>'plan' AS metadata_aal1,
       pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'factor')) AS unenroll_aal1;
-- from the aal2 session both work; the sessions the factor raised fall back to aal1
SELECT pg_temp.as_user((:'verified'::jsonb)->>'access_token') AS as_mia_aal2;
SELECT (auth.update_user('{"password": "another long password"}'))->>'id' IS NOT NULL AS password_aal2;
SELECT (auth.mfa_unenroll(:'factor'))->>'id' = :'factor' AS unenrolled;
SELECT count(*) AS factors_left FROM auth.mfa_factors WHERE id = :'factor';
SELECT s.aal, (SELECT count(*) FROM auth.mfa_amr_claims c WHERE c.session_id = s.id AND c.authentication_method = 'totp') AS totp_claims
  FROM auth.sessions s WHERE s.id = ((:'aal2_claims'::jsonb)->>'session_id')::uuid;

-- Limits: ten factors; another user's factor is not found
SELECT count(auth.mfa_enroll('totp', 'key ' || g)) AS enrolled FROM generate_series(1, 10) g;
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('totp', 'key 11')$$) AS eleventh;
SELECT id AS mias_factor FROM auth.mfa_factors WHERE friendly_name = 'key 1' \gset
SELECT (auth.sign_up('noah@example.com', 'a long password 2'))->>'access_token' AS noah_token \gset
SELECT pg_temp.as_user(:'noah_token') AS as_noah;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L)$$, :'mias_factor')) AS challenge_hers,
       pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'mias_factor')) AS unenroll_hers,
       pg_temp.attempt($$SELECT auth.mfa_challenge('not-a-uuid')$$) AS not_a_uuid;
SELECT pg_temp.attempt(format($$SELECT auth.admin_list_factors(%L)$$, (SELECT user_id FROM auth.mfa_factors WHERE id = :'mias_factor'))) AS admin_list_as_noah;
-- Guessing: a factor's wrong codes (here malformed ones: never right by chance) back off as
-- password guesses do (5 free, then waits)
SELECT (auth.mfa_enroll('totp', 'noah''s key'))->>'id' AS noahs_factor \gset
SELECT g AS attempt, pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, '000000')$$, :'noahs_factor',
           (auth.mfa_challenge(:'noahs_factor'))->>'id')) AS answer
  FROM generate_series(1, 7) g;
-- without a caller
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('totp')$$) AS no_caller;

-- The admin API (here the owner over SQL): a user's factors, and one removed
SELECT user_id AS mia FROM auth.mfa_factors WHERE id = :'mias_factor' \gset
SELECT jsonb_array_length(auth.admin_list_factors(:'mia')) AS mias_factors,
       (auth.admin_delete_factor(:'mia', :'mias_factor'))->>'friendly_name' AS deleted,
       jsonb_array_length(auth.admin_list_factors(:'mia')) AS left_after;
SELECT pg_temp.attempt(format($$SELECT auth.admin_delete_factor(%L, %L)$$, :'mia', :'mias_factor')) AS deleted_again,
       pg_temp.attempt($$SELECT auth.admin_list_factors('mia')$$) AS not_a_uuid;

-- Cleanup: challenges over a day old, and factors enrolled a day ago and never verified
INSERT INTO auth.mfa_challenges (id, factor_id, created_at, ip_address)
SELECT gen_random_uuid(), id, now() - interval '2 days', '127.0.0.1' FROM auth.mfa_factors WHERE user_id = :'mia' LIMIT 1;
UPDATE auth.mfa_factors SET created_at = now() - interval '2 days' WHERE user_id = :'mia';
SELECT c->'mfa_challenges' AS challenges_swept, c->'mfa_factors' AS factors_swept FROM auth.cleanup() c;
SELECT count(*) AS mfa_rows_left FROM auth.mfa_factors WHERE user_id = :'mia';

-- Privileges: the API roles' own factors only; the tables are private
SELECT r.rolname, f.fn, has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS can_execute
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN (VALUES ('auth.mfa_enroll(text,text,text,text)'), ('auth.mfa_challenge(text,text,jsonb)'),
                    ('auth.mfa_verify(text,text,text,jsonb)'), ('auth.mfa_unenroll(text)')) f(fn)
 ORDER BY f.fn, r.rolname;
SELECT r.rolname, bool_or(has_table_privilege(r.rolname, t, 'SELECT')) AS reads_any
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN unnest(ARRAY['auth.mfa_factors', 'auth.mfa_challenges']) t
 GROUP BY r.rolname ORDER BY 1;
ROLLBACK;
