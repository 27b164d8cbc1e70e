-- One refresh per transaction; each pgbench client rotates its own session's token. The first
-- transaction of a client reads its starting token from bench_start (start.sql signs one session
-- in per client before every run); after that the token lives in a pgbench variable, so the
-- transaction is the refresh alone. Run with -M prepared -D first=1.
\if :first
SELECT rt FROM bench_start WHERE client = :client_id \gset
\set first 0
\endif
SELECT auth.refresh_session(:rt)->>'refresh_token' AS rt \gset
