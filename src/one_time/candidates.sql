-- The live tokens for an address ($1) of the kinds a verification may use ($2), newest first, as
-- src/one_time's Candidate. Read after the address's lock, so counts are current.
SELECT coalesce(jsonb_agg(c), '[]') FROM (
    SELECT jsonb_build_object(
               'id', id, 'user_id', user_id, 'token_type', token_type, 'token_hash', token_hash,
               'relates_to', relates_to,
               'age', extract(epoch FROM timezone('UTC', now()) - updated_at)::float8,
               'failed_attempts', failed_attempts, 'issued_at', created_at) AS c
      FROM auth.one_time_tokens
     WHERE relates_to = $1 AND token_type::text = ANY ($2)
     ORDER BY created_at DESC
     LIMIT 6) t
