"""Rate limits under attack (run by tests/reliability/90-limits), with the real parts: the test
cluster, two release shims (target/release/auth-ext-shim) on one database, real HTTP requests,
and ./test's PgBouncer in transaction mode. Nothing is mocked.

Areas (one summary line each):
  password guessing at one account, before and after
      The issue's numbers: passwords tried per minute against one account from 1 address and from
      100, "before" (sign_in_backoff_max_seconds 0, per-IP limits 1e9; 10 s per case) and "after"
      (the defaults; 60 s per case, the two cases at once on two accounts). A guess is "checked"
      when it is answered 400 invalid_credentials (the password was compared), "refused" when
      429. Each case is WORKERS connections as fast as they go, over both shims. After: at most
      20 checked per minute in each case; before: more than 100 (the attack path is real).
      A table is printed and the numbers go to build/limits-attack.json.
  the owner is not locked out
      An account with a session from address A, guessed at from 1000 other addresses during the
      "after" attack: once it is deep in backoff, the right password from an address without a
      session is refused, and from A it gets in.
  429 answers: Retry-After and error_code
      Every 429 the suite received (thousands) carries Retry-After, a positive integer of seconds
      within the 5-minute window, and error_code over_request_rate_limit.
  one per-IP limit across two shims
      rate_limit_verify 10: POST /verify from one address, alternating between the two shims:
      exactly 10 pass the limit (403 otp_expired), the rest are 429; another address still passes.
  one per-IP limit through PgBouncer
      rate_limit_verify 5 on ./test's `pooler` database, auth.verify_otp called through PgBouncer
      (transaction mode; 3 clients holding transactions side by side, so 3 server connections),
      each call its own transaction
      with request.headers set locally: exactly 5 pass (PT403 otp_expired), then PT429. Skipped
      with a note when PgBouncer does not run (the suite run alone).

Environment: AUTH_EXT_TEST_PORT, ROOT, VENV, AUTH_EXT_SUMMARY, AUTH_EXT_VERBOSE (see README.md in
this folder). Ports: AUTH_EXT_TEST_PORT + 78 and + 79 (the shims), + 70 (./test's PgBouncer).
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter

import httpx
import psycopg

import suite

PORT = int(os.environ.get("AUTH_EXT_TEST_PORT", "54330"))
ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SUMMARY = os.environ.get("AUTH_EXT_SUMMARY")
VERBOSE = os.environ.get("AUTH_EXT_VERBOSE") == "1"
SUITE = "limits"

SHIM = os.path.join(ROOT, "target", "release", "auth-ext-shim")
SHIM_PORTS = [PORT + 78, PORT + 79]
SHIM_URLS = [f"http://127.0.0.1:{p}" for p in SHIM_PORTS]
POOLER_PORT = PORT + 70  # ./test's PgBouncer (transaction mode) in front of database `pooler`
DB = "suite_limits"
RESULTS = os.path.join(ROOT, "build", "limits-attack.json")

WORKERS = 8  # concurrent connections of one attack
BEFORE_SECONDS = 10  # long enough for a steady rate; scaled to a minute
AFTER_SECONDS = 60  # a whole minute: the backoff's schedule is what is measured
AFTER_MOST = 20  # checked passwords per minute allowed "after", per case
BEFORE_LEAST = 100  # checked passwords per minute "before", to show the attack path is real
VERIFY_LIMIT = 10
VERIFY_REQUESTS = 24
POOLER_LIMIT = 5
POOLER_CALLS = 12
POOLER_CLIENTS = 3

PASSWORD = "pw-123456"
LIMIT_KEYS = ("rate_limit_token_refresh", "rate_limit_verify", "rate_limit_otp",
              "rate_limit_anonymous_users", "sign_in_backoff_free_attempts", "sign_in_backoff_max_seconds")
# Cheap hashes (the limits are measured, not argon2). The shims count as one proxy, so a client
# address sent in X-Forwarded-For by the test client stands for a trusted front proxy's.
BASE_SETTINGS = {"argon2_memory_kib": 1024, "argon2_iterations": 1, "client_ip_trusted_proxies": 2}
# "Before": what an attacker met without this work.
NO_LIMITS = {"rate_limit_token_refresh": 1_000_000_000, "rate_limit_verify": 1_000_000_000,
             "rate_limit_otp": 1_000_000_000, "rate_limit_anonymous_users": 1_000_000_000,
             "sign_in_backoff_max_seconds": 0}

A_ATTACK = "password guessing at one account, before and after"
A_OWNER = "the owner is not locked out"
A_RETRY = "429 answers: Retry-After and error_code"
A_SHIMS = "one per-IP limit across two shims"
A_POOLER = "one per-IP limit through PgBouncer"
AREAS = (A_ATTACK, A_OWNER, A_RETRY, A_SHIMS, A_POOLER)


# ---------------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------------

class Tally(suite.Tally):
    def check(self, area, ok, what, why=""):
        if not self.count(area, ok, what):
            self.failures.append((area, what, why))
            print(f"FAIL [{area}] {what}" + (f": {why}" if why else ""), flush=True)
        return ok


T = Tally(SUITE, VERBOSE)


def note(text):
    print(f"  {text}", flush=True)


def addresses(prefix, n):
    """n client addresses under `prefix` ("10.2" gives 10.2.0.1, 10.2.0.2, ...). Every case has a
    prefix of its own: a per-IP count outlives the case (5-minute windows)."""
    return [f"{prefix}.{i // 250}.{i % 250 + 1}" for i in range(n)]


def wait_for(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


# ---------------------------------------------------------------------------------------------
# Database access
# ---------------------------------------------------------------------------------------------

def connect(dbname, port=PORT):
    # prepare_threshold None: no server-side prepared statements, which a pooler in transaction
    # mode would hand to another client's server connection.
    return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname,
                           autocommit=True, connect_timeout=10, prepare_threshold=None)


def one(conn, query, params=()):
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def configure(conn, settings):
    conn.execute("SELECT auth.configure(%s)", [json.dumps(settings)])


def limit_settings(conn):
    settings = json.loads(one(conn, "SELECT auth.settings()::text"))
    return {k: settings[k] for k in LIMIT_KEYS}


def sign_up(conn, email):
    # Over SQL without request.headers: not an HTTP request, so no per-IP limit applies.
    conn.execute("SELECT auth.sign_up(%s, %s)", [email, PASSWORD])


# ---------------------------------------------------------------------------------------------
# The shims (only ours, stopped by their own handle)
# ---------------------------------------------------------------------------------------------

PROCESSES = []
RESERVED = []


def listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def reserve_ports(ports):
    """Binds (without listening) the shims' ports for the whole run, as delivery.py does: they lie
    in the kernel's ephemeral range, and an outgoing connection given one as its local port
    would keep a shim from binding it. The shim still binds it (SO_REUSEADDR on both sides).
    A port held by a connection in TIME_WAIT is waited for, up to 70 s. Returns those still taken."""
    taken = []
    for port in ports:
        deadline = time.monotonic() + 70
        while True:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                RESERVED.append(s)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    taken.append(port)
                    break
                time.sleep(1)
    return taken


class Shim:
    def __init__(self, work, port):
        if listening(port):
            raise RuntimeError(f"port {port} is taken: the shim needs it")
        self.name = f"shim on {port}"
        self.log_path = os.path.join(work, f"shim-{port}.log")
        env = dict(os.environ, RUST_LOG="warn,auth_ext_shim=info")
        for var in ("DATABASE_URL", "LISTEN", "SMTP_URL", "SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET", "POOL_SIZE"):
            env.pop(var, None)
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            [SHIM, "--listen", f"127.0.0.1:{port}",
             "--database-url", f"host=127.0.0.1 port={PORT} user=postgres dbname={DB}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        PROCESSES.append(self)
        if not wait_for(lambda: "auth-ext-shim ready" in self.output() or self.popen.poll() is not None, 30):
            raise RuntimeError(f"{self.name} did not start within 30 s: {self.output()[-600:]}")
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}): {self.output()[-600:]}")

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self.log.close()


# ---------------------------------------------------------------------------------------------
# HTTP, and every 429 the suite receives
# ---------------------------------------------------------------------------------------------

class Refusals:
    """Every 429 answer, checked as it arrives (thousands: only the counts and a few examples
    are kept) for Retry-After and the error code."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.bad_retry = Counter()  # the Retry-After values that are not a positive integer <= 300
        self.bad_code = Counter()
        self.retry_range = [None, None]

    def record(self, retry_after, code):
        with self.lock:
            self.count += 1
            seconds = int(retry_after) if retry_after and retry_after.isdigit() else None
            if seconds is None or not 0 < seconds <= 300:
                self.bad_retry[repr(retry_after)] += 1
            else:
                low, high = self.retry_range
                self.retry_range = [seconds if low is None else min(low, seconds),
                                    seconds if high is None else max(high, seconds)]
            if code != "over_request_rate_limit":
                self.bad_code[repr(code)] += 1


