-- What the linking decision needs for an SSO identity (its provider $1 is its own linking
-- domain): who holds the identity ($2 subject), and which users hold an identity of the same
-- provider with the address $3 (lower-case).
SELECT jsonb_build_object(
    'identity_owner', (SELECT i.user_id FROM auth.identities i
                        WHERE i.provider = $1 AND i.provider_id = $2),
    'address_holders', coalesce((
        SELECT jsonb_agg(DISTINCT u.id)
          FROM auth.identities i JOIN auth.users u ON u.id = i.user_id
         WHERE $3::text IS NOT NULL AND i.provider = $1 AND i.email = $3
           AND u.deleted_at IS NULL), '[]'))
