-- A provider's row as src/external's ProviderRow (the secret only as whether there is one).
-- $1 name.
SELECT jsonb_build_object(
    'name', name, 'config', config, 'has_secret', secret IS NOT NULL,
    'discovery', CASE WHEN discovery_expires_at > now() THEN discovery END,
    'jwks', CASE WHEN jwks_expires_at > now() THEN jwks END)
  FROM auth.identity_providers WHERE name = $1
