-- MFA recovery codes (src/mfa/recovery_codes.rs, core/src/mfa/recovery_codes.rs), as GoTrue's
-- /factors/recovery-codes has them: generate beside a verified TOTP factor from aal2, status,
-- verify from a fresh aal1 sign-in (aal2, mfa/recovery_code in the amr), a code used once,
-- regenerate, delete; the generic /factors endpoints refuse the recovery_code factor; the
-- switches; the stored hashes, recomputed here independently (pgcrypto's SHA-256). Then, outside
-- a transaction (wrong codes are counted by another transaction, which must see the set): the
-- lockout, its expiry, regenerate lifting it, and the verification attempt hook.
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
-- RFC 4648 base32 (no padding) to bytes, and RFC 6238's code of a secret at a time step.
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
CREATE FUNCTION pg_temp.totp(secret text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE step bigint := floor(extract(epoch FROM clock_timestamp()) / 30)::bigint;
        mac bytea := public.hmac(int8send(step), pg_temp.base32(secret), 'sha1'); o int; v bigint;
BEGIN
    o := get_byte(mac, 19) & 15;
    v := ((get_byte(mac, o) & 127)::bigint << 24) | (get_byte(mac, o + 1) << 16)
         | (get_byte(mac, o + 2) << 8) | get_byte(mac, o + 3);
    RETURN lpad((v % 1000000)::text, 6, '0');
END $$;
CREATE FUNCTION pg_temp.as_user(token text) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('request.jwt.claims', auth.verify_jwt(token)::text, true) IS NOT NULL $$;
-- What the stored hash of a code is (core/src/mfa/recovery_codes.rs): hex SHA-256 of a fixed
-- prefix, the user id's 16 bytes and the code.
CREATE FUNCTION pg_temp.code_hash(user_id uuid, code text) RETURNS text LANGUAGE sql AS $$
    SELECT encode(public.digest(convert_to('auth_ext mfa recovery code v1', 'UTF8') || '\x00'::bytea
                                || uuid_send(user_id) || convert_to(code, 'UTF8'), 'sha256'), 'hex') $$;

-- Mia: a password, then a verified TOTP factor (an aal2 session)
SELECT s->>'access_token' AS mia_token, (s->'user'->>'id') AS mia
  FROM auth.sign_up('mia@example.com', 'a long password 1') s \gset
SELECT pg_temp.as_user(:'mia_token') AS as_mia;
SELECT auth.mfa_enroll('totp', 'Authenticator') AS totp \gset
SELECT (:'totp'::jsonb)->>'id' AS totp_factor, (:'totp'::jsonb)#>>'{totp,secret}' AS secret \gset
SELECT auth.mfa_verify(:'totp_factor', (auth.mfa_challenge(:'totp_factor'))->>'id', pg_temp.totp(:'secret'))
       ->>'access_token' AS mia_aal2 \gset
SELECT pg_temp.as_user(:'mia_aal2') AS as_mia_aal2;

-- Off by default (GoTrue's switches): generate and verify refused; status and delete ignore the
-- switches (no codes: 404)
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate()$$) AS generate_off,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_regenerate()$$) AS regenerate_off,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('abcd')$$) AS verify_off;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_status()$$) AS status_none,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_delete()$$) AS delete_none;
SELECT auth.configure('{"mfa_recovery_codes_enroll_enabled": true,
                        "mfa_recovery_codes_verify_enabled": true}') IS NOT NULL AS switched_on;

-- Generate from aal1: refused; nothing made
SELECT (auth.sign_in_with_password('mia@example.com', 'a long password 1'))->>'access_token' AS mia_aal1 \gset
SELECT pg_temp.as_user(:'mia_aal1') AS as_mia_aal1;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate()$$) AS generate_aal1,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_regenerate()$$) AS regenerate_aal1,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_delete()$$) AS delete_aal1;
-- a bad name is refused before anything else is looked at
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_generate(%L)$$, E'two\nlines')) AS bad_name;

