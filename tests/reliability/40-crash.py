"""Crash safety of auth_ext: the Python half of tests/reliability/40-crash (which owns the cluster).

    40-crash.py load  STATE READY URL ROUND   concurrent sign-ups, sign-ins and refreshes until the
                                              server dies under us; every acknowledged result (the
                                              call returned, so it committed) goes into STATE
    40-crash.py check STATE URL ROUND         after crash recovery: everything in STATE survived and
                                              no row is half-written; the cases go into STATE too
    40-crash.py report STATE SUMMARY          prints the cases and appends the summary lines

What a client can know: a call that returned is committed (autocommit, synchronous_commit on).
A call whose answer never came (the server died) may or may not have committed: a sign-up in
doubt must then be all or nothing, and for a refresh in doubt the token the client presented
must still work: either it is still the current token, or it is the parent of the token that
committed, and the parent of the current token may always retry (the extension hands back the
same child, derived from the parent). So the strict check is: the latest acknowledged refresh
token of every acknowledged session refreshes.
"""
import base64
import hashlib
import json
import os
import random
import sys
import threading
import time

import psycopg
from psycopg import errors

import suite

SUITE = "40-crash"
THREADS = 7
# The load stops by itself after this long if the server was never killed (a broken harness).
MAX_LOAD_SECONDS = 60

AREAS = [
    ("load", "load: acknowledged operations, no unexpected error"),
    ("recovery", "crash recovery: server back after SIGKILL"),
    ("users", "acknowledged users exist, complete, sign in; in-doubt sign-ups all or nothing"),
    ("sessions_exist", "acknowledged sessions exist"),
    ("refresh", "latest acknowledged refresh token refreshes"),
    ("access", "acknowledged access tokens verify"),
    ("integrity", "no orphan or half-written rows, indexes intact"),
]


