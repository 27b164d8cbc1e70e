-- One email code request per transaction (auth.sign_in_with_otp for a confirmed user: a magic
-- link and code), each for another user of grow-<from>..grow-<from + range - 1>@example.com:
-- the clients' k-th requests (k = c, c + clients, ...) go to a permutation of them, so that the
-- users are distinct (until the range is exhausted) and scattered over the table, as a real
-- population's requests are. Run with -M prepared -D first=1 -D clients=<clients>
-- -D from=<first user> -D range=<users>.
\if :first
\set k :client_id
\set first 0
\else
\set k :k + :clients
\endif
\set n :from + permute(:k % :range, :range)
SELECT auth.sign_in_with_otp(email => 'grow-' || :n::int || '@example.com');
