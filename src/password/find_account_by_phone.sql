-- The account a password sign-in by phone names ($1, E.164 without `+`), as
-- auth_core::sign_in::Account (its `email` field carries the phone, the session's address).
SELECT jsonb_build_object(
       'id', id,
       'email', coalesce(phone, ''),
       'hash', encrypted_password,
       'confirmed', phone_confirmed_at IS NOT NULL,
       'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE phone = $1 AND deleted_at IS NULL
