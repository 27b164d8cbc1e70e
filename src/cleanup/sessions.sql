-- Sessions that ended more than a day ago: past their not_after, or past the timebox ($2) or the
-- inactivity timeout ($3), seconds or NULL for off, measured as session_in_force.sql measures
-- them. The day's grace keeps a recently ended session's refresh token answering
-- session_expired rather than refresh_token_not_found (GoTrue waits 72 h past not_after, 24 h
-- past the timeouts). Refresh tokens and amr claims go with their session (ON DELETE CASCADE).
-- At most $1 rows, oldest first; rows a concurrent run holds are skipped, not waited for.
DELETE FROM auth.sessions WHERE id = ANY (ARRAY(
    SELECT s.id FROM auth.sessions s
     WHERE s.not_after < now() - interval '24 hours'
        OR s.created_at + make_interval(secs => $2) < now() - interval '24 hours'
        OR coalesce(s.refreshed_at AT TIME ZONE 'UTC', s.created_at) + make_interval(secs => $3)
           < now() - interval '24 hours'
     ORDER BY s.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
