-- A provider's identity added to an existing user (automatic linking by a verified address, or
-- linkIdentity); `merge`: the identity's claims are merged into the user's metadata (automatic
-- linking, as GoTrue). $1 user, $2 provider, $3 subject, $4 claims, $5 merge.
WITH i AS (
    INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
                                 created_at, updated_at)
    VALUES ($3, $1, $4, $2, now(), now(), now())
    RETURNING id)
UPDATE auth.users SET
       raw_user_meta_data = CASE WHEN $5 THEN coalesce(raw_user_meta_data, '{}') || $4
                                 ELSE raw_user_meta_data END,
       updated_at = now()
  FROM i WHERE auth.users.id = $1
RETURNING to_jsonb(i.id)
