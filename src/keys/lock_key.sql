-- A key's status and whether it can sign ($1: kid), locked for the status change that follows.
SELECT jsonb_build_object('status', status, 'can_sign', secret IS NOT NULL OR private_key IS NOT NULL)
  FROM auth.signing_keys WHERE kid = $1 FOR UPDATE
