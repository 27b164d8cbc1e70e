-- A new key; nothing when the kid is taken (in any state), also when a concurrent import of the
-- same kid commits first.
WITH added AS (
    INSERT INTO auth.signing_keys (kid, algorithm, status, secret, private_key, public_jwk)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (kid) DO NOTHING
    RETURNING kid)
SELECT to_jsonb(kid) FROM added
