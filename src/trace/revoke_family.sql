-- Revokes the live tokens of the session that token $1 belongs to; returns the session, its
-- user and how many tokens were revoked (no row when the token is gone).
WITH t AS (SELECT session_id, user_id FROM auth.refresh_tokens WHERE id = $1),
     r AS (UPDATE auth.refresh_tokens rt SET revoked = true, updated_at = now()
             FROM t WHERE rt.session_id = t.session_id AND NOT rt.revoked
           RETURNING rt.id)
SELECT jsonb_build_object('session_id', t.session_id, 'user_id', t.user_id,
                          'revoked', (SELECT count(*) FROM r))
  FROM t
