-- A backend's memory, read from /proc/<pg_backend_pid()>/status (pg_read_file, as superuser):
-- resident memory across 100k, 200k and then 300k auth.verify_jwt calls on distinct HS256 tokens
-- (a per-call leak or a cache keyed by token would grow it), and argon2id's memory per sign-in
-- (VmHWM, the backend's peak resident memory, across the first sign-ins of a fresh backend) and
-- what the backend keeps of it afterwards. Run by bench/run in a fresh database in which
-- bench-0@example.com has signed up.
\set QUIET on
SELECT auth.configure('{"jwt_signing_algorithm": "HS256"}') IS NOT NULL \g /dev/null
CREATE TABLE mem_tokens AS
SELECT g AS n, auth.sign_jwt(jsonb_build_object('sub', gen_random_uuid(), 'role', 'authenticated', 'n', g)) AS t
  FROM generate_series(1, 601000) g;
CREATE TABLE mem_refresh AS
SELECT auth.sign_in_with_password('bench-0@example.com', 'bench-password-1')->>'refresh_token' AS rt;
CREATE FUNCTION kib(field text) RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM field || ':\s+(\d+) kB')::bigint
$$;

-- A fresh backend. The table's pages are mapped (they count in VmRSS as shared memory) and the key
-- ring is loaded, with 1,000 tokens not used below, before the first reading.
\c
SELECT count(*) FROM mem_tokens \g /dev/null
SELECT count(auth.verify_jwt(t)) FROM mem_tokens WHERE n > 600000 \g /dev/null
SELECT kib('VmRSS') AS r0, kib('RssAnon') AS a0, kib('RssShmem') AS m0 \gset
SELECT count(auth.verify_jwt(t)) AS v1 FROM mem_tokens WHERE n BETWEEN 1 AND 100000 \gset
SELECT kib('VmRSS') AS r1, kib('RssAnon') AS a1, kib('RssShmem') AS m1 \gset
SELECT count(auth.verify_jwt(t)) AS v2 FROM mem_tokens WHERE n BETWEEN 100001 AND 300000 \gset
SELECT kib('VmRSS') AS r2, kib('RssAnon') AS a2, kib('RssShmem') AS m2 \gset
SELECT count(auth.verify_jwt(t)) AS v3 FROM mem_tokens WHERE n BETWEEN 300001 AND 600000 \gset
SELECT kib('VmRSS') AS r3, kib('RssAnon') AS a3, kib('RssShmem') AS m3 \gset

-- Another fresh backend: a refresh first (loads the settings, the key ring, the session code and
-- signs a token, but hashes no password), then 30 sign-ins: whether the backend keeps argon2id's
-- memory once the call is over, and how much of it.
\c
SELECT (auth.settings()->>'argon2_memory_kib')::int AS m \gset
SELECT auth.refresh_session(rt) IS NOT NULL FROM mem_refresh \g /dev/null
SELECT kib('VmHWM') AS h0, kib('VmRSS') AS s0, kib('RssAnon') AS p0 \gset
SELECT auth.sign_in_with_password('bench-0@example.com', 'bench-password-1') IS NOT NULL \g /dev/null
SELECT kib('VmHWM') AS h1, kib('VmRSS') AS s1, kib('RssAnon') AS p1 \gset
SELECT auth.sign_in_with_password('bench-0@example.com', 'bench-password-1') IS NOT NULL \g /dev/null
SELECT kib('VmHWM') AS h2, kib('VmRSS') AS s2, kib('RssAnon') AS p2 \gset
SELECT auth.sign_in_with_password('bench-0@example.com', 'bench-password-1') IS NOT NULL \g /dev/null
SELECT kib('VmHWM') AS h3, kib('VmRSS') AS s3, kib('RssAnon') AS p3 \gset
SELECT count(auth.sign_in_with_password('bench-0@example.com', 'bench-password-1')) FROM generate_series(4, 10) \g /dev/null
SELECT kib('VmHWM') AS h4, kib('VmRSS') AS s4, kib('RssAnon') AS p4 \gset
SELECT count(auth.sign_in_with_password('bench-0@example.com', 'bench-password-1')) FROM generate_series(11, 30) \g /dev/null
SELECT kib('VmHWM') AS h5, kib('VmRSS') AS s5, kib('RssAnon') AS p5 \gset

\echo 'auth.verify_jwt, one backend (KiB; private = RssAnon, shared = RssShmem: shared buffers first touched)'
SELECT calls, vmrss_before, vmrss_after, private_change, shared_change,
       round(private_change * 1024.0 / calls, 2) AS private_bytes_per_call FROM (VALUES
  (1, :v1, :r0, :r1, :a1 - :a0, :m1 - :m0),
  (2, :v2, :r1, :r2, :a2 - :a1, :m2 - :m1),
  (3, :v3, :r2, :r3, :a3 - :a2, :m3 - :m2)
) r(o, calls, vmrss_before, vmrss_after, private_change, shared_change) ORDER BY o;
SELECT format('sign-in, a fresh backend (KiB; VmHWM = peak resident memory; argon2_memory_kib = %s)', :m) AS title \gset
\echo :title
SELECT sign_in, vmhwm_after - vmhwm_before AS peak_increase, vmrss_after, vmrss_change, private_change FROM (VALUES
  ('first', :h0, :h1, :s1, :s1 - :s0, :p1 - :p0),
  ('second', :h1, :h2, :s2, :s2 - :s1, :p2 - :p1),
  ('third', :h2, :h3, :s3, :s3 - :s2, :p3 - :p2),
  ('4th to 10th', :h3, :h4, :s4, :s4 - :s3, :p4 - :p3),
  ('11th to 30th', :h4, :h5, :s5, :s5 - :s4, :p5 - :p4)
) r(sign_in, vmhwm_before, vmhwm_after, vmrss_after, vmrss_change, private_change);
