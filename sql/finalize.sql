-- Runs last: secrets, cache invalidation, dump registration, schema-level privileges and the
-- check that every function got its grants (they are in each capability's src/<capability>/api.sql).

SELECT auth._install_secrets();

CREATE FUNCTION auth._config_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM auth._invalidate_instance_cache(TG_RELID);
    RETURN NULL;
END
$$;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.config
    FOR EACH STATEMENT EXECUTE FUNCTION auth._config_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION auth._config_changed();

-- pg_dump keeps the data of extension tables only when they are registered.
SELECT pg_catalog.pg_extension_config_dump('auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('auth.identities', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('auth.refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('auth.refresh_tokens_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('auth.audit_log_entries', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_amr_claims', '');
SELECT pg_catalog.pg_extension_config_dump('auth.config', '');
SELECT pg_catalog.pg_extension_config_dump('auth.signing_keys', '');
SELECT pg_catalog.pg_extension_config_dump('auth.one_time_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('auth.flow_state', '');
SELECT pg_catalog.pg_extension_config_dump('auth.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('auth.outbox_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('auth.breached_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('auth.identity_providers', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sso_providers', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sso_domains', '');
SELECT pg_catalog.pg_extension_config_dump('auth.saml_providers', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_factors', '');
SELECT pg_catalog.pg_extension_config_dump('auth.webauthn_credentials', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_recovery_code_sets', '');
SELECT pg_catalog.pg_extension_config_dump('auth.mfa_recovery_codes', '');

-- Least privilege: nothing on the tables for anon/authenticated. Each function's EXECUTE grants
-- are made beside its code, in its capability's api.sql (src/<capability>/api.sql).
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON FUNCTION auth._config_changed() FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role, auth_outbox_consumer, auth_provider_broker;
GRANT USAGE ON SCHEMA auth_api TO anon, authenticated, service_role;

-- A function no api.sql mentions would be executable by PUBLIC (PostgreSQL's default): refuse to
-- install rather than expose it. (A function meant for everyone is granted to PUBLIC explicitly.)
DO $$
DECLARE
    forgotten text;
BEGIN
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO forgotten
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace IN ('auth'::regnamespace, 'auth_api'::regnamespace) AND p.proacl IS NULL;
    IF forgotten IS NOT NULL THEN
        RAISE EXCEPTION 'auth_ext: no grants were made for %', forgotten
            USING HINT = 'Revoke or grant EXECUTE in the api.sql of the function''s capability.';
    END IF;
END
$$;
