-- SAML SSO (src/sso, core/src/sso): the admin API's providers, /sso's relay state, the broker's
-- two ACS calls with the verified assertion passed in as an argument (the XML signature is the
-- shim's: shim/src/saml.rs, tested with a real IdP by shim/acceptance), the re-checks made
-- here, the SSO linking domain, PKCE, and the privileges. The broker functions are called as the
-- superuser, the way the shim (auth_provider_broker) calls them.
\set VERBOSITY terse
\set SHOW_CONTEXT never
BEGIN;
SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1, "mailer_autoconfirm": true,
                        "site_url": "https://app.example.com", "api_external_url": "https://auth.example.com",
                        "uri_allow_list": "https://app.example.com/**"}') IS NOT NULL AS configured;
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; code text; msg text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, code = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT;
    RETURN state || ' ' || coalesce(nullif(code, ''), '-') || ': '
        || regexp_replace(msg, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g');
END $$;
-- An IdP's metadata, as an IdP publishes it (the certificate is only read here: signatures are
-- verified by the shim). $1 entity ID.
CREATE FUNCTION pg_temp.metadata(entity_id text) RETURNS text LANGUAGE sql AS $$
    SELECT format($m$<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIDFzCCAf+gAwIBAgIUUr0ufBOzbccCnBa2HlJCHn3alyEwDQYJKoZIhvcNAQELBQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMCAXDTI2MTIwMjExNDkzN1oYDzIxMjYxMTA4MTE0OTM3WjAaMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC13/l1ZTZdMstAMbbX/8unimSNg0fA/aOn3snzScOmyzUBX7CnIqtSaKihwVgui8kAroLivL7BnFOtysjh5KM4u2sCzzV2haNPOmmtI0lwrB16viljEFQ6KBKZ6plmyThcvlKejTW0aNfy5KbUfm+tMFtPLil3RA3DRep826YWFrkCh3W4fEVItl6ydDuXGZvs1z/OVBZspY50xGXovHVz8A+VLTU/yHmpH5mtwVppz+aYWivhpV97xZYEH/98NY/IEzKI5W6Qg1kE88KH76Fdluc0iyDBkcUVGfGabel+kHGEww4RCiQAYeWxz4pXv38nik2tfbz/ZJumr60GMBjRAgMBAAGjUzBRMB0GA1UdDgQWBBTbF/iowDsOSg9UxeE7yk5KV/IQyDAfBgNVHSMEGDAWgBTbF/iowDsOSg9UxeE7yk5KV/IQyDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQA5Gp3MUjt6RadZvc+8h3NnK2UQii/gDmNoUKJc59Wj3Gl/qLWxL5jjZeYUnZlA+V75pLJkDLOnJ9wyVC8LAwmwol/dLaj1kG3IG27Xf/rFWdD8cDnI0aaCBz9DSuJmRYZ87TL5Ba4qSyvsUTuDbTNI1kXvRl7J6cNcSotY0kMZUF8yLd9yf2GucevruZVbnzqKPqv+29uDh2PnGxSRiFHN/h0wE+q6EyfJidFRVESp+EeFVNNKdFD8VoYxQ790BJZ8b7D5dca0ZQm5kFx2fL2dxa8bcHZiWIZ3muEJqK/FpojEUZjCxTYkiycO3VuBRLES5ak0Nf4iQUwAb/5BBZTm</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>$m$, entity_id, entity_id) $$;
-- The assertion the shim hands over once it verified a response (core/src/sso/assertion.rs).
CREATE FUNCTION pg_temp.assertion(issuer text, name_id text, email text, in_response_to text,
                                  id text DEFAULT gen_random_uuid()::text,
                                  format text DEFAULT 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
                                  not_on_or_after bigint DEFAULT extract(epoch FROM now() + interval '5 minutes')::bigint,
                                  session_end bigint DEFAULT extract(epoch FROM now() + interval '8 hours')::bigint)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'assertion_id', id, 'issuer', issuer, 'name_id', name_id, 'name_id_format', format,
        'attributes', CASE WHEN email IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(
            jsonb_build_object('name', 'email', 'friendly_name', NULL, 'values', jsonb_build_array(email)),
            jsonb_build_object('name', 'urn:oid:2.5.4.3', 'friendly_name', 'cn', 'values', '["Ada L."]'::jsonb),
            jsonb_build_object('name', 'groups', 'friendly_name', NULL, 'values', '["eng", "ops"]'::jsonb)) END,
        'session_not_on_or_after', session_end, 'not_on_or_after', not_on_or_after,
        'in_response_to', in_response_to) $$;
-- A whole SP-initiated sign-in as the shim runs it: /sso, take, (verification), finish.
CREATE FUNCTION pg_temp.sign_in(domain text, name_id text, email text, redirect_to text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE started jsonb := auth.sso_start(domain => domain, redirect_to => redirect_to);
        taken jsonb := auth.saml_acs_take(started->>'relay_state');
BEGIN
    RETURN auth.saml_acs_finish(started->>'relay_state',
        pg_temp.assertion(taken->>'idp_entity_id', name_id, email, taken->>'request_id'));
END $$;
CREATE FUNCTION pg_temp.masked(url text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(url, '(code|access_token|refresh_token|expires_at)=[^&]+', '\1=<…>', 'g') $$;
CREATE FUNCTION pg_temp.token_of(answer jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT substring(answer->>'location' FROM 'access_token=([^&]+)') $$;

-- SAML is off by default (GoTrue's saml_enabled): every SSO entry point says so
SELECT pg_temp.attempt($$SELECT auth.sso_start(domain => 'acme.example')$$) AS start,
       pg_temp.attempt($$SELECT auth.saml_acs_take('x')$$) AS take,
       pg_temp.attempt($$SELECT auth.admin_sso_providers()$$) AS admin_list;
SELECT auth.configure('{"saml_enabled": true}') IS NOT NULL AS saml_on;

-- Providers (the admin API; here as the owner over SQL)

-- GoTrue's checks of the body: the type, one of metadata_xml and metadata_url, an HTTPS URL,
-- a known NameID format, a well-formed attribute mapping
SELECT pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "oidc", "metadata_xml": "<x/>"}')$$) AS wrong_type,
       pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml"}')$$) AS no_metadata,
       pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_xml": "<x/>", "metadata_url": "https://idp.example/md"}')$$) AS both;
SELECT pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_url": "http://idp.example/md"}')$$) AS http_url,
       pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_url": "https://idp.example/md"}')$$) AS url_over_sql;
SELECT pg_temp.attempt(format($$SELECT auth.admin_create_sso_provider(%L)$$,
           jsonb_build_object('type', 'saml', 'metadata_xml', pg_temp.metadata('https://acme.example/idp'),
                              'name_id_format', 'urn:example:made-up')::text)) AS bad_name_id_format,
       pg_temp.attempt(format($$SELECT auth.admin_create_sso_provider(%L)$$,
           jsonb_build_object('type', 'saml', 'metadata_xml', pg_temp.metadata('https://acme.example/idp'),
                              'attribute_mapping', '{"keys": {"name": {"nam": "cn"}}}'::jsonb)::text)) AS bad_mapping;
-- metadata that is not an IdP's, not XML, or carries a DTD (never parsed: XXE, billion laughs)
SELECT pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_xml": "not xml"}')$$) AS not_xml,
       pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_xml": "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>"}')$$) AS no_idp_descriptor,
       pg_temp.attempt($$SELECT auth.admin_create_sso_provider('{"type": "saml", "metadata_xml": "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>"}')$$) AS dtd;
-- a provider for acme.example; the answer is GoTrue's shape
SELECT auth.admin_create_sso_provider(jsonb_build_object(
           'type', 'saml', 'metadata_xml', pg_temp.metadata('https://acme.example/idp'),
           'domains', '["Acme.Example", "acme.example", "corp.acme.example"]'::jsonb,
           'attribute_mapping', '{"keys": {"name": {"name": "cn"}, "groups": {"name": "groups", "array": true},
                                           "tier": {"name": "tier", "default": "basic"}}}'::jsonb)) AS acme \gset
SELECT (:'acme'::jsonb)->>'id' AS acme_id \gset
SELECT jsonb_pretty((:'acme'::jsonb) - 'id' - 'created_at' - 'updated_at' #- '{saml,metadata_xml}') AS created,
       position('<md:EntityDescriptor' IN (:'acme'::jsonb)#>>'{saml,metadata_xml}') > 0 AS has_metadata_xml;
-- the same IdP again, a domain another provider has
SELECT pg_temp.attempt(format($$SELECT auth.admin_create_sso_provider(%L)$$,
           jsonb_build_object('type', 'saml', 'metadata_xml', pg_temp.metadata('https://acme.example/idp'))::text)) AS same_idp,
       pg_temp.attempt(format($$SELECT auth.admin_create_sso_provider(%L)$$,
           jsonb_build_object('type', 'saml', 'metadata_xml', pg_temp.metadata('https://globex.example/idp'),
                              'domains', '["ACME.example"]'::jsonb)::text)) AS taken_domain;
SELECT auth.admin_create_sso_provider(jsonb_build_object(
           'type', 'saml', 'metadata_xml', pg_temp.metadata('https://globex.example/idp'),
           'domains', '["globex.example"]'::jsonb))->>'id' AS globex_id \gset
-- the list leaves the metadata documents out
SELECT jsonb_array_length(l->'items') AS providers,
       bool_and(i->'saml' ? 'metadata_xml') AS any_metadata_xml,
       string_agg(i#>>'{saml,entity_id}', ', ' ORDER BY i#>>'{saml,entity_id}') AS entity_ids
  FROM auth.admin_sso_providers() l, jsonb_array_elements(l->'items') i GROUP BY l;
-- read, and update: the domains replaced, metadata only of the same entity ID
SELECT (auth.admin_sso_provider(:'globex_id'))->'domains' AS globex_domains;
SELECT (auth.admin_update_sso_provider(:'globex_id', '{"domains": ["globex.example", "initech.example"]}'))->'domains' AS updated_domains;
SELECT pg_temp.attempt(format($$SELECT auth.admin_update_sso_provider(%L, %L)$$, :'globex_id',
           jsonb_build_object('metadata_xml', pg_temp.metadata('https://acme.example/idp'))::text)) AS other_entity_id;
SELECT pg_temp.attempt($$SELECT auth.admin_sso_provider(gen_random_uuid()::text)$$) AS unknown,
       pg_temp.attempt($$SELECT auth.admin_sso_provider('acme')$$) AS not_a_uuid;

-- Signing in: POST /sso

-- by domain (any case) or by provider id; what the shim builds the AuthnRequest from
SELECT auth.sso_start(domain => 'ACME.example', redirect_to => 'https://app.example.com/welcome') AS started \gset
SELECT (:'started'::jsonb) - 'relay_state' - 'request_id' - 'provider_id' AS start,
       (:'started'::jsonb)->>'provider_id' = :'acme_id' AS acme,
       (:'started'::jsonb)->>'request_id' ~ '^_[0-9a-f]{32}$' AS request_id_is_an_ncname;
SELECT (auth.sso_start(provider_id => :'globex_id'))->>'sso_url' AS by_id;
-- the relay state remembers the request and where the app wants the user back
SELECT request_id = (:'started'::jsonb)->>'request_id' AS same_request, redirect_to, taken_at IS NULL AS untaken
  FROM auth.saml_relay_states WHERE id = ((:'started'::jsonb)->>'relay_state')::uuid;
-- GoTrue's refusals: both or neither, an unknown domain or id, not a uuid
SELECT pg_temp.attempt(format($$SELECT auth.sso_start(%L, 'acme.example')$$, :'acme_id')) AS both,
       pg_temp.attempt($$SELECT auth.sso_start()$$) AS neither,
       pg_temp.attempt($$SELECT auth.sso_start(domain => 'example.org')$$) AS unknown_domain,
       pg_temp.attempt($$SELECT auth.sso_start(provider_id => 'acme')$$) AS not_a_uuid;
-- redirect_to outside the allow list: the site's URL instead
SELECT (auth.sso_start(domain => 'acme.example', redirect_to => 'https://evil.example/'))->>'relay_state' AS evil_relay \gset
SELECT redirect_to FROM auth.saml_relay_states WHERE id = :'evil_relay';

-- The ACS: take, then finish with the verified assertion

SELECT auth.saml_acs_take((:'started'::jsonb)->>'relay_state') AS taken \gset
SELECT (:'taken'::jsonb) - 'certificates' - 'request_id' - 'sso_provider_id' AS take,
       (:'taken'::jsonb)->>'request_id' = (:'started'::jsonb)->>'request_id' AS the_request,
       jsonb_array_length((:'taken'::jsonb)->'certificates') AS certificates,
       (:'taken'::jsonb)#>>'{certificates,0}' LIKE '-----BEGIN CERTIFICATE-----%' AS pem;
-- a relay state is taken once; unknown ones, and what is neither a UUID nor a URL
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_take(%L)$$, (:'started'::jsonb)->>'relay_state')) AS taken_again,
       pg_temp.attempt($$SELECT auth.saml_acs_take(gen_random_uuid()::text)$$) AS unknown,
       pg_temp.attempt($$SELECT auth.saml_acs_take('not a relay state')$$) AS garbage;
-- what the database checks again itself: the issuer, the request answered, the expiry
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://globex.example/idp', 'ada', 'ada@acme.example', (:'taken'::jsonb)->>'request_id'))) AS other_issuer,
       pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', '_another_request'))) AS other_request,
       pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', (:'taken'::jsonb)->>'request_id',
                             not_on_or_after => extract(epoch FROM now() - interval '1 second')::bigint))) AS expired,
       pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           '{"assertion_id": "x", "issuer": "https://acme.example/idp"}')) AS not_an_assertion;
-- ... and GoTrue's: a transient NameID names nobody; no address in the assertion
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'tmp-1', 'ada@acme.example', (:'taken'::jsonb)->>'request_id',
                             format => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'))) AS transient,
       pg_temp.attempt(format($$SELECT auth.saml_acs_finish(%L, %L)$$, (:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'ada', NULL, (:'taken'::jsonb)->>'request_id'))) AS no_email;
-- the sign-in: a session in the fragment, to where the app asked
SELECT auth.saml_acs_finish((:'started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'ada', 'Ada@Acme.Example', (:'taken'::jsonb)->>'request_id', id => 'assertion-1')) AS finished \gset
SELECT pg_temp.masked((:'finished'::jsonb)->>'location') AS location;
-- the relay state is spent
SELECT count(*) AS relay_states_left FROM auth.saml_relay_states WHERE id = ((:'started'::jsonb)->>'relay_state')::uuid;
-- a new SSO user: confirmed, is_sso_user, the provider sso:<id>, the mapped attributes
SELECT id AS ada FROM auth.users WHERE email = 'ada@acme.example' \gset
SELECT email, email_confirmed_at IS NOT NULL AS confirmed, is_sso_user, encrypted_password IS NULL AS no_password,
       raw_app_meta_data->>'provider' = 'sso:' || :'acme_id' AS provider_is_sso,
       raw_app_meta_data->'providers' = jsonb_build_array('sso:' || :'acme_id') AS providers,
       raw_user_meta_data - 'sub' AS user_metadata
  FROM auth.users WHERE id = :'ada';
SELECT provider = 'sso:' || :'acme_id' AS sso_identity, provider_id, email FROM auth.identities WHERE user_id = :'ada';
-- the session ends when the IdP said (SessionNotOnOrAfter); amr is sso/saml
SELECT auth.verify_jwt(pg_temp.token_of(:'finished'::jsonb)) AS claims \gset
SELECT (:'claims'::jsonb)->'amr'->0->>'method' AS amr, (:'claims'::jsonb)->>'aal' AS aal,
       (:'claims'::jsonb)->'app_metadata'->>'provider' = 'sso:' || :'acme_id' AS token_provider,
       s.not_after BETWEEN now() + interval '7 hours 59 minutes' AND now() + interval '8 hours 1 minute' AS not_after
  FROM auth.sessions s WHERE s.id = ((:'claims'::jsonb)->>'session_id')::uuid;
-- the same assertion again (a replayed post, IdP-initiated): refused
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_finish(NULL, %L)$$,
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', NULL, id => 'assertion-1'))) AS replayed;
-- IdP-initiated (no relay state, or a URL): the provider by the issuer; no request answered
SELECT (auth.saml_acs_take(NULL, 'https://acme.example/idp'))->'request_id' AS idp_initiated_request;
SELECT pg_temp.attempt($$SELECT auth.saml_acs_take('', 'https://unknown.example/idp')$$) AS unknown_idp;
SELECT pg_temp.masked((auth.saml_acs_finish('https://app.example.com/from-idp',
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', NULL)))->>'location') AS idp_initiated;
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_finish(NULL, %L)$$,
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', '_unsolicited_but_answering'))) AS unsolicited_with_request;
-- the same IdP user again: the same user, the identity refreshed
SELECT (auth.verify_jwt(pg_temp.token_of(pg_temp.sign_in('acme.example', 'ada', 'ada@acme.example'))))->>'sub' = :'ada' AS same_user;

-- The SSO linking domain

-- a password user with the same address is another account, never linked by address
SELECT (auth.sign_up('bob@acme.example', 'a long password 1'))->'user'->>'id' AS bob_password \gset
SELECT (auth.verify_jwt(pg_temp.token_of(pg_temp.sign_in('acme.example', 'bob', 'bob@acme.example'))))->>'sub' AS bob_sso \gset
SELECT :'bob_sso' <> :'bob_password' AS separate_accounts,
       (SELECT count(*) FROM auth.users WHERE email = 'bob@acme.example') AS users_with_the_address;
-- a second IdP's user with that address too: a third account (each IdP its own domain)
SELECT (auth.verify_jwt(pg_temp.token_of(pg_temp.sign_in('globex.example', 'bob', 'bob@acme.example'))))->>'sub' <> :'bob_sso' AS globex_separate;
-- the same IdP, another subject with a known address: linked to that user (GoTrue's rule)
SELECT (auth.verify_jwt(pg_temp.token_of(pg_temp.sign_in('acme.example', 'bob-2', 'BOB@acme.example'))))->>'sub' = :'bob_sso' AS linked_in_domain;
-- password sign-in still reaches only the password user
SELECT (auth.sign_in_with_password('bob@acme.example', 'a long password 1'))->'user'->>'id' = :'bob_password' AS password_user;
-- an SSO user may not change the address, phone or password the IdP manages
SELECT set_config('request.jwt.claims', auth.verify_jwt(pg_temp.token_of(pg_temp.sign_in('acme.example', 'ada', 'ada@acme.example')))::text, true) IS NOT NULL AS as_ada;
SELECT pg_temp.attempt($$SELECT auth.update_user('{"email": "ada@elsewhere.example"}')$$) AS change_email,
       pg_temp.attempt($$SELECT auth.update_user('{"password": "a new long password"}')$$) AS change_password,
       (auth.update_user('{"data": {"theme": "dark"}}'))->'user_metadata'->>'theme' AS change_metadata;
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS claims_cleared;

-- PKCE: ?code= instead of a session, exchanged with the verifier

SELECT auth.sso_start(domain => 'acme.example', redirect_to => 'https://app.example.com/cb',
           code_challenge => rtrim(translate(encode(sha256('verifier-0123456789-abcdefghijklmnopqrstuvwxyz'::bytea), 'base64'), '+/', '-_'), '='),
           code_challenge_method => 's256') AS pkce_started \gset
SELECT auth.saml_acs_take((:'pkce_started'::jsonb)->>'relay_state') AS pkce_taken \gset
SELECT auth.saml_acs_finish((:'pkce_started'::jsonb)->>'relay_state',
           pg_temp.assertion('https://acme.example/idp', 'ada', 'ada@acme.example', (:'pkce_taken'::jsonb)->>'request_id')) AS pkce_finished \gset
SELECT pg_temp.masked((:'pkce_finished'::jsonb)->>'location') AS pkce_location;
SELECT substring((:'pkce_finished'::jsonb)->>'location' FROM 'code=([^&]+)') AS code \gset
SELECT auth.exchange_code_for_session(:'code', 'verifier-0123456789-abcdefghijklmnopqrstuvwxyz') AS exchanged \gset
SELECT (:'exchanged'::jsonb)->'user'->>'id' = :'ada' AS ada,
       (auth.verify_jwt((:'exchanged'::jsonb)->>'access_token'))->'amr'->0->>'method' AS amr,
       (SELECT s.not_after IS NOT NULL FROM auth.sessions s
         WHERE s.id = ((auth.verify_jwt((:'exchanged'::jsonb)->>'access_token'))->>'session_id')::uuid) AS session_ends;

-- Relay states expire (saml_relay_state_validity_period, 2 minutes); a disabled provider

SELECT (auth.sso_start(domain => 'acme.example'))->>'relay_state' AS old_relay \gset
UPDATE auth.saml_relay_states SET created_at = now() - interval '3 minutes' WHERE id = :'old_relay';
SELECT pg_temp.attempt(format($$SELECT auth.saml_acs_take(%L)$$, :'old_relay')) AS expired_relay_state;
SELECT (auth.admin_update_sso_provider(:'globex_id', '{"disabled": true}'))->'disabled' AS globex_disabled;
SELECT pg_temp.attempt($$SELECT auth.sso_start(domain => 'globex.example')$$) AS start_disabled,
       pg_temp.attempt($$SELECT auth.saml_acs_take(NULL, 'https://globex.example/idp')$$) AS acs_disabled;

-- Metadata from a URL is fetched again once stale (GoTrue's rule: validUntil, cacheDuration,
-- else a day): the take says so, the broker stores the fresh copy, the IdP's own only
UPDATE auth.saml_providers SET metadata_url = 'https://acme.example/idp/metadata', updated_at = now() - interval '2 days'
 WHERE sso_provider_id = :'acme_id';
SELECT (auth.saml_acs_take(NULL, 'https://acme.example/idp'))->>'refresh_metadata_url' AS refresh_stale;
SELECT pg_temp.attempt(format($$SELECT auth.saml_metadata_refresh(%L, %L)$$, :'acme_id',
           pg_temp.metadata('https://globex.example/idp'))) AS another_idps,
       pg_temp.attempt(format($$SELECT auth.saml_metadata_refresh(%L, 'not xml')$$, :'acme_id')) AS garbage;
SELECT jsonb_array_length((auth.saml_metadata_refresh(:'acme_id', pg_temp.metadata('https://acme.example/idp')))->'certificates') AS refreshed_certificates;
SELECT (auth.saml_acs_take(NULL, 'https://acme.example/idp'))->'refresh_metadata_url' AS refresh_fresh;

-- Privileges: the broker's functions are the broker's; the admin API refuses non-admins

SELECT r.rolname, f.fn, has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS can_execute
  FROM (VALUES ('anon'), ('authenticated'), ('service_role'), ('auth_provider_broker')) r(rolname)
 CROSS JOIN (VALUES ('auth.sso_start(text,text,text,text,text)'),
                    ('auth.sso_service_provider()'),
                    ('auth.saml_acs_take(text,text)'),
                    ('auth.saml_acs_finish(text,jsonb)'),
                    ('auth.saml_metadata_refresh(text,text)'),
                    ('auth.admin_sso_providers()'),
                    ('auth.admin_create_sso_provider(jsonb,text)')) f(fn)
 ORDER BY f.fn, r.rolname;
CREATE FUNCTION pg_temp.as_role(role text, statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE answer text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    answer := pg_temp.attempt(statement);
    RESET ROLE;
    RETURN answer;
END $$;
SELECT r.rolname,
       pg_temp.as_role(r.rolname, $$SELECT auth.saml_acs_take('x')$$) AS take,
       pg_temp.as_role(r.rolname, $$SELECT auth.saml_acs_finish('x', '{}')$$) AS finish,
       pg_temp.as_role(r.rolname, $$SELECT auth.admin_sso_providers()$$) AS admin_list,
       pg_temp.as_role(r.rolname, $$SELECT auth.admin_delete_sso_provider(gen_random_uuid()::text)$$) AS admin_delete
  FROM (VALUES ('anon'), ('authenticated'), ('service_role')) r(rolname) ORDER BY 1;
-- the tables are private
SELECT r.rolname, bool_or(has_table_privilege(r.rolname, t, 'SELECT')) AS reads_any
  FROM (VALUES ('anon'), ('authenticated'), ('service_role'), ('auth_provider_broker')) r(rolname)
 CROSS JOIN unnest(ARRAY['auth.sso_providers', 'auth.sso_domains', 'auth.saml_providers',
                         'auth.saml_relay_states', 'auth.saml_assertions_seen']) t
 GROUP BY r.rolname ORDER BY 1;

-- Deleting a provider: its flows go, its users stay

SELECT (auth.admin_delete_sso_provider(:'acme_id'))->'saml'->>'entity_id' AS deleted;
SELECT count(*) AS acme_relay_states FROM auth.saml_relay_states WHERE sso_provider_id = :'acme_id';
SELECT count(*) > 0 AS acme_users_stay FROM auth.users WHERE is_sso_user;
SELECT pg_temp.attempt($$SELECT auth.sso_start(domain => 'acme.example')$$) AS after_delete;
-- cleanup sweeps spent relay states and expired assertion IDs
UPDATE auth.saml_relay_states SET created_at = now() - interval '2 hours';
UPDATE auth.saml_assertions_seen SET not_on_or_after = now() - interval '1 hour';
SELECT (c->'saml_relay_states')::int > 0 AS relay_states_swept, (c->'saml_assertions_seen')::int AS seen_swept
  FROM auth.cleanup() c;
SELECT count(*) AS seen_left FROM auth.saml_assertions_seen;
ROLLBACK;
