-- The key ring: ES256 by default, creation, import, rotation without a gap, revocation, JWKS,
-- PostgREST's jwt-secret, and the algorithm switch.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
-- a fresh install signs with ES256 and keeps an HS256 secret that only verifies
SELECT algorithm, status, can_sign FROM jsonb_to_recordset(auth.signing_keys()) AS k(algorithm text, status text, can_sign bool)
 ORDER BY algorithm;
SELECT auth.settings()->'jwt_signing_algorithm' AS jwt_signing_algorithm;

BEGIN;
-- the JWKS holds public keys only: never an oct key, never a private member
SELECT k->>'kty' AS kty, k->>'crv' AS crv, k->>'alg' AS alg, k->>'use' AS use, k->'key_ops' AS key_ops,
       k ? 'kid' AS has_kid, k ?| array['d', 'p', 'q', 'k'] AS has_private_member
  FROM jsonb_array_elements(auth.jwks()->'keys') k;

-- one key of every algorithm, created in standby: published (asymmetric ones) but not signing
SELECT auth.create_signing_key('RS256') AS rs, auth.create_signing_key('EdDSA') AS ed,
       auth.create_signing_key('ES256') AS es2, auth.create_signing_key('HS256') AS hs2 \gset
SELECT k->>'alg' AS alg, count(*) FROM jsonb_array_elements(auth.jwks()->'keys') k GROUP BY 1 ORDER BY 1;
SELECT length(decode(rpad(translate(k->>'n', '-_', '+/'), (length(k->>'n') + 3) / 4 * 4, '='), 'base64')) * 8 AS rsa_bits
  FROM jsonb_array_elements(auth.jwks()->'keys') k WHERE k->>'kty' = 'RSA';

