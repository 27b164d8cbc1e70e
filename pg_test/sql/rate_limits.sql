-- Rate limits (src/rate_limit, core/src/rate_limit.rs): GoTrue's per-IP limits, counted per
-- server in shared memory so that a rolled-back or refused request still counts, and the
-- per-account sign-in backoff. Counters outlive transactions and runs: every section uses
-- addresses and accounts of its own, drawn at random; the rows and settings roll back.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
-- What a call answers: ok, or its SQLSTATE, GoTrue code and whether it says when to retry.
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ' ' || code || CASE WHEN (nullif(hint, '')::jsonb->>'retry_after')::int > 0 THEN ' retry_after' ELSE '' END;
END $$;
-- Requests come over HTTP from a client address (as PostgREST and the shim say it).
CREATE FUNCTION pg_temp.from_ip(ip text) RETURNS boolean LANGUAGE sql AS $$
    SELECT set_config('request.headers', jsonb_build_object('x-forwarded-for', ip)::text, false) IS NOT NULL $$;
SELECT '10.' || (random() * 250)::int || '.' || (random() * 250)::int || '.' AS net \gset
SELECT auth.configure('{"rate_limit_verify": 3, "rate_limit_otp": 2, "rate_limit_token_refresh": 4,
                        "argon2_memory_kib": 1024, "argon2_iterations": 1}') IS NOT NULL AS configured;
SELECT auth.settings()->'rate_limit_verify' AS verify, auth.settings()->'sign_in_backoff_free_attempts' AS free,
       auth.settings()->'sign_in_backoff_max_seconds' AS max_wait;

-- rate_limit_verify: three verifications per address, wrong codes included, then 429 with when
SELECT pg_temp.from_ip(:'net' || '1');
SELECT n, pg_temp.attempt($$SELECT auth.verify_otp('email', '123456', email => 'nobody@example.com')$$)
  FROM generate_series(1, 4) n;
-- another address has its own count
SELECT pg_temp.from_ip(:'net' || '2');
SELECT pg_temp.attempt($$SELECT auth.verify_otp('email', '123456', email => 'nobody@example.com')$$);
-- the client cannot choose its address: only the entry the trusted proxy appended counts
SELECT pg_temp.from_ip('198.51.100.1, ' || :'net' || '1');
SELECT pg_temp.attempt($$SELECT auth.verify_otp('email', '123456', email => 'nobody@example.com')$$);
-- an HTTP request whose address is unknown shares one bucket; one not over HTTP is not limited
SELECT set_config('request.headers', 'not json', false) IS NOT NULL AS unreadable_headers;
SELECT count(*) FILTER (WHERE r LIKE 'PT429%') > 0 AS unknown_addresses_limited
  FROM (SELECT pg_temp.attempt($$SELECT auth.verify_otp('email', '123456', email => 'nobody@example.com')$$) r
          FROM generate_series(1, 4)) t;
SELECT set_config('request.headers', '', false) IS NOT NULL AS no_request;
SELECT count(*) FILTER (WHERE r LIKE 'PT429%') AS limited
  FROM (SELECT pg_temp.attempt($$SELECT auth.verify_otp('email', '123456', email => 'nobody@example.com')$$) r
          FROM generate_series(1, 6)) t;

-- rate_limit_otp is shared by the requests that send something: sign-up, codes, recovery, resend
SELECT pg_temp.from_ip(:'net' || '3');
SELECT pg_temp.attempt($$SELECT auth.sign_up('rl-' || gen_random_uuid() || '@example.com', 'a-good-password')$$) AS sign_up,
       pg_temp.attempt($$SELECT auth.reset_password_for_email('rl-nobody@example.com')$$) AS recover,
       pg_temp.attempt($$SELECT auth.sign_in_with_otp('rl-nobody@example.com')$$) AS otp;

-- rate_limit_token_refresh counts every grant: password sign-ins and refreshes together
SELECT 'rl-' || gen_random_uuid() || '@example.com' AS owner \gset
SELECT set_config('request.headers', '', false) IS NOT NULL AS no_request;
SELECT auth.sign_up(:'owner', 'the-right-password') ? 'access_token' AS owner_signed_up;
SELECT pg_temp.from_ip(:'net' || '4');
SELECT pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'the-right-password')$$, :'owner')) AS sign_in,
       pg_temp.attempt($$SELECT auth.refresh_session('aaaaaaaaaaaa')$$) AS refresh,
       pg_temp.attempt($$SELECT auth.refresh_session('aaaaaaaaaaaa')$$) AS refresh,
       pg_temp.attempt($$SELECT auth.refresh_session('aaaaaaaaaaaa')$$) AS refresh,
       pg_temp.attempt($$SELECT auth.refresh_session('aaaaaaaaaaaa')$$) AS refresh_past_limit;

-- The per-account backoff: 5 attempts pass, then each must wait (1 s, 2 s, ... up to 60 s),
-- from whatever address it comes; the right password is refused too while it must wait.
SELECT auth.configure('{"rate_limit_token_refresh": 1000}') IS NOT NULL AS configured;
SELECT 'rl-' || gen_random_uuid() || '@example.com' AS victim \gset
SELECT set_config('request.headers', '', false) IS NOT NULL AS no_request;
SELECT auth.sign_up(:'victim', 'the-right-password') ? 'access_token' AS victim_signed_up;
SELECT n, pg_temp.from_ip(:'net' || (100 + n)) AS new_address,
       pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'guess-%s')$$, :'victim', n))
  FROM generate_series(1, 7) n;
SELECT pg_temp.from_ip(:'net' || '200');
SELECT pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'the-right-password')$$, :'victim')) AS owner_from_a_new_address;
-- an unknown address is spaced the same (no account enumeration through the backoff)
SELECT 'rl-' || gen_random_uuid() || '@example.com' AS ghost \gset
SELECT n, pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'guess')$$, :'ghost'))
  FROM generate_series(1, 6) n;
-- after the wait, the right password passes and the account's attempts are forgotten
SELECT pg_sleep(2.1);
SELECT pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'the-right-password')$$, :'victim')) AS owner_after_waiting;
SELECT n, pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'guess-%s')$$, :'victim', n))
  FROM generate_series(1, 5) n;

-- The owner's own address (one a session of theirs came from) is spaced apart: guesses from
-- elsewhere do not lock them out there.
SELECT 'rl-' || gen_random_uuid() || '@example.com' AS owner2 \gset
SELECT pg_temp.from_ip(:'net' || '250');
SELECT auth.sign_up(:'owner2', 'the-right-password') ? 'access_token' AS owner_signed_up;
SELECT (SELECT host(ip) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = :'owner2') = :'net' || '250' AS session_address;
SELECT count(*) FILTER (WHERE r LIKE 'PT429%') > 0 AS attacker_backed_off
  FROM (SELECT pg_temp.from_ip(:'net' || '251'),
               pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'guess')$$, :'owner2')) r
          FROM generate_series(1, 8)) t;
SELECT pg_temp.from_ip(:'net' || '250');
SELECT pg_temp.attempt(format($$SELECT auth.sign_in_with_password(%L, 'the-right-password')$$, :'owner2')) AS owner_at_home;

-- Settings are checked
SELECT pg_temp.attempt($$SELECT auth.configure('{"rate_limit_otp": -1}')$$) AS negative_limit,
       pg_temp.attempt($$SELECT auth.configure('{"sign_in_backoff_free_attempts": 0}')$$) AS no_free_attempt,
       pg_temp.attempt($$SELECT auth.configure('{"sign_in_backoff_max_seconds": "60"}')$$) AS text_seconds;
ROLLBACK;
