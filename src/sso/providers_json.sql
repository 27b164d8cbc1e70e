-- Every SSO provider in GoTrue's JSON, oldest first, without the metadata documents (GoTrue
-- leaves them out of the list).
SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
    'id', p.id, 'resource_id', p.resource_id, 'disabled', p.disabled,
    'saml', jsonb_build_object(
        'entity_id', s.entity_id, 'metadata_url', s.metadata_url,
        'attribute_mapping', s.attribute_mapping, 'name_id_format', s.name_id_format),
    'created_at', p.created_at, 'updated_at', p.updated_at))
    || jsonb_build_object('domains', coalesce((
           SELECT jsonb_agg(jsonb_build_object('domain', d.domain) ORDER BY d.domain)
             FROM auth.sso_domains d WHERE d.sso_provider_id = p.id), '[]'))
    ORDER BY p.created_at, p.id), '[]')
  FROM auth.sso_providers p JOIN auth.saml_providers s ON s.sso_provider_id = p.id
