-- Refresh tokens revoked more than a day ago whose session is gone or no longer in force ($2
-- timebox, $3 inactivity timeout, as in session_in_force.sql). A revoked token of a live session
-- stays: presenting it again is how a stolen token's reuse is recognised (GoTrue deletes every
-- token revoked a day ago, and a replay of it then merely fails). At most $1 rows, oldest first;
-- rows a concurrent run holds are skipped.
DELETE FROM auth.refresh_tokens WHERE id = ANY (ARRAY(
    SELECT t.id FROM auth.refresh_tokens t
     WHERE t.revoked AND t.updated_at < now() - interval '24 hours'
       AND NOT EXISTS (SELECT 1 FROM auth.sessions s
                        WHERE s.id = t.session_id AND {{session_in_force}})
     ORDER BY t.updated_at LIMIT $1 FOR UPDATE OF t SKIP LOCKED))