-- rotation: each key in turn signs, and every token signed before still verifies
SELECT auth.sign_jwt('{"n": 0}') AS t0 \gset
SELECT auth.set_signing_key_status(:'rs', 'current')->>'status' AS rs_status;
SELECT auth.sign_jwt('{"n": 1}') AS t1 \gset
SELECT auth.set_signing_key_status(:'ed', 'current')->>'status' AS ed_status;
SELECT auth.sign_jwt('{"n": 2}') AS t2 \gset
SELECT auth.set_signing_key_status(:'hs2', 'current')->>'status' AS hs_status;
SELECT auth.sign_jwt('{"n": 3}') AS t3 \gset
SELECT auth.set_signing_key_status(:'es2', 'current')->>'status' AS es_status;
SELECT convert_from(decode(rpad(translate(split_part(t, '.', 1), '-_', '+/'), (length(split_part(t, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'alg' AS alg,
       auth.verify_jwt(t)->>'n' AS n
  FROM unnest(array[:'t0', :'t1', :'t2', :'t3']) t;
-- the setting follows the key that signs
SELECT auth.settings()->'jwt_signing_algorithm' AS jwt_signing_algorithm;
SELECT count(*) AS current_keys FROM auth.signing_keys WHERE status = 'current';

-- revoking a previous key: its tokens are rejected at once, and it leaves the JWKS
SELECT auth.set_signing_key_status(:'rs', 'revoked')->>'status' AS rs_status;
SAVEPOINT s;
SELECT auth.verify_jwt(:'t1');
ROLLBACK TO s;
SELECT count(*) AS rsa_keys_published FROM jsonb_array_elements(auth.jwks()->'keys') k WHERE k->>'kid' = :'rs';

-- the lifecycle cannot leave a gap or go backwards
SELECT auth.set_signing_key_status(:'es2', 'previous');
ROLLBACK TO s;
SELECT auth.set_signing_key_status(:'es2', 'revoked');
ROLLBACK TO s;
SELECT auth.set_signing_key_status(:'rs', 'current');
ROLLBACK TO s;
SELECT auth.set_signing_key_status(:'ed', 'standby');
ROLLBACK TO s;
SELECT auth.set_signing_key_status(:'ed', 'retired');
ROLLBACK TO s;
SELECT auth.set_signing_key_status('no-such-kid', 'revoked');
ROLLBACK TO s;
SELECT auth.create_signing_key('none');
ROLLBACK TO s;
SELECT auth.create_signing_key('HS512');
ROLLBACK TO s;
SELECT auth.create_signing_key(NULL);
ROLLBACK TO s;

-- import: public JWKs (verify only; can never sign), private JWKs, PEM, a legacy secret
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}') AS ec_pub \gset
SELECT auth.set_signing_key_status(:'ec_pub', 'current');
ROLLBACK TO s;
SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}') AS ed_priv \gset
SELECT auth.set_signing_key_status(:'ed_priv', 'current')->>'algorithm' AS imported_ed25519_signs;
SELECT k->>'x' AS published_x FROM jsonb_array_elements(auth.jwks()->'keys') k WHERE k->>'kid' = :'ed_priv';
SELECT auth.import_signing_key(E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----') IS NOT NULL AS pem_public_imported;
SELECT auth.import_signing_key('a-legacy-postgrest-secret-of-at-least-32-chars', 'HS256') IS NOT NULL AS legacy_secret_imported;
SAVEPOINT s2;
SELECT auth.import_signing_key('too-short', 'HS256');
ROLLBACK TO s2;
SELECT auth.import_signing_key('{"kty":"RSA","n":"AQAB","e":"AQAB"}');
ROLLBACK TO s2;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}');
ROLLBACK TO s2;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}', 'RS256');
ROLLBACK TO s2;
SELECT auth.import_signing_key(E'-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----');
ROLLBACK TO s2;
SELECT auth.import_signing_key('');
ROLLBACK TO s2;

-- a JWK's kid is kept (issue 11): a token minted elsewhere with that kid verifies as soon as the
-- key is imported (a standby key verifies by kid), and still once the key signs
SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","kid":"rfc8037-ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}') AS kept_kid;
SELECT algorithm, status, can_sign FROM jsonb_to_recordset(auth.signing_keys()) AS k(kid text, algorithm text, status text, can_sign bool)
 WHERE kid = 'rfc8037-ed25519';
SELECT k->>'alg' AS alg, k->>'x' AS x FROM jsonb_array_elements(auth.jwks()->'keys') k WHERE k->>'kid' = 'rfc8037-ed25519';
-- header {"alg":"EdDSA","kid":"rfc8037-ed25519","typ":"JWT"}, claims {"sub":"minted-elsewhere",
-- "role":"authenticated","exp":4102444800}, signed with RFC 8037's Ed25519 key by openssl
\set minted_elsewhere 'eyJhbGciOiJFZERTQSIsImtpZCI6InJmYzgwMzctZWQyNTUxOSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtaW50ZWQtZWxzZXdoZXJlIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQiLCJleHAiOjQxMDI0NDQ4MDB9.9N7kHgJqaIHrvSLjSVs5D82sGELlLlENSt6oRqaS7_i1Tx8Nbo7ezAgSLbrLOP9l2IxUsTQQROsQRtK_oZMMBg'
SELECT auth.verify_jwt(:'minted_elsewhere') AS claims_while_standby;
SELECT auth.set_signing_key_status('rfc8037-ed25519', 'current')->>'status' AS kept_kid_status;
SELECT auth.verify_jwt(:'minted_elsewhere') AS claims_while_current;
-- what the key signs here carries the same kid
SELECT auth.sign_jwt('{"n": 5}') AS t5 \gset
SELECT convert_from(decode(rpad(translate(split_part(:'t5', '.', 1), '-_', '+/'), (length(split_part(:'t5', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'kid' AS signed_with_kid,
       auth.verify_jwt(:'t5')->>'n' AS n;
-- a kid already in the ring, in any state (the RS256 key above is revoked), is refused, and
-- nothing is written or changed
SAVEPOINT s3;
SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","kid":"rfc8037-ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":"rfc8037-ed25519","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key(format('{"kty":"EC","crv":"P-256","kid":"%s","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}', :'rs'));
ROLLBACK TO s3;
SELECT count(*) AS keys_with_kid, min(algorithm) AS algorithm, min(status) AS status, bool_and(private_key IS NOT NULL) AS can_sign
  FROM auth.signing_keys WHERE kid = 'rfc8037-ed25519';
SELECT status AS revoked_key_status FROM auth.signing_keys WHERE kid = :'rs';
-- a bad kid is refused, without repeating it
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":"","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":"evil\nkid","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":" padded ","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":"caf\u00e9","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
SELECT auth.import_signing_key(format('{"kty":"EC","crv":"P-256","kid":"%s","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}', repeat('k', 256)));
ROLLBACK TO s3;
SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","kid":42,"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}');
ROLLBACK TO s3;
-- 255 characters is the longest kid
SELECT length(auth.import_signing_key(format('{"kty":"EC","crv":"P-256","kid":"%s","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}', repeat('k', 255)))) AS longest_kid;
ROLLBACK TO s3;
-- keys without a kid (PEM, a JWK without one, a plain secret) get a new uuid
SELECT auth.import_signing_key(E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS pem_gets_uuid,
       auth.import_signing_key('{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS jwk_without_kid_gets_uuid,
       auth.import_signing_key('another-legacy-secret-of-at-least-32-chars', 'HS256') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS secret_gets_uuid;
ROLLBACK TO s3;

-- RSA moduli (issue 11): at least 2048 significant bits (not bytes: 2^2040+1 fills 256 bytes),
-- composite (a prime "modulus" gives its private exponent away), and an odd exponent of 3 or more
-- (the helpers outlive the rollbacks to s3 below: pg_temp itself is created by the first one)
RELEASE SAVEPOINT s3;
CREATE FUNCTION pg_temp.rsa_jwk(n bytea, e text DEFAULT 'AQAB') RETURNS text LANGUAGE sql
    AS $$ SELECT jsonb_build_object('kty', 'RSA', 'e', e, 'n', translate(encode(n, 'base64'), E'+/=\n', '-_'))::text $$;
-- 2^(bits-1)+1 in `width` bytes: odd and composite (multiples of 257, 5 and 3)
CREATE FUNCTION pg_temp.modulus(bits int, width int DEFAULT 256) RETURNS bytea LANGUAGE sql
    AS $$ SELECT set_byte(set_byte(decode(repeat('00', width), 'hex'), width - (bits + 7) / 8, 1 << ((bits - 1) % 8)),
                          width - 1, 1) $$;
SAVEPOINT s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2041)));
ROLLBACK TO s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2047)));
ROLLBACK TO s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2041, 300)));
ROLLBACK TO s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2048)), 'RS256') IS NOT NULL AS rsa_2048_bits_imported;
ROLLBACK TO s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2048), 'Ag'));
ROLLBACK TO s3;
SELECT auth.import_signing_key(pg_temp.rsa_jwk(pg_temp.modulus(2048), 'AQ'));
ROLLBACK TO s3;
-- a 2048-bit prime (openssl prime -generate -bits 2048)
SELECT auth.import_signing_key('{"kty":"RSA","e":"AQAB","n":"x6XibwL29uQdyxHeD40y7HrSUNJVTHspjVicCNGQARVyEVYKFlfhxlAqY5ThLzzj_OZQW9QrxAMAlbf3X5l6jkyc2LtjFfsBSS2qv4YSSH9C_RHt3B44aw0yluUOgMaOxEeqVkEWvX38-nxDwek3bOnVODhp_qg4DMfbUC8_OvWzKDjE3wrnmNutEPcbtincGUKHAfwcFADO7Sz1SBwDpYxS_gS9Pb7kk_fP-NhD0uLg6YDWpqKC4uF2WXGYYIKKdI3FBsAtO_2VsXYdG6JfE7ZTWUbMHnfrRVElDbmNeQgY9v9r3SytdS7yGEBR9DMEHIFDwTX6N2lYf3YusWwQuQ"}');
ROLLBACK TO s3;
ROLLBACK;

