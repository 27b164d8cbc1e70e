-- A verified code, in one statement: the challenge answered, the factor verified (a TOTP factor
-- with the step it used), the session raised to aal2 (with $8 in its amr) and a new refresh
-- token for it (the session's others stay valid: they refresh to aal2 too, as GoTrue's swapped
-- token does); the user's other unverified factors of this type and other aal1 sessions go (GoTrue's rule:
-- nobody keeps a way around the factor). Answers whether the session was there and its amr
-- (newest first). $1 challenge, $2 factor, $3 TOTP step (NULL for other factors), $4 session,
-- $5 user, $6 new refresh token's hash, $7 instance id, $8 the amr method.
WITH c AS (UPDATE auth.mfa_challenges SET verified_at = now() WHERE id = $1),
     f AS (UPDATE auth.mfa_factors
              SET status = 'verified', last_used_step = coalesce($3, last_used_step), updated_at = now()
            WHERE id = $2),
     s AS (UPDATE auth.sessions SET aal = 'aal2', factor_id = $2, updated_at = now()
            WHERE id = $4 AND user_id = $5 RETURNING id),
     a AS (INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
           SELECT s.id, now(), now(), $8, gen_random_uuid() FROM s
           ON CONFLICT (session_id, authentication_method) DO UPDATE SET updated_at = now()
           RETURNING authentication_method, updated_at),
     new AS (INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
             SELECT $7::uuid, $6, $5::text, false, NULL, s.id FROM s),
     unverified AS (DELETE FROM auth.mfa_factors
                     WHERE user_id = $5 AND id <> $2 AND status = 'unverified'
                       AND factor_type = (SELECT factor_type FROM auth.mfa_factors WHERE id = $2)
                       AND EXISTS (SELECT 1 FROM s)),
     aal1 AS (DELETE FROM auth.sessions
               WHERE user_id = $5 AND id <> $4 AND coalesce(aal, 'aal1') = 'aal1'
                 AND EXISTS (SELECT 1 FROM s))
SELECT jsonb_build_object(
    'session', EXISTS (SELECT 1 FROM s),
    'amr', (SELECT jsonb_agg(jsonb_build_array(m, t) ORDER BY t DESC) FROM (
                SELECT authentication_method AS m, extract(epoch FROM updated_at)::bigint AS t
                  FROM auth.mfa_amr_claims WHERE session_id = $4 AND authentication_method <> $8
                UNION ALL
                SELECT authentication_method, extract(epoch FROM updated_at)::bigint FROM a) x))
