-- The user a passkey sign-in names, as src/passkeys' SignInUser: their standing and passkeys
-- (as core/src/mfa/webauthn.rs's StoredCredential, binary values as unpadded base64url), the
-- user locked: two sign-ins with one passkey take turns, so its counter moves forward. $1 user.
SELECT jsonb_build_object(
    'email', coalesce(u.email, ''),
    'banned', coalesce(u.banned_until > now(), false),
    'email_unconfirmed', coalesce(u.email, '') <> '' AND u.email_confirmed_at IS NULL,
    'phone_unconfirmed', coalesce(u.email, '') = '' AND coalesce(u.phone, '') <> ''
                         AND u.phone_confirmed_at IS NULL,
    'passkeys', coalesce((
        SELECT jsonb_agg(jsonb_build_object('id', c.id, 'credential', jsonb_build_object(
                   'credential_id', translate(rtrim(replace(encode(c.credential_id, 'base64'), E'\n', ''), '='), '+/', '-_'),
                   'public_key', translate(rtrim(replace(encode(c.public_key, 'base64'), E'\n', ''), '='), '+/', '-_'),
                   'attestation_type', c.attestation_type, 'aaguid', c.aaguid, 'sign_count', c.sign_count,
                   'transports', c.transports, 'backup_eligible', c.backup_eligible,
                   'backed_up', c.backed_up, 'user_verified', c.user_verified))
                         ORDER BY c.created_at)
          FROM auth.webauthn_credentials c WHERE c.user_id = u.id), '[]'))
  FROM auth.users u WHERE u.id = $1 AND u.deleted_at IS NULL
   FOR UPDATE OF u
