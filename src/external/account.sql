-- The user a sign-in resolved to, as src/external's Account. $1 user.
SELECT jsonb_build_object(
    'id', id, 'email', nullif(email, ''), 'confirmed', email_confirmed_at IS NOT NULL,
    'banned', coalesce(banned_until > now(), false))
  FROM auth.users WHERE id = $1 AND deleted_at IS NULL
   FOR UPDATE
