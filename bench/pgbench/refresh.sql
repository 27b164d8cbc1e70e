-- One refresh per transaction; each pgbench client rotates its own session's token, kept in
-- bench_start (pgbench 15 cannot test whether a \gset variable exists yet, so the token lives in
-- a table: one extra small-row update per transaction, charged to auth_ext).
UPDATE bench_start SET rt = auth.refresh_session(rt)->>'refresh_token' WHERE client = :client_id;