-- Generate from aal2: ten codes of sixteen base32 characters, this once; the default name
SELECT pg_temp.as_user(:'mia_aal2') AS as_mia_aal2;
SELECT auth.mfa_recovery_codes_generate() AS gen \gset
SELECT (:'gen'::jsonb)->>'id' AS rc_factor \gset
SELECT (:'gen'::jsonb)->>'type' AS type, (:'gen'::jsonb)->>'friendly_name' AS friendly_name,
       (:'gen'::jsonb)->'total' AS total, jsonb_array_length((:'gen'::jsonb)->'codes') AS codes,
       (SELECT bool_and(c ~ '^[a-z2-7]{16}$') FROM jsonb_array_elements_text((:'gen'::jsonb)->'codes') c) AS base32_16,
       (SELECT count(DISTINCT c) FROM jsonb_array_elements_text((:'gen'::jsonb)->'codes') c) AS distinct_codes,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'gen'::jsonb) k) AS keys;
-- stored: the factor (verified, recovery_code), its set, one row per code holding its hash only
SELECT factor_type, status, friendly_name, secret IS NULL AS no_secret FROM auth.mfa_factors WHERE id = :'rc_factor';
SELECT failed_verification_count, verification_locked_until, user_id = :'mia' AS mias
  FROM auth.mfa_recovery_code_sets WHERE mfa_factor_id = :'rc_factor';
SELECT count(*) AS rows, count(*) FILTER (WHERE code_hash ~ '^[0-9a-f]{64}$') AS hex_sha256,
       count(*) FILTER (WHERE consumed_at IS NULL) AS unused
  FROM auth.mfa_recovery_codes c JOIN auth.mfa_recovery_code_sets s ON s.id = c.mfa_recovery_code_set_id
 WHERE s.mfa_factor_id = :'rc_factor';
SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM auth.mfa_recovery_codes r WHERE r.code_hash = pg_temp.code_hash(:'mia', c)))
           AS hashes_recomputed,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM auth.mfa_recovery_codes r WHERE position(c IN r.code_hash) > 0))
           AS codes_in_clear
  FROM jsonb_array_elements_text((:'gen'::jsonb)->'codes') c;
-- listed with the user's factors (GoTrue's user object and admin list), never its codes
SELECT f->>'factor_type' AS factor_type, f->>'status' AS status, f->>'friendly_name' AS friendly_name,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(f) k) AS keys
  FROM jsonb_array_elements((auth.get_user())->'factors') f ORDER BY f->>'factor_type';
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS as_owner;
SELECT f->>'factor_type' AS admin_listed, f->>'status' AS status
  FROM jsonb_array_elements(auth.admin_list_factors(:'mia')) f WHERE f->>'id' = :'rc_factor';
SELECT pg_temp.as_user(:'mia_aal2') AS as_mia_aal2;
SELECT payload->>'action' AS action, payload->>'log_type' AS log_type,
       payload->'traits'->>'factor_id' = :'rc_factor' AS its_factor, payload->'traits'->'count' AS count
  FROM auth.audit_log_entries WHERE payload->>'action' LIKE 'recovery_codes_%';
-- once per user
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate('Second set')$$) AS generate_again;

-- Status: the factor's id, totals, no codes and no name
SELECT s->>'id' = :'rc_factor' AS its_factor, s->>'type' AS type, s->'total' AS total, s->'remaining' AS remaining,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(s) k) AS keys
  FROM auth.mfa_recovery_codes_status() s;

-- The generic /factors endpoints refuse the recovery_code factor (GoTrue's codes); no code used
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L)$$, :'rc_factor')) AS challenge,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, gen_random_uuid()::text, %L)$$, :'rc_factor',
                              (:'gen'::jsonb)->'codes'->>0)) AS verify,
       pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'rc_factor')) AS unenroll,
       pg_temp.attempt($$SELECT auth.mfa_enroll('recovery_code')$$) AS enroll;
-- the TOTP factor is the codes' only other factor: it cannot go first (a new unverified factor
-- does not count, and goes freely)
SELECT (auth.mfa_enroll('totp', 'Spare'))->>'id' AS spare \gset
SELECT pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'totp_factor')) AS unenroll_last_other,
       pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'spare')) AS unenroll_unverified;
-- none of this used a code
SELECT count(*) AS unused_codes FROM auth.mfa_recovery_codes WHERE consumed_at IS NULL;

