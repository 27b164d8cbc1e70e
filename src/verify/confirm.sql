-- What a consumed token does to its user ($1), by kind ($2, a token type), for the address it
-- was sent to ($3), whose lineage began at $4 (UTC): confirm the email or phone, or complete an
-- email or phone change. Returns the user's state for src/verify's Verified (a banned user is
-- refused by the caller, which rolls this back). The user's row was locked in a statement of its
-- own when the token was taken (src/one_time's take), so this one's snapshot sees every session
-- a concurrent sign-in committed before.
--
-- Pre-account takeover: anyone can sign up someone else's address with a password of their own
-- (and, with allow_unverified_email_sign_ins, sign in and attach a phone or start a change) and
-- wait for the owner to sign in by code, link or recovery, which confirms the address. The first
-- confirmation of an address therefore keeps what the account holds only when the token is the
-- sign-up's own (its lineage began with the account: issued in the sign-up's transaction, or
-- sent again by resend within its lifetime). Otherwise everything but the proven address was
-- set by someone who never proved it and is dropped: the password, the metadata, the other
-- address and its identity, pending changes, other codes, and every session.
--
-- An anonymous user whose email or phone change completes becomes a permanent user (the id and
-- data kept): the address gets its identity and app_metadata its provider, as GoTrue's.
WITH b AS (
    SELECT id, lower(email) IS NOT DISTINCT FROM $3 AS by_email,
           is_anonymous AND $2 IN ('email_change_token_new', 'email_change_token_current',
                                   'phone_change_token') AS converts,
           ((email_confirmed_at IS NULL AND $2 IN ('confirmation_token', 'recovery_token')
             AND lower(email) = $3)
            OR (phone_confirmed_at IS NULL AND $2 = 'confirmation_token' AND phone = $3))
           AND timezone('UTC', created_at) IS DISTINCT FROM $4::timestamp AS unproven
      FROM auth.users WHERE id = $1 AND deleted_at IS NULL),
s AS (
    DELETE FROM auth.sessions USING b WHERE auth.sessions.user_id = b.id AND b.unproven),
t AS (
    DELETE FROM auth.one_time_tokens USING b WHERE auth.one_time_tokens.user_id = b.id AND b.unproven),
d AS (
    DELETE FROM auth.identities USING b
     WHERE auth.identities.user_id = b.id AND b.unproven
       AND auth.identities.provider <> CASE WHEN b.by_email THEN 'email' ELSE 'phone' END),
u AS (
    UPDATE auth.users SET
           encrypted_password = CASE WHEN b.unproven THEN '' ELSE encrypted_password END,
           raw_user_meta_data = CASE WHEN b.unproven THEN '{}' ELSE raw_user_meta_data END,
           raw_app_meta_data = CASE WHEN b.unproven
               THEN coalesce(raw_app_meta_data, '{}') || jsonb_build_object(
                   'provider', CASE WHEN b.by_email THEN 'email' ELSE 'phone' END,
                   'providers', jsonb_build_array(CASE WHEN b.by_email THEN 'email' ELSE 'phone' END))
               WHEN b.converts
               THEN coalesce(raw_app_meta_data, '{}') || jsonb_build_object(
                   'provider', CASE WHEN $2 = 'phone_change_token' THEN 'phone' ELSE 'email' END,
                   'providers', jsonb_build_array(CASE WHEN $2 = 'phone_change_token' THEN 'phone' ELSE 'email' END))
               ELSE raw_app_meta_data END,
           email_confirmed_at = CASE
               WHEN b.unproven AND NOT b.by_email THEN NULL
               WHEN $2 IN ('confirmation_token', 'recovery_token') AND lower(email) = $3
                   THEN coalesce(email_confirmed_at, now())
               WHEN $2 IN ('email_change_token_new', 'email_change_token_current') THEN now()
               ELSE email_confirmed_at END,
           phone_confirmed_at = CASE
               WHEN b.unproven AND b.by_email THEN NULL
               WHEN $2 = 'confirmation_token' AND phone = $3 THEN coalesce(phone_confirmed_at, now())
               WHEN $2 = 'phone_change_token' THEN now()
               ELSE phone_confirmed_at END,
           email = CASE WHEN b.unproven AND NOT b.by_email THEN NULL
                        WHEN $2 IN ('email_change_token_new', 'email_change_token_current')
                        THEN email_change ELSE email END,
           email_change = CASE WHEN b.unproven
                                 OR $2 IN ('email_change_token_new', 'email_change_token_current')
                               THEN '' ELSE email_change END,
           email_change_confirm_status = CASE
               WHEN b.unproven OR $2 IN ('email_change_token_new', 'email_change_token_current') THEN 0
               ELSE email_change_confirm_status END,
           phone = CASE WHEN b.unproven AND b.by_email THEN NULL
                        WHEN $2 = 'phone_change_token' THEN phone_change ELSE phone END,
           phone_change = CASE WHEN b.unproven OR $2 = 'phone_change_token' THEN '' ELSE phone_change END,
           is_anonymous = is_anonymous AND NOT b.converts,
           updated_at = now()
      FROM b
     WHERE auth.users.id = b.id
    RETURNING auth.users.id, email, phone, email_confirmed_at, phone_confirmed_at, banned_until),
n AS (
    INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
    SELECT u.id::text, u.id,
           CASE WHEN $2 = 'phone_change_token'
                THEN jsonb_build_object('sub', u.id::text, 'phone', u.phone, 'email_verified', false, 'phone_verified', true)
                ELSE jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false) END,
           CASE WHEN $2 = 'phone_change_token' THEN 'phone' ELSE 'email' END, now(), now()
      FROM u, b WHERE b.converts
    ON CONFLICT DO NOTHING),
i AS (
    UPDATE auth.identities i SET
           identity_data = i.identity_data || CASE i.provider
               WHEN 'email' THEN jsonb_build_object('email', u.email,
                                                    'email_verified', u.email_confirmed_at IS NOT NULL)
               WHEN 'phone' THEN jsonb_build_object('phone', u.phone,
                                                    'phone_verified', u.phone_confirmed_at IS NOT NULL)
               ELSE '{}' END,
           updated_at = now()
      FROM u, b
     WHERE i.user_id = u.id AND i.provider IN ('email', 'phone')
       -- not the identities d drops (one statement must not change a row twice)
       AND NOT (b.unproven AND i.provider <> CASE WHEN b.by_email THEN 'email' ELSE 'phone' END))
SELECT jsonb_build_object('email', coalesce(u.email, ''), 'phone', coalesce(u.phone, ''),
                          'banned', coalesce(u.banned_until > now(), false))
  FROM u
