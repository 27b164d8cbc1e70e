-- An assertion taken: remembered until it expires, so that the same response signs in once.
-- Nothing is returned when it was taken before. $1 provider, $2 assertion ID, $3 its end (unix
-- seconds).
INSERT INTO auth.saml_assertions_seen (sso_provider_id, assertion_id, not_on_or_after)
VALUES ($1, $2, to_timestamp($3::float8))
ON CONFLICT DO NOTHING
RETURNING to_jsonb(true)
