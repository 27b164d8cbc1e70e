-- The setting names the algorithm that signs; kept true to the key ($1) that does.
UPDATE auth.config SET settings = jsonb_set(settings, '{jwt_signing_algorithm}',
       to_jsonb((SELECT algorithm FROM auth.signing_keys WHERE kid = $1)))
