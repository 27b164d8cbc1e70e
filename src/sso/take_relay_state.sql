-- The ACS takes a relay state, once: marked taken (a replayed post finds nothing), as
-- src/sso's Taking. $1 relay state id.
UPDATE auth.saml_relay_states SET taken_at = now(), updated_at = now()
 WHERE id = $1 AND taken_at IS NULL
RETURNING jsonb_build_object(
    'sso_provider_id', sso_provider_id, 'request_id', request_id,
    'age', extract(epoch FROM now() - created_at)::float8)
