-- The keys ($1: one kid, or NULL for all) without any key material.
SELECT coalesce(jsonb_agg(jsonb_build_object(
           'kid', kid, 'algorithm', algorithm, 'status', status,
           'can_sign', secret IS NOT NULL OR private_key IS NOT NULL,
           'created_at', created_at, 'updated_at', updated_at) ORDER BY created_at), '[]')
  FROM auth.signing_keys WHERE $1::text IS NULL OR kid = $1
