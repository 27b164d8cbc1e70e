-- An admin sets a user's ($1) email ($2) or phone ($3) directly: no code, as GoTrue; the
-- address's identity follows, confirmed when $4; pending changes and codes end. Returns nothing
-- when the address belongs to someone else.
WITH free AS (
    SELECT NOT EXISTS (SELECT 1 FROM auth.users o
                        WHERE o.id <> $1 AND ((lower(o.email) = $2 AND o.is_sso_user = false)
                                              OR o.phone = $3)) AS ok),
u AS (
    UPDATE auth.users SET
           email = coalesce($2, email),
           phone = coalesce($3, phone),
           email_confirmed_at = CASE WHEN $2::text IS NOT NULL AND $4 THEN now() ELSE email_confirmed_at END,
           phone_confirmed_at = CASE WHEN $3::text IS NOT NULL AND $4 THEN now() ELSE phone_confirmed_at END,
           email_change = '', email_change_sent_at = NULL, email_change_confirm_status = 0,
           phone_change = '', phone_change_sent_at = NULL,
           is_anonymous = is_anonymous AND NOT $4,
           -- an anonymous user made permanent by a confirmed address gets its provider, as a
           -- confirmed change does (src/verify/confirm.sql)
           raw_app_meta_data = CASE WHEN is_anonymous AND $4
               THEN coalesce(raw_app_meta_data, '{}') || jsonb_build_object(
                   'provider', CASE WHEN $2::text IS NOT NULL THEN 'email' ELSE 'phone' END,
                   'providers', jsonb_build_array(CASE WHEN $2::text IS NOT NULL THEN 'email' ELSE 'phone' END))
               ELSE raw_app_meta_data END,
           updated_at = now()
      FROM free WHERE id = $1 AND free.ok
    RETURNING id),
t AS (
    DELETE FROM auth.one_time_tokens USING u WHERE auth.one_time_tokens.user_id = u.id),
merged AS (
    UPDATE auth.identities i SET
           identity_data = i.identity_data || CASE WHEN $2::text IS NOT NULL
               THEN jsonb_build_object('email', $2::text, 'email_verified', $4)
               ELSE jsonb_build_object('phone', $3::text, 'phone_verified', $4) END,
           updated_at = now()
      FROM u WHERE i.user_id = u.id
       AND i.provider = CASE WHEN $2::text IS NOT NULL THEN 'email' ELSE 'phone' END
    RETURNING i.user_id),
added AS (
    INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
SELECT u.id::text, u.id,
       CASE WHEN $2::text IS NOT NULL
            THEN jsonb_build_object('sub', u.id::text, 'email', $2::text, 'email_verified', $4, 'phone_verified', false)
            ELSE jsonb_build_object('sub', u.id::text, 'phone', $3::text, 'email_verified', false, 'phone_verified', $4) END,
       CASE WHEN $2::text IS NOT NULL THEN 'email' ELSE 'phone' END, now(), now()
      FROM u WHERE NOT EXISTS (SELECT 1 FROM merged)
    RETURNING user_id)
SELECT to_jsonb(u.id) FROM u
