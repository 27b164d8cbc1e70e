-- Every session of the user ($1), locked in id order so that concurrent sign-outs cannot deadlock.
DELETE FROM auth.sessions WHERE id IN (
    SELECT id FROM auth.sessions WHERE user_id = $1 ORDER BY id FOR UPDATE)
