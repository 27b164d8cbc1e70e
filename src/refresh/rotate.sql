-- Step 2 of a refresh: rotates the token if it is still live (revoking it and inserting the
-- child), writes the audit entry, and returns the token's and user's state with the user object
-- (as auth_core::refresh::Rotation).
-- $1 audit payload, $2 IP, $3 session id, $4 user id, $5 token id, $6 child's hash (NULL: no
-- rotation), $7 presented token's hash, $8 reuse interval in seconds.
WITH a AS ({{audit_insert}}),
     t AS (
         SELECT revoked, updated_at > now() - make_interval(secs => $8) AS recent
           FROM auth.refresh_tokens WHERE id = $5),
     old AS (
         UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
          WHERE id = $5 AND NOT revoked AND $6::text IS NOT NULL
         RETURNING id),
     new AS (
         INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
         SELECT {{instance_id}}, $6, $4, false, $7, $3 FROM old)
SELECT jsonb_build_object(
       'revoked', t.revoked,
       'rotated', EXISTS (SELECT 1 FROM old),
       'recent', t.recent,
       'user_gone', u.id IS NULL OR u.deleted_at IS NOT NULL,
       'banned', coalesce(u.banned_until > now(), false),
       'active', CASE WHEN t.revoked THEN
                     (SELECT jsonb_build_object('token', r.token, 'parent', r.parent)
                        FROM auth.refresh_tokens r
                       WHERE r.session_id = $3 AND NOT r.revoked
                       ORDER BY r.id DESC LIMIT 1) END,
       'user', {{user_object}},
       'amr', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.authentication_method,
                           extract(epoch FROM c.updated_at)::bigint) ORDER BY c.updated_at DESC), '[]')
                 FROM auth.mfa_amr_claims c WHERE c.session_id = $3))
  FROM t LEFT JOIN auth.users u ON u.id = $4::uuid
