-- settings(): service_role. configure() and the functions the install script and the config
-- triggers call: the owner only.
REVOKE ALL ON FUNCTION auth.settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.settings() TO service_role;
REVOKE ALL ON FUNCTION auth.configure(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth._install_secrets() FROM PUBLIC;
REVOKE ALL ON FUNCTION auth._invalidate_instance_cache(oid) FROM PUBLIC;

-- configure() may receive a jwt_secret: a failure must not log the statement (see
-- src/signup/api.sql).
ALTER FUNCTION auth.configure(jsonb) SET log_min_error_statement = panic;
