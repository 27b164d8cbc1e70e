-- One email code request per transaction (auth.sign_in_with_otp for a confirmed user: a magic
-- link and code), each for another user: client c asks for the users from + c, from + c + clients,
-- ... of grow-<n>@example.com, wrapping within range users. Run with -M prepared -D first=1
-- -D clients=<clients> -D from=<first user> -D range=<users>.
\if :first
\set k :client_id
\set first 0
\else
\set k :k + :clients
\endif
\set n :from + :k % :range
SELECT auth.sign_in_with_otp(email => 'grow-' || :n::int || '@example.com');
