-- A PKCE flow state for a user who asked for a code (GoTrue's shape); its auth code is issued
-- when the code or link is verified. $1 user id, $2 placeholder auth code hash (never handed
-- out), $3 method, $4 challenge, $5 authentication method.
INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                             provider_type, created_at, updated_at, authentication_method)
VALUES (gen_random_uuid(), $1, $2, $3::auth.code_challenge_method, $4, 'email', now(), now(), $5)
