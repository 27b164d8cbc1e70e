-- A challenge for a factor; answers its creation time (unix seconds). $1 id, $2 factor,
-- $3 the client's address (unknown: 0.0.0.0), $4 the hash of the code sent (phone factors).
WITH f AS (UPDATE auth.mfa_factors SET last_challenged_at = now(), updated_at = now() WHERE id = $2)
INSERT INTO auth.mfa_challenges (id, factor_id, created_at, ip_address, otp_code)
VALUES ($1, $2, now(), coalesce($3::inet, '0.0.0.0'::inet), $4)
RETURNING to_jsonb(extract(epoch FROM created_at)::bigint)
