-- One fresh session per pgbench client (bench-<i>@example.com, signed up beforehand); refresh.sql
-- rotates client i's token, kept in bench_start. psql variable: clients.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_start;
CREATE TABLE bench_start AS
SELECT g AS client, auth.sign_in_with_password('bench-' || g || '@example.com', 'bench-password-1')->>'refresh_token' AS rt
  FROM generate_series(0, :clients - 1) g;
