-- Whether the session aliased `s` is in force: not past its not_after, its timebox ($2, seconds
-- after creation, or NULL) or its inactivity timeout ($3, seconds after the last refresh, or
-- NULL). The one definition of a session's expiry: a refresh and the access-token check share it.
((s.not_after IS NULL OR s.not_after > now())
 AND ($2::bigint IS NULL OR s.created_at + make_interval(secs => $2) > now())
 AND ($3::bigint IS NULL
      OR coalesce(s.refreshed_at AT TIME ZONE 'UTC', s.created_at) + make_interval(secs => $3) > now()))
