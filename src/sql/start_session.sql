-- A session starts in one statement: the session, its first refresh token, the authentication
-- method, the sign-in times and the audit entry, and with $11 (sessions_single_per_user) the end
-- of the user's other sessions; it returns the user and the session's start.
-- $1 audit payload, $2 IP (text), $3 session id, $4 user id, $5 refresh token hash,
-- $6 user agent, $7 IP (inet), $8 instance id, $9 authentication method, $10 provider,
-- $11 end the others, $12 the session's end (unix seconds, or NULL: none).
WITH l AS ({{audit_insert}}),
     -- Ended, not deleted: a refresh of theirs then says session_expired, and auth.cleanup()
     -- removes them later. Locked in id order, as sign-outs lock, so that nothing deadlocks.
     e AS (
         UPDATE auth.sessions SET not_after = now(), updated_at = now()
          WHERE id IN (SELECT o.id FROM auth.sessions o
                        WHERE $11 AND o.user_id = $4 AND (o.not_after IS NULL OR o.not_after > now())
                        ORDER BY o.id FOR UPDATE)),
     s AS (
         INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip, not_after)
         VALUES ($3, $4, now(), now(), 'aal1', $6, $7::inet, to_timestamp($12::float8))
         RETURNING id, created_at),
     r AS (
         INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
         SELECT $8::uuid, $5, $4::text, false, NULL, s.id FROM s),
     a AS (
         INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
         SELECT s.id, now(), now(), $9, gen_random_uuid() FROM s),
     i AS (
         UPDATE auth.identities SET last_sign_in_at = now(), updated_at = now()
          WHERE user_id = $4 AND provider = $10),
     u AS (
         UPDATE auth.users SET last_sign_in_at = now(), updated_at = now()
          WHERE id = $4 RETURNING *)
SELECT jsonb_build_object('user', {{user_object}}, 'created', extract(epoch FROM s.created_at)::bigint)
  FROM u, s
