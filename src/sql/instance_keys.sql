SELECT kid, algorithm, status, secret, private_key, public_jwk FROM auth.signing_keys ORDER BY created_at