REFUSALS = Refusals()


def post(client, base, path, body, address):
    """POST `body` to a shim as a client at `address` (X-Forwarded-For, which the shim extends
    with its peer). Returns (status, error_code, body); a 429 is recorded in REFUSALS."""
    try:
        r = client.post(base + path, json=body, headers={"x-forwarded-for": address})
    except httpx.HTTPError as e:
        return None, type(e).__name__, {}
    try:
        data = r.json()
    except ValueError:
        data = {}
    code = data.get("error_code") if isinstance(data, dict) else None
    if r.status_code == 429:
        REFUSALS.record(r.headers.get("retry-after"), code)
    return r.status_code, code, data


def sign_in(client, base, email, password, address):
    return post(client, base, "/token?grant_type=password", {"email": email, "password": password}, address)


# ---------------------------------------------------------------------------------------------
# An attack: password guesses at one account
# ---------------------------------------------------------------------------------------------

class Attack:
    """Wrong passwords for one account from `sources` (taken in turn), over `workers`
    connections as fast as they are answered; worker i sends to shim i % 2. The attacker ignores
    Retry-After, as an attacker would. Counts are read live by the owner's thread."""

    def __init__(self, label, email, sources, workers=WORKERS):
        self.label, self.email, self.sources, self.workers = label, email, sources, workers
        self.lock = threading.Lock()
        self.sent = self.checked = self.refused = 0
        self.other = Counter()
        self.started = self.elapsed = 0.0

    def run(self, seconds):
        self.started = started = time.monotonic()
        deadline = started + seconds
        threads = [threading.Thread(target=self.worker, args=(i, deadline), daemon=True)
                   for i in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.monotonic() - started
        return self

    def worker(self, i, deadline):
        base = SHIM_URLS[i % len(SHIM_URLS)]
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                with self.lock:
                    n = self.sent
                    self.sent += 1
                status, code, _ = sign_in(client, base, self.email, f"guess-{n}",
                                          self.sources[n % len(self.sources)])
                with self.lock:
                    if status == 400 and code == "invalid_credentials":
                        self.checked += 1
                    elif status == 429:
                        self.refused += 1
                    else:
                        self.other[f"{status} {code}"] += 1

    def per_minute(self, count):
        return count * 60 / self.elapsed if self.elapsed else 0.0

    def row(self):
        return {"addresses": len(self.sources), "connections": self.workers, "seconds": round(self.elapsed, 1),
                "tried": self.sent, "checked": self.checked, "refused": self.refused,
                "other": dict(self.other), "tried_per_minute": round(self.per_minute(self.sent)),
                "checked_per_minute": round(self.per_minute(self.checked), 1)}

    def check_answers(self):
        T.check(A_ATTACK, not self.other,
                f"{self.label}: every guess is answered 400 invalid_credentials or 429",
                f"{dict(self.other)}")


def print_table(rows):
    print(f"  {'passwords at one account':<26}{'seconds':>8}{'tried':>9}{'checked':>9}{'refused':>9}"
          f"{'tried/min':>11}{'checked/min':>13}")
    for label, r in rows:
        print(f"  {label:<26}{r['seconds']:>8}{r['tried']:>9}{r['checked']:>9}{r['refused']:>9}"
              f"{r['tried_per_minute']:>11}{r['checked_per_minute']:>13}")


# ---------------------------------------------------------------------------------------------
# 1 and 2. Password guessing, before and after; the owner during the attack
# ---------------------------------------------------------------------------------------------

def case_before(conn):
    """The limits off: how many passwords an attacker could have checked per minute."""
    configure(conn, NO_LIMITS)
    note(f"before: {json.dumps(limit_settings(conn))}")
    attacks = []
    for label, email, sources in (("before, 1 IP", "before-1@example.com", addresses("10.1", 1)),
                                  ("before, 100 IPs", "before-100@example.com", addresses("10.2", 100))):
        sign_up(conn, email)
        attack = Attack(label, email, sources).run(BEFORE_SECONDS)
        attacks.append(attack)
        rate = attack.per_minute(attack.checked)
        T.check(A_ATTACK, rate > BEFORE_LEAST,
                f"{label}: more than {BEFORE_LEAST} passwords checked per minute (the attack path is real)",
                f"{rate:.0f}")
        T.check(A_ATTACK, attack.refused == 0, f"{label}: nothing refused (the limits are off)",
                f"{attack.refused} refused")
        attack.check_answers()
    return attacks


def case_after(conn, defaults):
    """The defaults: the two attacks at once on two accounts, and a third account, the owner's,
    guessed at meanwhile while its owner signs in from home."""
    configure(conn, defaults)
    note(f"after: {json.dumps(limit_settings(conn))}")
    one_ip = Attack("after, 1 IP", "after-1@example.com", addresses("10.3", 1))
    many = Attack("after, 100 IPs", "after-100@example.com", addresses("10.4", 100))
    # The owner's account has its own attacker (1000 addresses, so its per-IP budgets outlast the
    # minute): an owner's success forgets the account's guesses, which would shift the measured
    # numbers had the owner been one of the two accounts above.
    owner = Attack("owner's account", "owner@example.com", addresses("10.6", 1000), workers=2)
    for attack in (one_ip, many, owner):
        sign_up(conn, attack.email)
    home = "10.5.0.1"
    owner_has_session_from(conn, owner.email, home)

    outcome = {}
    threads = [threading.Thread(target=a.run, args=(AFTER_SECONDS,), daemon=True) for a in (one_ip, many, owner)]
    threads.append(threading.Thread(target=owner_signs_in, args=(owner, home, outcome), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for attack in (one_ip, many):
        T.check(A_ATTACK, attack.per_minute(attack.checked) <= AFTER_MOST,
                f"{attack.label}: at most {AFTER_MOST} passwords checked per minute",
                f"{attack.checked} in {attack.elapsed:.1f} s")
        attack.check_answers()
    owner_outcome(owner, outcome)
    return [one_ip, many]


def owner_has_session_from(conn, email, home):
    """The owner signs in once from `home` through a shim, before the attack: a session from
    there is what marks it as theirs."""
    with httpx.Client(timeout=30) as client:
        status, code, body = sign_in(client, SHIM_URLS[0], email, PASSWORD, home)
    T.check(A_OWNER, status == 200 and "access_token" in body,
            f"the owner signs in from {home} before the attack", f"{status} {code}")
    ips = [r[0] for r in conn.execute("""SELECT host(s.ip) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
                                          WHERE u.email = %s AND s.ip IS NOT NULL""", [email])]
    T.check(A_OWNER, ips == [home], f"the owner's session records {home} (the address behind the front proxy)",
            f"{ips}")


def owner_signs_in(attack, home, outcome):
    """Beside the attack, in a thread of its own: waits until the account is deep in its backoff,
    then, right after a guess was admitted (so the account's next slot is seconds away and no
    guess can take it), tries the right password from an address without a session, then from
    home."""
    # 8 guesses checked: the next must wait 8 s after the previous (5 free, then 1, 2, 4, ...).
    outcome["deep"] = wait_for(lambda: attack.checked >= 8 and attack.refused > 0, AFTER_SECONDS - 20)
    if not outcome["deep"]:
        return
    seen = attack.checked
    outcome["admitted"] = wait_for(lambda: attack.checked > seen, 30, 0.002)
    if not outcome["admitted"]:
        return
    outcome["at"] = time.monotonic() - attack.started
    outcome["guesses"] = (attack.checked, attack.refused)
    with httpx.Client(timeout=30) as client:
        outcome["elsewhere"] = sign_in(client, SHIM_URLS[1], attack.email, PASSWORD, "10.5.0.2")[:2]
        outcome["home"] = sign_in(client, SHIM_URLS[0], attack.email, PASSWORD, home)[:2]


def owner_outcome(attack, outcome):
    if not T.check(A_OWNER, outcome.get("deep") and outcome.get("admitted"),
                   "the attack drives the owner's account deep into backoff (8 guesses checked, some refused)",
                   f"{attack.checked} checked, {attack.refused} refused"):
        return
    checked, refused = outcome["guesses"]
    note(f"owner: {outcome['at']:.1f} s into the attack, after {checked} guesses checked and {refused} refused: "
         f"elsewhere {outcome['elsewhere']}, at home {outcome['home']}")
    T.check(A_OWNER, outcome["elsewhere"] == (429, "over_request_rate_limit"),
            "meanwhile the right password from an address without a session is refused 429",
            f"{outcome['elsewhere']}")
    T.check(A_OWNER, outcome["home"][0] == 200,
            "meanwhile the owner signs in from the address of their session", f"{outcome['home']}")
    attack.check_answers()


def write_results(before, after, defaults):
    rows = [(a.label, a.row()) for a in before + after]
    print_table(rows)
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "what": "wrong passwords sent at one account over real HTTP through two auth-ext-shims: checked = "
                "answered 400 invalid_credentials (the password was compared), refused = 429",
        "before_settings": NO_LIMITS,
        "after_settings": defaults,
        "cases": dict(rows),
    }
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    note(f"written to {RESULTS}")


def area_attack(conn, defaults):
    before = case_before(conn)
    after = case_after(conn, defaults)
    write_results(before, after, defaults)


# ---------------------------------------------------------------------------------------------
# 3. Retry-After and the error code of every 429
# ---------------------------------------------------------------------------------------------

def case_refusals():
    r = REFUSALS
    note(f"{r.count} answers 429; Retry-After from {r.retry_range[0]} to {r.retry_range[1]} s")
    T.check(A_RETRY, r.count > 0, "the suite was refused with 429", "none")
    T.check(A_RETRY, not r.bad_retry,
            f"every 429 ({r.count}) carries Retry-After, a positive integer of seconds, at most 300",
            f"{sum(r.bad_retry.values())} without: {dict(r.bad_retry.most_common(3))}")
    T.check(A_RETRY, not r.bad_code, f"every 429 ({r.count}) says error_code over_request_rate_limit",
            f"{dict(r.bad_code.most_common(3))}")


# ---------------------------------------------------------------------------------------------
# 4. One per-IP limit across two shims
# ---------------------------------------------------------------------------------------------

def case_two_shims(conn):
    """The count is the database's (shared memory), not a shim's: two shims on one database
    share it."""
    configure(conn, {"rate_limit_verify": VERIFY_LIMIT})
    body = {"type": "email", "email": "nobody@example.com", "token": "123456"}
    source = "10.7.0.1"
    answers = []
    with httpx.Client(timeout=30) as client:
        for i in range(VERIFY_REQUESTS):
            status, code, _ = post(client, SHIM_URLS[i % 2], "/verify", body, source)
            answers.append((i % 2, status, code))
        other_source = post(client, SHIM_URLS[1], "/verify", body, "10.7.0.2")[:2]
    passed = [a for a in answers if a[1] != 429]
    label = f"{VERIFY_REQUESTS} POST /verify from one address, alternating between two shims"
    note(f"{label}: {dict(Counter(f'shim {s + 1}: {st} {c}' for s, st, c in answers))}")
    T.check(A_SHIMS, len(passed) == VERIFY_LIMIT, f"{label}: exactly {VERIFY_LIMIT} pass the limit",
            f"{len(passed)}")
    T.check(A_SHIMS, all((st, c) == (403, "otp_expired") for _, st, c in passed),
            f"{label}: those are answered 403 otp_expired", f"{Counter((st, c) for _, st, c in passed)}")
    T.check(A_SHIMS, answers[:VERIFY_LIMIT] == passed and {s for s, _, _ in passed} == {0, 1},
            f"{label}: the first {VERIFY_LIMIT}, to both shims, pass; every later one is refused",
            f"{answers}")
    T.check(A_SHIMS, other_source == (403, "otp_expired"), "another address still passes", f"{other_source}")


# ---------------------------------------------------------------------------------------------
# 5. One per-IP limit through PgBouncer (transaction mode)
# ---------------------------------------------------------------------------------------------

def case_pooler():
    """PostgREST's way through a pooler: each call its own transaction, the headers set local to
    it (set_config(..., true)). The clients hold their transactions open side by side, so that
    PgBouncer gives each its own server connection: the calls of one address run in different
    backends, and only the server's shared memory can count them together."""
    if not listening(POOLER_PORT):
        note(f"skipped: no PgBouncer on port {POOLER_PORT} (./test starts it; the suite is run alone)")
        return
    direct = connect("pooler")
    before = one(direct, "SELECT (auth.settings()->>'rate_limit_verify')::bigint")
    # The pooler database and its counts outlive the suite: a fresh address per run, so that a
    # run within 5 minutes of another does not find its count.
    source = f"10.9.{random.randrange(256)}.{random.randrange(1, 255)}"
    headers = json.dumps({"x-forwarded-for": source})
    clients = []
    outcomes, backends = [], set()
    try:
        configure(direct, {"rate_limit_verify": POOLER_LIMIT})
        clients = [connect("pooler", POOLER_PORT) for _ in range(POOLER_CLIENTS)]
        for _ in range(POOLER_CALLS // POOLER_CLIENTS):
            for c in clients:
                c.execute("BEGIN")
                backends.add(one(c, "SELECT pg_backend_pid()"))
            for c in clients:
                try:
                    c.execute("SELECT set_config('request.headers', %s, true), "
                              "auth.verify_otp('email', '123456', email => 'nobody@example.com')", [headers])
                    outcomes.append("ok")
                except psycopg.Error as e:
                    outcomes.append(f"{e.sqlstate} {e.diag.message_detail or ''}".strip())
                c.execute("ROLLBACK")
    finally:
        for c in clients:
            c.close()
        # ./test gives the pooler database limits out of the other tests' way: put them back.
        configure(direct, {"rate_limit_verify": before})
        direct.close()
    label = (f"{len(outcomes)} auth.verify_otp through PgBouncer from {source}, rate_limit_verify {POOLER_LIMIT}")
    note(f"{label}: {dict(Counter(outcomes))}, on {len(backends)} server connections")
    T.check(A_POOLER, len(backends) == POOLER_CLIENTS,
            f"{label}: the calls ran on {POOLER_CLIENTS} server connections", f"{len(backends)}")
    T.check(A_POOLER, outcomes[:POOLER_LIMIT] == ["PT403 otp_expired"] * POOLER_LIMIT,
            f"{label}: the first {POOLER_LIMIT} pass the limit (PT403 otp_expired)", f"{outcomes}")
    T.check(A_POOLER, outcomes[POOLER_LIMIT:] == ["PT429 over_request_rate_limit"] * (POOLER_CALLS - POOLER_LIMIT),
            f"{label}: every later one is PT429 over_request_rate_limit", f"{outcomes}")


# ---------------------------------------------------------------------------------------------

def run_area(area, fn, *args):
    try:
        fn(*args)
    except Exception as e:  # the area fails; the suite goes on
        traceback.print_exc()
        T.check(area, False, "the area ran to its end", f"{type(e).__name__}: {str(e)[:400]}")


def main():
    started = time.time()
    print(f"limits: port {PORT}, shims {SHIM_PORTS[0]} and {SHIM_PORTS[1]}, PgBouncer {POOLER_PORT}", flush=True)
    if not os.path.exists(SHIM):
        print(f"missing {SHIM} (./test builds it: cargo build --release -p auth_ext_shim)")
        for area in AREAS:
            T.check(area, False, "the suite's parts exist", SHIM)
        return T.finish(SUMMARY, SUITE, started)
    taken = reserve_ports(SHIM_PORTS)
    if taken:
        print(f"ports {taken} are taken by another program: the shims will not start")
    work = os.path.join(ROOT, "build", "limits")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    admin = connect("postgres")
    admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB}")
    conn = connect(DB)
    try:
        conn.execute("CREATE EXTENSION auth_ext")
        defaults = limit_settings(conn)  # "after" is what a new database gets
        configure(conn, BASE_SETTINGS)
        for port in SHIM_PORTS:
            Shim(work, port)
        for area, fn, args in ((A_ATTACK, area_attack, (conn, defaults)),
                               (A_SHIMS, case_two_shims, (conn,)),
                               (A_RETRY, case_refusals, ()),
                               (A_POOLER, case_pooler, ())):
            t0 = time.time()
            print(f"-- {area}", flush=True)
            run_area(area, fn, *args)
            note(f"{time.time() - t0:.1f} s")
    except Exception as e:
        traceback.print_exc()
        T.check(A_ATTACK, False, "the suite's database and shims start", f"{type(e).__name__}: {str(e)[:400]}")
    finally:
        for p in PROCESSES:
            p.stop()
        for r in RESERVED:
            r.close()
        conn.close()
    if not T.failed():
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept for a look: database {DB}; shim logs in {work}")
    admin.close()
    return T.finish(SUMMARY, SUITE, started)


if __name__ == "__main__":
    sys.exit(main())
