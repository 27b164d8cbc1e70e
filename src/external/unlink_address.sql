-- After an unlink: when no remaining identity holds the user's address, the address follows a
-- remaining identity whose provider verified its address (the oldest) that no other user holds,
-- or goes. An address no provider verified never becomes the user's: it would be an address
-- the user never proved, which a later sign-in could confirm for them. $1 user.
WITH pick AS (
    SELECT i.email
      FROM auth.identities i
     WHERE i.user_id = $1 AND i.email IS NOT NULL AND i.email <> ''
       AND i.identity_data ->> 'email_verified' = 'true'
       AND NOT EXISTS (SELECT 1 FROM auth.users o
                        WHERE lower(o.email) = i.email AND o.id <> $1 AND NOT o.is_sso_user)
     ORDER BY i.created_at, i.id LIMIT 1)
UPDATE auth.users u SET
       email = (SELECT email FROM pick),
       email_confirmed_at = CASE WHEN EXISTS (SELECT 1 FROM pick) THEN now() END,
       updated_at = now()
 WHERE u.id = $1 AND coalesce(u.email, '') <> ''
   AND NOT EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = $1 AND i.email = lower(u.email))
