-- A TOTP verification per transaction (challenge + verify, the session raised to aal2 and a new
-- token minted), each on a factor of its own: a code works once per factor and 30 s step, so
-- client :client_id walks its own range of :stride factors from :base (-D base=... stride=...).
\set i :i + 1
\set k :base + :client_id * :stride + :i
SELECT public.bench_mfa_verify(:k) AS verified \gset
