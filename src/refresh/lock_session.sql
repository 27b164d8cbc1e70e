-- Step 1 of a refresh (see refresh_session): touches the session through the presented token's
-- hash ($1), which takes the row lock that serialises the session's refreshes; the WHERE clause,
-- rechecked on the newest row version after any wait, holds the expiry checks ($2 timebox,
-- $3 inactivity timeout, in seconds or NULL).
UPDATE auth.sessions s SET refreshed_at = now() AT TIME ZONE 'UTC', updated_at = now()
  FROM auth.refresh_tokens t
 WHERE t.token = $1 AND s.id = t.session_id
   AND {{session_in_force}}
RETURNING jsonb_build_object(
       'id', t.id,
       'session_id', s.id,
       'user_id', s.user_id,
       'aal', coalesce(s.aal::text, 'aal1'),
       'email', (SELECT u.email FROM auth.users u WHERE u.id = s.user_id))