-- Verify, from a fresh aal1 sign-in (the point of the codes): a wrong code first
SELECT (auth.sign_in_with_password('mia@example.com', 'a long password 1'))->>'access_token' AS fresh \gset
SELECT pg_temp.as_user(:'fresh') AS as_fresh;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS wrong_code;
-- no code at all, or too long: 400, not counted (the count stays at the wrong code's)
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify(NULL)$$) AS no_code,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify(' -- - ')$$) AS only_separators,
       pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, repeat('a', 65))) AS too_long;
-- the first code, as a person types it (upper case, in groups): aal2, the same session, the
-- recovery code's method in the amr beside the password
SELECT auth.mfa_recovery_codes_verify(upper(regexp_replace((:'gen'::jsonb)->'codes'->>0, '(....)', ' \1-', 'g'))) AS verified \gset
SELECT auth.verify_jwt((:'verified'::jsonb)->>'access_token') AS claims \gset
SELECT (:'claims'::jsonb)->>'aal' AS aal,
       (SELECT array_agg(e->>'method' ORDER BY e->>'method') FROM jsonb_array_elements((:'claims'::jsonb)->'amr') e) AS amr,
       (:'claims'::jsonb)->>'session_id' = (auth.verify_jwt(:'fresh'))->>'session_id' AS same_session,
       (:'verified'::jsonb)->>'refresh_token' IS NOT NULL AS refresh_token,
       (:'verified'::jsonb)->'user'->>'id' = :'mia' AS its_user;
SELECT aal, factor_id = :'rc_factor' AS raised_by_codes FROM auth.sessions
 WHERE id = ((:'claims'::jsonb)->>'session_id')::uuid;
-- the code is used up (wrong codes are counted by another transaction, which cannot see this
-- one's set: see below); the user's aal1 session of before is gone
SELECT count(*) FILTER (WHERE consumed_at IS NOT NULL) AS used, count(*) FILTER (WHERE consumed_at IS NULL) AS unused
  FROM auth.mfa_recovery_codes;
SELECT failed_verification_count FROM auth.mfa_recovery_code_sets;
SELECT count(*) AS aal1_sessions_left FROM auth.sessions WHERE id = ((auth.verify_jwt(:'mia_aal1'))->>'session_id')::uuid;
SELECT payload->'traits'->>'factor_id' = :'rc_factor' AS its_factor, payload->'traits'->'remaining' AS remaining
  FROM auth.audit_log_entries WHERE payload->>'action' = 'recovery_codes_verified';
-- the refreshed session stays aal2 with the method
SELECT (auth.verify_jwt((auth.refresh_session((:'verified'::jsonb)->>'refresh_token'))->>'access_token'))->>'aal' AS refreshed;
-- used once: the same code again is a wrong code, from any session; the status counts it
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'gen'::jsonb)->'codes'->>0)) AS used_again;
SELECT s->'total' AS total, s->'remaining' AS remaining FROM auth.mfa_recovery_codes_status() s;
-- another user's code is a wrong code too, and theirs stays unused
SELECT (auth.sign_up('noah@example.com', 'a long password 2'))->>'access_token' AS noah \gset
SELECT pg_temp.as_user(:'noah') AS as_noah;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'gen'::jsonb)->'codes'->>1)) AS noah_without_codes,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_status()$$) AS noah_status;
SELECT pg_temp.as_user((:'verified'::jsonb)->>'access_token') AS as_mia_raised;

-- Regenerate (from the aal2 session a code raised): the same factor and name, ten new codes; the
-- old ones, used or not, are gone
SELECT auth.mfa_recovery_codes_regenerate() AS regen \gset
SELECT (:'regen'::jsonb)->>'id' = :'rc_factor' AS same_factor, (:'regen'::jsonb)->>'friendly_name' AS friendly_name,
       (:'regen'::jsonb)->'total' AS total,
       (SELECT count(*) FROM jsonb_array_elements_text((:'regen'::jsonb)->'codes') c
         WHERE (:'gen'::jsonb)->'codes' ? c) AS old_codes_again;
