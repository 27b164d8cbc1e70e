-- A passkey challenge taken (deleted: a challenge is answered once), if it is of this type and
-- user ($3 NULL: a sign-in's, which has none): `{state, expired}`. $1 id, $2 type.
DELETE FROM auth.webauthn_challenges
 WHERE id = $1 AND challenge_type = $2 AND user_id IS NOT DISTINCT FROM $3
RETURNING jsonb_build_object('state', session_data, 'expired', expires_at <= now())
