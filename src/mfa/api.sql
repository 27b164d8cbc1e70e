-- MFA (GoTrue's /factors): the signed-in caller's own factors (the functions check).
REVOKE ALL ON FUNCTION auth.mfa_enroll(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_enroll(text, text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_challenge(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_challenge(text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_verify(text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_verify(text, text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_unenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_unenroll(text) TO authenticated, service_role;
-- Recovery codes (/factors/recovery-codes): the signed-in caller's own (the functions check).
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_status() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_generate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_generate(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_verify(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_verify(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_regenerate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_regenerate() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth.mfa_recovery_codes_delete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.mfa_recovery_codes_delete() TO authenticated, service_role;
-- The admin API's (admins only: not_admin for anyone else, as src/admin/api.sql explains).
REVOKE ALL ON FUNCTION auth.admin_list_factors(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_list_factors(text) TO anon, authenticated, service_role;
REVOKE ALL ON FUNCTION auth.admin_delete_factor(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_delete_factor(text, text) TO anon, authenticated, service_role;

CREATE FUNCTION auth_api.mfa_enroll(factor_type text, friendly_name text DEFAULT NULL,
    issuer text DEFAULT NULL, phone text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_enroll(factor_type, friendly_name, issuer, phone) $$;
CREATE FUNCTION auth_api.mfa_challenge(factor_id text, channel text DEFAULT NULL,
    webauthn jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_challenge(factor_id, channel, webauthn) $$;
CREATE FUNCTION auth_api.mfa_verify(factor_id text, challenge_id text, code text DEFAULT NULL,
    webauthn jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_verify(factor_id, challenge_id, code, webauthn) $$;
CREATE FUNCTION auth_api.mfa_unenroll(factor_id text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_unenroll(factor_id) $$;
REVOKE ALL ON FUNCTION auth_api.mfa_enroll(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_enroll(text, text, text, text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_challenge(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_challenge(text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_verify(text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_verify(text, text, text, jsonb) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_unenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_unenroll(text) TO authenticated, service_role;
CREATE FUNCTION auth_api.mfa_recovery_codes_status()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_status() $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_generate(friendly_name text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_generate(friendly_name) $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_verify(code text)
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_verify(code) $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_regenerate()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_regenerate() $$;
CREATE FUNCTION auth_api.mfa_recovery_codes_delete()
RETURNS jsonb LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT auth.mfa_recovery_codes_delete() $$;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_status() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_generate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_generate(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_verify(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_verify(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_regenerate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_regenerate() TO authenticated, service_role;
REVOKE ALL ON FUNCTION auth_api.mfa_recovery_codes_delete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_api.mfa_recovery_codes_delete() TO authenticated, service_role;

-- They receive one-time codes or hand out a factor's secret (or send a code): a failure must
-- not log the statement.
ALTER FUNCTION auth.mfa_verify(text, text, text, jsonb) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_enroll(text, text, text, text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_challenge(text, text, jsonb) SET log_min_error_statement = panic;
-- Recovery codes: generate and regenerate hand out codes, verify receives one.
ALTER FUNCTION auth.mfa_recovery_codes_generate(text) SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_recovery_codes_regenerate() SET log_min_error_statement = panic;
ALTER FUNCTION auth.mfa_recovery_codes_verify(text) SET log_min_error_statement = panic;
