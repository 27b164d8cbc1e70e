-- linkIdentity into a user without an address (an anonymous user): the identity's verified
-- address becomes theirs and they are no longer anonymous. Nothing when another user holds it
-- (the caller says so). $1 user, $2 email.
UPDATE auth.users SET email = $2, email_confirmed_at = now(), is_anonymous = false, updated_at = now()
 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM auth.users o
                                WHERE lower(o.email) = $2 AND o.id <> $1 AND NOT o.is_sso_user)
RETURNING to_jsonb(id)
