-- MFA phone factors (src/mfa/phone.rs): a code by SMS through the outbox at each challenge, only
-- its keyed hash kept; GoTrue's mfa_phone_* settings; the verification attempt hook; the audit
-- trail of factor events.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": true}') IS NOT NULL AS configured;
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
    SELECT set_config('request.jwt.claims', auth.verify_jwt(token)::text, true) IS NOT NULL $$;
-- The code a challenge sent: read from the outbox, as an SMS gateway would.
CREATE FUNCTION pg_temp.sent_code() RETURNS text LANGUAGE sql AS $$
    SELECT payload->'sms'->>'otp' FROM auth.outbox WHERE action = 'mfa' ORDER BY id DESC LIMIT 1 $$;

SELECT s->>'access_token' AS ava_token FROM auth.sign_up('ava@example.com', 'a long password 1') s \gset
SELECT pg_temp.as_user(:'ava_token') AS as_ava;

-- Off by default, as in GoTrue
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('phone', phone => '+15550100100')$$) AS phone_off;
SELECT auth.configure('{"mfa_phone_enroll_enabled": true, "mfa_phone_verify_enabled": true,
                        "mfa_phone_max_frequency": 0}') IS NOT NULL AS phone_on;

-- Enroll: a number is needed, in E.164; the answer echoes it
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('phone')$$) AS no_number,
       pg_temp.attempt($$SELECT auth.mfa_enroll('phone', phone => 'call me')$$) AS not_a_number;
SELECT auth.mfa_enroll('phone', 'Ava''s phone', phone => '+1 555 010 0100') AS enrolled \gset
SELECT (:'enrolled'::jsonb) - 'id' AS answer;
SELECT (:'enrolled'::jsonb)->>'id' AS factor \gset
SELECT factor_type, status, phone, secret IS NULL AS no_secret FROM auth.mfa_factors WHERE id = :'factor';

-- Challenge: an SMS in the outbox for the factor's number; the challenge keeps a hash only
SELECT auth.mfa_challenge(:'factor') AS challenge \gset
SELECT (:'challenge'::jsonb)->>'type' AS type,
       ((:'challenge'::jsonb)->>'expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 299 AND 300 AS expires_in_300s;
SELECT (:'challenge'::jsonb)->>'id' AS challenge_id \gset
SELECT channel, action, recipient, payload->'sms'->>'sms_type' AS sms_type, payload->'sms'->>'phone' AS phone,
       payload->'sms'->>'otp' ~ '^[0-9]{6}$' AS six_digits
  FROM auth.outbox WHERE action = 'mfa';
SELECT otp_code IS NOT NULL AND otp_code <> pg_temp.sent_code() AND position(pg_temp.sent_code() IN otp_code) = 0 AS hash_only
  FROM auth.mfa_challenges WHERE id = :'challenge_id';
-- the SMS text is the MFA template, not the sign-in one
SELECT auth.configure('{"mfa_phone_template": "Ava, your factor code: {{ .Code }}", "sms_template": "sign-in {{ .Code }}"}') IS NOT NULL AS templates;
SELECT m->>'text' = 'Ava, your factor code: ' || pg_temp.sent_code() AS mfa_text
  FROM auth.outbox_claim(10, 60, '{sms}') m WHERE m->>'action' = 'mfa';
-- channels: sms (the default); others are refused
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L, 'whatsapp')$$, :'factor')) AS whatsapp,
       pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L, 'pigeon')$$, :'factor')) AS pigeon;

-- Verify: a wrong code, then the right one: aal2 with mfa/phone in amr
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'challenge_id',
           lpad(((pg_temp.sent_code()::int + 1) % 1000000)::text, 6, '0'))) AS wrong_code,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L)$$, :'factor', :'challenge_id')) AS no_code;
SELECT auth.mfa_verify(:'factor', :'challenge_id', pg_temp.sent_code()) AS verified \gset
SELECT (auth.verify_jwt((:'verified'::jsonb)->>'access_token'))->>'aal' AS aal,
       (SELECT array_agg(e->>'method' ORDER BY e->>'method')
          FROM jsonb_array_elements((auth.verify_jwt((:'verified'::jsonb)->>'access_token'))->'amr') e) AS amr,
       (:'verified'::jsonb)->'user'->'factors'->0->>'factor_type' AS factor_type,
       (:'verified'::jsonb)->'user'->'factors'->0->>'status' AS status;
-- the code again on its spent challenge
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'challenge_id', pg_temp.sent_code())) AS code_again;
-- a code is its challenge's only: the last one sent does not answer a newer challenge
SELECT pg_temp.as_user((:'verified'::jsonb)->>'access_token') AS as_ava_aal2;
SELECT pg_temp.sent_code() AS old_code \gset
SELECT (auth.mfa_challenge(:'factor'))->>'id' AS second_challenge \gset
SELECT pg_temp.sent_code() <> :'old_code' AS new_code_sent,
       pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, %L)$$, :'factor', :'second_challenge', :'old_code')) AS old_code_new_challenge;

