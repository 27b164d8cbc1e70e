-- A challenge of a factor, locked, as src/mfa's Challenge: $1 challenge, $2 factor, $3 the
-- client's address now.
SELECT jsonb_build_object(
    'age', extract(epoch FROM now() - created_at)::float8,
    'verified', verified_at IS NOT NULL,
    'same_ip', ip_address = coalesce($3::inet, '0.0.0.0'::inet),
    'otp_code', otp_code)
  FROM auth.mfa_challenges WHERE id = $1 AND factor_id = $2
   FOR UPDATE
