-- app_metadata.providers (and provider, its first) recomputed from the user's identities, as
-- GoTrue's UpdateAppMetaDataProviders; run after the identities changed. $1 user.
UPDATE auth.users u SET raw_app_meta_data = coalesce(u.raw_app_meta_data, '{}') || p.meta,
       updated_at = now()
  FROM (SELECT jsonb_build_object('providers', jsonb_agg(provider ORDER BY first_at),
                                  'provider', (array_agg(provider ORDER BY first_at))[1]) AS meta
          FROM (SELECT provider, min(created_at) AS first_at FROM auth.identities
                 WHERE user_id = $1 GROUP BY provider) x
        HAVING count(*) > 0) p
 WHERE u.id = $1