-- The same number again while verified: refused; the frequency limit between challenges
SELECT pg_temp.attempt($$SELECT auth.mfa_enroll('phone', phone => '+15550100100')$$) AS same_number;
SELECT auth.configure('{"mfa_phone_max_frequency": 60}') IS NOT NULL AS one_a_minute;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L)$$, :'factor')) AS too_soon;
-- verification off: challenges refused
SELECT auth.configure('{"mfa_phone_verify_enabled": false}') IS NOT NULL AS verify_off;
SELECT pg_temp.attempt(format($$SELECT auth.mfa_challenge(%L)$$, :'factor')) AS challenge_off;
SELECT auth.configure('{"mfa_phone_verify_enabled": true, "mfa_phone_max_frequency": 0}') IS NOT NULL AS verify_on;

-- The audit trail: enrolment, challenges, the verification; no code in any entry
SELECT payload->>'action' AS action, payload->>'log_type' AS log_type, count(*) AS entries
  FROM auth.audit_log_entries
 WHERE payload->>'action' IN ('factor_in_progress', 'challenge_created', 'verification_attempted')
 GROUP BY 1, 2 ORDER BY 1;
SELECT count(*) AS entries_with_a_code FROM auth.audit_log_entries a, auth.outbox o
 WHERE o.action = 'mfa' AND position(o.payload->'sms'->>'otp' IN a.payload::text) > 0;

-- Unenroll from the aal2 session: the session falls back to aal1 without mfa/phone
SELECT (auth.mfa_unenroll(:'factor'))->>'id' = :'factor' AS unenrolled;
SELECT s.aal, (SELECT count(*) FROM auth.mfa_amr_claims c WHERE c.session_id = s.id AND c.authentication_method = 'mfa/phone') AS phone_claims
  FROM auth.sessions s WHERE s.id = ((auth.verify_jwt((:'verified'::jsonb)->>'access_token'))->>'session_id')::uuid;
SELECT payload->>'action' AS action, payload->'traits'->>'factor_status' AS status
  FROM auth.audit_log_entries WHERE payload->>'action' = 'factor_unenrolled';
ROLLBACK;

-- mfa_verification_attempt: the hook sees each attempt (right or wrong) and may reject, which
-- ends the user's sessions. Outside a transaction: the sessions it ends are committed ones.
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
CREATE TABLE public.mfa_attempts (event jsonb);
CREATE FUNCTION public.mfa_check(event jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.mfa_attempts VALUES (event);
    RETURN CASE WHEN NOT (event->>'valid')::boolean
                THEN '{"decision": "reject", "message": "No more guesses"}'::jsonb
                ELSE '{"decision": "continue"}'::jsonb END;
END $$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.mfa_check(jsonb) TO supabase_auth_admin;
GRANT INSERT ON public.mfa_attempts TO supabase_auth_admin;
SELECT auth.configure('{"mfa_phone_enroll_enabled": true, "mfa_phone_verify_enabled": true,
                        "mfa_phone_max_frequency": 0,
                        "hook_mfa_verification_attempt": "public.mfa_check"}') IS NOT NULL AS hooked;
SELECT (auth.sign_up('hooked@example.com', 'a long password 2'))->>'access_token' AS hooked_token \gset
SELECT set_config('request.jwt.claims', auth.verify_jwt(:'hooked_token')::text, false) IS NOT NULL AS as_hooked;
SELECT (auth.mfa_enroll('phone', phone => '+15550100200'))->>'id' AS hooked_factor \gset
SELECT (auth.mfa_challenge(:'hooked_factor'))->>'id' AS hooked_challenge \gset
SELECT payload->'sms'->>'otp' AS hooked_code FROM auth.outbox WHERE action = 'mfa' ORDER BY id DESC LIMIT 1 \gset
-- a right code: the hook sees it (valid) and lets it through
SELECT (auth.mfa_verify(:'hooked_factor', :'hooked_challenge', :'hooked_code'))->>'access_token' IS NOT NULL AS verified;
SELECT event->>'factor_type' AS factor_type, event->>'valid' AS valid,
       event->>'factor_id' = :'hooked_factor' AS its_factor,
       event->>'user_id' = (SELECT id::text FROM auth.users WHERE email = 'hooked@example.com') AS its_user
  FROM public.mfa_attempts;
-- a wrong one: rejected with the hook's message, and the user signed out everywhere
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'hooked@example.com';
SELECT pg_temp.attempt(format($$SELECT auth.mfa_verify(%L, %L, 'abcdef')$$, :'hooked_factor',
           (auth.mfa_challenge(:'hooked_factor'))->>'id')) AS rejected;
SELECT count(*) AS sessions_after FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'hooked@example.com';
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS cleared;
SELECT auth.configure('{"hook_mfa_verification_attempt": null, "mfa_phone_enroll_enabled": false,
                        "mfa_phone_verify_enabled": false, "mfa_phone_max_frequency": 5}') IS NOT NULL AS restored;
DELETE FROM auth.users WHERE email = 'hooked@example.com';
DELETE FROM auth.outbox WHERE action = 'mfa';
DROP FUNCTION public.mfa_check(jsonb);
DROP TABLE public.mfa_attempts;
REVOKE USAGE ON SCHEMA public FROM supabase_auth_admin;