-- PostgREST's jwt-secret: a JWKS of every live key, the HS256 one included
SELECT k->>'kty' AS kty, k->>'alg' AS alg FROM jsonb_array_elements(auth.postgrest_jwt_secret()::jsonb->'keys') k ORDER BY 1;

-- configure switches the signing algorithm by rotating to a key of that kind
BEGIN;
SELECT auth.configure('{"jwt_signing_algorithm": "EdDSA"}')->'jwt_signing_algorithm' AS jwt_signing_algorithm;
SELECT algorithm, status FROM auth.signing_keys ORDER BY status, algorithm;
SELECT auth.configure('{"jwt_signing_algorithm": "RS256"}')->'jwt_signing_algorithm' AS jwt_signing_algorithm;
SELECT convert_from(decode(rpad(translate(split_part(s->>'access_token', '.', 1), '-_', '+/'), (length(split_part(s->>'access_token', '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb - 'kid' AS access_token_header
  FROM auth.sign_up('rsa-user@example.com', 'rsa-user-password') s;
SAVEPOINT s;
SELECT auth.configure('{"jwt_signing_algorithm": "none"}');
ROLLBACK TO s;
-- adopting a PostgREST secret while ES256 signs: the secret verifies, it does not sign
SELECT auth.configure('{"jwt_signing_algorithm": "ES256", "jwt_secret": "super-secret-jwt-token-with-at-least-32-characters-long"}')->'jwt_signing_algorithm' AS jwt_signing_algorithm;
SELECT algorithm, status FROM auth.signing_keys WHERE status <> 'revoked' ORDER BY status, algorithm;
-- HS256 over {"role":"anon","exp":4102444800} with that secret, no kid, as PostgREST tooling makes them
SELECT auth.verify_jwt('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImV4cCI6NDEwMjQ0NDgwMH0.1HClai70rRoID7sHlpx3OMtLzsrctt16DjEX9xyUytI') AS adopted_token_claims;
ROLLBACK;

-- who may do what
\set VERBOSITY default
BEGIN;
SET LOCAL ROLE anon;
SELECT jsonb_typeof(auth.jwks()->'keys') AS anon_reads_jwks;
SAVEPOINT s;
SELECT auth.create_signing_key('ES256');
ROLLBACK TO s;
SELECT auth.signing_keys();
ROLLBACK TO s;
SELECT auth.postgrest_jwt_secret();
ROLLBACK TO s;
SET LOCAL ROLE service_role;
SELECT jsonb_array_length(auth.signing_keys()) > 0 AS service_role_lists_keys;
SELECT auth.set_signing_key_status('x', 'revoked');
ROLLBACK;
\set VERBOSITY verbose
