-- RLS helpers: policies are evaluated with the querying role's rights, so everyone needs them.
-- authenticate() verifies a token before trusting it.
REVOKE ALL ON FUNCTION auth.uid() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.uid() TO PUBLIC;
REVOKE ALL ON FUNCTION auth.role() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.role() TO PUBLIC;
REVOKE ALL ON FUNCTION auth.email() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.email() TO PUBLIC;
REVOKE ALL ON FUNCTION auth.jwt() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwt() TO PUBLIC;
REVOKE ALL ON FUNCTION auth.authenticate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.authenticate(text) TO PUBLIC;

-- Planner support for the helpers (src/ffi/planner.rs): a bare auth.uid() is planned as
-- (SELECT auth._uid_value()), evaluated once per query instead of once per row. The twins are the
-- same C functions without the support function, so the rewrite does not recurse. They keep the
-- default EXECUTE for PUBLIC (granted explicitly, so the install's check sees it was meant).
CREATE FUNCTION auth._uid_value() RETURNS uuid LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'uid_wrapper';
CREATE FUNCTION auth._role_value() RETURNS text LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'role_wrapper';
CREATE FUNCTION auth._email_value() RETURNS text LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'email_wrapper';
CREATE FUNCTION auth._jwt_value() RETURNS jsonb LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jwt_wrapper';
GRANT EXECUTE ON FUNCTION auth._uid_value(), auth._role_value(), auth._email_value(), auth._jwt_value()
TO PUBLIC;
CREATE FUNCTION auth._helper_support(internal) RETURNS internal LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'auth_ext_helper_support';
REVOKE ALL ON FUNCTION auth._helper_support(internal) FROM PUBLIC;
ALTER FUNCTION auth.uid() SUPPORT auth._helper_support;
ALTER FUNCTION auth.role() SUPPORT auth._helper_support;
ALTER FUNCTION auth.email() SUPPORT auth._helper_support;
ALTER FUNCTION auth.jwt() SUPPORT auth._helper_support;

-- authenticate() receives a token: a failure must not log the statement (see
-- src/signup/api.sql).
ALTER FUNCTION auth.authenticate(text) SET log_min_error_statement = panic;
