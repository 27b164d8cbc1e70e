-- A page of users for the admin API, newest first, soft-deleted ones included (as GoTrue), with
-- the number of users the filter matches. $1 a LIKE pattern over the lower-cased email, phone and
-- user_metadata.full_name (NULL: every user), $2 a user id the filter names (or NULL), $3 limit,
-- $4 offset. A filter scans auth.users, as GoTrue's does; an id or a whole email is an index hit
-- through the other branches.
SELECT jsonb_build_object(
    'total', (SELECT count(*) FROM auth.users u
               WHERE $1::text IS NULL OR u.id = $2::uuid OR lower(u.email) LIKE $1
                  OR u.phone LIKE $1 OR lower(u.raw_user_meta_data->>'full_name') LIKE $1),
    'users', coalesce((
        SELECT jsonb_agg(p.obj ORDER BY p.created_at DESC, p.id)
          FROM (SELECT {{user_object}} AS obj, u.created_at, u.id
                  FROM auth.users u
                 WHERE $1::text IS NULL OR u.id = $2::uuid OR lower(u.email) LIKE $1
                    OR u.phone LIKE $1 OR lower(u.raw_user_meta_data->>'full_name') LIKE $1
                 ORDER BY u.created_at DESC, u.id
                 LIMIT $3 OFFSET $4) p), '[]'))
