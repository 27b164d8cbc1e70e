UPDATE auth.signing_keys SET status = 'previous', updated_at = now() WHERE status = 'current'
