-- A SAML sign-in's database part, as the shim calls it: /sso (the relay state), the ACS's take
-- and its finish with the verified assertion (the SSO linking decision, the identity, the
-- session). The XML signature check is the shim's and is not in this row. :n picks the IdP's
-- user (-D users=...).
\set n random(1, :users)
SELECT auth.sso_start(domain => 'bench.example') ->> 'relay_state' AS relay \gset
SELECT auth.saml_acs_take(:relay::text) ->> 'request_id' AS request \gset
SELECT auth.saml_acs_finish(:relay::text, public.bench_assertion(:n, :request::text)) ->> 'location' IS NOT NULL AS signed_in \gset
