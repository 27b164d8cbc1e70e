-- GoTrue's answer to a sign-up of a taken address while confirmations are on: a user object of
-- the shape a new user gets, with a random id and no identities, so the answer does not say
-- whether the address was taken. $1 aud, $2 email, $3 phone, $4 user metadata.
SELECT jsonb_build_object(
    'id', gen_random_uuid(), 'aud', $1::text, 'role', 'authenticated',
    'email', coalesce($2::text, ''), 'phone', coalesce($3::text, ''),
    'confirmation_sent_at', now(),
    'app_metadata', jsonb_build_object('provider', CASE WHEN $2::text IS NULL THEN 'phone' ELSE 'email' END,
                                       'providers', jsonb_build_array(CASE WHEN $2::text IS NULL THEN 'phone' ELSE 'email' END)),
    'user_metadata', $4::jsonb, 'identities', '[]'::jsonb,
    'created_at', now(), 'updated_at', now(), 'is_anonymous', false)
