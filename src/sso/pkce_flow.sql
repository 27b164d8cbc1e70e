-- The PKCE end of an SSO sign-in: a flow state whose auth code the app exchanges with its
-- verifier (POST /token?grant_type=pkce) for a session ending at $6 (the IdP's
-- SessionNotOnOrAfter, unix seconds, or NULL). $1 user, $2 auth code hash, $3 method,
-- $4 challenge, $5 provider (sso:<id>).
INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                             provider_type, created_at, updated_at, authentication_method,
                             auth_code_issued_at, session_not_after)
VALUES (gen_random_uuid(), $1, $2, $3::auth.code_challenge_method, $4, $5,
        now(), now(), 'sso/saml', now(), to_timestamp($6::float8))
