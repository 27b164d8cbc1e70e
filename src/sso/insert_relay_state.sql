-- A relay state for a new SSO sign-in. $1 provider, $2 AuthnRequest ID, $3 where the app wants
-- the user back, $4 and $5 the app's PKCE challenge and method.
INSERT INTO auth.saml_relay_states (id, sso_provider_id, request_id, redirect_to,
                                    created_at, updated_at, code_challenge, code_challenge_method)
VALUES (gen_random_uuid(), $1, $2, $3, now(), now(), $4, $5::auth.code_challenge_method)
RETURNING to_jsonb(id)
