-- auth.sign_jwt, auth.verify_jwt and auth.configure (settings, the adopted jwt_secret).
\set VERBOSITY verbose
\set SHOW_CONTEXT never
BEGIN;
-- sign_jwt fills iat and exp; verify_jwt returns the claims
SELECT auth.sign_jwt('{"role": "service_role", "iss": "supabase"}') AS t \gset
SELECT c->>'role' AS role, (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime FROM auth.verify_jwt(:'t') c;
SELECT auth.sign_jwt('{"role": "anon", "exp": 1}') AS expired \gset

-- verify_jwt builds the claims' jsonb itself (src/jsonb.rs): it equals what jsonb_in makes of
-- the same JSON, in value, in text, in key order (every lookup finds its key) and when nested
SELECT '{"zz": 1, "a": [1, -2.5, 1e3, 18446744073709551615, {"y": null, "x": true}],
         "bb": {"é": "\"q\"", "ab": "tab\t", "aa": {}, "b": [[]]}, "b": [], "n": -9007199254740993,
         "f": 0.1, "s": "ünï", "ba": false, "iat": 1700000000, "exp": 4102444800}' AS c \gset
WITH v AS (SELECT auth.verify_jwt(auth.sign_jwt(:'c')) AS v, :'c'::jsonb AS c)
SELECT v = c AS equal, v::text = c::text AS same_text,
       (SELECT bool_and(v -> k = c -> k AND v ? k) FROM jsonb_object_keys(c) k) AS every_key_found,
       v #>> '{bb,é}' = '"q"' AND v #> '{bb,aa}' = '{}' AND v #> '{a,4,x}' = 'true' AS nested_found,
       v @> c AND c @> v AS contains_both_ways
  FROM v;

-- everything invalid raises PT401 bad_jwt saying which check failed, without echoing the token
SAVEPOINT s;
SELECT auth.verify_jwt(:'expired');
ROLLBACK TO s;
SELECT auth.verify_jwt(split_part(:'t', '.', 1) || '.' || split_part(:'t', '.', 2) || '.' || 'AAAA' || substr(split_part(:'t', '.', 3), 5));
ROLLBACK TO s;
-- a payload swapped for another token's keeps the first signature
SELECT auth.verify_jwt(split_part(:'t', '.', 1) || '.' || split_part(auth.sign_jwt('{"role": "postgres"}'), '.', 2) || '.' || split_part(:'t', '.', 3));
ROLLBACK TO s;
-- alg none
SELECT auth.verify_jwt('eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiZXhwIjo5OTk5OTk5OTk5fQ.');
ROLLBACK TO s;
SELECT auth.verify_jwt('');
ROLLBACK TO s;
SELECT auth.verify_jwt(NULL);
ROLLBACK TO s;
SELECT auth.verify_jwt('garbage');
ROLLBACK TO s;
SELECT auth.verify_jwt('a.b.c');
ROLLBACK TO s;
SELECT auth.verify_jwt(repeat('A', 20000));
ROLLBACK TO s;
SELECT auth.sign_jwt('[1]');
ROLLBACK TO s;
SELECT auth.sign_jwt(jsonb_build_object('big', repeat('x', 13000)));
ROLLBACK TO s;

-- only the owner and service_role may mint tokens; anyone may verify
\set VERBOSITY default
SET LOCAL ROLE anon;
SELECT auth.sign_jwt('{"role": "service_role"}');
ROLLBACK TO s;
SET LOCAL ROLE authenticated;
SELECT auth.sign_jwt('{"role": "service_role"}');
ROLLBACK TO s;
SET LOCAL ROLE service_role;
SELECT auth.sign_jwt('{"role": "anon"}') IS NOT NULL AS service_role_can_sign;
SET LOCAL ROLE anon;
SELECT auth.verify_jwt(:'t')->>'role' AS anon_can_verify;
SELECT auth.configure('{"jwt_exp": 60}');
ROLLBACK TO s;
\set VERBOSITY verbose

-- configure: validation of names and types
SELECT auth.configure('{"jwt_exp": "3600"}');
ROLLBACK TO s;
SELECT auth.configure('{"no_such_setting": true}');
ROLLBACK TO s;
SELECT auth.configure('{"disable_signup": "yes"}');
ROLLBACK TO s;
SELECT auth.configure('[]');
ROLLBACK TO s;
SELECT auth.configure(NULL);
ROLLBACK TO s;
SELECT auth.configure('{"jwt_secret": "too-short"}');
ROLLBACK TO s;
SELECT c->'jwt_exp' AS jwt_exp, c->'jwt_aud' AS jwt_aud, c ? 'jwt_secret' AS shows_secret
  FROM auth.configure('{"jwt_exp": 900, "jwt_aud": "my-app"}') c;
SELECT (auth.verify_jwt(auth.sign_jwt('{}'))->>'exp')::bigint - extract(epoch FROM now())::bigint BETWEEN 890 AND 910 AS new_lifetime_used;

-- adopting a PostgREST secret and key rotation: see keys.sql
ROLLBACK;
