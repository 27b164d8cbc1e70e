-- An unconfirmed user signing in through a provider (GoTrue's RemoveUnconfirmedIdentities):
-- whoever registered the address without proving it loses the account's other ways in (its
-- password and its other identities), and the metadata becomes the provider's. With $4 the
-- provider vouched for the address: it is confirmed. $1 user, $2 the identity kept, $3 claims,
-- $4 confirm.
WITH d AS (DELETE FROM auth.identities WHERE user_id = $1 AND id <> $2),
     t AS (DELETE FROM auth.one_time_tokens WHERE user_id = $1 AND $4)
UPDATE auth.users SET
       encrypted_password = NULL,
       raw_user_meta_data = CASE WHEN $4 THEN $3 || '{"email_verified": true}' ELSE $3 END,
       email_confirmed_at = CASE WHEN $4 THEN now() ELSE email_confirmed_at END,
       confirmation_token = CASE WHEN $4 THEN '' ELSE confirmation_token END,
       updated_at = now()
 WHERE id = $1
