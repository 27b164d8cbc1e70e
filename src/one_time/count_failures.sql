-- A wrong code against these tokens ($1): one more failed attempt each (src/trace/ writes it
-- apart from the failing call).
UPDATE auth.one_time_tokens SET failed_attempts = failed_attempts + 1 WHERE id = ANY ($1::uuid[])
