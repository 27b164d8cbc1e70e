"""Upgrades: a database made with the previous release keeps working after ALTER EXTENSION UPDATE.

For every earlier version with an install script in sql/released/ (auth_ext--X.sql) and an upgrade path
to the current one: install X, sign users up and in, rotate a key, then ALTER EXTENSION auth_ext
UPDATE and check that users, sessions, refresh tokens, access tokens and keys all still work, and
that the updated database has exactly the objects, definitions and grants of a fresh install of
the current version (so an upgrade script that forgets something fails here).
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import re
import sys

import psycopg

PORT = os.environ["AUTH_EXT_TEST_PORT"]
ROOT = os.environ["ROOT"]
SUMMARY = os.environ.get("AUTH_EXT_SUMMARY")
BASE = f"host=127.0.0.1 port={PORT} user=postgres"
results = {}


def check(area, name, ok, detail=""):
    tried, passed = results.get(area, (0, 0))
    results[area] = (tried + 1, passed + (1 if ok else 0))
    print(f"{'ok  ' if ok else 'FAIL'} {area}: {name}" + ("" if ok else f"  ({detail})"))


def connect(db):
    return psycopg.connect(f"{BASE} dbname={db}", autocommit=True)


def fresh_db(name, version=None):
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    conn = connect(name)
    conn.execute("CREATE EXTENSION auth_ext" + (f" VERSION '{version}'" if version else ""))
    conn.execute("""SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1}')""")
    return conn


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


# Everything the extension defines, described by name and definition (never by OID), so that
# two databases can be compared.
CATALOG = {
    "functions": """
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               jsonb_build_object('result', pg_get_function_result(p.oid), 'src', p.prosrc, 'bin', p.probin,
                   'strict', p.proisstrict, 'volatile', p.provolatile, 'secdef', p.prosecdef,
                   'parallel', p.proparallel, 'config', p.proconfig, 'acl', p.proacl::text[],
                   'support', p.prosupport::regproc::text, 'args', pg_get_function_arguments(p.oid),
                   'body', CASE WHEN p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
                                THEN p.prosrc END)::text
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname IN ('auth', 'auth_api')""",
    "relations": """
        SELECT n.nspname || '.' || c.relname,
               jsonb_build_object('kind', c.relkind, 'acl', c.relacl::text[], 'rls', c.relrowsecurity,
                   'force_rls', c.relforcerowsecurity, 'options', c.reloptions)::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('auth', 'auth_api') AND c.relkind IN ('r', 'v', 'S', 'p', 'm')""",
    "columns": """
        SELECT c.relname || '.' || a.attname,
               jsonb_build_object('type', format_type(a.atttypid, a.atttypmod), 'notnull', a.attnotnull,
                   'default', pg_get_expr(d.adbin, d.adrelid), 'generated', a.attgenerated,
                   'acl', a.attacl::text[], 'position', a.attnum)::text
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname IN ('auth', 'auth_api') AND c.relkind IN ('r', 'v', 'p') AND a.attnum > 0
           AND NOT a.attisdropped""",
    "indexes": """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'auth'""",
    "constraints": """
        SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'auth'::regnamespace""",
    "triggers": """
        SELECT tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
          FROM pg_trigger WHERE NOT tgisinternal
           AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'auth'::regnamespace)""",
    "policies": """
        SELECT schemaname || '.' || tablename || '.' || policyname,
               jsonb_build_object('cmd', cmd, 'roles', roles, 'qual', qual, 'check', with_check)::text
          FROM pg_policies WHERE schemaname = 'auth'""",
    "types": """
        SELECT t.typname, coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
          FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE t.typnamespace = 'auth'::regnamespace AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
         GROUP BY t.typname""",
    "schemas": """
        SELECT nspname, jsonb_build_object('acl', nspacl::text[], 'owner', nspowner::regrole::text)::text
          FROM pg_namespace WHERE nspname IN ('auth', 'auth_api')""",
    "extension members": """
        SELECT pg_describe_object(classid, objid, objsubid), 'member'
          FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
           AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'auth_ext')""",
    "dumped tables": """
        SELECT c::regclass::text, 'dumped'
          FROM pg_extension, unnest(extconfig) c WHERE extname = 'auth_ext'""",
}


