-- signInWithIdToken's database part: an RS256 ID token of one of 1,000 returning users (signed
-- beforehand into id_tokens) verified against the provider's keys (parsed once per backend), the
-- user found, a session started. (The provider is named keycloak: pgbench would read a colon in
-- a literal as a variable.)
\set n random(1, 1000)
SELECT auth.sign_in_with_id_token('keycloak', (SELECT token FROM id_tokens WHERE id = :n)) IS NOT NULL;
