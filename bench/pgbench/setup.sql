-- Prepares the refresh benchmark: one session per pgbench client (start.sql), and the baseline's
-- tables as copies of the auth tables as they are now. psql variable: clients.
\set QUIET on
\ir start.sql
DROP TABLE IF EXISTS base_sessions, base_tokens;
CREATE TABLE base_sessions (LIKE auth.sessions INCLUDING DEFAULTS INCLUDING INDEXES);
ALTER TABLE base_sessions ADD COLUMN n bigint;
INSERT INTO base_sessions SELECT s.*, row_number() OVER () FROM auth.sessions s;
CREATE UNIQUE INDEX ON base_sessions (n);
CREATE TABLE base_tokens (LIKE auth.refresh_tokens INCLUDING DEFAULTS INCLUDING INDEXES);
INSERT INTO base_tokens SELECT * FROM auth.refresh_tokens;
VACUUM ANALYZE base_sessions, base_tokens, auth.sessions, auth.refresh_tokens;
