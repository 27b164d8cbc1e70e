-- Passkey ceremonies (src/passkeys/) past their expiry: abandoned between options and verify.
-- At most $1 rows, oldest first.
DELETE FROM auth.webauthn_challenges WHERE id = ANY (ARRAY(
    SELECT c.id FROM auth.webauthn_challenges c
     WHERE c.expires_at < now()
     ORDER BY c.expires_at LIMIT $1 FOR UPDATE SKIP LOCKED))
