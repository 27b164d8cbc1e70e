-- Whether removing verified factor $2 would leave user $1's recovery codes without another
-- usable factor: a verified one, not recovery codes, of a type whose verification is on ($3).
SELECT to_jsonb(
    EXISTS (SELECT 1 FROM auth.mfa_recovery_code_sets rs WHERE rs.user_id = $1)
    AND NOT EXISTS (SELECT 1 FROM auth.mfa_factors f
                     WHERE f.user_id = $1 AND f.id <> $2 AND f.status = 'verified'
                       AND f.factor_type::text <> 'recovery_code'
                       AND f.factor_type::text = ANY ($3::text[])))
