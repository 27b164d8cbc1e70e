"""A streaming-replication standby: the Python half of tests/reliability/50-replica (which owns
the clusters).

    50-replica.py primary  STATE PRIMARY_URL               users, sessions, a key rotation, an RLS table
    50-replica.py standby  STATE PRIMARY_URL STANDBY_URL   what the standby must and must not do
    50-replica.py failover STATE STANDBY_URL               promote it (the primary is down) and carry on
    50-replica.py report   STATE SUMMARY

On the standby, everything that only reads works: verify_jwt (the keys replicated), jwks,
authenticate() and the helpers, get_user, sign_jwt, the claims of PostgREST's transaction with
RLS; key rotations, revocations, sign-outs and settings changed on the primary take effect there
after replay, also in a backend that had cached the old key ring. Everything that writes fails
with auth_ext's read-only error (PT503, "... read-only"), never an internal error or a crash.
"""
import json
import os
import sys
import time
import traceback

import psycopg

import suite

SUITE = "50-replica"
PASSWORD = "replica-password-1"
AREAS = [
    ("setup", "setup: primary, base backup, replay"),
    ("reads", "standby: reads, verification, helpers, RLS"),
    ("replay", "standby: rotations, revocations, sign-outs, settings replayed"),
    ("writes", "standby: every write fails with PT503 read-only"),
    ("health", "standby: connections and server survive"),
    ("failover", "promoted standby: sessions carry on, writes work"),
]


def load_state(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"cases": {}, "failures": []}


def save_state(path, state):
    with open(path, "w") as f:
        json.dump(state, f, indent=1)


class Cases:
    def __init__(self, state):
        self.state = state

    def check(self, area, name, ok, detail=""):
        suite.count(self.state["cases"], area, ok)
        print(f"{'ok  ' if ok else 'FAIL'} {area}: {name}" + ("" if ok else f": {detail}"), flush=True)
        if not ok:
            self.state["failures"].append(f"{area}: {name}: {detail}")
        return ok

    def case(self, area, name, fn):
        """fn() -> (ok, detail); an exception is a failed case with the error as detail."""
        try:
            ok, detail = fn()
        except psycopg.Error as exc:
            ok, detail = False, describe(exc)
        except Exception as exc:  # noqa: BLE001
            ok, detail = False, repr(exc)
        return self.check(area, name, ok, detail)


def describe(exc):
    if not isinstance(exc, psycopg.Error):
        return repr(exc)
    d = exc.diag
    return f"{exc.sqlstate} {d.message_primary or exc}" + (f" ({d.message_detail})" if d.message_detail else "")


def connect(url, **kw):
    return psycopg.connect(url, autocommit=True, connect_timeout=10, **kw)


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def attempt(conn, sql, *args):
    """(value, None) or (None, exception)."""
    try:
        return one(conn, sql, *args), None
    except psycopg.Error as exc:
        return None, exc


def in_tx(conn, steps):
    """Runs [(sql, args)] in one transaction; returns the last value, or raises."""
    with conn.transaction():
        value = None
        for sql, args in steps:
            cur = conn.execute(sql, args)
            value = cur.fetchone()[0] if cur.description else None
        return value


def tx_attempt(conn, steps):
    try:
        return in_tx(conn, steps), None
    except psycopg.Error as exc:
        return None, exc


def kid_of(token):
    import base64
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def wait_replay(primary, standby, timeout=30):
    target = one(primary, "SELECT pg_current_wal_lsn()::text")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if one(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target):
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------------------------


