-- A social-login flow's state; a few states older than a day are let go on the way (a flow lives
-- 10 minutes; auth.cleanup() removes the rest in batches). $1 state hash, $2 provider, $3 redirect_to,
-- $4 the app's PKCE challenge, $5 its method, $6 PKCE verifier towards the provider, $7 nonce,
-- $8 the user a linkIdentity adds to, $9 the session it was asked from.
WITH old AS (DELETE FROM auth.oauth_states WHERE id = ANY (ARRAY(
    SELECT o.id FROM auth.oauth_states o WHERE o.created_at < now() - interval '1 day'
     ORDER BY o.created_at LIMIT 10 FOR UPDATE SKIP LOCKED)))
INSERT INTO auth.oauth_states (state_hash, provider, redirect_to, code_challenge,
                               code_challenge_method, provider_code_verifier, nonce, link_user_id,
                               link_session_id)
VALUES ($1, $2, $3, $4, $5::auth.code_challenge_method, $6, $7, $8, $9)
