-- A verified code, in one statement: the challenge answered, the factor verified with the step
-- it used, the session raised to aal2 (with `totp` in its amr), the session's refresh tokens
-- replaced by a new one; answers the session's amr (newest first).
-- $1 challenge, $2 factor, $3 TOTP step, $4 session, $5 user, $6 new refresh token's hash,
-- $7 instance id.
WITH c AS (UPDATE auth.mfa_challenges SET verified_at = now() WHERE id = $1),
     f AS (UPDATE auth.mfa_factors SET status = 'verified', last_used_step = $3, updated_at = now()
            WHERE id = $2),
     s AS (UPDATE auth.sessions SET aal = 'aal2', factor_id = $2, updated_at = now()
            WHERE id = $4 RETURNING id),
     a AS (INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
           SELECT s.id, now(), now(), 'totp', gen_random_uuid() FROM s
           ON CONFLICT (session_id, authentication_method) DO UPDATE SET updated_at = now()
           RETURNING authentication_method, updated_at),
     old AS (UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
              WHERE session_id = $4 AND NOT revoked),
     new AS (INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
             SELECT $7::uuid, $6, $5::text, false, NULL, s.id FROM s)
SELECT jsonb_build_object(
    'amr', (SELECT jsonb_agg(jsonb_build_array(m, t) ORDER BY t DESC) FROM (
                SELECT authentication_method AS m, extract(epoch FROM updated_at)::bigint AS t
                  FROM auth.mfa_amr_claims WHERE session_id = $4 AND authentication_method <> 'totp'
                UNION ALL
                SELECT authentication_method, extract(epoch FROM updated_at)::bigint FROM a) x))
