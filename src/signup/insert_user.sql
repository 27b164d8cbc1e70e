-- The user and their email or phone identity; nothing when the address is taken (the caller
-- says so). $1 id, $2 aud, $3 email, $4 password hash ('' for none), $5 confirmed now,
-- $6 instance id, $7 user metadata, $8 phone.
WITH u AS (
    INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password,
           email_confirmed_at, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data,
           created_at, updated_at)
    VALUES ($6::uuid, $1, $2, 'authenticated', $3, $4,
           CASE WHEN $5 AND $3::text IS NOT NULL THEN now() END,
           $8, CASE WHEN $5 AND $8::text IS NOT NULL THEN now() END,
           jsonb_build_object('provider', CASE WHEN $3::text IS NULL THEN 'phone' ELSE 'email' END,
                              'providers', jsonb_build_array(CASE WHEN $3::text IS NULL THEN 'phone' ELSE 'email' END)),
           $7, now(), now())
    ON CONFLICT DO NOTHING
    RETURNING id)
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
SELECT u.id::text, u.id,
       CASE WHEN $3::text IS NULL
            THEN jsonb_build_object('sub', u.id::text, 'phone', $8::text, 'email_verified', false,
                                    'phone_verified', $5)
            ELSE jsonb_build_object('sub', u.id::text, 'email', $3::text, 'email_verified', $5,
                                    'phone_verified', false) END,
       CASE WHEN $3::text IS NULL THEN 'phone' ELSE 'email' END, now(), now()
  FROM u
RETURNING to_jsonb(user_id)