SELECT count(*) AS rows, count(*) FILTER (WHERE consumed_at IS NULL) AS unused FROM auth.mfa_recovery_codes;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'gen'::jsonb)->'codes'->>1)) AS old_code,
       (auth.mfa_recovery_codes_verify((:'regen'::jsonb)->'codes'->>0))->>'access_token' IS NOT NULL AS new_code;
SELECT payload->>'action' AS action, payload->'traits'->'count' AS count
  FROM auth.audit_log_entries WHERE payload->>'action' = 'recovery_codes_regenerated';

-- Delete: {id}; the factor, set and codes go; the sessions a code raised fall back to aal1 and
-- lose the method, the TOTP-raised one stays aal2
SELECT (auth.mfa_recovery_codes_delete())->>'id' = :'rc_factor' AS deleted;
SELECT (SELECT count(*) FROM auth.mfa_factors WHERE id = :'rc_factor') AS factors,
       (SELECT count(*) FROM auth.mfa_recovery_code_sets) AS sets,
       (SELECT count(*) FROM auth.mfa_recovery_codes) AS codes;
SELECT s.aal, s.factor_id IS NULL AS no_factor,
       (SELECT count(*) FROM auth.mfa_amr_claims c WHERE c.session_id = s.id AND c.authentication_method = 'mfa/recovery_code') AS claims
  FROM auth.sessions s WHERE s.id = ((:'claims'::jsonb)->>'session_id')::uuid;
SELECT aal FROM auth.sessions WHERE id = ((auth.verify_jwt(:'mia_aal2'))->>'session_id')::uuid;
SELECT payload->'traits'->>'factor_id' = :'rc_factor' AS deleted_audited
  FROM auth.audit_log_entries WHERE payload->>'action' = 'recovery_codes_deleted';
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_status()$$) AS status_after,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('abcdabcdabcdabcd')$$) AS verify_after;

-- Sole factor: without another usable factor (TOTP verification off), no codes; a name taken
SELECT pg_temp.as_user(:'mia_aal2') AS as_mia_aal2;
SELECT auth.configure('{"mfa_totp_verify_enabled": false}') IS NOT NULL AS totp_off;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate()$$) AS sole_factor;
SELECT auth.configure('{"mfa_totp_verify_enabled": true}') IS NOT NULL AS totp_on;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate('Authenticator')$$) AS name_taken;
-- and the limit of factors counts them (two factors here)
SELECT auth.configure('{"mfa_max_enrolled_factors": 1}') IS NOT NULL AS one_factor;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_generate()$$) AS too_many;
SELECT auth.configure('{"mfa_max_enrolled_factors": 10, "mfa_recovery_codes_count": 4,
                        "mfa_recovery_codes_code_length": 32}') IS NOT NULL AS four_long_codes;
SELECT (SELECT count(*) FROM jsonb_array_elements_text(g->'codes') c WHERE c ~ '^[a-z2-7]{32}$') AS codes,
       g->>'friendly_name' AS friendly_name
  FROM auth.mfa_recovery_codes_generate('  Paper in the drawer  ') g;
-- with codes, the TOTP factor cannot be unenrolled while it is the last usable factor
SELECT pg_temp.attempt(format($$SELECT auth.mfa_unenroll(%L)$$, :'totp_factor')) AS unenroll_totp;
-- an admin (here the owner over SQL) removes the codes' factor like any other, set and codes
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS as_owner;
SELECT (auth.admin_delete_factor(:'mia', (SELECT id::text FROM auth.mfa_factors WHERE factor_type = 'recovery_code')))->>'factor_type' AS admin_deleted;
SELECT (SELECT count(*) FROM auth.mfa_recovery_code_sets) AS sets_left, (SELECT count(*) FROM auth.mfa_recovery_codes) AS codes_left;

-- Anonymous users and callers without a session
SELECT auth.configure('{"external_anonymous_users_enabled": true}') IS NOT NULL AS anonymous_on;
SELECT pg_temp.as_user((auth.sign_in_anonymously())->>'access_token') AS as_anonymous;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_status()$$) AS anonymous_status,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('abcd')$$) AS anonymous_verify;
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_status()$$) AS no_caller;