def describe(conn):
    return {kind: dict(conn.execute(sql).fetchall()) for kind, sql in CATALOG.items()}


def compare(old, new, version):
    for kind in CATALOG:
        a, b = old[kind], new[kind]
        missing = sorted(set(b) - set(a))
        extra = sorted(set(a) - set(b))
        changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
        check("schema after update", f"{kind}: {len(b)} as in a fresh install",
              not (missing or extra or changed),
              f"missing {missing[:5]} extra {extra[:5]} changed "
              + "; ".join(f"{k}: {a[k]} -> {b[k]}" for k in changed[:3]))


def upgrade_from(version, current):
    conn = fresh_db("upgrade_old", version)
    check("data kept", f"{version} installs", one(conn, "SELECT extversion FROM pg_extension WHERE extname = 'auth_ext'") == version)
    users = {}
    for name in ("alice", "bob"):
        email = f"{name}@example.com"
        s = one(conn, "SELECT auth.sign_up(%s, 'long-enough-password')", email)
        users[name] = {"email": email, "first": s}
    # a key rotation under the old version: tokens from both keys must survive the update
    kid = one(conn, "SELECT auth.create_signing_key('ES256')")
    conn.execute("SELECT auth.set_signing_key_status(%s, 'current')", (kid,))
    for u in users.values():
        u["second"] = one(conn, "SELECT auth.sign_in_with_password(%s, 'long-enough-password')", u["email"])
    # A rotation as releases before 0.4.0 made it: the child derived with the stored secret itself
    # (0.4.0 derives a chain key from it with HKDF). After the update the child must refresh, and
    # a retry of its parent within the reuse interval must still find the current token.
    conn.execute("""SELECT auth.configure('{"refresh_token_reuse_interval": 600}')""")
    carol = one(conn, "SELECT auth.sign_up('carol@example.com', 'long-enough-password')")
    master = one(conn, "SELECT refresh_token_key FROM auth.config")
    t0 = carol["refresh_token"]
    t1 = base64.urlsafe_b64encode(hmac.new(bytes(master), b"auth_ext refresh token child v1\0" + t0.encode(),
                                           hashlib.sha256).digest()).rstrip(b"=").decode()
    sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
    conn.execute("""WITH old AS (UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
                                  WHERE token = %s RETURNING user_id, session_id)
                    INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
                    SELECT '00000000-0000-0000-0000-000000000000', %s, user_id, false, %s, session_id FROM old""",
                 (sha(t0), sha(t1), sha(t0)))
    before = {
        "jwks": one(conn, "SELECT auth.jwks()"),
        "keys": one(conn, "SELECT auth.signing_keys()"),
        "settings": one(conn, "SELECT auth.settings()"),
        "counts": one(conn, "SELECT jsonb_build_object('users', (SELECT count(*) FROM auth.users), "
                            "'sessions', (SELECT count(*) FROM auth.sessions), "
                            "'tokens', (SELECT count(*) FROM auth.refresh_tokens))"),
    }

    conn.execute("ALTER EXTENSION auth_ext UPDATE")
    conn.close()
    conn = connect("upgrade_old")  # a new backend, as after a deployment
    check("data kept", f"ALTER EXTENSION UPDATE {version} -> {current}",
          one(conn, "SELECT extversion FROM pg_extension WHERE extname = 'auth_ext'") == current)
    for what in ("jwks", "keys", "settings", "counts"):
        query = {"jwks": "SELECT auth.jwks()", "keys": "SELECT auth.signing_keys()", "settings": "SELECT auth.settings()",
                 "counts": "SELECT jsonb_build_object('users', (SELECT count(*) FROM auth.users), "
                           "'sessions', (SELECT count(*) FROM auth.sessions), "
                           "'tokens', (SELECT count(*) FROM auth.refresh_tokens))"}[what]
        after = one(conn, query)
        if what == "settings" and version < "0.4.0":
            # the one deliberate change: claims_trust becomes 'verified' (README, "Upgrading")
            check("data kept", "claims_trust is 'verified' after the update", after["claims_trust"] == "verified")
            after = {**after, "claims_trust": before[what]["claims_trust"]}
        check("data kept", f"{what} unchanged by the update", after == before[what])
    t2 = one(conn, "SELECT auth.refresh_session(%s)", t1)["refresh_token"]
    check("data kept", "a refresh token rotated before the update refreshes after it", bool(t2))
    retry = one(conn, "SELECT auth.refresh_session(%s)", t0)
    check("data kept", "a retry across the update (old link, then new) finds the current token",
          retry["refresh_token"] == t2, retry.get("refresh_token"))
    for name, u in users.items():
        for which in ("first", "second"):
            s = u[which]
            claims = one(conn, "SELECT auth.verify_jwt(%s)", s["access_token"])
            check("data kept", f"{name}'s {which} access token verifies", claims["sub"] == s["user"]["id"])
            with conn.transaction():
                conn.execute("SELECT auth.authenticate(%s)", (s["access_token"],))
                check("data kept", f"{name}'s {which} token: authenticate() then auth.uid()",
                      str(one(conn, "SELECT auth.uid()")) == s["user"]["id"])
                check("data kept", f"{name}'s {which} token: get_user()",
                      one(conn, "SELECT auth.get_user()->>'email'") == u["email"])
            r = one(conn, "SELECT auth.refresh_session(%s)", s["refresh_token"])
            check("data kept", f"{name}'s {which} refresh token refreshes the same session",
                  one(conn, "SELECT auth.verify_jwt(%s)->>'session_id'", r["access_token"])
                  == one(conn, "SELECT auth.verify_jwt(%s)->>'session_id'", s["access_token"]))
        s = one(conn, "SELECT auth.sign_in_with_password(%s, 'long-enough-password')", u["email"])
        check("data kept", f"{name} signs in with the password set under {version}", bool(s["access_token"]))
    try:
        conn.execute("SELECT auth.sign_in_with_password('alice@example.com', 'wrong-password')")
        check("data kept", "a wrong password is still refused", False, "accepted")
    except psycopg.Error as e:
        check("data kept", "a wrong password is still refused", e.sqlstate == "PT400", e.sqlstate)
    fresh = fresh_db("upgrade_fresh")
    compare(describe(conn), describe(fresh), version)
    conn.close()
    fresh.close()
    with connect("postgres") as c:
        c.execute("DROP DATABASE upgrade_old")
        c.execute("DROP DATABASE upgrade_fresh")


def main():
    control = open(os.path.join(ROOT, "Cargo.toml")).read()
    current = re.search(r'^version = "([^"]+)"', control, re.M).group(1)
    scripts = sorted(glob.glob(os.path.join(ROOT, "sql", "released", "auth_ext--*.sql")))
    installs = [re.match(r"auth_ext--([^-]+)\.sql$", os.path.basename(s)) for s in scripts]
    versions = [m.group(1) for m in installs if m and m.group(1) != current]
    paths = {os.path.basename(s) for s in scripts}
    for version in versions:
        check("paths", f"an upgrade script leads from {version} to {current}",
              any(p.startswith(f"auth_ext--{version}--") for p in paths))
        upgrade_from(version, current)
    if not versions:
        check("paths", "an earlier release's install script is kept in sql/released/", False, "none found")
    for area, (tried, passed) in results.items():
        print(f"upgrade: {area}: {tried} tried, {passed} passed, {tried - passed} failed")
        if SUMMARY:
            with open(SUMMARY, "a") as f:
                f.write(f"upgrade\t{area}\t{tried}\t{passed}\t{tried - passed}\n")
    sys.exit(0 if all(t == p for t, p in results.values()) else 1)


main()
