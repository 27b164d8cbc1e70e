-- One sign-in by email code per transaction (auth.verify_otp), each code used once: client c
-- takes the codes base + c, base + c + clients, ... of bench_codes (codes.sql). Run with
-- -M prepared -D first=1 -D clients=<clients> -D base=<first code> and -t, never past the codes.
\if :first
\set k :base + :client_id
\set first 0
\else
\set k :k + :clients
\endif
SELECT auth.verify_otp('email', c.code, email => c.email)->>'refresh_token' FROM bench_codes c WHERE c.n = :k;
