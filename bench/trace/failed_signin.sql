-- One failed sign-in per transaction (setup.sql's wrapper).
\set n random(1, 1000000)
SELECT bench_failed_sign_in(:n);
