-- A new unverified TOTP factor, unless the user has $5 factors already or one of that name:
-- `{"refused": "too_many" | "name_taken"}` then, else `{}`. The user's row is locked first, so
-- that two enrolments at once count each other. Unverified factors older than a day go first
-- (GoTrue lets them expire). $1 id, $2 user, $3 name, $4 sealed secret.
WITH lock AS (SELECT id FROM auth.users WHERE id = $2 FOR UPDATE),
     gone AS (
         DELETE FROM auth.mfa_factors
          WHERE user_id = $2 AND status = 'unverified' AND created_at < now() - interval '1 day'
            AND EXISTS (SELECT 1 FROM lock)
         RETURNING id),
     counted AS (
         SELECT count(*) FILTER (WHERE f.id NOT IN (SELECT id FROM gone)) AS n,
                bool_or($3::text IS NOT NULL AND f.friendly_name = $3
                        AND f.id NOT IN (SELECT id FROM gone)) AS taken
           FROM lock LEFT JOIN auth.mfa_factors f ON f.user_id = lock.id),
     ins AS (
         INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at,
                                       updated_at, secret)
         SELECT $1, $2, $3, 'totp', 'unverified', now(), now(), $4 FROM counted
          WHERE counted.n < $5 AND NOT coalesce(counted.taken, false)
         RETURNING id)
SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN '{}'::jsonb
            WHEN (SELECT coalesce(taken, false) FROM counted) THEN '{"refused": "name_taken"}'
            ELSE '{"refused": "too_many"}' END
