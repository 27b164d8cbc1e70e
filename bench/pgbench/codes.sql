-- Keeps the codes the outbox holds, as the superuser reads them, for otp_verify.sql: bench_codes
-- (email, code), a user's newest code only (a new one replaces the old). Then empties the
-- outbox, so that the next code requests start from an empty hour: the hourly limit counts the
-- last hour's rows on every send.
\set QUIET on
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS bench_codes (n bigint, email text PRIMARY KEY, code text NOT NULL);
INSERT INTO bench_codes (email, code)
SELECT DISTINCT ON (recipient) recipient, payload->'email_data'->>'token'
  FROM auth.outbox WHERE status = 'pending' AND action = 'magiclink'
 ORDER BY recipient, id DESC
    ON CONFLICT (email) DO UPDATE SET code = excluded.code;
TRUNCATE auth.outbox;
SELECT count(*) FROM bench_codes;
