-- A passkey used to sign in: its counter and backup state as the authenticator reported them.
-- $1 passkey, $2 counter, $3 backed up.
UPDATE auth.webauthn_credentials
   SET sign_count = $2, backed_up = $3, last_used_at = now(), updated_at = now()
 WHERE id = $1
