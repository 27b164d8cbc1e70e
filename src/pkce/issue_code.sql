-- Issues the auth code ($3, its hash) of the user's ($1) newest waiting flow of this
-- authentication method ($2); flows older than a day are let go on the way.
WITH old AS (DELETE FROM auth.flow_state WHERE created_at < now() - interval '1 day')
UPDATE auth.flow_state SET auth_code = $3, auth_code_issued_at = now(), updated_at = now()
 WHERE id = (SELECT id FROM auth.flow_state
              WHERE user_id = $1 AND authentication_method = $2 AND auth_code_issued_at IS NULL
              ORDER BY created_at DESC LIMIT 1)
RETURNING to_jsonb(id)
