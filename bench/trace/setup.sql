-- The failed sign-in benchmark: a wrapper that swallows the expected PT400 (pgbench stops a
-- client on an error), so each transaction is one failed sign-in, half for a known email with a
-- wrong password, half for unknown emails. psql variable: clients.
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION bench_failed_sign_in(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM auth.sign_in_with_password(
        CASE WHEN n % 2 = 0 THEN 'bench-0@example.com' ELSE 'nobody-' || n || '@example.com' END,
        'wrong-password-1');
EXCEPTION WHEN SQLSTATE 'PT400' THEN NULL;
END $$;
SELECT count(auth.sign_up('bench-' || g || '@example.com', 'bench-password-1')) AS users
  FROM generate_series(0, :clients - 1) g
 WHERE NOT EXISTS (SELECT 1 FROM auth.users WHERE email = 'bench-' || g || '@example.com');
