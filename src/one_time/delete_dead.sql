-- Tokens that reached the attempt limit ($2) among these ($1) die. A secure email change whose
-- half dies is cancelled whole: its other half alone must never complete it.
WITH dead AS (
    DELETE FROM auth.one_time_tokens WHERE id = ANY ($1::uuid[]) AND failed_attempts >= $2
    RETURNING user_id, token_type)
DELETE FROM auth.one_time_tokens t
 USING dead
 WHERE t.user_id = dead.user_id
   AND dead.token_type IN ('email_change_token_new', 'email_change_token_current')
   AND t.token_type IN ('email_change_token_new', 'email_change_token_current')
   AND t.token_type <> dead.token_type
