-- The user's passkeys as GoTrue lists them: $1 user; $2 one passkey only (or NULL).
SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'id', c.id, 'friendly_name', nullif(c.friendly_name, ''),
           'created_at', c.created_at, 'last_used_at', c.last_used_at)) ORDER BY c.created_at), '[]')
  FROM auth.webauthn_credentials c
 WHERE c.user_id = $1 AND ($2::uuid IS NULL OR c.id = $2)
