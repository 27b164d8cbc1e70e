-- The PKCE end of a social login: a flow state whose auth code the app exchanges with its
-- verifier (POST /token?grant_type=pkce), holding the provider's tokens until then (5 minutes;
-- deleted by the exchange). $1 user, $2 auth code hash, $3 method, $4 challenge, $5 provider,
-- $6 provider access token, $7 provider refresh token.
INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                             provider_type, provider_access_token, provider_refresh_token,
                             created_at, updated_at, authentication_method, auth_code_issued_at)
VALUES (gen_random_uuid(), $1, $2, $3::auth.code_challenge_method, $4, $5, $6, $7,
        now(), now(), 'oauth', now())