def phase_primary(state, cases, url):
    with connect(url + " dbname=postgres") as admin:
        admin.execute("DROP DATABASE IF EXISTS repl")
        admin.execute("CREATE DATABASE repl")
    p = connect(url + " dbname=repl")
    p.execute("CREATE EXTENSION auth_ext")
    p.execute("""SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1}')""")
    p.execute("""DO $$ BEGIN
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
                     CREATE ROLE authenticator LOGIN NOINHERIT;
                   END IF;
                 END $$""")
    p.execute("GRANT anon, authenticated, service_role TO authenticator")
    # a directly connected application's role: not trusted to set claims (superusers are)
    p.execute("""DO $$ BEGIN
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'repl_app') THEN
                     CREATE ROLE repl_app LOGIN;
                   END IF;
                 END $$""")
    p.execute("GRANT authenticated TO repl_app")
    p.execute("""CREATE TABLE public.todos (id serial PRIMARY KEY, user_id uuid NOT NULL, title text NOT NULL);
                 ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
                 CREATE POLICY own_todos ON public.todos TO authenticated USING (user_id = auth.uid());
                 GRANT SELECT ON public.todos TO authenticated""")
    users = {}
    for name in ("alice", "bob"):
        email = f"{name}@replica.example.com"
        s0 = one(p, "SELECT auth.sign_up(%s, %s, %s::jsonb)", email, PASSWORD, json.dumps({"name": name}))
        users[name] = {"email": email, "id": s0["user"]["id"], "s0": s0}
        for n in range(3 if name == "alice" else 2):
            p.execute("INSERT INTO public.todos (user_id, title) VALUES (%s, %s)", (s0["user"]["id"], f"{name} {n}"))
    k0 = kid_of(users["alice"]["s0"]["access_token"])
    k1 = one(p, "SELECT auth.create_signing_key('RS256')")
    p.execute("SELECT auth.set_signing_key_status(%s, 'current')", (k1,))
    for u in users.values():
        u["s1"] = one(p, "SELECT auth.sign_in_with_password(%s, %s)", u["email"], PASSWORD)
    cases.check("setup", "primary: 2 users, 2 sessions each, ES256 key rotated to RS256",
                kid_of(users["alice"]["s1"]["access_token"]) == k1 and k1 != k0)
    cases.check("setup", "primary: wal_level is replica",
                one(p, "SELECT current_setting('wal_level')") in ("replica", "logical"))
    state.update(users=users, k0=k0, k1=k1)
    p.close()


def expect_read_only(cases, s, name, steps):
    """A write on the standby: PT503 saying read-only, the connection still usable."""
    value, exc = tx_attempt(s, steps)
    if exc is None:
        cases.check("writes", name, False, f"succeeded on a standby: {str(value)[:200]}")
    else:
        msg = exc.diag.message_primary or ""
        cases.check("writes", name, exc.sqlstate == "PT503" and "read-only" in msg,
                    f"want PT503 '... read-only', got {describe(exc)}")
    alive, err = attempt(s, "SELECT 1")
    cases.check("health", f"connection usable after: {name}", alive == 1, describe(err) if err else alive)


def helpers(conn, steps):
    """The helpers after `steps` in one transaction."""
    return in_tx(conn, steps + [("SELECT jsonb_build_object('uid', auth.uid(), 'role', auth.role(), "
                                 "'email', auth.email(), 'jwt', auth.jwt())", ())])


def fails_with(exc, sqlstate, code=None):
    """For a case that expects an error: (ok, detail)."""
    if exc is None:
        return False, f"no error (want {sqlstate})"
    ok = exc.sqlstate == sqlstate and (code is None or exc.diag.message_detail == code)
    return ok, f"want {sqlstate} {code or ''}, got {describe(exc)}"


def expect_error(conn, steps, sqlstate, code=None):
    _, exc = tx_attempt(conn, steps)
    return fails_with(exc, sqlstate, code)


