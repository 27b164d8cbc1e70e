-- An admin's confirmation of the address a user already has ($1 user, $2 'email' or 'phone';
-- `email_confirm` / `phone_confirm` alone): the row and the address's identity say so.
WITH u AS (
    UPDATE auth.users SET
           email_confirmed_at = CASE WHEN $2::text = 'email' THEN now() ELSE email_confirmed_at END,
           phone_confirmed_at = CASE WHEN $2::text = 'phone' THEN now() ELSE phone_confirmed_at END,
           updated_at = now()
     WHERE id = $1
    RETURNING id)
UPDATE auth.identities i
   SET identity_data = i.identity_data || jsonb_build_object($2::text || '_verified', true),
       updated_at = now()
  FROM u WHERE i.user_id = u.id AND i.provider = $2::text
