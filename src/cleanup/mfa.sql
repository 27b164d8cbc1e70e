-- MFA leftovers (src/mfa/): challenges made more than a day ago (one lives five minutes), and
-- factors enrolled more than a day ago and never verified (GoTrue lets them expire). At most $1
-- rows of each, oldest first; answers how many went.
WITH c AS (
    DELETE FROM auth.mfa_challenges WHERE id = ANY (ARRAY(
        SELECT x.id FROM auth.mfa_challenges x WHERE x.created_at < now() - interval '1 day'
         ORDER BY x.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
    RETURNING 1),
f AS (
    DELETE FROM auth.mfa_factors WHERE id = ANY (ARRAY(
        SELECT x.id FROM auth.mfa_factors x
         WHERE x.status = 'unverified' AND x.created_at < now() - interval '1 day'
         ORDER BY x.created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
    RETURNING 1)
SELECT jsonb_build_object('mfa_challenges', (SELECT count(*) FROM c),
                          'mfa_factors', (SELECT count(*) FROM f))
