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
