-- The hooks of the acceptance databases (run by ./test): a custom access token hook as a Supabase
-- project would write it, adding a `plan` claim from the user's metadata (RLS policies read it
-- through auth.jwt()), with Supabase's grants to supabase_auth_admin.
CREATE FUNCTION public.custom_access_token_hook(event jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('claims', event->'claims' || jsonb_build_object(
        'plan', coalesce(event->'claims'->'user_metadata'->>'plan', 'free')))
$$;
GRANT USAGE ON SCHEMA public TO supabase_auth_admin;
GRANT EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) TO supabase_auth_admin;
REVOKE EXECUTE ON FUNCTION public.custom_access_token_hook(jsonb) FROM PUBLIC;
SELECT auth.configure('{"hook_custom_access_token": "public.custom_access_token_hook"}') IS NOT NULL AS hooked;
