-- An unconfirmed user signing in through a provider (GoTrue's RemoveUnconfirmedIdentities):
-- whoever registered the address without proving it loses every way in they had: the password,
-- the other identities, an unconfirmed phone, their sessions (with their refresh tokens), their
-- pending codes, social-login flows and PKCE codes. The metadata becomes the provider's. With
-- $4 the provider vouched for this very address: it is confirmed. $1 user, $2 the identity
-- kept, $3 claims, $4 confirm.
WITH d AS (DELETE FROM auth.identities WHERE user_id = $1 AND id <> $2),
     s AS (DELETE FROM auth.sessions WHERE user_id = $1),
     t AS (DELETE FROM auth.one_time_tokens WHERE user_id = $1),
     o AS (DELETE FROM auth.oauth_states WHERE link_user_id = $1),
     f AS (DELETE FROM auth.flow_state WHERE user_id = $1)
UPDATE auth.users SET
       encrypted_password = NULL,
       phone = CASE WHEN phone_confirmed_at IS NULL THEN NULL ELSE phone END,
       raw_user_meta_data = CASE WHEN $4 THEN $3 || '{"email_verified": true}' ELSE $3 END,
       email_confirmed_at = CASE WHEN $4 THEN now() ELSE email_confirmed_at END,
       confirmation_token = '', recovery_token = '', email_change = '', email_change_token_new = '',
       email_change_token_current = '', reauthentication_token = '',
       updated_at = now()
 WHERE id = $1
