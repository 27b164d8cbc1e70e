-- A wrong recovery code against set $1, written apart from the failing call (src/trace/): one
-- more failure, after forgetting a lock that has run out; at $2 failures verification locks for
-- $3 seconds. A set locked meanwhile is left as it is: its lock is never extended.
UPDATE auth.mfa_recovery_code_sets
   SET failed_verification_count =
           CASE WHEN verification_locked_until IS NULL THEN failed_verification_count + 1 ELSE 1 END,
       verification_locked_until =
           CASE WHEN (CASE WHEN verification_locked_until IS NULL
                           THEN failed_verification_count + 1 ELSE 1 END) >= $2
                THEN now() + $3::bigint * interval '1 second' END,
       updated_at = now()
 WHERE id = $1 AND (verification_locked_until IS NULL OR verification_locked_until <= now())
