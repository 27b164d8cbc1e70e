-- Set $1's codes, used or not, replaced by new ones ($2: their hashes); its lockout cleared.
WITH old AS (DELETE FROM auth.mfa_recovery_codes WHERE mfa_recovery_code_set_id = $1),
     new AS (INSERT INTO auth.mfa_recovery_codes (id, mfa_recovery_code_set_id, code_hash)
             SELECT gen_random_uuid(), $1, h FROM unnest($2::text[]) h)
UPDATE auth.mfa_recovery_code_sets
   SET failed_verification_count = 0, verification_locked_until = NULL, updated_at = now()
 WHERE id = $1
