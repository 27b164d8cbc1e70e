-- Samples, every 0.1 s for :samples samples, what the database's pgbench backends are doing while
-- a run goes on, and prints the share of those samples that waited for an advisory lock (the
-- hourly limit's turn-taking among senders) and for WAL to be flushed. One backend of its own,
-- mostly asleep.
\set QUIET on
SELECT set_config('bench.samples', :'samples', false) IS NULL AS unused \gset
CREATE TEMP TABLE samples (waiting text);
DO $$
BEGIN
    FOR i IN 1 .. current_setting('bench.samples')::int LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO samples
        SELECT coalesce(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity
         WHERE application_name = 'pgbench' AND datname = current_database() AND state = 'active';
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT format('%s%% of %s samples of active pgbench backends waited for an advisory lock, %s%% for a WAL flush',
              round(100.0 * count(*) FILTER (WHERE waiting = 'Lock:advisory') / greatest(count(*), 1)),
              count(*), round(100.0 * count(*) FILTER (WHERE waiting LIKE 'IO:WAL%') / greatest(count(*), 1)))
  FROM samples;
