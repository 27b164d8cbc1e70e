-- User $1's recovery-code factor, locked: verifications, regenerations and the deletion of one
-- user's codes take turns, each reading (in its next statement) what the one before did. A
-- wrong code's count is written by another transaction (src/trace/) into the set's row, which
-- this lock leaves free.
SELECT jsonb_build_object('id', f.id)
  FROM auth.mfa_factors f
  JOIN auth.mfa_recovery_code_sets rs ON rs.mfa_factor_id = f.id
 WHERE rs.user_id = $1
   FOR UPDATE OF f
