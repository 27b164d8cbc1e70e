-- The user's email, phone and password hash ($1: user id), locked for the update that follows,
-- and how old the caller's session ($2) is (NULL without one), for the reauthentication rule.
SELECT jsonb_build_object('email', u.email, 'phone', u.phone, 'hash', u.encrypted_password,
                          'is_anonymous', u.is_anonymous, 'is_sso_user', u.is_sso_user,
                          'has_verified_factor', {{has_verified_factor}},
                          'session_aal2', coalesce((SELECT s.aal = 'aal2' FROM auth.sessions s WHERE s.id = $2), false),
                          'session_age', (SELECT extract(epoch FROM now() - s.created_at)::float8
                                            FROM auth.sessions s WHERE s.id = $2))
  FROM auth.users u WHERE u.id = $1 AND u.deleted_at IS NULL FOR UPDATE
