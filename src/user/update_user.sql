-- $1 user id, $2 metadata to merge (NULL: none), $3 new password hash (NULL: unchanged).
-- GoTrue merges `data` into user_metadata key by key; a null value removes the key.
UPDATE auth.users u SET
       raw_user_meta_data = CASE WHEN $2::jsonb IS NULL THEN u.raw_user_meta_data ELSE
           (SELECT coalesce(jsonb_object_agg(key, value), '{}')
              FROM jsonb_each(coalesce(u.raw_user_meta_data, '{}') || $2::jsonb)
             WHERE value <> 'null'::jsonb) END,
       encrypted_password = coalesce($3, u.encrypted_password),
       updated_at = now()
 WHERE u.id = $1
RETURNING {{user_object}}
