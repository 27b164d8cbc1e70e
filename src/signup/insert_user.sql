-- The user and their email identity; nothing when the address is taken (the caller says so).
-- $1 id, $2 aud, $3 email, $4 password hash, $5 confirmed now, $6 instance id, $7 user metadata.
WITH u AS (
    INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password,
           email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    VALUES ($6::uuid, $1, $2, 'authenticated', $3, $4, CASE WHEN $5 THEN now() END,
           '{"provider": "email", "providers": ["email"]}', $7, now(), now())
    ON CONFLICT (lower(email)) WHERE is_sso_user = false DO NOTHING
    RETURNING id)
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
SELECT u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', $3::text, 'email_verified', $5,
                          'phone_verified', false),
       'email', now(), now()
  FROM u
RETURNING to_jsonb(user_id)
