-- The user with a pending change an address names: $1 the current email (an email change) or
-- $2 the new or current phone (a phone change). As src/user/change.rs's Pending.
SELECT jsonb_build_object('id', id, 'email', coalesce(email, ''),
                          'email_change', coalesce(email_change, ''),
                          'phone_change', coalesce(phone_change, ''))
  FROM auth.users
 WHERE deleted_at IS NULL
   AND (($1::text IS NOT NULL AND lower(email) = $1)
     OR ($2::text IS NOT NULL AND (phone_change = $2 OR phone = $2)))
 LIMIT 1
