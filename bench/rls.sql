-- RLS cost of the claim helpers over 1,000,000 rows (issue 5 builds the full suite around this).
\set QUIET on
\timing off
DROP TABLE IF EXISTS bench_rls;
CREATE TABLE bench_rls (id int, user_id uuid);
INSERT INTO bench_rls SELECT g, CASE WHEN g % 1000 = 0 THEN '5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11'::uuid ELSE gen_random_uuid() END
  FROM generate_series(1, 1000000) g;
ANALYZE bench_rls;
-- Supabase's SQL definition, for comparison
CREATE OR REPLACE FUNCTION public.supabase_uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid
$$;
SELECT set_config('request.jwt.claims', '{"sub":"5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11","role":"authenticated","email":"a@b.co","app_metadata":{"provider":"email"},"user_metadata":{},"aal":"aal1","session_id":"00000000-0000-4000-8000-000000000001"}', false) \g /dev/null
SET max_parallel_workers_per_gather = 0;
-- The three forms that do the same work are timed in interleaved rounds (constant, bare,
-- select; 21 rounds), so that the machine's drift over the minute hits all three alike; Supabase's
-- form, tens of times slower, in 3 runs of its own.
CREATE TEMP TABLE timings (policy text, ms numeric);
CREATE OR REPLACE FUNCTION pg_temp.bench_rounds(policies text[], queries text[], n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; c bigint;
BEGIN
  FOR r IN 1..n LOOP
    FOR i IN 1..array_length(queries, 1) LOOP
      t0 := clock_timestamp();
      EXECUTE queries[i] INTO c;
      INSERT INTO timings VALUES (policies[i], extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
  END LOOP;
END $$;
SELECT pg_temp.bench_rounds(
    ARRAY['constant uuid', 'auth.uid() bare', '(select auth.uid())'],
    ARRAY[$$SELECT count(*) FROM bench_rls WHERE user_id = '5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11'::uuid$$,
          $$SELECT count(*) FROM bench_rls WHERE user_id = auth.uid()$$,
          $$SELECT count(*) FROM bench_rls WHERE user_id = (SELECT auth.uid())$$],
    21) \g /dev/null
SELECT pg_temp.bench_rounds(ARRAY['supabase SQL uid() bare'],
    ARRAY[$$SELECT count(*) FROM bench_rls WHERE user_id = public.supabase_uid()$$], 3) \g /dev/null
WITH r AS (
  SELECT policy, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, min(ord) AS ord
    FROM timings JOIN (VALUES ('constant uuid', 1), ('auth.uid() bare', 2), ('(select auth.uid())', 3),
                              ('supabase SQL uid() bare', 4)) o(policy, ord) USING (policy)
   GROUP BY policy
)
SELECT policy, round(ms::numeric, 1) AS median_ms,
       round((ms / (SELECT ms FROM r WHERE policy = 'constant uuid'))::numeric, 2) AS vs_constant
  FROM r ORDER BY ord;
DROP TABLE bench_rls;
DROP FUNCTION public.supabase_uid();
