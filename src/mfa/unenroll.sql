-- A factor removed; the sessions it raised fall back to aal1 and lose its amr entry. $1 factor,
-- $2 the amr method its verification adds.
WITH s AS (UPDATE auth.sessions SET aal = 'aal1', factor_id = NULL, updated_at = now()
            WHERE factor_id = $1 RETURNING id),
     a AS (DELETE FROM auth.mfa_amr_claims
            WHERE session_id IN (SELECT id FROM s) AND authentication_method = $2)
DELETE FROM auth.mfa_factors WHERE id = $1
