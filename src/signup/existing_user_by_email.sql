-- The user an email ($1, normalized) names, for a sign-up or code request that found it taken,
-- as src/signup's Existing. (Apart from the phone's lookup: one `email = $1 OR phone = $2`
-- cannot use either unique index, and scans the table.)
SELECT jsonb_build_object('id', id, 'confirmed', email_confirmed_at IS NOT NULL,
                          'banned', coalesce(banned_until > now(), false))
  FROM auth.users
 WHERE lower(email) = $1 AND is_sso_user = false AND deleted_at IS NULL
