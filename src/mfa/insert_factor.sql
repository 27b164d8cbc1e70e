-- A new unverified factor, unless the user has $5 factors already, one of that name, or (phone)
-- a verified factor of that number: `{"refused": "too_many" | "name_taken" | "phone_taken"}`
-- then, else `{}`. The user's row is locked first, so that two enrolments at once count each
-- other. Unverified factors older than a day go first (GoTrue lets them expire), and so do
-- unverified factors of the same number (GoTrue's rule: the new one replaces them).
-- $1 id, $2 user, $3 name, $4 sealed secret (TOTP), $6 factor type, $7 phone number (phone).
WITH lock AS (SELECT id FROM auth.users WHERE id = $2 FOR UPDATE),
     gone AS (
         DELETE FROM auth.mfa_factors
          WHERE user_id = $2 AND status = 'unverified' AND EXISTS (SELECT 1 FROM lock)
            AND (created_at < now() - interval '1 day'
                 OR ($7::text IS NOT NULL AND factor_type = 'phone' AND phone = $7))
         RETURNING id),
     counted AS (
         SELECT count(*) FILTER (WHERE f.id NOT IN (SELECT id FROM gone)) AS n,
                bool_or($3::text IS NOT NULL AND f.friendly_name = $3
                        AND f.id NOT IN (SELECT id FROM gone)) AS taken,
                bool_or($7::text IS NOT NULL AND f.factor_type = 'phone' AND f.phone = $7
                        AND f.status = 'verified') AS phone_taken
           FROM lock LEFT JOIN auth.mfa_factors f ON f.user_id = lock.id),
     ins AS (
         INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at,
                                       updated_at, secret, phone)
         SELECT $1, $2, $3, $6::auth.factor_type, 'unverified', now(), now(), $4, $7 FROM counted
          WHERE counted.n < $5 AND NOT coalesce(counted.taken, false)
            AND NOT coalesce(counted.phone_taken, false)
         RETURNING id)
SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN '{}'::jsonb
            WHEN (SELECT coalesce(phone_taken, false) FROM counted) THEN '{"refused": "phone_taken"}'
            WHEN (SELECT coalesce(taken, false) FROM counted) THEN '{"refused": "name_taken"}'
            ELSE '{"refused": "too_many"}' END
