-- The hooks of the acceptance databases (run by ./test): a custom access token hook as a Supabase
-- project would write it, adding a `plan` claim from the user's metadata (RLS policies read it
-- through auth.jwt()), with Supabase's grants to supabase_auth_admin; and an MFA verification
-- attempt hook (below).
CREATE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('claims', event->'claims' || jsonb_build_object(
        'plan', coalesce(event->'claims'->'user_metadata'->>'plan', 'free')))
$$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) TO supabase_auth_admin;
REVOKE EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) FROM PUBLIC;
SELECT auth.configure('{"hook_custom_access_token": "public.custom_access_token_hook"}') IS NOT NULL AS hooked;
-- The MFA verification attempt hook, as a project would write one against guessing: a wrong code
-- at a factor named 'hook: reject wrong codes' is rejected (GoTrue then ends every session of the
-- user); every other attempt goes on. SECURITY DEFINER to read the factor's name (under Supabase
-- supabase_auth_admin may read auth.mfa_factors itself). js/mfa.test.mjs and python/mfa.py.
CREATE FUNCTION public.mfa_verification_attempt_hook(event jsonb) RETURNS jsonb LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN NOT (event->>'valid')::boolean AND EXISTS (
                         SELECT 1 FROM auth.mfa_factors
                          WHERE id = (event->>'factor_id')::uuid AND friendly_name = 'hook: reject wrong codes')
                THEN '{"decision": "reject", "message": "Too many wrong codes: signed out everywhere"}'::jsonb
                ELSE '{"decision": "continue"}'::jsonb END
$$;
REVOKE EXECUTE ON FUNCTION public.mfa_verification_attempt_hook(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.mfa_verification_attempt_hook(jsonb) TO supabase_auth_admin;
SELECT auth.configure('{"hook_mfa_verification_attempt": "public.mfa_verification_attempt_hook"}') IS NOT NULL AS hooked;
