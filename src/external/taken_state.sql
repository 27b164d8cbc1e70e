-- A taken state, locked, as src/external's TakenState: the flow the callback finishes. $1 hash.
SELECT jsonb_build_object(
    'id', id, 'provider', provider, 'redirect_to', redirect_to,
    'code_challenge', code_challenge, 'code_challenge_method', code_challenge_method,
    'nonce', nonce, 'link_user_id', link_user_id,
    'link_session_live', link_user_id IS NULL OR EXISTS (
        SELECT 1 FROM auth.sessions s WHERE s.id = link_session_id AND s.user_id = link_user_id
           AND (s.not_after IS NULL OR s.not_after > now())),
    'age', extract(epoch FROM now() - created_at)::float8)
  FROM auth.oauth_states WHERE state_hash = $1 AND taken_at IS NOT NULL
   FOR UPDATE
