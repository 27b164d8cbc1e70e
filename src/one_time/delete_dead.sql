-- Tokens that reached the attempt limit ($2) among these ($1) die.
DELETE FROM auth.one_time_tokens WHERE id = ANY ($1::uuid[]) AND failed_attempts >= $2
