-- The GoTrue user object (what /user and every session response carry) of the auth.users row
-- aliased u; spliced into statements by src/fragments.rs.
-- An expression rather than a SQL function: a function with a subquery is never inlined, so
-- each call parsed and planned its body again (a quarter of a refresh's CPU); spliced in, it is
-- planned once with the statement's kept plan.
(jsonb_strip_nulls(jsonb_build_object(
    'id', u.id,
    'aud', coalesce(u.aud, ''),
    'role', coalesce(u.role, ''),
    'email', coalesce(u.email, ''),
    'email_confirmed_at', u.email_confirmed_at,
    'invited_at', u.invited_at,
    'phone', coalesce(u.phone, ''),
    'phone_confirmed_at', u.phone_confirmed_at,
    'confirmed_at', u.confirmed_at,
    'confirmation_sent_at', u.confirmation_sent_at,
    'recovery_sent_at', u.recovery_sent_at,
    'new_email', nullif(u.email_change, ''),
    'email_change_sent_at', u.email_change_sent_at,
    'new_phone', nullif(u.phone_change, ''),
    'phone_change_sent_at', u.phone_change_sent_at,
    'reauthentication_sent_at', u.reauthentication_sent_at,
    'last_sign_in_at', u.last_sign_in_at,
    'banned_until', u.banned_until,
    'deleted_at', u.deleted_at
)) || jsonb_build_object(
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'),
    'user_metadata', coalesce(u.raw_user_meta_data, '{}'),
    'identities', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'identity_id', i.id,
                   'id', i.provider_id,
                   'user_id', i.user_id,
                   'identity_data', i.identity_data,
                   'provider', i.provider,
                   'last_sign_in_at', i.last_sign_in_at,
                   'created_at', i.created_at,
                   'updated_at', i.updated_at,
                   'email', i.email) ORDER BY i.created_at)
          FROM auth.identities i WHERE i.user_id = u.id), '[]'),
    'created_at', u.created_at,
    'updated_at', u.updated_at,
    'is_anonymous', u.is_anonymous)
 || {{user_factors}})
