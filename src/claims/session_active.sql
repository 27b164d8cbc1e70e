-- Whether a token's session ($1) of user $2 exists, is in force ($3 timebox, $4 inactivity
-- timeout, in seconds or NULL) and its user may sign in.
SELECT to_jsonb(EXISTS (
    SELECT 1 FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2
       AND (s.not_after IS NULL OR s.not_after > now())
       AND ($3::bigint IS NULL OR s.created_at + make_interval(secs => $3) > now())
       AND ($4::bigint IS NULL
            OR coalesce(s.refreshed_at AT TIME ZONE 'UTC', s.created_at) + make_interval(secs => $4) > now())
       AND u.deleted_at IS NULL
       AND (u.banned_until IS NULL OR u.banned_until <= now())))
