-- GoTrue's `factors` of the user aliased u, only when the user has any (a jsonb object to merge
-- into the user object); spliced in by src/fragments.rs where auth.mfa_factors exists.
coalesce((
    SELECT jsonb_build_object('factors', jsonb_agg(jsonb_build_object(
               'id', f.id, 'friendly_name', coalesce(f.friendly_name, ''),
               'factor_type', f.factor_type, 'status', f.status,
               'created_at', f.created_at, 'updated_at', f.updated_at,
               'last_challenged_at', f.last_challenged_at)
               || CASE WHEN f.factor_type = 'phone' THEN jsonb_build_object('phone', f.phone)
                       ELSE '{}' END ORDER BY f.created_at))
      FROM auth.mfa_factors f WHERE f.user_id = u.id HAVING count(*) > 0), '{}')
