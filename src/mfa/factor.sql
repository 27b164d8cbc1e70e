-- A factor of the user's, locked, as src/mfa's Factor: $1 factor, $2 user, $3 the caller's
-- session (whether it is aal2).
SELECT jsonb_build_object(
    'id', f.id, 'factor_type', f.factor_type,
    'verified', f.status = 'verified', 'secret', f.secret, 'last_used_step', f.last_used_step,
    'phone', f.phone,
    'challenged_ago', extract(epoch FROM now() - f.last_challenged_at)::float8,
    'session_aal2', coalesce((SELECT s.aal = 'aal2' FROM auth.sessions s WHERE s.id = $3), false))
  FROM auth.mfa_factors f WHERE f.id = $1 AND f.user_id = $2
   FOR UPDATE OF f
