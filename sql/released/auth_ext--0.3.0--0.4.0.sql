-- auth_ext 0.3.0 -> 0.4.0
--
-- claims_trust is 'verified' by default from 0.4.0: only PostgREST's authenticator (and the
-- other trusted_roles), superusers and the extension's owner may set request.jwt.claims
-- directly; any other session must call auth.authenticate(token). Installs made before stored
-- the old default 'any' explicitly, so it is switched here; an app that relies on directly
-- connected roles setting claims can switch back (README, "Upgrading").
UPDATE auth.config
   SET settings = jsonb_set(settings, '{claims_trust}', '"verified"'), updated_at = now()
 WHERE settings->>'claims_trust' = 'any';

-- The derived keys (HKDF, one per purpose) come from the stored refresh_token_key, which is
-- now the master secret; nothing is stored anew, and refresh chains begun before the upgrade
-- keep working (src/session.rs, auth_core::refresh::find_descendant_across_upgrade).
