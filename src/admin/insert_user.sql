-- A user the admin API creates, with an identity per address; nothing when the id, email or
-- phone is taken (the caller says which). $1 id, $2 aud, $3 role, $4 email, $5 phone,
-- $6 password hash ('' for none), $7 email confirmed, $8 phone confirmed, $9 app metadata,
-- $10 user metadata, $11 banned for this many milliseconds (NULL: not banned), $12 instance id,
-- $13 invited.
WITH u AS (
    INSERT INTO auth.users (instance_id, id, aud, role, email, phone, encrypted_password,
           email_confirmed_at, phone_confirmed_at, invited_at, raw_app_meta_data,
           raw_user_meta_data, banned_until, created_at, updated_at)
    VALUES ($12::uuid, $1, $2, $3, $4, $5, $6,
           CASE WHEN $7 AND $4::text IS NOT NULL THEN now() END,
           CASE WHEN $8 AND $5::text IS NOT NULL THEN now() END,
           CASE WHEN $13 THEN now() END,
           $9, $10, now() + make_interval(secs => $11::float8 / 1000), now(), now())
    ON CONFLICT DO NOTHING
    RETURNING id, email, phone),
i AS (
    INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
    SELECT u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email,
                                                'email_verified', $7, 'phone_verified', false),
           'email', now(), now()
      FROM u WHERE u.email IS NOT NULL
    UNION ALL
    SELECT u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'phone', u.phone,
                                                'email_verified', false, 'phone_verified', $8),
           'phone', now(), now()
      FROM u WHERE u.phone IS NOT NULL
    RETURNING user_id)
SELECT to_jsonb(u.id) FROM u
