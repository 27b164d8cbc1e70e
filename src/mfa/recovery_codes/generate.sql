-- A user's recovery codes, unless refused: `{"refused": "enrolled" | "name_taken" | "too_many" |
-- "sole_factor"}`, in GoTrue's order, else `{}`. The caller has locked the user's row, so two
-- generations (or a generation and an unenrolment) take turns. Unverified factors a day old go
-- first, as in src/mfa/insert_factor.sql. The factor is `verified` from the start; it needs
-- another verified factor of a type whose verification is on ($7).
-- $1 factor id, $2 user, $3 name, $4 most factors, $5 set id, $6 the codes' hashes.
WITH gone AS (
         DELETE FROM auth.mfa_factors
          WHERE user_id = $2 AND status = 'unverified' AND created_at < now() - interval '1 day'
         RETURNING id),
     counted AS (
         SELECT count(*) FILTER (WHERE f.id NOT IN (SELECT id FROM gone)) AS n,
                coalesce(bool_or(f.friendly_name = $3 AND f.id NOT IN (SELECT id FROM gone)), false)
                    AS taken,
                coalesce(bool_or(f.status = 'verified' AND f.factor_type::text <> 'recovery_code'
                                 AND f.factor_type::text = ANY ($7::text[])), false) AS usable,
                EXISTS (SELECT 1 FROM auth.mfa_recovery_code_sets rs WHERE rs.user_id = $2)
                    AS enrolled
           FROM auth.mfa_factors f WHERE f.user_id = $2),
     verdict AS (
         SELECT CASE WHEN enrolled THEN 'enrolled' WHEN taken THEN 'name_taken'
                     WHEN n >= $4 THEN 'too_many' WHEN NOT usable THEN 'sole_factor' END AS refused
           FROM counted),
     factor AS (
         INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at,
                                       updated_at)
         SELECT $1, $2, $3, 'recovery_code', 'verified', now(), now() FROM verdict
          WHERE refused IS NULL
         RETURNING id),
     code_set AS (
         INSERT INTO auth.mfa_recovery_code_sets (id, user_id, mfa_factor_id)
         SELECT $5, $2, factor.id FROM factor
         RETURNING id),
     codes AS (
         INSERT INTO auth.mfa_recovery_codes (id, mfa_recovery_code_set_id, code_hash)
         SELECT gen_random_uuid(), code_set.id, h FROM code_set, unnest($6::text[]) h)
SELECT CASE WHEN refused IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('refused', refused) END
  FROM verdict
