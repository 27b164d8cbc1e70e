-- A page of the audit log, newest first, with the number of entries the query matches. $1 the
-- payload field the query searches ('actor' for actor_username or actor_name, 'action',
-- 'log_type'; NULL for all entries), $2 its lower-cased LIKE pattern, $3 limit, $4 offset.
SELECT jsonb_build_object(
    'total', (SELECT count(*) FROM auth.audit_log_entries a
               WHERE $1::text IS NULL
                  OR ($1 = 'actor' AND (lower(a.payload->>'actor_username') LIKE $2
                                        OR lower(a.payload->>'actor_name') LIKE $2))
                  OR ($1 IN ('action', 'log_type') AND lower(a.payload->>$1) LIKE $2)),
    'entries', coalesce((
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'payload', p.payload,
                                            'created_at', p.created_at, 'ip_address', p.ip_address)
                         ORDER BY p.created_at DESC, p.id)
          FROM (SELECT a.id, a.payload, a.created_at, a.ip_address
                  FROM auth.audit_log_entries a
                 WHERE $1::text IS NULL
                    OR ($1 = 'actor' AND (lower(a.payload->>'actor_username') LIKE $2
                                          OR lower(a.payload->>'actor_name') LIKE $2))
                    OR ($1 IN ('action', 'log_type') AND lower(a.payload->>$1) LIKE $2)
                 ORDER BY a.created_at DESC, a.id
                 LIMIT $3 OFFSET $4) p), '[]'))
