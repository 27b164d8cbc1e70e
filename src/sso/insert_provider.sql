-- A new SSO provider, its SAML IdP and its domains, in one statement. $1 id, $2 resource id,
-- $3 disabled, $4 entity ID, $5 metadata XML, $6 metadata URL, $7 attribute mapping,
-- $8 NameID format, $9 domains (normalised).
WITH p AS (
    INSERT INTO auth.sso_providers (id, resource_id, disabled, created_at, updated_at)
    VALUES ($1, $2, $3, now(), now())
    RETURNING id),
s AS (
    INSERT INTO auth.saml_providers (id, sso_provider_id, entity_id, metadata_xml, metadata_url,
                                     attribute_mapping, name_id_format, created_at, updated_at)
    SELECT gen_random_uuid(), p.id, $4, $5, $6, $7, $8, now(), now() FROM p)
INSERT INTO auth.sso_domains (id, sso_provider_id, domain, created_at, updated_at)
SELECT gen_random_uuid(), p.id, d, now(), now() FROM p, unnest($9::text[]) d
