-- The flow state an auth code ($1, its hash) names, taken (deleted: a code works once; a call
-- that then fails rolls the deletion back), as src/pkce's Flow.
DELETE FROM auth.flow_state WHERE auth_code = $1 AND auth_code_issued_at IS NOT NULL
RETURNING jsonb_build_object(
    'user_id', user_id, 'code_challenge', code_challenge,
    'code_challenge_method', code_challenge_method, 'authentication_method', authentication_method,
    'provider_type', provider_type, 'provider_access_token', provider_access_token,
    'provider_refresh_token', provider_refresh_token,
    'session_not_after', {{flow_session_not_after}},
    'age', extract(epoch FROM now() - auth_code_issued_at)::float8)
