-- The account a password sign-in names ($1: the normalized email, or $2: the phone), as
-- auth_core::sign_in::Account.
SELECT jsonb_build_object(
       'id', id,
       'email', coalesce(CASE WHEN $1::text IS NOT NULL THEN email ELSE phone END, ''),
       'hash', encrypted_password,
       'confirmed', CASE WHEN $1::text IS NOT NULL THEN email_confirmed_at IS NOT NULL
                         ELSE phone_confirmed_at IS NOT NULL END,
       'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE (($1::text IS NOT NULL AND lower(email) = $1 AND is_sso_user = false)
     OR ($2::text IS NOT NULL AND phone = $2))
   AND deleted_at IS NULL
 LIMIT 1
