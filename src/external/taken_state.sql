-- A taken state, locked, as src/external's TakenState: the flow the callback finishes. $1 hash.
SELECT jsonb_build_object(
    'id', id, 'provider', provider, 'redirect_to', redirect_to,
    'code_challenge', code_challenge, 'code_challenge_method', code_challenge_method,
    'nonce', nonce, 'link_user_id', link_user_id,
    'age', extract(epoch FROM now() - created_at)::float8)
  FROM auth.oauth_states WHERE state_hash = $1 AND taken_at IS NOT NULL
   FOR UPDATE
