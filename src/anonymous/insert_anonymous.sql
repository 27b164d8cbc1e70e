-- An anonymous user: no address, no password, no identity, app_metadata {} (GoTrue's).
-- $1 id, $2 aud, $3 instance id, $4 user metadata.
INSERT INTO auth.users (instance_id, id, aud, role, encrypted_password, raw_app_meta_data,
                        raw_user_meta_data, is_anonymous, created_at, updated_at)
VALUES ($3::uuid, $1, $2, 'authenticated', '', '{}', $4, true, now(), now())