-- Privileges: the signed-in roles' own codes only; the tables are private
SELECT r.rolname, f.fn, has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS can_execute
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN (VALUES ('auth.mfa_recovery_codes_status()'), ('auth.mfa_recovery_codes_generate(text)'),
                    ('auth.mfa_recovery_codes_verify(text)'), ('auth.mfa_recovery_codes_regenerate()'),
                    ('auth.mfa_recovery_codes_delete()'), ('auth_api.mfa_recovery_codes_verify(text)')) f(fn)
 ORDER BY f.fn, r.rolname;
SELECT r.rolname, bool_or(has_table_privilege(r.rolname, t, 'SELECT')) AS reads_any
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname)
 CROSS JOIN unnest(ARRAY['auth.mfa_recovery_code_sets', 'auth.mfa_recovery_codes']) t
 GROUP BY r.rolname ORDER BY 1;
SELECT p.oid::regprocedure AS fn, c AS setting FROM pg_proc p, unnest(p.proconfig) c
 WHERE p.proname LIKE 'mfa_recovery_codes_%' AND c LIKE 'log_min_error_statement%' ORDER BY 1::text;
ROLLBACK;

-- Wrong codes, outside a transaction: each is counted by the trace writer, in a transaction of
-- its own that the call waits for (the failing call rolls back). Five in a row lock
-- verification for fifteen minutes (429, even for a right code, which stays unused); the lock
-- is not extended by tries; once it has run out the count starts again; a success forgets the
-- count; regenerate lifts a lock. Set up as the owner: a verified TOTP factor and an aal2 session.
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
CREATE FUNCTION pg_temp.as_user(token text) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('request.jwt.claims', auth.verify_jwt(token)::text, false) IS NOT NULL $$;
SELECT auth.configure('{"mfa_recovery_codes_enroll_enabled": true,
                        "mfa_recovery_codes_verify_enabled": true}') IS NOT NULL AS switched_on;
SELECT s->>'access_token' AS lou_token, s->'user'->>'id' AS lou
  FROM auth.sign_up('lou@example.com', 'a long password 3') s \gset
INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at)
VALUES (gen_random_uuid(), :'lou', 'Authenticator', 'totp', 'verified', now(), now());
UPDATE auth.sessions SET aal = 'aal2' WHERE user_id = :'lou';
SELECT pg_temp.as_user(:'lou_token') AS as_lou_aal2;
SELECT auth.mfa_recovery_codes_generate() AS gen \gset
SELECT (auth.sign_in_with_password('lou@example.com', 'a long password 3'))->>'access_token' AS lou_aal1 \gset
SELECT pg_temp.as_user(:'lou_aal1') AS as_lou_aal1;
SELECT g AS try, pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS answer
  FROM generate_series(1, 4) g;
SELECT failed_verification_count AS failures, verification_locked_until IS NULL AS unlocked
  FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou';
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS fifth;
SELECT failed_verification_count AS failures, verification_locked_until IS NULL AS unlocked
  FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou';
SELECT verification_locked_until AS locked_until FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou' \gset
SELECT :'locked_until'::timestamptz - now() BETWEEN interval '14 minutes' AND interval '15 minutes' AS fifteen_minutes;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'gen'::jsonb)->'codes'->>0)) AS right_code_locked,
       pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS wrong_code_locked;
SELECT failed_verification_count AS failures, verification_locked_until = :'locked_until' AS lock_not_extended,
       (SELECT count(*) FROM auth.mfa_recovery_codes c WHERE c.mfa_recovery_code_set_id = s.id AND consumed_at IS NULL) AS unused
  FROM auth.mfa_recovery_code_sets s WHERE user_id = :'lou';
-- the lock runs out: the next wrong code is the first of a new count
UPDATE auth.mfa_recovery_code_sets SET verification_locked_until = now() - interval '1 minute' WHERE user_id = :'lou';
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS after_expiry;
SELECT failed_verification_count AS failures, verification_locked_until IS NULL AS unlocked
  FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou';
