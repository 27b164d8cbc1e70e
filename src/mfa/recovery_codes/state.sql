-- The caller's standing and recovery codes, as src/mfa/recovery_codes.rs's Standing: $1 user,
-- $2 the caller's session. No row when the user is gone. Never a code's hash.
SELECT jsonb_build_object(
    'anonymous', u.is_anonymous,
    'aal2', coalesce((SELECT s.aal = 'aal2' FROM auth.sessions s
                       WHERE s.id = $2 AND s.user_id = u.id), false),
    'factor_id', rs.mfa_factor_id,
    'friendly_name', f.friendly_name,
    'set_id', rs.id,
    'locked', coalesce(rs.verification_locked_until > now(), false),
    'total', (SELECT count(*) FROM auth.mfa_recovery_codes c
               WHERE c.mfa_recovery_code_set_id = rs.id),
    'remaining', (SELECT count(*) FROM auth.mfa_recovery_codes c
                   WHERE c.mfa_recovery_code_set_id = rs.id AND c.consumed_at IS NULL))
  FROM auth.users u
  LEFT JOIN auth.mfa_recovery_code_sets rs ON rs.user_id = u.id
  LEFT JOIN auth.mfa_factors f ON f.id = rs.mfa_factor_id
 WHERE u.id = $1
