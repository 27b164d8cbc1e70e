-- An SSO provider with its SAML IdP, as src/sso's ProviderRow: by id ($1), by an e-mail domain
-- ($2, lower-case) or by the IdP's entity ID ($3).
SELECT jsonb_build_object(
    'id', p.id, 'disabled', coalesce(p.disabled, false), 'entity_id', s.entity_id,
    'metadata_xml', s.metadata_xml, 'attribute_mapping', s.attribute_mapping,
    'name_id_format', s.name_id_format, 'metadata_url', s.metadata_url,
    'metadata_age', extract(epoch FROM now() - coalesce(s.updated_at, s.created_at, now()))::float8)
  FROM auth.sso_providers p JOIN auth.saml_providers s ON s.sso_provider_id = p.id
 WHERE ($1::uuid IS NOT NULL AND p.id = $1)
    OR ($2::text IS NOT NULL AND p.id = (SELECT d.sso_provider_id FROM auth.sso_domains d
                                          WHERE lower(d.domain) = $2))
    OR ($3::text IS NOT NULL AND s.entity_id = $3)
 LIMIT 1
