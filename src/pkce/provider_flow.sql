-- The PKCE end of a sign-in through an identity provider (social login, SAML SSO): a flow state
-- whose auth code the app exchanges with its verifier (POST /token?grant_type=pkce), 5 minutes,
-- holding what the session it starts needs: the provider's tokens (social login: returned once
-- by the exchange) and the session's end (SSO: the IdP's SessionNotOnOrAfter). $1 user, $2 auth
-- code hash, $3 method, $4 challenge, $5 provider, $6 authentication method (oauth, sso/saml),
-- $7 provider access token, $8 provider refresh token, $9 session end (unix seconds) or NULL.
INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                             provider_type, provider_access_token, provider_refresh_token,
                             created_at, updated_at, authentication_method, auth_code_issued_at,
                             session_not_after)
VALUES (gen_random_uuid(), $1, $2, $3::auth.code_challenge_method, $4, $5, $7, $8,
        now(), now(), $6, now(), to_timestamp($9::float8))
