-- The user's `*_sent_at` of this kind ($2, a token type) is now. $1 user id.
UPDATE auth.users SET
       confirmation_sent_at = CASE WHEN $2 = 'confirmation_token' THEN now() ELSE confirmation_sent_at END,
       recovery_sent_at = CASE WHEN $2 = 'recovery_token' THEN now() ELSE recovery_sent_at END,
       email_change_sent_at = CASE WHEN $2 IN ('email_change_token_new', 'email_change_token_current')
                                   THEN now() ELSE email_change_sent_at END,
       phone_change_sent_at = CASE WHEN $2 = 'phone_change_token' THEN now() ELSE phone_change_sent_at END,
       reauthentication_sent_at = CASE WHEN $2 = 'reauthentication_token' THEN now() ELSE reauthentication_sent_at END,
       updated_at = now()
 WHERE id = $1
