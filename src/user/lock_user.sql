-- The user's email and password hash ($1: user id), locked for the update that follows.
SELECT jsonb_build_object('email', email, 'hash', encrypted_password)
  FROM auth.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE
