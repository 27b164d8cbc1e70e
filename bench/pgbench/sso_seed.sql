-- The SSO row's provider (a SAML IdP whose certificate is only read: the signature check is the
-- shim's, outside this row) and its 1,000 returning users, signed in once each.
SELECT auth.configure('{"saml_enabled": true}') IS NOT NULL AS saml_on;
SELECT auth.admin_create_sso_provider(jsonb_build_object('type', 'saml', 'domains', '["bench.example"]'::jsonb,
    'metadata_xml', '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://bench.example/idp"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIDFzCCAf+gAwIBAgIUUr0ufBOzbccCnBa2HlJCHn3alyEwDQYJKoZIhvcNAQELBQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMCAXDTI2MTIwMjExNDkzN1oYDzIxMjYxMTA4MTE0OTM3WjAaMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC13/l1ZTZdMstAMbbX/8unimSNg0fA/aOn3snzScOmyzUBX7CnIqtSaKihwVgui8kAroLivL7BnFOtysjh5KM4u2sCzzV2haNPOmmtI0lwrB16viljEFQ6KBKZ6plmyThcvlKejTW0aNfy5KbUfm+tMFtPLil3RA3DRep826YWFrkCh3W4fEVItl6ydDuXGZvs1z/OVBZspY50xGXovHVz8A+VLTU/yHmpH5mtwVppz+aYWivhpV97xZYEH/98NY/IEzKI5W6Qg1kE88KH76Fdluc0iyDBkcUVGfGabel+kHGEww4RCiQAYeWxz4pXv38nik2tfbz/ZJumr60GMBjRAgMBAAGjUzBRMB0GA1UdDgQWBBTbF/iowDsOSg9UxeE7yk5KV/IQyDAfBgNVHSMEGDAWgBTbF/iowDsOSg9UxeE7yk5KV/IQyDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQA5Gp3MUjt6RadZvc+8h3NnK2UQii/gDmNoUKJc59Wj3Gl/qLWxL5jjZeYUnZlA+V75pLJkDLOnJ9wyVC8LAwmwol/dLaj1kG3IG27Xf/rFWdD8cDnI0aaCBz9DSuJmRYZ87TL5Ba4qSyvsUTuDbTNI1kXvRl7J6cNcSotY0kMZUF8yLd9yf2GucevruZVbnzqKPqv+29uDh2PnGxSRiFHN/h0wE+q6EyfJidFRVESp+EeFVNNKdFD8VoYxQ790BJZ8b7D5dca0ZQm5kFx2fL2dxa8bcHZiWIZ3muEJqK/FpojEUZjCxTYkiycO3VuBRLES5ak0Nf4iQUwAb/5BBZTm</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://bench.example/idp/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'))
    IS NOT NULL AS provider;
CREATE FUNCTION public.bench_assertion(n bigint, request text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('assertion_id', gen_random_uuid()::text, 'issuer', 'https://bench.example/idp',
        'name_id', 'user-' || n, 'name_id_format', 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        'attributes', jsonb_build_array(jsonb_build_object('name', 'email', 'friendly_name', NULL,
            'values', jsonb_build_array('sso-' || n || '@bench.example'))),
        'session_not_on_or_after', NULL, 'not_on_or_after', extract(epoch FROM now())::bigint + 300,
        'in_response_to', request) $$;
DO $seed$
DECLARE
    relay text;
    request text;
BEGIN
    FOR n IN 1 .. 1000 LOOP
        relay := auth.sso_start(domain => 'bench.example') ->> 'relay_state';
        request := auth.saml_acs_take(relay) ->> 'request_id';
        PERFORM auth.saml_acs_finish(relay, public.bench_assertion(n, request));
    END LOOP;
END
$seed$;
