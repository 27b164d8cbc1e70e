-- The user with a pending change an address names: $1 the current email (an email change) or
-- $2 the new or current phone (a phone change). As src/user/change.rs's Pending. Each branch
-- alone, so that the email's goes through its unique index (`lower(email)`, not SSO users);
-- a pending phone change is found by `phone_change`, which has no index (GoTrue's neither).
SELECT jsonb_build_object('id', id, 'email', coalesce(email, ''),
                          'email_change', coalesce(email_change, ''),
                          'phone_change', coalesce(phone_change, ''))
  FROM (SELECT * FROM auth.users
         WHERE $1::text IS NOT NULL AND lower(email) = $1 AND is_sso_user = false
           AND deleted_at IS NULL
        UNION ALL
        SELECT * FROM auth.users
         WHERE $2::text IS NOT NULL AND (phone = $2 OR phone_change = $2)
           AND deleted_at IS NULL) u
 LIMIT 1
