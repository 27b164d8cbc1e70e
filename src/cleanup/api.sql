-- cleanup: for the owner (pg_cron runs a job as the role that scheduled it) and service_role. No
-- auth_api wrapper: it is maintenance, not something a client asks for over HTTP.
REVOKE ALL ON FUNCTION auth.cleanup(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.cleanup(integer) TO service_role;
