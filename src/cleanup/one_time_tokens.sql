-- One-time tokens issued longer ago than any code lives ($2 seconds: the longer of the email and
-- SMS lifetimes plus a margin), their age counted from updated_at as a verification counts it.
-- A half of a secure email change goes only when the other half is expired or gone too: alone,
-- a live half would complete the change by itself (src/verify/mod.rs). At most $1 rows, oldest
-- first; rows a concurrent run or a verification holds are skipped.
DELETE FROM auth.one_time_tokens WHERE id = ANY (ARRAY(
    SELECT t.id FROM auth.one_time_tokens t
     WHERE t.updated_at < timezone('UTC', now()) - make_interval(secs => $2)
       AND (t.token_type NOT IN ('email_change_token_new', 'email_change_token_current')
            OR NOT EXISTS (SELECT 1 FROM auth.one_time_tokens o
                            WHERE o.user_id = t.user_id AND o.id <> t.id
                              AND o.token_type IN ('email_change_token_new', 'email_change_token_current')
                              AND o.updated_at >= timezone('UTC', now()) - make_interval(secs => $2)))
     ORDER BY t.updated_at LIMIT $1 FOR UPDATE SKIP LOCKED))
