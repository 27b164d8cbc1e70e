-- Every session of the user ($1) but the caller's ($2), locked in id order.
DELETE FROM auth.sessions WHERE id IN (
    SELECT id FROM auth.sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2
     ORDER BY id FOR UPDATE)
