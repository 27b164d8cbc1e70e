-- PKCE flow states created more than a day ago (GoTrue's rule, and issue_code.sql's). At most
-- $1 rows, oldest first; rows a concurrent run or an exchange holds are skipped.
DELETE FROM auth.flow_state WHERE id = ANY (ARRAY(
    SELECT f.id FROM auth.flow_state f
     WHERE f.created_at < now() - interval '24 hours'
     ORDER BY f.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
