-- Whether the token ($1: its hash) still has a session (then step 1 failed on an expiry check).
SELECT to_jsonb(true) FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
 WHERE t.token = $1
