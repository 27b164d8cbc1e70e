-- GoTrue's soft delete of a user ($1): the row stays with its addresses replaced by digests ($2
-- email, $3 phone, $4 pending email, $5 pending phone; computed by auth_core::admin::obfuscate),
-- no password, no metadata; identities keep their rows with their data emptied and their
-- provider ids digested; sessions and codes end. Already deleted: nothing changes.
WITH u AS (
    UPDATE auth.users SET
           email = $2, phone = $3,
           email_change = coalesce($4, ''), phone_change = coalesce($5, ''),
           encrypted_password = NULL,
           confirmation_token = '', recovery_token = '', email_change_token_new = '',
           email_change_token_current = '', phone_change_token = '', reauthentication_token = '',
           raw_user_meta_data = '{}', raw_app_meta_data = '{}',
           deleted_at = now(), updated_at = now()
     WHERE id = $1 AND deleted_at IS NULL
    RETURNING id),
s AS (
    DELETE FROM auth.sessions USING u WHERE auth.sessions.user_id = u.id),
t AS (
    DELETE FROM auth.one_time_tokens USING u WHERE auth.one_time_tokens.user_id = u.id)
UPDATE auth.identities i SET
       identity_data = '{}',
       provider_id = translate(encode(sha256(convert_to(u.id::text || i.provider || ':' || i.provider_id, 'UTF8')), 'base64'), '+/=', '-_'),
       updated_at = now()
  FROM u WHERE i.user_id = u.id
