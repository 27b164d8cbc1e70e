-- Locks the user's row (resends of one user queue behind each other, so the frequency check is
-- exact) and says how many seconds ago a message of this kind ($2, a token type) last went out.
-- $1 user id.
SELECT jsonb_build_object('seconds_since', extract(epoch FROM now() - CASE $2
           WHEN 'confirmation_token' THEN confirmation_sent_at
           WHEN 'recovery_token' THEN recovery_sent_at
           WHEN 'email_change_token_new' THEN email_change_sent_at
           WHEN 'email_change_token_current' THEN email_change_sent_at
           WHEN 'phone_change_token' THEN phone_change_sent_at
           WHEN 'reauthentication_token' THEN reauthentication_sent_at END)::float8)
  FROM auth.users WHERE id = $1
   FOR UPDATE
