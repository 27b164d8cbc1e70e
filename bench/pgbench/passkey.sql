-- A passkey sign-in per transaction (auth.passkey_authentication_verify: the challenge taken,
-- the user and their passkeys loaded and locked, the ES256 assertion checked, the counter
-- stored, a new aal1 session and token minted), with the fixtures of
-- bench/src/passkey_fixtures.rs: public.bench_passkey row k answers challenge k. A challenge is
-- answered once and a passkey's counter must increase, so client :client_id walks its own range
-- of :stride assertions from :base (-D base=... stride=...), made of whole users whose counters
-- increase with k. A client that has used its range up stops with an error that says so (its
-- neighbour's assertions would be refused).
\set i :i + 1
\set k :base + :client_id * :stride + :i
\if :i > :stride
SELECT ('passkey.sql: a client used up its ' || :stride || ' assertions: raise PASSKEY_STRIDE')::int;
\endif
SELECT auth.passkey_authentication_verify(challenge_id::text, credential) ? 'access_token' AS verified
  FROM public.bench_passkey WHERE k = :k \gset