-- a right code then works and forgets the count
SELECT (auth.mfa_recovery_codes_verify((:'gen'::jsonb)->'codes'->>0))->>'access_token' AS lou_raised \gset
SELECT failed_verification_count AS failures FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou';
-- locked again from another aal1 session, then lifted by regenerate (from the aal2 session)
SELECT (auth.sign_in_with_password('lou@example.com', 'a long password 3'))->>'access_token' AS lou_aal1 \gset
SELECT pg_temp.as_user(:'lou_aal1') AS as_lou_aal1;
SELECT string_agg(DISTINCT split_part(pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$), ':', 1), ', ')
       AS five_wrong FROM generate_series(1, 5);
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'gen'::jsonb)->'codes'->>1)) AS locked_again;
SELECT pg_temp.as_user(:'lou_raised') AS as_lou_raised;
SELECT auth.mfa_recovery_codes_regenerate() AS regen \gset
SELECT failed_verification_count AS failures, verification_locked_until IS NULL AS unlocked
  FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou';

-- The verification attempt hook sees recovery codes (factor_type recovery_code, whether the
-- code was right). Here it lets one right code through and rejects the next: a rejection uses
-- nothing, counts nothing, and signs the user out everywhere
CREATE TABLE public.rc_attempts (event jsonb);
CREATE FUNCTION public.rc_check(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF (event->>'valid')::boolean AND EXISTS (SELECT 1 FROM public.rc_attempts) THEN
        RETURN '{"decision": "reject", "message": "One recovery code is enough for today"}'::jsonb;
    END IF;
    INSERT INTO public.rc_attempts VALUES (event);
    RETURN '{"decision": "continue"}'::jsonb;
END $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.rc_check(jsonb) TO supabase_auth_admin;
GRANT SELECT, INSERT ON public.rc_attempts TO supabase_auth_admin;
SELECT auth.configure('{"hook_mfa_verification_attempt": "public.rc_check"}') IS NOT NULL AS hooked;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'regen'::jsonb)->'codes'->>0)) AS right_continues;
SELECT pg_temp.attempt($$SELECT auth.mfa_recovery_codes_verify('aaaaaaaaaaaaaaaa')$$) AS wrong_continues;
SELECT event->>'factor_type' AS factor_type, event->>'valid' AS valid,
       event->>'factor_id' = (SELECT mfa_factor_id::text FROM auth.mfa_recovery_code_sets WHERE user_id = :'lou') AS its_factor,
       event->>'user_id' = :'lou' AS its_user
  FROM public.rc_attempts;
SELECT count(*) AS sessions FROM auth.sessions WHERE user_id = :'lou';
SELECT pg_temp.attempt(format($$SELECT auth.mfa_recovery_codes_verify(%L)$$, (:'regen'::jsonb)->'codes'->>1)) AS right_rejected;
SELECT count(*) AS sessions_after FROM auth.sessions WHERE user_id = :'lou';
SELECT failed_verification_count AS failures,
       (SELECT count(*) FROM auth.mfa_recovery_codes c WHERE c.mfa_recovery_code_set_id = s.id AND consumed_at IS NULL) AS unused
  FROM auth.mfa_recovery_code_sets s WHERE user_id = :'lou';
-- no code was ever written to the audit log, nor a hash
SELECT count(*) AS audit_rows_with_a_code FROM auth.audit_log_entries a
 WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text((:'gen'::jsonb)->'codes' || (:'regen'::jsonb)->'codes') c
                WHERE position(c IN a.payload::text) > 0)
    OR EXISTS (SELECT 1 FROM auth.mfa_recovery_codes r WHERE position(r.code_hash IN a.payload::text) > 0);
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS cleared;
SELECT auth.configure('{"hook_mfa_verification_attempt": null, "mfa_recovery_codes_enroll_enabled": false,
                        "mfa_recovery_codes_verify_enabled": false}') IS NOT NULL AS restored;
DELETE FROM auth.audit_log_entries WHERE payload->>'actor_id' = :'lou';
DELETE FROM auth.users WHERE id = :'lou';
DROP FUNCTION public.rc_check(jsonb);
DROP TABLE public.rc_attempts;
REVOKE USAGE ON SCHEMA public FROM supabase_auth_admin;
SELECT count(*) AS recovery_rows_left FROM auth.mfa_recovery_codes;
