-- Code $1 of set $2 used, unless it was used meanwhile; then the set's failures are forgotten.
-- Answers whether this call used it.
WITH used AS (
         UPDATE auth.mfa_recovery_codes SET consumed_at = now()
          WHERE id = $1 AND mfa_recovery_code_set_id = $2 AND consumed_at IS NULL
         RETURNING id),
     reset AS (
         UPDATE auth.mfa_recovery_code_sets
            SET failed_verification_count = 0, verification_locked_until = NULL, updated_at = now()
          WHERE id = $2 AND EXISTS (SELECT 1 FROM used))
SELECT to_jsonb(EXISTS (SELECT 1 FROM used))
