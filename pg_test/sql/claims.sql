-- auth.uid(), auth.role(), auth.email(), auth.jwt(): Supabase's semantics, and RLS with them.
\set VERBOSITY verbose
\set SHOW_CONTEXT never
-- declared STABLE and PARALLEL SAFE, callable by everyone
SELECT p.proname, p.provolatile, p.proparallel, has_function_privilege('anon', p.oid, 'EXECUTE') AS anon_can_call
  FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace AND p.proname IN ('uid', 'role', 'email', 'jwt')
 ORDER BY p.proname;

-- nothing set: all NULL
SELECT auth.uid(), auth.role(), auth.email(), auth.jwt();

BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11", "role": "authenticated", "email": "ann@example.com", "custom": [1, 2]}', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role(), auth.email(), auth.jwt()->'custom' AS custom;
-- the cache follows the setting when it changes inside a transaction
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000002", "role": "service_role"}', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role(), auth.email();
-- empty strings count as missing
SELECT set_config('request.jwt.claims', '{"sub": "", "role": "", "email": ""}', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role(), auth.email();
-- anonymous PostgREST requests carry only a role
SELECT set_config('request.jwt.claims', '{"role": "anon"}', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role();
-- after the transaction PostgREST leaves '' behind, which is "no claims"
SELECT set_config('request.jwt.claims', '', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role(), auth.jwt();
ROLLBACK;

-- the legacy per-claim settings are read when request.jwt.claims is empty
BEGIN;
SELECT set_config('request.jwt.claim.sub', '5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11', true) IS NOT NULL AS set,
       set_config('request.jwt.claim.role', 'authenticated', true) IS NOT NULL AS set2,
       set_config('request.jwt.claim.email', 'legacy@example.com', true) IS NOT NULL AS set3;
SELECT auth.uid(), auth.role(), auth.email();
-- request.jwt.claims wins when both are set
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000003", "role": "anon"}', true) IS NOT NULL AS set;
SELECT auth.uid(), auth.role(), auth.email();
ROLLBACK;

-- malformed claims are errors, not silent NULLs
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "not-a-uuid"}', true) IS NOT NULL AS set;
SELECT auth.role();
SAVEPOINT s;
SELECT auth.uid();
ROLLBACK TO s;
SELECT set_config('request.jwt.claims', '{not json', true) IS NOT NULL AS set;
SELECT auth.role();
ROLLBACK TO s;
SELECT set_config('request.jwt.claims', '[1, 2]', true) IS NOT NULL AS set;
SELECT auth.jwt();
ROLLBACK;

-- RLS: a policy with the bare auth.uid() gives each user their rows, anon none, service_role all
BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TABLE notes (id int PRIMARY KEY, user_id uuid NOT NULL, body text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON notes TO authenticated USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
GRANT SELECT, INSERT ON notes TO anon, authenticated, service_role;
INSERT INTO notes SELECT g, CASE WHEN g % 3 = 0 THEN '5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11'::uuid
                                 ELSE '00000000-0000-4000-8000-000000000002'::uuid END, 'note ' || g
  FROM generate_series(1, 9) g;
SET LOCAL role authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11", "role": "authenticated"}', true) IS NOT NULL AS set;
SELECT id, body FROM notes ORDER BY id;
-- the bare auth.uid() in the policy is planned as an init-plan: evaluated once, not per row
EXPLAIN (COSTS OFF) SELECT count(*) FROM notes;
-- and in other queries that read rows; a query without FROM calls it once anyway
EXPLAIN (COSTS OFF) SELECT auth.role(), auth.email(), auth.jwt()->>'role' FROM notes WHERE user_id <> auth.uid();
EXPLAIN (COSTS OFF) SELECT auth.uid(), auth.role() = 'authenticated';
SELECT auth.uid(), auth.role() = 'authenticated' AS is_authenticated, auth.jwt()->>'role' AS role;
SAVEPOINT s;
\set VERBOSITY default
INSERT INTO notes VALUES (100, '00000000-0000-4000-8000-000000000002', 'writing as someone else');
\set VERBOSITY verbose
ROLLBACK TO s;
SET LOCAL role anon;
SELECT set_config('request.jwt.claims', '{"role": "anon"}', true) IS NOT NULL AS set;
SELECT count(*) AS anon_sees FROM notes;
SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role": "service_role"}', true) IS NOT NULL AS set;
SELECT count(*) AS service_role_sees FROM notes;
-- an app role with no rights on schema auth can still be subject to a policy using the helpers
RESET ROLE;
CREATE ROLE reporter;
CREATE POLICY reporters ON notes TO reporter USING (user_id = auth.uid());
GRANT SELECT ON notes TO reporter;
SET LOCAL role reporter;
SELECT has_schema_privilege('auth', 'USAGE') AS reporter_uses_auth;
SELECT set_config('request.jwt.claims', '{"sub": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11"}', true) IS NOT NULL AS set;
SELECT count(*) AS reporter_sees FROM notes;
ROLLBACK;

-- outside a planner (COPY evaluates defaults directly) the helper is called as it is
BEGIN;
CREATE TABLE stamped (id int, owner uuid DEFAULT auth.uid());
SELECT set_config('request.jwt.claims', '{"sub": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11"}', true) IS NOT NULL AS set;
COPY stamped (id) FROM stdin;
1
\.
INSERT INTO stamped (id) VALUES (2);
SELECT id, owner FROM stamped ORDER BY id;
-- in PL/pgSQL, prepared plans and across settings changes the value follows the claims
CREATE FUNCTION pg_temp.whoami() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN RETURN auth.uid(); END $$;
-- (a prepared plan with the init-plan re-evaluates it at each execution)
PREPARE mine AS SELECT count(*) AS mine FROM stamped WHERE owner = auth.uid();
SELECT pg_temp.whoami() AS plpgsql;
EXECUTE mine;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000002"}', true) IS NOT NULL AS set;
SELECT pg_temp.whoami() AS plpgsql;
EXECUTE mine;
DEALLOCATE mine;
ROLLBACK;

-- a fresh backend whose first use of the helpers is inside a parallel worker: the settings and
-- keys load with read-only queries (no transaction id may be assigned there)
\c
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SELECT set_config('request.jwt.claims', '{"sub": "5f1c6a52-3a52-4a9e-9c43-0f3c1f9e4a11", "role": "authenticated"}', false) IS NOT NULL AS set;
SELECT count(*) AS rows, min(auth.uid()::text) AS uid FROM generate_series(1, 10) g WHERE auth.role() = 'authenticated';
RESET force_parallel_mode;
SELECT set_config('request.jwt.claims', '', false) = '' AS cleared;
