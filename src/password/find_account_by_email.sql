-- The account a password sign-in by email names ($1, normalized), as auth_core::sign_in::Account.
-- (Apart from the phone's lookup: one `email = $1 OR phone = $2` can use neither unique index
-- and scans auth.users.)
SELECT jsonb_build_object(
       'id', id,
       'email', coalesce(email, ''),
       'hash', encrypted_password,
       'confirmed', email_confirmed_at IS NOT NULL,
       'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE lower(email) = $1 AND is_sso_user = false AND deleted_at IS NULL
