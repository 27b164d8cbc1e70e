-- Whether the token ($1: its hash) still has a session (then step 1 failed on an expiry check),
-- and, with $2 (sessions_single_per_user), whether a later session of the user's followed it.
SELECT to_jsonb($2 AND EXISTS (SELECT 1 FROM auth.sessions n
                                WHERE n.user_id = s.user_id AND n.created_at > s.created_at))
  FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
 WHERE t.token = $1
