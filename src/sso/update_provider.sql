-- An SSO provider changed as the admin API's body says; what it leaves out stays. $1 id,
-- $2 metadata XML (NULL: unchanged), $3 metadata URL (with $2), $4 attribute mapping (NULL:
-- unchanged), $5 whether the NameID format is given, $6 the format (NULL: none), $7 whether the
-- domains are given, $8 the domains, $9 resource id (NULL: unchanged), $10 disabled (NULL:
-- unchanged).
WITH p AS (
    UPDATE auth.sso_providers SET resource_id = coalesce($9, resource_id),
           disabled = coalesce($10, disabled), updated_at = now()
     WHERE id = $1 RETURNING id),
s AS (
    UPDATE auth.saml_providers SET metadata_xml = coalesce($2, metadata_xml),
           metadata_url = CASE WHEN $2::text IS NULL THEN metadata_url ELSE $3 END,
           attribute_mapping = coalesce($4, attribute_mapping),
           name_id_format = CASE WHEN $5 THEN $6 ELSE name_id_format END,
           updated_at = now()
     WHERE sso_provider_id IN (SELECT id FROM p)),
gone AS (
    DELETE FROM auth.sso_domains
     WHERE $7 AND sso_provider_id IN (SELECT id FROM p) AND NOT (lower(domain) = ANY ($8::text[])))
INSERT INTO auth.sso_domains (id, sso_provider_id, domain, created_at, updated_at)
SELECT gen_random_uuid(), p.id, d, now(), now() FROM p, unnest($8::text[]) d
 WHERE $7 AND NOT EXISTS (SELECT 1 FROM auth.sso_domains o
                           WHERE o.sso_provider_id = p.id AND lower(o.domain) = d)
