-- The user an address names, for a sign-up or code request that found it taken: $1 email or
-- NULL, $2 phone or NULL. As src/signup's Existing.
SELECT jsonb_build_object('id', id,
                          'confirmed', CASE WHEN $1::text IS NOT NULL THEN email_confirmed_at IS NOT NULL
                                            ELSE phone_confirmed_at IS NOT NULL END,
                          'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE (($1::text IS NOT NULL AND lower(email) = $1 AND is_sso_user = false)
     OR ($2::text IS NOT NULL AND phone = $2))
   AND deleted_at IS NULL
 LIMIT 1
