-- Step 1 of a refresh (see refresh_session): touches the session through the presented token's
-- hash ($1), which takes the row lock that serialises the session's refreshes; the WHERE clause,
-- rechecked on the newest row version after any wait, holds the expiry checks ($2 timebox,
-- $3 inactivity timeout, in seconds or NULL) and, with $4 (sessions_single_per_user), refuses a
-- session of the user's that a later one followed.
UPDATE auth.sessions s SET refreshed_at = now() AT TIME ZONE 'UTC', updated_at = now()
  FROM auth.refresh_tokens t
 WHERE t.token = $1 AND s.id = t.session_id
   AND {{session_in_force}}
   AND (NOT $4 OR NOT EXISTS (SELECT 1 FROM auth.sessions n
                               WHERE n.user_id = s.user_id AND n.created_at > s.created_at))
RETURNING jsonb_build_object(
       'id', t.id,
       'session_id', s.id,
       'user_id', s.user_id,
       'aal', coalesce(s.aal::text, 'aal1'),
       'email', (SELECT u.email FROM auth.users u WHERE u.id = s.user_id))
