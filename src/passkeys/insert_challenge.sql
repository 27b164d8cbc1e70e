-- A passkey ceremony's state until its verify; answers its expiry (unix seconds). $1 id,
-- $2 user (NULL for a sign-in), $3 type, $4 state, $5 seconds it may be answered in.
INSERT INTO auth.webauthn_challenges (id, user_id, challenge_type, session_data, created_at, expires_at)
VALUES ($1, $2, $3, $4, now(), now() + make_interval(secs => $5))
RETURNING to_jsonb(extract(epoch FROM expires_at)::bigint)
