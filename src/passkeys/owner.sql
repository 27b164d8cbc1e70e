-- The caller's standing for registering or removing a passkey, their row locked (so that two
-- registrations count each other), as src/passkeys' Owner: $1 user, $2 the caller's session.
SELECT jsonb_build_object(
    'email', u.email, 'phone', u.phone, 'name', u.raw_user_meta_data->>'name',
    'is_anonymous', u.is_anonymous, 'is_sso_user', u.is_sso_user,
    'verified_factor', EXISTS (SELECT 1 FROM auth.mfa_factors f
                                WHERE f.user_id = u.id AND f.status = 'verified'),
    'session_aal2', coalesce((SELECT s.aal = 'aal2' FROM auth.sessions s WHERE s.id = $2), false),
    'credential_ids', coalesce((
        SELECT jsonb_agg(translate(rtrim(replace(encode(c.credential_id, 'base64'), E'\n', ''), '='), '+/', '-_')
                         ORDER BY c.created_at)
          FROM auth.webauthn_credentials c WHERE c.user_id = u.id), '[]'))
  FROM auth.users u WHERE u.id = $1 AND u.deleted_at IS NULL
   FOR UPDATE OF u
