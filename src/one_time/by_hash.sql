-- The token a `token_hash` names ($1), found through the hash index, as a Candidate.
SELECT jsonb_build_object(
           'id', id, 'user_id', user_id, 'token_type', token_type, 'token_hash', token_hash,
           'relates_to', relates_to,
           'age', extract(epoch FROM timezone('UTC', now()) - updated_at)::float8,
           'failed_attempts', failed_attempts, 'issued_at', created_at)
  FROM auth.one_time_tokens
 WHERE token_hash = $1
