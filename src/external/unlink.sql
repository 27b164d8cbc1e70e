-- unlinkIdentity: the caller's identity $2 (user $1) removed, unless it is their last; the
-- user's address follows a remaining identity when it was the removed one's (GoTrue's
-- UpdateUserEmailFromIdentities, simplified: the oldest remaining identity with an address no
-- other user holds). Returns what was removed, as src/external's Unlinked.
WITH gone AS (
    DELETE FROM auth.identities i
     WHERE i.id = $2 AND i.user_id = $1
       AND (SELECT count(*) FROM auth.identities o WHERE o.user_id = $1) > 1
    RETURNING i.id, i.provider, i.provider_id, i.email)
SELECT jsonb_build_object('id', id, 'provider', provider, 'provider_id', provider_id,
                          'email', email)
  FROM gone
