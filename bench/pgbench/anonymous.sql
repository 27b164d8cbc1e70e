-- The password-free baseline of the social-login row: a new user and a session in one call
-- (auth.sign_in_anonymously).
SELECT auth.sign_in_anonymously() IS NOT NULL;