def phase_standby(state, cases, purl, surl):
    p = connect(purl + " dbname=repl")
    s = connect(surl + " dbname=repl")
    case = cases.case
    users = state["users"]
    alice, bob = users["alice"], users["bob"]
    k0, k1 = state["k0"], state["k1"]
    case("setup", "standby is in recovery (hot standby)", lambda: (one(s, "SELECT pg_is_in_recovery()") is True, ""))
    case("setup", "standby streams from the primary", lambda: (
        one(p, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") >= 1, ""))
    case("setup", "standby replayed the primary's WAL", lambda: (wait_replay(p, s), "timeout"))

    # --- reads -----------------------------------------------------------------------------
    def same(fn, conn=s):
        a, b = one(p, f"SELECT {fn}"), one(conn, f"SELECT {fn}")
        return a == b, f"{a} != {b}"

    for fn in ("auth.jwks()", "auth.signing_keys()", "auth.settings()", "auth.postgrest_jwt_secret()"):
        case("reads", f"{fn} on the standby equals the primary's", lambda fn=fn: same(fn))

    def jwks_kids(conn):
        return {k["kid"] for k in one(conn, "SELECT auth.jwks()")["keys"]}

    case("reads", "standby JWKS has the rotated RS256 key and the previous ES256 key",
         lambda: ({k0, k1} <= jwks_kids(s), jwks_kids(s)))
    for label, sess in (("previous key (ES256)", alice["s0"]), ("current key (RS256)", alice["s1"])):
        token = sess["access_token"]
        case("reads", f"verify_jwt on the standby: token signed on the primary by the {label}",
             lambda token=token: (one(s, "SELECT auth.verify_jwt(%s)", token) == one(p, "SELECT auth.verify_jwt(%s)", token), ""))
    t1 = alice["s1"]["access_token"]
    tampered = t1[:-6] + ("AAAAAA" if not t1.endswith("AAAAAA") else "BBBBBB")
    case("reads", "verify_jwt on the standby: tampered token is PT401 bad_jwt",
         lambda: expect_error(s, [("SELECT auth.verify_jwt(%s)", (tampered,))], "PT401", "bad_jwt"))
    case("reads", "verify_jwt on the standby: garbage is PT401 bad_jwt",
         lambda: expect_error(s, [("SELECT auth.verify_jwt('not.a.jwt')", ())], "PT401", "bad_jwt"))

    token = alice["s1"]["access_token"]
    want = {"uid": alice["id"], "role": "authenticated", "email": alice["email"]}

    def helpers_match(got, claims):
        return {k: got[k] for k in want} == want and got["jwt"] == claims, got

    case("reads", "authenticate(token) on the standby, then uid/role/email/jwt",
         lambda: helpers_match(helpers(s, [("SELECT auth.authenticate(%s)", (token,))]),
                               one(p, "SELECT auth.verify_jwt(%s)", token)))

    def get_user_ok(user, who):
        return (user["id"] == who["id"] and user["email"] == who["email"]
                and user["user_metadata"].get("name") == who["email"].split("@")[0]
                and len(user["identities"]) == 1), user

    case("reads", "get_user() on the standby after authenticate() (a read-only function)",
         lambda: get_user_ok(in_tx(s, [("SELECT auth.authenticate(%s)", (token,)), ("SELECT auth.get_user()", ())]), alice))
    # PostgREST's transaction: role and claims by set_config(..., true), then the query.
    claims = one(p, "SELECT auth.verify_jwt(%s)", token)
    postgrest = [("SELECT set_config('role', 'authenticated', true)", ()),
                 ("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))]
    case("reads", "PostgREST-style claims on the standby: uid/role/email/jwt",
         lambda: helpers_match(helpers(s, postgrest), claims))
    case("reads", "legacy request.jwt.claim.sub on the standby: auth.uid()",
         lambda: (in_tx(s, [("SELECT set_config('request.jwt.claim.sub', %s, true)", (alice["id"],)),
                            ("SELECT auth.uid()::text", ())]) == alice["id"], ""))
    case("reads", "RLS on the standby as authenticated with alice's claims: only her 3 rows",
         lambda: (lambda rows: (rows == ["alice 0", "alice 1", "alice 2"], rows))(
             in_tx(s, postgrest + [("SELECT array_agg(title ORDER BY title) FROM public.todos", ())])))
    bclaims = one(p, "SELECT auth.verify_jwt(%s)", bob["s1"]["access_token"])
    bob_tx = postgrest[:1] + [("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(bclaims),))]
    case("reads", "RLS on the standby, same connection, bob's claims: only his 2 rows",
         lambda: (lambda rows: (rows == ["bob 0", "bob 1"], rows))(
             in_tx(s, bob_tx + [("SELECT array_agg(title ORDER BY title) FROM public.todos", ())])))
    case("reads", "get_user() on the standby with PostgREST-style claims",
         lambda: get_user_ok(in_tx(s, bob_tx + [("SELECT auth.get_user()", ())]), bob))
    case("reads", "auth_api.get_user() on the standby as authenticated (PostgREST /rpc/get_user)",
         lambda: get_user_ok(in_tx(s, postgrest + [("SELECT auth_api.get_user()", ())]), alice))
    case("reads", "auth_api.jwks() on the standby as anon",
         lambda: (in_tx(s, [("SELECT set_config('role', 'anon', true)", ()), ("SELECT auth_api.jwks()", ())])
                  == one(p, "SELECT auth.jwks()"), ""))

    def minted_verifies(conn, kid):
        minted = one(conn, "SELECT auth.sign_jwt(%s::jsonb)",
                     json.dumps({"sub": alice["id"], "role": "authenticated", "aud": "authenticated"}))
        return kid_of(minted) == kid and one(p, "SELECT auth.verify_jwt(%s)", minted)["sub"] == alice["id"], kid_of(minted)

    case("reads", "sign_jwt on the standby signs with the current key; the primary verifies it",
         lambda: minted_verifies(s, k1))
    case("reads", "wrong password on the standby: PT400 invalid_credentials (no write needed)",
         lambda: expect_error(s, [("SELECT auth.sign_in_with_password(%s, 'a-wrong-password')", (alice["email"],))],
                              "PT400", "invalid_credentials"))
    case("reads", "unknown email on the standby: PT400 invalid_credentials (no write needed)",
         lambda: expect_error(s, [("SELECT auth.sign_in_with_password('nobody@replica.example.com', %s)", (PASSWORD,))],
                              "PT400", "invalid_credentials"))
    case("reads", "unknown refresh token on the standby: PT400 refresh_token_not_found",
         lambda: expect_error(s, [("SELECT auth.refresh_session(%s)", ("x" * 43,))], "PT400", "refresh_token_not_found"))
    case("reads", "get_user() without claims on the standby: PT401 no_authorization",
         lambda: expect_error(s, [("SELECT auth.get_user()", ())], "PT401", "no_authorization"))

    # --- changes on the primary after the base backup, replayed -----------------------------
    cached = connect(surl + " dbname=repl")  # a backend that caches the key ring before the changes
    one(cached, "SELECT auth.verify_jwt(%s)", alice["s1"]["access_token"])
    fresh = lambda: connect(surl + " dbname=repl")  # noqa: E731
    k2 = one(p, "SELECT auth.create_signing_key('EdDSA')")
    case("replay", "replayed: key created on the primary (standby state)", lambda: (wait_replay(p, s), "timeout"))
    for label, conn in (("cached backend", cached), ("new backend", fresh())):
        case("replay", f"{label}: the new standby key is in the standby's JWKS",
             lambda conn=conn: (k2 in jwks_kids(conn), jwks_kids(conn)))
    p.execute("SELECT auth.set_signing_key_status(%s, 'current')", (k2,))
    alice["s2"] = one(p, "SELECT auth.sign_in_with_password(%s, %s)", alice["email"], PASSWORD)
    t2 = alice["s2"]["access_token"]
    case("replay", "primary signs with the new EdDSA key", lambda: (kid_of(t2) == k2, kid_of(t2)))
    case("replay", "replayed: EdDSA key made current", lambda: (wait_replay(p, s), "timeout"))
    for label, conn in (("cached backend", cached), ("new backend", fresh())):
        case("replay", f"{label}: token signed with the key rotated in after the base backup verifies",
             lambda conn=conn: (one(conn, "SELECT auth.verify_jwt(%s)", t2) == one(p, "SELECT auth.verify_jwt(%s)", t2), ""))
        case("replay", f"{label}: sign_jwt on the standby now signs with the new key",
             lambda conn=conn: minted_verifies(conn, k2))
        case("replay", f"{label}: JWKS equals the primary's after the rotation", lambda conn=conn: same("auth.jwks()", conn))
    p.execute("SELECT auth.set_signing_key_status(%s, 'revoked')", (k0,))
    t0 = alice["s0"]["access_token"]
    case("replay", "replayed: original ES256 key revoked", lambda: (wait_replay(p, s), "timeout"))
    for label, conn in (("cached backend", cached), ("new backend", fresh())):
        case("replay", f"{label}: token of the revoked key is refused (PT401)",
             lambda conn=conn: expect_error(conn, [("SELECT auth.verify_jwt(%s)", (t0,))], "PT401", "bad_jwt"))
        case("replay", f"{label}: authenticate() refuses the revoked key's token (PT401)",
             lambda conn=conn: expect_error(conn, [("SELECT auth.authenticate(%s)", (t0,))], "PT401", "bad_jwt"))
        case("replay", f"{label}: revoked key gone from the standby's JWKS",
             lambda conn=conn: (k0 not in jwks_kids(conn), jwks_kids(conn)))

    carol = one(p, "SELECT auth.sign_up('carol@replica.example.com', %s, '{\"name\": \"carol\"}')", PASSWORD)
    carol_user = {"id": carol["user"]["id"], "email": carol["user"]["email"]}
    ct = carol["access_token"]
    case("replay", "replayed: user signed up after the base backup", lambda: (wait_replay(p, s), "timeout"))
    case("replay", "cached backend: token of the new user verifies",
         lambda: (one(cached, "SELECT auth.verify_jwt(%s)", ct)["sub"] == carol_user["id"], ""))
    case("replay", "cached backend: get_user() for the new user",
         lambda: get_user_ok(in_tx(cached, [("SELECT auth.authenticate(%s)", (ct,)), ("SELECT auth.get_user()", ())]), carol_user))

    in_tx(p, [("SELECT auth.authenticate(%s)", (ct,)), ("SELECT auth.sign_out('global')", ())])
    case("replay", "replayed: sign-out on the primary", lambda: (wait_replay(p, s), "timeout"))
    case("replay", "get_user() on the standby after sign-out on the primary: PT403 session_not_found",
         lambda: expect_error(cached, [("SELECT auth.authenticate(%s)", (ct,)), ("SELECT auth.get_user()", ())],
                              "PT403", "session_not_found"))

    # claims_trust = verified and revocable tokens, set on the primary, govern the standby.
    p.execute("""SELECT auth.configure('{"claims_trust": "verified", "revocable_access_tokens": true}')""")
    case("replay", "replayed: configure(claims_trust verified, revocable_access_tokens)",
         lambda: (wait_replay(p, s), "timeout"))
    for label, conn in (("cached backend", cached), ("new backend", fresh())):
        case("replay", f"{label}: settings equal the primary's after configure()", lambda conn=conn: same("auth.settings()", conn))
        case("replay", f"{label}: claims set by an untrusted role are refused (PT401)",
             lambda conn=conn: expect_error(conn, [("SET LOCAL SESSION AUTHORIZATION repl_app", ())] + postgrest
                                            + [("SELECT auth.uid()", ())], "PT401", "bad_jwt"))
        case("replay", f"{label}: authenticate() still sets claims the helpers accept",
             lambda conn=conn: helpers_match(helpers(conn, [("SELECT auth.authenticate(%s)", (token,))]), claims))
        case("replay", f"{label}: revocable tokens: the signed-out session's token is refused (PT401)",
             lambda conn=conn: expect_error(conn, [("SELECT auth.authenticate(%s)", (ct,))], "PT401", "bad_jwt"))
    authn = connect(surl.replace("user=postgres", "user=authenticator") + " dbname=repl")
    case("replay", "standby, trusted role authenticator: PostgREST-style claims accepted",
         lambda: helpers_match(helpers(authn, postgrest), claims))
    case("replay", "standby, authenticator as authenticated: RLS shows alice's 3 rows",
         lambda: (lambda n: (n == 3, n))(in_tx(authn, postgrest + [("SELECT count(*) FROM public.todos", ())])))
    case("replay", "standby, authenticator: get_user() with revocable tokens on (session lookup read-only)",
         lambda: get_user_ok(in_tx(authn, postgrest + [("SELECT auth.get_user()", ())]), alice))
    authn.close()

    # --- writes on the standby ---------------------------------------------------------------
    k3 = one(p, "SELECT auth.create_signing_key('ES256')")
    p.execute("""SELECT auth.configure('{"claims_trust": "any", "revocable_access_tokens": false}')""")
    case("replay", "replayed: settings back, standby key added", lambda: (wait_replay(p, s), "timeout"))
    auth_a = ("SELECT auth.authenticate(%s)", (t2,))
    claims2 = json.dumps(one(p, "SELECT auth.verify_jwt(%s)", t2))
    as_alice = postgrest[:1] + [("SELECT set_config('request.jwt.claims', %s, true)", (claims2,))]
    anon = [("SELECT set_config('role', 'anon', true)", ())]
    refresh = alice["s2"]["refresh_token"]
    for name, steps in [
        ("sign_up", [("SELECT auth.sign_up('dave@replica.example.com', %s)", (PASSWORD,))]),
        ("sign_up of an existing email", [("SELECT auth.sign_up(%s, %s)", (alice["email"], PASSWORD))]),
        ("sign_in_with_password (right password)", [("SELECT auth.sign_in_with_password(%s, %s)", (alice["email"], PASSWORD))]),
        ("refresh_session (a live token)", [("SELECT auth.refresh_session(%s)", (refresh,))]),
        ("refresh_session (an older token of the session)", [("SELECT auth.refresh_session(%s)", (alice["s1"]["refresh_token"],))]),
        ("sign_out('global')", [auth_a, ("SELECT auth.sign_out('global')::text", ())]),
        ("sign_out('local')", [auth_a, ("SELECT auth.sign_out('local')::text", ())]),
        ("sign_out('others')", [auth_a, ("SELECT auth.sign_out('others')::text", ())]),
        ("update_user(data)", [auth_a, ("SELECT auth.update_user('{\"data\": {\"plan\": \"pro\"}}')", ())]),
        ("update_user(password)", [auth_a, ("SELECT auth.update_user('{\"password\": \"another-password-2\"}')", ())]),
        ("configure", [("SELECT auth.configure('{\"jwt_exp\": 900}')", ())]),
        ("configure(jwt_signing_algorithm)", [("SELECT auth.configure('{\"jwt_signing_algorithm\": \"ES256\"}')", ())]),
        ("create_signing_key", [("SELECT auth.create_signing_key('ES256')", ())]),
        ("import_signing_key", [("SELECT auth.import_signing_key(%s, 'HS256')", ("s" * 40,))]),
        ("set_signing_key_status(standby -> current)", [("SELECT auth.set_signing_key_status(%s, 'current')", (k3,))]),
        ("set_signing_key_status(previous -> revoked)", [("SELECT auth.set_signing_key_status(%s, 'revoked')", (k1,))]),
        ("auth_api.sign_up as anon", anon + [("SELECT auth_api.sign_up('erin@replica.example.com', %s)", (PASSWORD,))]),
        ("auth_api.sign_in_with_password as anon",
         anon + [("SELECT auth_api.sign_in_with_password(%s, %s)", (alice["email"], PASSWORD))]),
        ("auth_api.refresh_session as anon", anon + [("SELECT auth_api.refresh_session(%s)", (refresh,))]),
        ("auth_api.update_user as authenticated",
         as_alice + [("SELECT auth_api.update_user('{\"data\": {\"plan\": \"pro\"}}')", ())]),
        ("auth_api.sign_out as authenticated", as_alice + [("SELECT auth_api.sign_out('local')::text", ())]),
    ]:
        expect_read_only(cases, s, f"{name} on the standby", steps)
    # The same mapping where Postgres itself refuses the write (25006): a READ ONLY transaction
    # on the primary. Tells a standby-only failure from a mapping that never worked.
    for name, sql, args in [
        ("sign_up", "SELECT auth.sign_up('grace@replica.example.com', %s)", (PASSWORD,)),
        ("sign_in_with_password", "SELECT auth.sign_in_with_password(%s, %s)", (bob["email"], PASSWORD)),
        ("refresh_session", "SELECT auth.refresh_session(%s)", (bob["s1"]["refresh_token"],)),
    ]:
        expect_read_only(cases, p, f"{name} in a READ ONLY transaction on the primary (control)",
                         [("SET TRANSACTION READ ONLY", ()), (sql, args)])
    # Nothing of the above reached the data: the primary knows nothing of dave or erin, and the
    # refresh token tried on the standby works on the primary (a client may retry there).
    case("health", "no user was created by the standby attempts", lambda: (one(
        p, "SELECT count(*) FROM auth.users WHERE email IN ('dave@replica.example.com', 'erin@replica.example.com')") == 0, ""))
    again, err = attempt(p, "SELECT auth.refresh_session(%s)", refresh)
    case("health", "the refresh token tried on the standby refreshes on the primary",
         lambda: (err is None and again["user"]["id"] == alice["id"], describe(err) if err else again))
    if err is None:
        alice["s3"] = again
    case("health", "standby still in recovery after all the attempts", lambda: (one(s, "SELECT pg_is_in_recovery()") is True, ""))
    case("health", "standby still replays", lambda: (wait_replay(p, s), "timeout"))
    state.update(k2=k2, k3=k3)
    for c in (p, s, cached):
        c.close()


def phase_failover(state, cases, surl):
    s = connect(surl + " dbname=repl")
    case = cases.case
    alice = state["users"]["alice"]
    case("failover", "pg_promote() on the standby", lambda: (one(s, "SELECT pg_promote(true, 60)") is True, ""))
    case("failover", "no longer in recovery", lambda: (one(s, "SELECT pg_is_in_recovery()") is False, ""))
    latest = alice.get("s3", alice.get("s2", alice["s1"]))

    def refresh_twice():
        got = one(s, "SELECT auth.refresh_session(%s)", latest["refresh_token"])
        again = one(s, "SELECT auth.refresh_session(%s)", got["refresh_token"])
        return got["user"]["id"] == alice["id"] and again["user"]["id"] == alice["id"], ""

    case("failover", "the session's latest refresh token refreshes on the promoted standby, and rotates", refresh_twice)
    for label, key in (("RS256", "s1"), ("EdDSA", "s2")):
        if key in alice:
            case("failover", f"access token signed by the old primary ({label}) verifies",
                 lambda key=key: (one(s, "SELECT auth.verify_jwt(%s)", alice[key]["access_token"])["sub"] == alice["id"], ""))
    case("failover", "sign-in on the promoted standby, signed by the replicated current key",
         lambda: (lambda t: (kid_of(t) == state.get("k2"), kid_of(t)))(
             one(s, "SELECT auth.sign_in_with_password(%s, %s)", alice["email"], PASSWORD)["access_token"]))

    def signup_and_update():
        new = one(s, "SELECT auth.sign_up('frank@replica.example.com', %s)", PASSWORD)
        user = in_tx(s, [("SELECT auth.authenticate(%s)", (new["access_token"],)),
                         ("SELECT auth.update_user('{\"data\": {\"plan\": \"pro\"}}')", ())])
        return user["user_metadata"].get("plan") == "pro", user

    case("failover", "sign-up and update_user on the promoted standby", signup_and_update)
    case("failover", "create_signing_key on the promoted standby",
         lambda: (bool(one(s, "SELECT auth.create_signing_key('ES256')")), ""))
    s.close()


def report(state, summary):
    return suite.report_state(SUITE, AREAS, state, summary, "failures:", 40)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    state = load_state(path)
    cases = Cases(state)
    code = 0
    try:
        if cmd == "primary":
            phase_primary(state, cases, sys.argv[3])
        elif cmd == "standby":
            phase_standby(state, cases, sys.argv[3], sys.argv[4])
        elif cmd == "failover":
            phase_failover(state, cases, sys.argv[3])
        elif cmd == "report":
            code = report(state, sys.argv[3] if len(sys.argv) > 3 else "")
        else:
            sys.exit(f"unknown command {cmd}")
    except Exception as exc:  # noqa: BLE001 - an unexpected error is a failed case, then stop
        traceback.print_exc()
        area = {"primary": "setup", "standby": "reads", "failover": "failover"}.get(cmd, "setup")
        cases.check(area, f"{cmd} phase ran to the end", False, describe(exc))
        code = 1
    if cmd != "report":
        save_state(path, state)
    sys.exit(code)


if __name__ == "__main__":
    main()
