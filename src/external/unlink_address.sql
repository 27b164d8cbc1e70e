-- After an unlink: when no remaining identity holds the user's address, the address follows
-- the remaining identities (provider-verified first, then the oldest) that no other user
-- holds, or goes (GoTrue's UpdateUserEmailFromIdentities); an address no provider verified is
-- not confirmed. $1 user.
WITH pick AS (
    SELECT i.email, coalesce(i.identity_data ->> 'email_verified', 'false') = 'true' AS verified
      FROM auth.identities i
     WHERE i.user_id = $1 AND i.email IS NOT NULL AND i.email <> ''
       AND NOT EXISTS (SELECT 1 FROM auth.users o
                        WHERE lower(o.email) = i.email AND o.id <> $1 AND NOT o.is_sso_user)
     ORDER BY 2 DESC, i.created_at, i.id LIMIT 1)
UPDATE auth.users u SET
       email = (SELECT email FROM pick),
       email_confirmed_at = CASE WHEN coalesce((SELECT verified FROM pick), false)
                                 THEN u.email_confirmed_at END,
       updated_at = now()
 WHERE u.id = $1 AND coalesce(u.email, '') <> ''
   AND NOT EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = $1 AND i.email = lower(u.email))
