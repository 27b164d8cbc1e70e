-- The user's verified WebAuthn factors with their credentials (GoTrue's `web_authn_credential`),
-- as src/mfa/webauthn.rs's Registered: $1 user.
SELECT coalesce(jsonb_agg(jsonb_build_object('factor', id, 'credential', web_authn_credential)
                          ORDER BY created_at), '[]')
  FROM auth.mfa_factors
 WHERE user_id = $1 AND factor_type = 'webauthn' AND status = 'verified'
   AND web_authn_credential IS NOT NULL
