-- Social login. Anyone may start a flow and sign in with an ID token (the provider's
-- configuration decides); linking and unlinking need a signed-in caller (the functions check).
REVOKE ALL ON FUNCTION auth.oauth_authorize(text, text, text, text, text, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_authorize(text, text, text, text, text, jsonb, boolean) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.unlink_identity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.unlink_identity(text) TO authenticated, service_role;

-- The broker's (the shim's): they hand out the client secret, or take a provider's word for
-- who the user is. Never the API roles.
REVOKE ALL ON FUNCTION auth.oauth_callback_take(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_callback_take(text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) TO auth_provider_broker;
REVOKE ALL ON FUNCTION auth.provider_document_store(text, text, jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.provider_document_store(text, text, jsonb, bigint) TO auth_provider_broker;

-- The owner's.
REVOKE ALL ON FUNCTION auth.configure_provider(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.remove_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.providers() FROM PUBLIC;

CREATE FUNCTION auth_api.oauth_authorize(provider text, redirect_to text DEFAULT NULL,
    scopes text DEFAULT NULL, code_challenge text DEFAULT NULL,
    code_challenge_method text DEFAULT NULL, params jsonb DEFAULT NULL, link boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.oauth_authorize(provider, redirect_to, scopes, code_challenge, code_challenge_method, params, link) $$;
REVOKE ALL ON FUNCTION auth_api.oauth_authorize(text, text, text, text, text, jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.oauth_authorize(text, text, text, text, text, jsonb, boolean) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.sign_in_with_id_token(provider text, id_token text, nonce text DEFAULT NULL,
    access_token text DEFAULT NULL, link_identity boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.sign_in_with_id_token(provider, id_token, nonce, access_token, link_identity) $$;
REVOKE ALL ON FUNCTION auth_api.sign_in_with_id_token(text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.sign_in_with_id_token(text, text, text, text, boolean) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.unlink_identity(identity_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.unlink_identity(identity_id) $$;
REVOKE ALL ON FUNCTION auth_api.unlink_identity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.unlink_identity(text) TO authenticated, service_role;

-- They receive secrets (ID tokens, provider tokens, a client secret): a failure must not log
-- the statement.
ALTER FUNCTION auth.sign_in_with_id_token(text, text, text, text, boolean) SET log_min_error_statement = panic;
ALTER FUNCTION auth.oauth_callback_finish(text, text, jsonb, jsonb, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.oauth_callback_take(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.configure_provider(text, jsonb) SET log_min_error_statement = panic;
