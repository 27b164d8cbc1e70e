-- Assertions taken (src/sso/) that have expired: a replay of one is refused by its expiry now.
-- At most $1 rows, oldest first.
DELETE FROM auth.saml_assertions_seen WHERE (sso_provider_id, assertion_id) IN (
    SELECT a.sso_provider_id, a.assertion_id FROM auth.saml_assertions_seen a
     WHERE a.not_on_or_after < now() - interval '5 minutes'
     ORDER BY a.not_on_or_after LIMIT $1 FOR UPDATE SKIP LOCKED)
