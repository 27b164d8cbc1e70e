-- A taken relay state, spent (deleted: a failure after this rolls it back), as src/sso's
-- TakenRelayState. $1 relay state id.
DELETE FROM auth.saml_relay_states WHERE id = $1 AND taken_at IS NOT NULL
RETURNING jsonb_build_object(
    'sso_provider_id', sso_provider_id, 'request_id', request_id, 'redirect_to', redirect_to,
    'code_challenge', code_challenge, 'code_challenge_method', code_challenge_method,
    'taken_ago', extract(epoch FROM now() - taken_at)::float8)
