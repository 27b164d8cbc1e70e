-- What the account-linking decision needs (core/src/external/linking.rs): who holds the
-- identity ($1 provider, $2 subject), and which users hold the address $3 (lower-case), as
-- their own address or as an identity's address its provider verified (an unverified one is
-- anyone's claim, and must not pull a verified sign-in into the claimant's account). SSO users
-- and SSO identities are another linking domain.
SELECT jsonb_build_object(
    'identity_owner', (SELECT i.user_id FROM auth.identities i
                        WHERE i.provider = $1 AND i.provider_id = $2),
    'address_holders', coalesce((
        SELECT jsonb_agg(DISTINCT h.id) FROM (
            SELECT u.id FROM auth.users u
             WHERE $3::text IS NOT NULL AND lower(u.email) = $3 AND NOT u.is_sso_user
               AND u.deleted_at IS NULL
            UNION
            SELECT u.id FROM auth.identities i JOIN auth.users u ON u.id = i.user_id
             WHERE $3::text IS NOT NULL AND i.email = $3 AND i.provider NOT LIKE 'sso:%'
               AND i.identity_data ->> 'email_verified' = 'true'
               AND NOT u.is_sso_user AND u.deleted_at IS NULL) h), '[]'),
    'address_taken', $3::text IS NOT NULL AND EXISTS (
        SELECT 1 FROM auth.users u WHERE lower(u.email) = $3 AND NOT u.is_sso_user))
