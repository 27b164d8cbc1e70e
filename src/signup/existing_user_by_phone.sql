-- The user a phone number ($1, E.164 without `+`) names, as src/signup's Existing.
SELECT jsonb_build_object('id', id, 'confirmed', phone_confirmed_at IS NOT NULL,
                          'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE phone = $1 AND deleted_at IS NULL
