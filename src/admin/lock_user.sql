-- The user an admin call changes ($1), locked; the fields the change reads.
SELECT jsonb_build_object(
       'id', id,
       'email', nullif(email, ''),
       'phone', nullif(phone, ''),
       'deleted', deleted_at IS NOT NULL,
       'is_anonymous', is_anonymous,
       'app_metadata', coalesce(raw_app_meta_data, '{}'),
       'user_metadata', coalesce(raw_user_meta_data, '{}'))
  FROM auth.users WHERE id = $1 FOR UPDATE
