-- A returning identity: its data replaced by what the provider says now, merged into the
-- user's metadata (GoTrue's AccountExists). $1 user, $2 provider, $3 subject, $4 claims.
WITH i AS (
    UPDATE auth.identities SET identity_data = $4, updated_at = now()
     WHERE provider = $2 AND provider_id = $3 AND user_id = $1
    RETURNING id)
UPDATE auth.users SET raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || $4,
       updated_at = now()
  FROM i WHERE auth.users.id = $1
RETURNING to_jsonb(i.id)
