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
CREATE OR REPLACE FUNCTION pg_temp.bench(q text, n int DEFAULT 7) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; times numeric[] := '{}'; c bigint;
BEGIN
  FOR i IN 1..n LOOP
    t0 := clock_timestamp();
    EXECUTE q INTO c;
    times := times || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END $$;
WITH r AS (
  SELECT 'constant uuid' AS policy, pg_temp.bench($$SELECT count(*) FROM bench_rls WHERE user_id = '5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11'::uuid$$) AS ms
  UNION ALL SELECT 'auth.uid() bare', pg_temp.bench($$SELECT count(*) FROM bench_rls WHERE user_id = auth.uid()$$)
  UNION ALL SELECT '(select auth.uid())', pg_temp.bench($$SELECT count(*) FROM bench_rls WHERE user_id = (SELECT auth.uid())$$)
  UNION ALL SELECT 'supabase SQL uid() bare', pg_temp.bench($$SELECT count(*) FROM bench_rls WHERE user_id = public.supabase_uid()$$, 3)
)
SELECT policy, round(ms, 1) AS median_ms, round(ms / (SELECT ms FROM r WHERE policy = 'constant uuid'), 2) AS vs_constant FROM r;
DROP TABLE bench_rls;
DROP FUNCTION public.supabase_uid();
