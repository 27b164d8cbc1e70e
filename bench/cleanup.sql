-- auth.cleanup(1000) three times, as a pg_cron job would call it: the median time and what the
-- three calls deleted, as one JSON line (bench/run's growth section).
CREATE FUNCTION pg_temp.timed_cleanup() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp(); deleted jsonb;
BEGIN
    deleted := auth.cleanup(1000);
    RETURN jsonb_build_object('ms', 1000 * extract(epoch FROM clock_timestamp() - started), 'deleted', deleted);
END $$;
WITH runs AS (SELECT pg_temp.timed_cleanup() AS r FROM generate_series(1, 3))
SELECT jsonb_build_object(
    'median_ms', percentile_cont(0.5) WITHIN GROUP (ORDER BY (r->>'ms')::float8),
    'deleted', (SELECT jsonb_object_agg(k, total) FROM (
        SELECT key AS k, sum(value::int) AS total FROM runs, jsonb_each_text(r->'deleted') GROUP BY key) t))
  FROM runs;
