-- A user made by a provider's sign-in and their identity, in one statement. $1 id, $2 aud,
-- $3 email (or NULL), $4 confirmed now, $5 instance id, $6 provider, $7 subject, $8 claims.
WITH u AS (
    INSERT INTO auth.users (instance_id, id, aud, role, email, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    VALUES ($5::uuid, $1, $2, 'authenticated', $3, CASE WHEN $4 AND $3::text IS NOT NULL THEN now() END,
           jsonb_build_object('provider', $6::text, 'providers', jsonb_build_array($6::text)),
           $8, now(), now())
    RETURNING id)
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
                             created_at, updated_at)
SELECT $7, u.id, $8, $6, now(), now(), now() FROM u
RETURNING to_jsonb(id)
