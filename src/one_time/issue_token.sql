-- A user's token of one kind, replacing the previous one (a resend makes the old code useless).
-- $1 user id, $2 token type, $3 token hash, $4 the address it relates to.
INSERT INTO auth.one_time_tokens AS t
       (id, user_id, token_type, token_hash, relates_to, created_at, updated_at, failed_attempts)
VALUES (gen_random_uuid(), $1, $2::auth.one_time_token_type, $3, $4,
        timezone('UTC', now()), timezone('UTC', now()), 0)
ON CONFLICT (user_id, token_type) DO UPDATE
   SET token_hash = excluded.token_hash, relates_to = excluded.relates_to,
       created_at = excluded.created_at, updated_at = excluded.updated_at, failed_attempts = 0
