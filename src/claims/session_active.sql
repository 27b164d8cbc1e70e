-- Whether a token's session ($1) of user $4 exists, is in force ($2 timebox, $3 inactivity
-- timeout, in seconds or NULL) and its user may sign in.
SELECT to_jsonb(EXISTS (
    SELECT 1 FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $4
       AND {{session_in_force}}
       AND u.deleted_at IS NULL
       AND (u.banned_until IS NULL OR u.banned_until <= now())))
