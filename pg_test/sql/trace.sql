-- Traces that outlive the caller's rollback (src/trace/; needs shared_preload_libraries =
-- 'auth_ext'): a failed sign-in leaves a login_failed audit row although its transaction rolls
-- back, and a reused refresh token's family is revoked although the call fails.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
SELECT current_setting('shared_preload_libraries') LIKE '%auth_ext%' AS preloaded;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "refresh_token_reuse_interval": 0}') IS NOT NULL AS configured;
SELECT s->>'refresh_token' AS r0, auth.verify_jwt(s->>'access_token')->>'session_id' AS sid,
       s->'user'->>'id' AS uid
  FROM auth.sign_up('tracy@example.com', 'tracys-password') s \gset

-- a wrong password inside a transaction that is rolled back, and an unknown email
BEGIN;
SELECT auth.sign_in_with_password('Tracy@Example.com ', 'not-her-password');
ROLLBACK;
SELECT auth.sign_in_with_password('ghost.of.tracy@example.com', 'tracys-password');
-- the writer commits them on its own; wait for it (at most 5 s)
DO $$ BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN (SELECT count(*) FROM auth.audit_log_entries
                WHERE payload->>'action' = 'login_failed' AND payload->>'actor_username' LIKE '%tracy@example.com') = 2;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT payload->>'actor_id' = :'uid' AS actor_is_the_user, payload->>'actor_username' AS actor_username,
       payload->>'log_type' AS log_type, payload->'traits' AS traits,
       payload::text NOT LIKE '%password%' AND payload::text NOT LIKE '%argon2%' AS no_secret
  FROM auth.audit_log_entries
 WHERE payload->>'action' = 'login_failed' AND payload->>'actor_username' LIKE '%tracy@example.com'
 ORDER BY 2 DESC;

-- reuse outside the interval: the call fails, the family's revocation is committed anyway
SELECT s->>'refresh_token' AS r1 FROM auth.refresh_session(:'r0') s \gset
SELECT s->>'refresh_token' AS r2 FROM auth.refresh_session(:'r1') s \gset
SELECT auth.refresh_session(:'r0');
SELECT count(*) FILTER (WHERE NOT revoked) AS live_tokens FROM auth.refresh_tokens WHERE session_id = :'sid';
SELECT auth.refresh_session(:'r2');
SELECT count(*) AS revocations FROM auth.audit_log_entries
 WHERE payload->>'action' = 'token_revoked' AND payload->'traits'->>'session_id' = :'sid';

-- clean up what this file committed (other files count users and sessions)
DELETE FROM auth.users WHERE email = 'tracy@example.com';
SELECT auth.configure('{"refresh_token_reuse_interval": 10}') IS NOT NULL AS restored;
