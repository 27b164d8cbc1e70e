-- A new passkey, unless the user has $11 already or the credential is registered (to anyone):
-- `{"refused": "too_many" | "exists"}` then, else the list item. The user's row is locked by
-- owner.sql in this transaction. $1 id, $2 user, $3 credential id, $4 COSE key,
-- $5 attestation type, $6 AAGUID, $7 counter, $8 transports, $9 backup eligible, $10 backed up,
-- $12 user verified.
WITH counted AS (SELECT count(*) AS n FROM auth.webauthn_credentials WHERE user_id = $2),
     taken AS (SELECT EXISTS (SELECT 1 FROM auth.webauthn_credentials WHERE credential_id = $3) AS t),
     ins AS (
         INSERT INTO auth.webauthn_credentials (id, user_id, credential_id, public_key,
             attestation_type, aaguid, sign_count, transports, backup_eligible, backed_up, user_verified)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12 FROM counted, taken
          WHERE counted.n < $11 AND NOT taken.t
         RETURNING id, friendly_name, created_at)
SELECT CASE WHEN EXISTS (SELECT 1 FROM ins)
            THEN (SELECT jsonb_build_object('id', id, 'friendly_name', friendly_name, 'created_at', created_at) FROM ins)
            WHEN (SELECT t FROM taken) THEN '{"refused": "exists"}'
            ELSE '{"refused": "too_many"}' END