def claims_of(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def load_state(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"users": {}, "sessions": {}, "access": [], "cases": {}, "failures": [], "in_doubt": []}


def save_state(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


def count(state, area, ok, detail=None):
    if not suite.count(state["cases"], area, ok):
        state["failures"].append(f"{area}: {detail}")
        print(f"FAIL {area}: {detail}", flush=True)


def lost_connection(exc, conn):
    """The server went away (the kill), as opposed to an error auth_ext or Postgres raised."""
    if conn.closed or conn.broken:
        return True
    if isinstance(exc, (errors.AdminShutdown, errors.CrashShutdown, errors.CannotConnectNow)):
        return True
    return isinstance(exc, psycopg.OperationalError) and getattr(exc, "sqlstate", None) is None


def record_session(state, lock, session, email):
    claims = claims_of(session["access_token"])
    sid = claims["session_id"]
    with lock:
        state["sessions"][sid] = {
            "user_id": session["user"]["id"],
            "email": email,
            "tokens": [session["refresh_token"]],
        }
        state["access"].append([session["access_token"], session["user"]["id"], sid])
    return sid


# ---------------------------------------------------------------------------------------------
# load


def load(state_path, ready_path, url, rnd):
    state = load_state(state_path)
    lock = threading.Lock()
    stop = threading.Event()
    # Sessions from earlier rounds keep being refreshed: each belongs to one thread, so the client
    # side never races itself on one session and always knows which token is the latest.
    owned = [[] for _ in range(THREADS)]
    for n, sid in enumerate(sorted(state["sessions"])):
        owned[n % THREADS].append(sid)
    emails = list(state["users"])
    stats = {"signup": 0, "signin": 0, "refresh": 0, "in_doubt": 0, "unexpected": 0}
    unexpected = []

    conns = [psycopg.connect(url, autocommit=True, connect_timeout=10) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS + 1)

    def worker(i):
        conn = conns[i]
        rng = random.Random(f"{rnd}-{i}-{time.time()}")
        mine = owned[i]
        n = 0
        barrier.wait()
        while not stop.is_set():
            n += 1
            roll = rng.random()
            if roll < 0.35 or (roll < 0.6 and not emails) or (roll >= 0.6 and not mine):
                op = "signup"
                email = f"r{rnd}-t{i}-{n}-{rng.randrange(10**9)}@crash.example.com"
                password = f"pw-{rng.randrange(10**12)}-long"
                sql, args = "SELECT auth.sign_up(%s, %s)", (email, password)
            elif roll < 0.6:
                op = "signin"
                with lock:
                    email = rng.choice(emails)
                    password = state["users"][email]["password"]
                sql, args = "SELECT auth.sign_in_with_password(%s, %s)", (email, password)
            else:
                op = "refresh"
                sid = rng.choice(mine)
                with lock:
                    token = state["sessions"][sid]["tokens"][-1]
                sql, args = "SELECT auth.refresh_session(%s)", (token,)
            try:
                session = conn.execute(sql, args).fetchone()[0]
            except Exception as exc:  # noqa: BLE001 - classified below
                if lost_connection(exc, conn):
                    with lock:
                        stats["in_doubt"] += 1
                        if op == "signup":
                            state["in_doubt"].append({"email": email, "password": password})
                        elif op == "refresh":
                            state["sessions"][sid]["in_doubt"] = True
                    return
                with lock:
                    stats["unexpected"] += 1
                    unexpected.append(f"{op}: {describe(exc)}")
                continue
            # Acknowledged: the call returned, so it committed.
            with lock:
                stats[op] += 1
                if op == "signup":
                    state["users"][email] = {"id": session["user"]["id"], "password": password}
                    emails.append(email)
            if op in ("signup", "signin"):
                mine.append(record_session(state, lock, session, email))
            else:
                claims = claims_of(session["access_token"])
                with lock:
                    s = state["sessions"][sid]
                    if claims.get("session_id") != sid:
                        unexpected.append(f"refresh of {sid} answered for session {claims.get('session_id')}")
                        stats["unexpected"] += 1
                    s["tokens"] = s["tokens"][-1:] + [session["refresh_token"]]
                    state["access"].append([session["access_token"], s["user_id"], sid])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.time()
    with open(ready_path, "w") as f:
        f.write("ready\n")
    for t in threads:
        t.join(max(0.1, MAX_LOAD_SECONDS - (time.time() - started)))
    stop.set()
    for t in threads:
        t.join(10)
    for c in conns:
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass
    elapsed = time.time() - started
    acked = stats["signup"] + stats["signin"] + stats["refresh"]
    print(f"round {rnd}: {elapsed:.1f} s of load, acknowledged {stats['signup']} sign-ups, "
          f"{stats['signin']} sign-ins, {stats['refresh']} refreshes; {stats['in_doubt']} calls "
          f"in flight at the kill; {stats['unexpected']} unexpected errors", flush=True)
    for u in unexpected[:20]:
        print(f"  unexpected: {u}")
    tried, passed, failed = state["cases"].get("load", [0, 0, 0])
    state["cases"]["load"] = [tried + acked + stats["unexpected"], passed + acked, failed + stats["unexpected"]]
    state["failures"].extend(f"load: {u}" for u in unexpected[:20])
    if elapsed >= MAX_LOAD_SECONDS - 1:
        count(state, "recovery", False, f"round {rnd}: the load was never interrupted by the kill")
    save_state(state_path, state)


# ---------------------------------------------------------------------------------------------
# check


def call(conn, sql, *args):
    """(value, None) or (None, error text); the connection stays usable either way."""
    try:
        return conn.execute(sql, args).fetchone()[0], None
    except psycopg.Error as exc:
        return None, describe(exc)


def describe(exc):
    if not isinstance(exc, psycopg.Error):
        return repr(exc)
    diag = exc.diag
    text = f"{exc.sqlstate or type(exc).__name__} {diag.message_primary or exc}"
    return text + (f" ({diag.message_detail})" if diag.message_detail else "")


INTEGRITY = [
    ("users without their email identity",
     "SELECT count(*) FROM auth.users u WHERE NOT EXISTS "
     "(SELECT 1 FROM auth.identities i WHERE i.user_id = u.id AND i.provider = 'email' AND i.provider_id = u.id::text)"),
    ("identities without their user",
     "SELECT count(*) FROM auth.identities i LEFT JOIN auth.users u ON u.id = i.user_id WHERE u.id IS NULL"),
    ("sessions without their user",
     "SELECT count(*) FROM auth.sessions s LEFT JOIN auth.users u ON u.id = s.user_id WHERE u.id IS NULL"),
    ("sessions without any refresh token",
     "SELECT count(*) FROM auth.sessions s WHERE NOT EXISTS "
     "(SELECT 1 FROM auth.refresh_tokens t WHERE t.session_id = s.id)"),
    ("sessions without their amr claim",
     "SELECT count(*) FROM auth.sessions s WHERE NOT EXISTS "
     "(SELECT 1 FROM auth.mfa_amr_claims c WHERE c.session_id = s.id)"),
    ("sessions with more than one live refresh token",
     "SELECT count(*) FROM (SELECT session_id FROM auth.refresh_tokens WHERE NOT revoked "
     "GROUP BY session_id HAVING count(*) > 1) x"),
    ("refresh tokens without their session",
     "SELECT count(*) FROM auth.refresh_tokens t LEFT JOIN auth.sessions s ON s.id = t.session_id WHERE s.id IS NULL"),
    ("refresh tokens whose user_id differs from their session's",
     "SELECT count(*) FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id "
     "WHERE t.user_id IS DISTINCT FROM s.user_id::text"),
    ("refresh tokens whose parent is not a token of the same session",
     "SELECT count(*) FROM auth.refresh_tokens t WHERE t.parent IS NOT NULL AND NOT EXISTS "
     "(SELECT 1 FROM auth.refresh_tokens p WHERE p.token = t.parent AND p.session_id = t.session_id)"),
    ("amr claims without their session",
     "SELECT count(*) FROM auth.mfa_amr_claims c LEFT JOIN auth.sessions s ON s.id = c.session_id WHERE s.id IS NULL"),
    ("emails held by two users",
     "SELECT count(*) FROM (SELECT lower(email) FROM auth.users GROUP BY 1 HAVING count(*) > 1) x"),
]


def in_parallel(url, state, fn, items, workers=4):
    """fn(conn, item) -> [(area, ok, detail)] over items, on `workers` connections."""
    lock = threading.Lock()

    def run(chunk):
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as c:
            for item in chunk:
                for area, ok, detail in fn(c, item):
                    with lock:
                        count(state, area, ok, detail)

    threads = [threading.Thread(target=run, args=(items[k::workers],)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def check(state_path, url, rnd):
    state = load_state(state_path)
    started = time.time()
    conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    log = os.environ.get("CRASH_RECOVERY_LOG", "")
    count(state, "recovery", "not properly shut down" in log
          and conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0],
          f"round {rnd}: no crash recovery in the server log ({log!r}) or still in recovery")

    # Integrity first, before the checks below write anything.
    for name, sql in INTEGRITY:
        n = conn.execute(sql).fetchone()[0]
        count(state, "integrity", n == 0, f"round {rnd}: {n} {name}")
    conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = conn.execute(
        "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'auth' AND a.amname = 'btree' ORDER BY 1").fetchall()
    for (index,) in indexes:
        _, err = call(conn, "SELECT bt_index_check(%s::regclass, true)::text", index)
        count(state, "integrity", err is None, f"round {rnd}: amcheck {index}: {err}")

    users = dict(state["users"])
    sessions = state["sessions"]

    # Sessions exist (one query), before sign-ins below add more.
    present = {r[0] for r in conn.execute(
        "SELECT id::text FROM auth.sessions WHERE id = ANY(%s::uuid[])", (list(sessions),)).fetchall()}
    for sid in sessions:
        count(state, "sessions_exist", sid in present, f"round {rnd}: session {sid} is gone")

    # Users: the row, its identity, and a sign-in with the password.
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT u.email, u.id::text, (SELECT count(*) FROM auth.identities i WHERE i.user_id = u.id) "
        "FROM auth.users u WHERE u.email = ANY(%s)", (list(users),)).fetchall()}

    def check_user(c, item):
        email, u = item
        row = rows.get(email)
        if row is None or row[0] != u["id"] or row[1] != 1:
            return [("users", False, f"round {rnd}: user {email} ({u['id']}): row {row}")]
        session, err = call(c, "SELECT auth.sign_in_with_password(%s, %s)", email, u["password"])
        ok = err is None and session["user"]["id"] == u["id"]
        return [("users", ok, f"round {rnd}: sign-in of {email}: {err}")]

    # Sign-ups whose answer never came: absent, or complete and usable.
    def check_in_doubt(c, d):
        row = c.execute(
            "SELECT u.id::text, (SELECT count(*) FROM auth.identities i WHERE i.user_id = u.id) "
            "FROM auth.users u WHERE u.email = %s", (d["email"],)).fetchone()
        if row is None:
            return [("users", True, None)]
        session, err = call(c, "SELECT auth.sign_in_with_password(%s, %s)", d["email"], d["password"])
        return [("users", row[1] == 1 and err is None,
                 f"round {rnd}: in-doubt sign-up {d['email']} committed half: identities {row[1]}, sign-in {err}")]

    # Refresh the latest acknowledged token of every acknowledged session; the answer is the new
    # latest token (acknowledged now).
    def check_session(c, item):
        sid, s = item
        latest = s["tokens"][-1]
        in_doubt = s.pop("in_doubt", False)
        if in_doubt:
            # Did the refresh whose answer was lost commit? (Tokens are stored as SHA-256.)
            revoked = c.execute("SELECT revoked FROM auth.refresh_tokens WHERE token = %s",
                                (hashlib.sha256(latest.encode()).hexdigest(),)).fetchone()
            doubt["committed" if revoked and revoked[0] else "rolled back"] += 1
        session, err = call(c, "SELECT auth.refresh_session(%s)", latest)
        if err is None and claims_of(session["access_token"]).get("session_id") == sid \
                and session["user"]["id"] == s["user_id"]:
            s["tokens"] = [latest, session["refresh_token"]]
            new_access.append([session["access_token"], s["user_id"], sid])
            return [("refresh", True, None)]
        # Say what the client could still do with the token before (diagnostics only; the case
        # stays failed: the latest acknowledged token must work).
        older = None
        if len(s["tokens"]) > 1:
            older = call(c, "SELECT auth.refresh_session(%s)", s["tokens"][-2])[1] or "works"
        return [("refresh", False,
                 f"round {rnd}: session {sid} (refresh in doubt: {in_doubt}): latest token: "
                 f"{err or session}; the one before: {older}")]

    # Every acknowledged access token verifies and names its user and session.
    def check_access(c, entry):
        token, user_id, sid = entry
        claims, err = call(c, "SELECT auth.verify_jwt(%s)", token)
        ok = err is None and claims.get("sub") == user_id and claims.get("session_id") == sid
        return [("access", ok, f"round {rnd}: access token of session {sid}: {err or claims}")]

    new_access = []
    doubt = {"committed": 0, "rolled back": 0}
    in_parallel(url, state, check_user, list(users.items()))
    in_parallel(url, state, check_in_doubt, state["in_doubt"])
    state["in_doubt"] = []
    in_parallel(url, state, check_session, list(sessions.items()))
    in_parallel(url, state, check_access, state["access"])
    state["access"].extend(new_access)
    # Keep one (the newest) access token per session for later rounds.
    newest = {}
    for entry in state["access"]:
        newest[entry[2]] = entry
    state["access"] = list(newest.values())
    conn.close()
    print(f"round {rnd}: checked {len(users)} users, {len(sessions)} sessions, "
          f"{len(newest)} access tokens in {time.time() - started:.1f} s; refreshes in flight at the "
          f"kill: {doubt['committed']} had committed (the client retried with the parent), "
          f"{doubt['rolled back']} had not", flush=True)
    save_state(state_path, state)


def report(state_path, summary):
    return suite.report_state(SUITE, AREAS, load_state(state_path), summary, "failures, the first ones:", 30)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "load":
        load(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "check":
        try:
            check(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        except Exception as exc:  # noqa: BLE001 - e.g. the server did not come back
            state = load_state(sys.argv[2])
            count(state, "recovery", False, f"round {sys.argv[4]}: the check could not run: {describe(exc)}")
            save_state(sys.argv[2], state)
            sys.exit(1)
    elif cmd == "report":
        sys.exit(report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""))
    else:
        sys.exit(f"unknown command {cmd}")
