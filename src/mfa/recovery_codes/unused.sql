-- Set $1's codes not used yet: their ids and stored hashes, in the same order.
SELECT jsonb_build_object(
    'ids', coalesce(jsonb_agg(c.id ORDER BY c.created_at, c.id), '[]'),
    'hashes', coalesce(jsonb_agg(c.code_hash ORDER BY c.created_at, c.id), '[]'))
  FROM auth.mfa_recovery_codes c
 WHERE c.mfa_recovery_code_set_id = $1 AND c.consumed_at IS NULL
