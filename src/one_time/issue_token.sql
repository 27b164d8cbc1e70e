-- A user's token of one kind, replacing the previous one (a resend makes the old code useless).
-- $1 user id, $2 token type, $3 token hash, $4 the address it relates to, $5 continue the
-- replaced token's lineage (a resend: `created_at`, when the lineage began, is kept; the token's
-- age counts from `updated_at`, when this code was issued), but only while the lineage is younger
-- than $6 seconds (a token's lifetime), so that nobody can renew an old one at will.
INSERT INTO auth.one_time_tokens AS t
       (id, user_id, token_type, token_hash, relates_to, created_at, updated_at, failed_attempts)
VALUES (gen_random_uuid(), $1, $2::auth.one_time_token_type, $3, $4,
        timezone('UTC', now()), timezone('UTC', now()), 0)
ON CONFLICT (user_id, token_type) DO UPDATE
   SET token_hash = excluded.token_hash, relates_to = excluded.relates_to,
       created_at = CASE WHEN $5 AND t.relates_to = excluded.relates_to
                              AND t.created_at > excluded.created_at - make_interval(secs => $6)
                         THEN t.created_at ELSE excluded.created_at END,
       updated_at = excluded.updated_at, failed_attempts = 0
