-- The account a password sign-in names ($1: the normalized email), as auth_core::sign_in::Account.
SELECT jsonb_build_object(
       'id', id,
       'email', email,
       'hash', encrypted_password,
       'confirmed', email_confirmed_at IS NOT NULL,
       'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE lower(email) = $1 AND is_sso_user = false AND deleted_at IS NULL
