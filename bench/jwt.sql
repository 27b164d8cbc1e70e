-- JWT verify and sign per call: auth_ext against the same work in plain SQL with pgcrypto's hmac()
-- (what PostgREST's SQL user-management recipe does through pgjwt), and ES256/EdDSA against HS256.
-- Run by bench/run in a fresh database.
\set QUIET on
SET max_parallel_workers_per_gather = 0;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The pgcrypto baseline: base64url, HS256 sign and verify in SQL, the way pgjwt writes them.
CREATE FUNCTION b64url(data bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_')
$$;
CREATE FUNCTION b64url_decode(data text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT decode(rpad(translate(data, '-_', '+/'), (length(data) + 3) / 4 * 4, '='), 'base64')
$$;
CREATE FUNCTION sql_sign(claims jsonb, secret bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    WITH p AS (SELECT b64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8')) || '.' || b64url(convert_to(claims::text, 'UTF8')) AS signing_input)
    SELECT signing_input || '.' || b64url(hmac(convert_to(signing_input, 'UTF8'), secret, 'sha256')) FROM p
$$;
CREATE FUNCTION sql_verify(token text, secret bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b64url(hmac(convert_to(split_part(token, '.', 1) || '.' || split_part(token, '.', 2), 'UTF8'), secret, 'sha256'))
                     = split_part(token, '.', 3)
                 AND (convert_from(b64url_decode(split_part(token, '.', 2)), 'UTF8')::jsonb->>'exp')::numeric > extract(epoch FROM now())
           THEN convert_from(b64url_decode(split_part(token, '.', 2)), 'UTF8')::jsonb END
$$;

-- The recipe as published: pgjwt's verify()/sign() (https://github.com/michelp/pgjwt), which the
-- PostgREST SQL user-management guide installs, written out here in the same shape: regexp split,
-- base64url through translate/CASE padding, hmac() with the algorithm looked up per call, and the
-- nbf/exp window checked through a PL/pgSQL cast helper with an exception block.
CREATE SCHEMA pgjwt;
CREATE FUNCTION pgjwt.url_encode(data bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_')
$$;
CREATE FUNCTION pgjwt.url_decode(data text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    WITH t AS (SELECT translate(data, '-_', '+/') AS trans),
         rem AS (SELECT length(t.trans) % 4 AS remainder FROM t)
    SELECT decode(t.trans || CASE WHEN rem.remainder > 0 THEN repeat('=', 4 - rem.remainder) ELSE '' END, 'base64')
      FROM t, rem
$$;
CREATE FUNCTION pgjwt.algorithm_sign(signables text, secret text, algorithm text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    WITH alg AS (SELECT CASE WHEN algorithm = 'HS256' THEN 'sha256' WHEN algorithm = 'HS384' THEN 'sha384'
                             WHEN algorithm = 'HS512' THEN 'sha512' ELSE '' END AS id)
    SELECT pgjwt.url_encode(hmac(signables, secret, alg.id)) FROM alg
$$;
CREATE FUNCTION pgjwt.try_cast_double(inp text) RETURNS double precision LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    BEGIN
        RETURN inp::double precision;
    EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
    END;
END
$$;
CREATE FUNCTION pgjwt.sign(payload json, secret text, algorithm text DEFAULT 'HS256') RETURNS text LANGUAGE sql IMMUTABLE AS $$
    WITH header AS (SELECT pgjwt.url_encode(convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8')) AS data),
         payload AS (SELECT pgjwt.url_encode(convert_to(payload::text, 'utf8')) AS data),
         signables AS (SELECT header.data || '.' || payload.data AS data FROM header, payload)
    SELECT signables.data || '.' || pgjwt.algorithm_sign(signables.data, secret, algorithm) FROM signables
$$;
CREATE FUNCTION pgjwt.verify(token text, secret text, algorithm text DEFAULT 'HS256')
RETURNS TABLE (header json, payload json, valid boolean) LANGUAGE sql IMMUTABLE AS $$
    SELECT jwt.header, jwt.payload,
           jwt.signature_ok AND tstzrange(to_timestamp(pgjwt.try_cast_double(jwt.payload->>'nbf')),
                                          to_timestamp(pgjwt.try_cast_double(jwt.payload->>'exp'))) @> current_timestamp
      FROM (SELECT convert_from(pgjwt.url_decode(r[1]), 'utf8')::json AS header,
                   convert_from(pgjwt.url_decode(r[2]), 'utf8')::json AS payload,
                   r[3] = pgjwt.algorithm_sign(r[1] || '.' || r[2], secret, algorithm) AS signature_ok
              FROM regexp_split_to_array(token, '\.') r) jwt
$$;

CREATE FUNCTION pg_temp.bench(q text, n int DEFAULT 5) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; times numeric[] := '{}'; c bigint;
BEGIN
  FOR i IN 1..n LOOP
    t0 := clock_timestamp();
    EXECUTE q INTO c;
    times := times || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END $$;

-- 100,000 distinct HS256 tokens, and 20,000 each for ES256 and EdDSA, all with the same claims shape
SELECT auth.configure('{"jwt_signing_algorithm": "HS256"}') IS NOT NULL \g /dev/null
CREATE TABLE hs_tokens AS SELECT auth.sign_jwt(jsonb_build_object('sub', gen_random_uuid(), 'role', 'authenticated', 'n', g)) AS t FROM generate_series(1, 100000) g;
SELECT b64url_decode(k->>'k') AS secret FROM jsonb_array_elements((auth.postgrest_jwt_secret())::jsonb->'keys') k
 WHERE k->>'kid' = (SELECT kid FROM auth.signing_keys WHERE status = 'current') \gset
SELECT convert_from(:'secret'::bytea, 'UTF8') AS secret_text \gset
CREATE TABLE hs_sample AS SELECT t FROM hs_tokens LIMIT 20000;
SELECT auth.configure('{"jwt_signing_algorithm": "ES256"}') IS NOT NULL \g /dev/null
CREATE TABLE es_tokens AS SELECT auth.sign_jwt(jsonb_build_object('sub', gen_random_uuid(), 'role', 'authenticated', 'n', g)) AS t FROM generate_series(1, 20000) g;
SELECT auth.configure('{"jwt_signing_algorithm": "EdDSA"}') IS NOT NULL \g /dev/null
CREATE TABLE ed_tokens AS SELECT auth.sign_jwt(jsonb_build_object('sub', gen_random_uuid(), 'role', 'authenticated', 'n', g)) AS t FROM generate_series(1, 20000) g;
SELECT auth.configure('{"jwt_signing_algorithm": "HS256"}') IS NOT NULL \g /dev/null
-- both verifiers accept every token (a benchmark of failures would prove nothing)
SELECT (SELECT count(*) FROM hs_tokens WHERE sql_verify(t, :'secret') IS NULL)
     + (SELECT count(*) FROM hs_tokens, pgjwt.verify(t, :'secret_text') WHERE NOT valid) AS sql_rejects,
       (SELECT count(*) FROM hs_tokens WHERE auth.verify_jwt(t) IS NULL) AS auth_ext_rejects \gset
\if :sql_rejects
\echo 'the SQL baseline rejected tokens; the comparison would be meaningless'
\quit
\endif

WITH r AS (
  SELECT 1 AS o, 'HS256 verify, 100k distinct tokens' AS figure,
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM hs_tokens$$) / 100 AS auth_ext_us,
         pg_temp.bench(format($$SELECT count(*) FILTER (WHERE valid) FROM hs_tokens, pgjwt.verify(t, %L)$$, :'secret_text'), 3) / 100 AS baseline_us,
         'pgjwt verify() as published' AS baseline
  UNION ALL
  SELECT 2, 'HS256 verify, 100k distinct tokens',
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM hs_tokens$$) / 100,
         pg_temp.bench(format($$SELECT count(sql_verify(t, %L)) FROM hs_tokens$$, :'secret'), 3) / 100,
         'tighter pgcrypto SQL verify'
  UNION ALL
  SELECT 3, 'HS256 sign, 100k claims',
         pg_temp.bench($$SELECT count(auth.sign_jwt(jsonb_build_object('sub', g, 'role', 'authenticated'))) FROM generate_series(1, 100000) g$$) / 100,
         pg_temp.bench(format($$SELECT count(pgjwt.sign(json_build_object('sub', g, 'role', 'authenticated', 'exp', 4102444800), %L)) FROM generate_series(1, 100000) g$$, :'secret_text'), 3) / 100,
         'pgjwt sign() as published'
  UNION ALL
  SELECT 4, 'HS256 sign, 100k claims',
         pg_temp.bench($$SELECT count(auth.sign_jwt(jsonb_build_object('sub', g, 'role', 'authenticated'))) FROM generate_series(1, 100000) g$$) / 100,
         pg_temp.bench(format($$SELECT count(sql_sign(jsonb_build_object('sub', g, 'role', 'authenticated', 'exp', 4102444800), %L)) FROM generate_series(1, 100000) g$$, :'secret'), 3) / 100,
         'tighter pgcrypto SQL sign'
  UNION ALL
  -- The floor of any verifier that returns the claims as jsonb: PostgreSQL building that jsonb
  -- from the same five claims with its own jsonb_build_object, per row of the same table.
  SELECT 7, 'floor: jsonb_build_object of the same claims',
         pg_temp.bench($$SELECT count(jsonb_build_object('sub', t, 'role', 'authenticated', 'n', 1, 'iat', 1700000000, 'exp', 4102444800)) FROM hs_tokens$$) / 100,
         pg_temp.bench(format($$SELECT count(*) FILTER (WHERE valid) FROM hs_tokens, pgjwt.verify(t, %L)$$, :'secret_text'), 3) / 100,
         'pgjwt verify() as published'
  UNION ALL
  SELECT 5, 'ES256 verify, 20k tokens',
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM es_tokens$$) / 20,
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM hs_sample$$) / 20,
         'HS256 verify, same claims'
  UNION ALL
  SELECT 6, 'EdDSA verify, 20k tokens',
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM ed_tokens$$) / 20,
         pg_temp.bench($$SELECT count(auth.verify_jwt(t)) FROM hs_sample$$) / 20,
         'HS256 verify, same claims'
)
SELECT figure, round(auth_ext_us, 2) AS auth_ext_us_per_call, baseline, round(baseline_us, 2) AS baseline_us_per_call,
       CASE WHEN o <= 4 OR o = 7 THEN round(baseline_us / auth_ext_us, 1) || 'x faster'
            ELSE round(auth_ext_us / baseline_us, 1) || 'x the cost of HS256' END AS ratio
  FROM r ORDER BY o;
