-- The callback takes a flow's state, once: the row is marked taken (a replayed state finds
-- nothing) and returned with the provider's secret for the token exchange. $1 state hash.
UPDATE auth.oauth_states s SET taken_at = now()
  FROM auth.identity_providers p
 WHERE s.state_hash = $1 AND s.taken_at IS NULL AND p.name = s.provider
RETURNING jsonb_build_object(
    'provider', s.provider, 'redirect_to', s.redirect_to,
    'code_verifier', s.provider_code_verifier, 'secret', p.secret,
    'age', extract(epoch FROM now() - s.created_at)::float8)
