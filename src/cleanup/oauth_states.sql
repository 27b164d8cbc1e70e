-- Social-login flows (src/external/) begun more than an hour ago: a state lives 10 minutes, so
-- these were abandoned or spent by a callback that failed. At most $1 rows, oldest first.
DELETE FROM auth.oauth_states WHERE id = ANY (ARRAY(
    SELECT s.id FROM auth.oauth_states s
     WHERE s.created_at < now() - interval '1 hour'
     ORDER BY s.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
