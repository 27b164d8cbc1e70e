-- The instance's settings and master secret, and the OIDs of the tables whose changes
-- invalidate the cache.
SELECT c.settings, c.refresh_token_key, 'auth.config'::regclass::oid, 'auth.signing_keys'::regclass::oid
  FROM auth.config c
