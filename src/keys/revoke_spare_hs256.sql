-- An adopted HS256 secret replaces the other HS256 keys that are not current.
UPDATE auth.signing_keys SET status = 'revoked', updated_at = now()
 WHERE algorithm = 'HS256' AND status IN ('standby', 'previous')
