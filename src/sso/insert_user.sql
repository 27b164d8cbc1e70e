-- An SSO user and their identity, in one statement: `is_sso_user` (the address may repeat
-- another user's), the address confirmed (the IdP vouches for it). $1 id, $2 aud, $3 email,
-- $4 instance id, $5 provider (sso:<id>), $6 subject, $7 claims.
WITH u AS (
    INSERT INTO auth.users (instance_id, id, aud, role, email, email_confirmed_at, is_sso_user,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    VALUES ($4::uuid, $1, $2, 'authenticated', $3, CASE WHEN $3::text IS NOT NULL THEN now() END,
           true, jsonb_build_object('provider', $5::text, 'providers', jsonb_build_array($5::text)),
           $7, now(), now())
    RETURNING id)
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
                             created_at, updated_at)
SELECT $6, u.id, $7, $5, now(), now(), now() FROM u
RETURNING to_jsonb(id)
