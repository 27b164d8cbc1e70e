"""One-time codes under concurrency and the outbox's delivery under failure (run by
tests/reliability/80-delivery), with the real parts: the test cluster over real connections, the
release shim binary (target/release/auth-ext-shim) delivering the outbox, and the real SMTP
catcher (shim/acceptance/peers/smtp_catcher.py, aiosmtpd) keeping every mail as a file. Nothing is
mocked.

Areas (one summary line each):
  one code, 10,000 concurrent verifications
      One user's pending confirmation code, verified 10,000 times over 100 connections (as anon,
      each call its own transaction): exactly one call gets a session, every other fails with a
      clean PTxxx (no XX000, no deadlock, no PT500), the user has one session and the token is
      gone. One token by code, by token_hash and by link at once: one gets in. Then wrong codes
      racing the right one on fresh tokens (otp_max_attempts 5), watched by a trigger that
      records every change of the token's row: never more than 5 wrong codes are counted, and
      the outcome is consistent (the right code won before the token died, or the token died
      and nobody got in); with fewer than 5 wrong codes the right one must win. And 10 wrong
      codes for each of 100 accounts at once: each token counts exactly 5, then dies.
  SMTP down, then back
      A shim whose SMTP server does not answer: the queued mails (sign-ups and OTP requests, by
      SQL and through the shim's HTTP API) stay pending with their attempts counted and a reason
      that holds no code, are retried, and once the SMTP server is up all of them arrive (each
      with its own code), are marked sent and have their codes wiped. Then the server goes away
      again (the shim's pooled connections die) and comes back: the same. Duplicates are
      reported.
  shim killed while sending
      200 mails queued, the shim SIGKILLed after the first deliveries: no row lost or marked sent
      without its mail; two new shims side by side reclaim the dead one's messages once their
      lease ran out and every message arrives at least once; a message is sent twice only when
      it was in flight at the kill. Duplicates are reported.
  resend storm
      50 concurrent resends for one user (smtp_max_frequency 60) queue one message, the others
      get PT429 over_email_send_rate_limit; resends racing verifications of one user's code
      (no deadlock: pg_stat_database counts them, auth_ext answers one with PT409 conflict);
      100 concurrent sign-ups and OTP requests for new addresses with rate_limit_email_sent 30
      queue at most 30 messages, the others get PT429 and leave nothing behind.

Environment: AUTH_EXT_TEST_PORT, ROOT, VENV, AUTH_EXT_SUMMARY, AUTH_EXT_LONG (see README.md in this
folder). Ports: AUTH_EXT_TEST_PORT + 75 (the shim's HTTP), + 76 (the SMTP catcher), + 77 (the
SMTP server that is down and comes back; later a second shim's HTTP).
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter

import psycopg
from psycopg.types.string import TextLoader

import suite

PORT = int(os.environ.get("AUTH_EXT_TEST_PORT", "54330"))
ROOT = os.environ.get("ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.environ.get("VENV") or os.path.join(ROOT, "build", "venv")
SUMMARY = os.environ.get("AUTH_EXT_SUMMARY")
LONG = os.environ.get("AUTH_EXT_LONG") == "1"
VERBOSE = os.environ.get("AUTH_EXT_VERBOSE") == "1"
SUITE = "delivery"

SHIM = os.path.join(ROOT, "target", "release", "auth-ext-shim")
CATCHER = os.path.join(ROOT, "shim", "acceptance", "peers", "smtp_catcher.py")
PYTHON = os.path.join(VENV, "bin", "python")
SHIM_PORT = PORT + 75
SMTP_PORT = PORT + 76
SMTP_DOWN_PORT = PORT + 77  # the SMTP server that is down, then back (area 2)
SHIM2_PORT = PORT + 77  # a second shim (area 3, when the first is done with it)

DB_OTP = "suite_delivery_otp"
DB_DOWN = "suite_delivery_smtp_down"
DB_KILL = "suite_delivery_kill"
DB_RESEND = "suite_delivery_resend"
DB_HOURLY = "suite_delivery_hourly"
DATABASES = [DB_OTP, DB_DOWN, DB_KILL, DB_RESEND, DB_HOURLY]

VERIFICATIONS = 40_000 if LONG else 10_000
CONNECTIONS = 100
MAX_ATTEMPTS = 5
DOWN_MAILS = 20
KILL_MAILS = 200
RESENDS = 50
HOURLY_LIMIT = 30
HOURLY_REQUESTS = 100
RACE_ROUNDS = 24 if LONG else 8
RACE_EACH = 5
LINK_ROUNDS = 9 if LONG else 3
LINK_EACH = 30
GUESSED_USERS = 100
GUESSES_EACH = 10

A_OTP = f"one code, {VERIFICATIONS:,} concurrent verifications"
A_DOWN = "SMTP down, then back"
A_KILL = "shim killed while sending"
A_STORM = "resend storm"

PASSWORD = "a-good-password-1"
# Cheap hashes: sign-ups are not what is measured here.
# Every request comes from one address: the per-IP limits (the 90-limits suite's subject) are
# raised out of the way.
NO_IP_LIMITS = {"rate_limit_token_refresh": 1_000_000_000, "rate_limit_verify": 1_000_000_000,
                "rate_limit_otp": 1_000_000_000, "rate_limit_anonymous_users": 1_000_000_000}
BASE_SETTINGS = {"mailer_autoconfirm": False, "argon2_memory_kib": 1024, "argon2_iterations": 1,
                 "smtp_admin_email": "auth@example.com", "smtp_sender_name": "auth_ext delivery suite",
                 **NO_IP_LIMITS}


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


def short(value, n=200):
    s = value if isinstance(value, str) else repr(value)
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + f"...({len(s)} chars)"


# ---------------------------------------------------------------------------------------------
# Database access
# ---------------------------------------------------------------------------------------------

def connect(dbname):
    conn = psycopg.connect(host="127.0.0.1", port=PORT, user="postgres", dbname=dbname,
                           autocommit=True, connect_timeout=10)
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    # A call that hangs (a lock never released) fails the case instead of the suite.
    conn.execute("SET statement_timeout = '60s'")
    return conn


def one(conn, query, params=()):
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def create_database(admin, name, settings):
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    conn = connect(name)
    conn.execute("CREATE EXTENSION auth_ext")
    conn.execute("SELECT auth.configure(%s)", [json.dumps({**BASE_SETTINGS, **settings})])
    return conn


def as_anon(conn, query, params=()):
    """One call as PostgREST would make it: its own transaction, as anon; returns the first
    column of the first row as text (or raises the psycopg error)."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE anon")
        return one(conn, query, params)


def clean(error):
    """A clean refusal: PostgREST's PTxxx with a GoTrue code, not an internal error."""
    state = error.sqlstate or ""
    return state.startswith("PT") and state != "PT500"


def kind(error):
    return f"{error.sqlstate} {error.diag.message_detail or ''}".strip()


def queued_code(conn, recipient):
    """The code and token hash of the newest message to `recipient`, read as superuser from the
    outbox (what the mail will carry)."""
    row = conn.execute("""SELECT payload->'email_data'->>'token', payload->'email_data'->>'token_hash'
                            FROM auth.outbox WHERE recipient = %s ORDER BY id DESC LIMIT 1""",
                       [recipient]).fetchone()
    return row if row else (None, None)


def storm(dbname, calls, connections, barrier=True):
    """Runs `calls` ([(query, params)]) over `connections` connections, each call in its own
    transaction as anon; with `barrier`, every connection is open before the first call.
    Returns [(index, result text or None, psycopg error or None)]."""
    results = [None] * len(calls)
    next_call = iter(range(len(calls)))
    take = threading.Lock()
    ready = threading.Barrier(connections) if barrier else None
    problems = []

    def worker():
        try:
            conn = connect(dbname)
        except Exception as e:  # counted below as calls never made
            problems.append(repr(e))
            if ready:
                ready.abort()
            return
        try:
            if ready:
                ready.wait(60)
            while True:
                with take:
                    i = next(next_call, None)
                if i is None:
                    return
                query, params = calls[i]
                try:
                    results[i] = (i, as_anon(conn, query, params), None)
                except psycopg.Error as e:
                    results[i] = (i, None, e)
                    if conn.broken:
                        conn = connect(dbname)
        except threading.BrokenBarrierError:
            return
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if problems:
        print(f"  {len(problems)} connections failed: {problems[:3]}")
    return [r for r in results if r is not None]


def tally_errors(results):
    """Counter of outcomes: 'ok' or 'SQLSTATE detail'."""
    return Counter("ok" if e is None else kind(e) for _, _, e in results)


def deadlocks(conn):
    """Deadlocks the server detected in conn's database so far (pg_stat_database). auth_ext
    reports a deadlock it catches as PT409 conflict, so the server's count is what tells. A
    backend's counts reach the statistics when it exits: wait until the storm's are gone."""
    wait_for(lambda: one(conn, """SELECT count(*) = 0 FROM pg_stat_activity
                                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                                     AND backend_type = 'client backend'"""), 15)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return one(conn, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")


# ---------------------------------------------------------------------------------------------
# Processes: the shim and the SMTP catcher (only ours, ended by their own handle)
# ---------------------------------------------------------------------------------------------

PROCESSES = []
RESERVED = []


def reserve_ports(ports):
    """Binds (without listening) each port the suite listens on, for the whole run: the ports lie
    in the kernel's ephemeral range, and a client connection (ours to PostgreSQL, the shim's) that
    happened to get one as its local port would keep the shim or the catcher from binding it,
    for as long as it lives and then 60 s in TIME_WAIT. An explicitly bound port is never handed
    out for a connection; the shim and the catcher still bind it (all set SO_REUSEADDR, and ours
    does not listen, so nothing answers on it). One taken when the suite starts (an earlier
    connection's TIME_WAIT) is waited for, up to 70 s. Returns the ports still taken."""
    taken = []
    for port in ports:
        deadline = time.time() + 70
        said = False
        while True:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                RESERVED.append(s)
                break
            except OSError:
                s.close()
                if time.time() > deadline:
                    taken.append(port)
                    break
                if not said:
                    print(f"  port {port} is in use (a connection in TIME_WAIT?); waiting up to 70 s", flush=True)
                    said = True
                time.sleep(1)
    return taken


def listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, timeout, step=0.1):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


class Process:
    def __init__(self, name, argv, log_path, ready_line, env=None):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "ab")
        self.offset = self.log.tell()  # a log may go on from an earlier run of the same peer
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env)
        PROCESSES.append(self)
        if not wait_for(lambda: ready_line in self.output() or self.popen.poll() is not None, 30):
            raise RuntimeError(f"{name} did not start within 30 s: {short(self.output()[-600:], 600)}")
        if self.popen.poll() is not None:
            raise RuntimeError(f"{name} exited ({self.popen.returncode}): {short(self.output()[-600:], 600)}")

    def output(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.popen.poll() is None

    def kill9(self):
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)
        self.log.close()

    def stop(self):
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        if not self.log.closed:
            self.log.close()


def start_catcher(work, port, name):
    if listening(port):
        raise RuntimeError(f"port {port} is taken: the SMTP catcher needs it")
    directory = os.path.join(work, name)
    os.makedirs(directory, exist_ok=True)
    p = Process(f"SMTP catcher on {port}", [PYTHON, CATCHER, "--port", str(port), "--dir", directory],
                os.path.join(work, f"{name}.log"), "smtp catcher listening")
    p.directory = directory
    return p


def start_shim(work, dbname, smtp_port, name, listen=SHIM_PORT):
    if listening(listen):
        raise RuntimeError(f"port {listen} is taken: the shim needs it")
    env = dict(os.environ, RUST_LOG="info")
    for var in ("DATABASE_URL", "LISTEN", "SMTP_URL", "SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET", "POOL_SIZE"):
        env.pop(var, None)
    p = Process(f"shim ({name})",
                [SHIM, "--listen", f"127.0.0.1:{listen}",
                 "--database-url", f"host=127.0.0.1 port={PORT} user=postgres dbname={dbname}",
                 "--smtp-url", f"smtp://127.0.0.1:{smtp_port}"],
                os.path.join(work, f"{name}.log"), "outbox: listening", env=env)
    return p


def http_post(path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{SHIM_PORT}{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def mails(directory):
    """The mails the catcher kept: {recipient: [record]} (the JSON is written last, so a JSON
    file seen is a complete mail)."""
    out = {}
    new = os.path.join(directory, "new")
    for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
        if name.endswith(".json"):
            with open(os.path.join(new, name)) as f:
                record = json.load(f)
            for rcpt in record["rcpt_to"]:
                out.setdefault(rcpt.lower(), []).append(record)
    return out


def mail_count(directory):
    new = os.path.join(directory, "new")
    return sum(1 for n in os.listdir(new) if n.endswith(".json")) if os.path.isdir(new) else 0


def carries(record, code):
    return bool(code) and code in ((record.get("text") or "") + (record.get("html") or ""))


def outbox_rows(conn):
    """{recipient: row} of the outbox (one message per recipient in these areas)."""
    rows = conn.execute("""SELECT recipient, id, status, attempts, last_error, next_attempt_at > now(),
                                  sent_at IS NOT NULL, payload->'email_data' ? 'token',
                                  payload->'email_data' ? 'token_hash', lease_until
                             FROM auth.outbox ORDER BY id""").fetchall()
    keys = ("recipient", "id", "status", "attempts", "last_error", "backing_off", "sent_at",
            "has_token", "has_hash", "lease_until")
    return {r[0]: dict(zip(keys, r)) for r in rows}


def check_delivered(area, conn, directory, expected, in_flight=None):
    """The end state of a drained outbox: every row sent with its codes wiped, every message
    arrived (with its own code); duplicates counted, and with `in_flight` (recipients whose
    message was claimed by a consumer that died) a duplicate only among those."""
    rows = outbox_rows(conn)
    statuses = Counter(r["status"] for r in rows.values())
    T.check(area, set(rows) == set(expected) and statuses == Counter({"sent": len(expected)}),
            f"every one of the {len(expected)} rows ends 'sent', none lost or added",
            f"statuses {dict(statuses)}, {len(set(expected) - set(rows))} rows missing")
    unwiped = [r for r in rows.values() if r["has_token"] or r["has_hash"] or not r["sent_at"]
               or r["last_error"] is not None]
    T.check(area, not unwiped, "every sent row has sent_at, no last_error, and its code and hash wiped",
            f"{len(unwiped)} rows, e.g. {short(unwiped[:1])}")
    got = mails(directory)
    lost = [r for r in expected if not got.get(r)]
    T.check(area, not lost, f"every one of the {len(expected)} messages delivered (none lost)",
            f"{len(lost)} never arrived, e.g. {lost[:3]}")
    wrong = [r for r, (code, _) in expected.items() if got.get(r) and not all(carries(m, code) for m in got[r])]
    T.check(area, not wrong, "each delivered mail carries the code queued for its recipient",
            f"{len(wrong)} recipients, e.g. {wrong[:3]}")
    strangers = sorted(set(got) - set(expected))
    T.check(area, not strangers, "no mail to an address nobody queued", f"{strangers[:3]}")
    duplicates = {r: len(ms) - 1 for r, ms in got.items() if len(ms) > 1}
    note(f"{sum(len(ms) for ms in got.values())} mails for {len(expected)} messages: "
         f"{sum(duplicates.values())} duplicates ({len(duplicates)} recipients)")
    if in_flight is not None:
        beyond = sorted(set(duplicates) - set(in_flight))
        T.check(area, not beyond,
                f"a message arrives twice only when it was in flight at the kill ({len(in_flight)} were)",
                f"{len(beyond)} duplicated messages were not: {beyond[:3]}")
    return duplicates


# ---------------------------------------------------------------------------------------------
# 1. One code, 10,000 concurrent verifications
# ---------------------------------------------------------------------------------------------

WATCH_TOKENS = """
CREATE TABLE public.token_events (
    seq bigserial PRIMARY KEY, token_id uuid, op text, failed_before int, failed_after int);
-- Observation only: every change of a one-time token's row, as committed (the wrong-code counts
-- are written by auth_ext's trace writer in a transaction of their own).
CREATE FUNCTION public.note_token() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO public.token_events (token_id, op, failed_before, failed_after)
        VALUES (NEW.id, 'update', OLD.failed_attempts, NEW.failed_attempts);
        RETURN NEW;
    END IF;
    INSERT INTO public.token_events (token_id, op, failed_before) VALUES (OLD.id, 'delete', OLD.failed_attempts);
    RETURN OLD;
END $$;
CREATE TRIGGER note_token AFTER UPDATE OR DELETE ON auth.one_time_tokens
    FOR EACH ROW EXECUTE FUNCTION public.note_token();
"""


def signed_up(conn, email):
    """A new unconfirmed user with a pending confirmation code: (user id, code, token id)."""
    as_anon(conn, "SELECT auth.sign_up(%s, %s)", [email, PASSWORD])
    code, _ = queued_code(conn, email)
    user_id, token_id = conn.execute("""SELECT u.id, t.id FROM auth.users u
                                          JOIN auth.one_time_tokens t ON t.user_id = u.id
                                         WHERE u.email = %s AND t.token_type = 'confirmation_token'""",
                                     [email]).fetchone()
    return user_id, code, token_id


def area_otp(admin):
    area = A_OTP
    conn = create_database(admin, DB_OTP, {"otp_max_attempts": MAX_ATTEMPTS, "smtp_max_frequency": 0,
                                           "rate_limit_email_sent": 100000})
    email = "storm@example.com"
    user_id, code, _ = signed_up(conn, email)
    query = "SELECT auth.verify_otp('email', %s, email => %s)"
    stuck = deadlocks(conn)
    started = time.time()
    results = storm(DB_OTP, [(query, [code, email])] * VERIFICATIONS, CONNECTIONS, barrier=True)
    took = time.time() - started
    outcomes = tally_errors(results)
    note(f"{len(results)} verifications over {CONNECTIONS} connections in {took:.1f} s: {dict(outcomes)}")
    T.check(area, len(results) == VERIFICATIONS, f"all {VERIFICATIONS} calls answered",
            f"{len(results)} answered")
    sessions = [json.loads(r) for _, r, e in results if e is None]
    T.check(area, len(sessions) == 1 and bool(sessions[0].get("refresh_token")),
            "exactly one call returns a session (with a refresh token)",
            f"{len(sessions)} calls succeeded: {short([sorted(s) for s in sessions[:2]])}")
    unclean = [e for _, _, e in results if e is not None and not clean(e)]
    T.check(area, not unclean, "every other call fails with a clean PTxxx (no XX000, 40P01, PT500)",
            f"{len(unclean)} did not: {Counter(kind(e) for e in unclean).most_common(5)}; e.g. "
            + (short(str(unclean[0])) if unclean else ""))
    refused = Counter(kind(e) for _, _, e in results if e is not None)
    T.check(area, set(refused) <= {"PT403 otp_expired"}, "the refusals are PT403 otp_expired",
            f"{dict(refused)}")
    T.check(area, deadlocks(conn) == stuck, "no deadlock detected (pg_stat_database.deadlocks)",
            f"{deadlocks(conn) - stuck} deadlocks")
    T.check(area, one(conn, "SELECT count(*) FROM auth.sessions WHERE user_id = %s", [user_id]) == 1,
            "the user has exactly one row in auth.sessions",
            f"{one(conn, 'SELECT count(*) FROM auth.sessions WHERE user_id = %s', [user_id])} rows")
    T.check(area, one(conn, "SELECT count(*) FROM auth.one_time_tokens WHERE user_id = %s", [user_id]) == 0,
            "the token row is gone", "")
    T.check(area, one(conn, "SELECT email_confirmed_at IS NOT NULL FROM auth.users WHERE id = %s", [user_id]),
            "the user is confirmed", "")
    if len(sessions) == 1:
        s = sessions[0]
        try:
            fresh = json.loads(as_anon(conn, "SELECT auth.refresh_session(%s)", [s["refresh_token"]]))
            ok = fresh["user"]["id"] == str(user_id) and s["user"]["id"] == str(user_id)
            why = ""
        except psycopg.Error as e:
            ok, why = False, kind(e)
        T.check(area, ok, "the winning session is the user's and its refresh token refreshes", why)

    stuck = deadlocks(conn)
    # One token by its code, by its hash (verify_otp) and by its link (verify_link) at once.
    for n in range(LINK_ROUNDS):
        email = f"link{n}@example.com"
        user_id, code, _ = signed_up(conn, email)
        _, token_hash = queued_code(conn, email)
        calls = ([(query, [code, email])] * LINK_EACH
                 + [("SELECT auth.verify_otp('email', token_hash => %s)", [token_hash])] * LINK_EACH
                 + [("SELECT auth.verify_link(%s, 'signup')", [token_hash])] * LINK_EACH)
        random.shuffle(calls)
        results = storm(DB_OTP, calls, len(calls))
        label = f"link round {n + 1} ({LINK_EACH} calls each by code, token_hash and link at once)"
        outcomes = tally_errors(results)
        sessions = one(conn, "SELECT count(*) FROM auth.sessions WHERE user_id = %s", [user_id])
        T.check(area, len(results) == len(calls) and outcomes["ok"] == 1 and sessions == 1,
                f"{label}: exactly one call gets in, one session", f"{dict(outcomes)}, {sessions} sessions")
        T.check(area, set(outcomes) - {"ok"} <= {"PT403 otp_expired"}, f"{label}: the others fail with PT403 otp_expired",
                f"{dict(outcomes)}")

    # Wrong codes racing the right one, each round on a fresh token; a trigger notes every change
    # of the token's row (the failed-attempt counts included).
    conn.execute(WATCH_TOKENS)
    rng = random.Random()
    rounds = [20] * (8 if LONG else 4) + [MAX_ATTEMPTS - 1] * (4 if LONG else 2)
    won = lost = 0
    for n, wrong_count in enumerate(rounds):
        email = f"race{n}@example.com"
        user_id, code, token_id = signed_up(conn, email)
        wrong = set()
        while len(wrong) < wrong_count:
            guess = f"{rng.randrange(10 ** len(code)):0{len(code)}d}"
            if guess != code:
                wrong.add(guess)
        calls = [(query, [c, email]) for c in wrong] + [(query, [code, email])]
        rng.shuffle(calls)
        right = next(i for i, (_, p) in enumerate(calls) if p[0] == code)
        results = storm(DB_OTP, calls, len(calls), barrier=True)
        label = f"round {n + 1} ({wrong_count} wrong codes and the right one at once)"
        by_index = {i: (r, e) for i, r, e in results}
        wrong_outcomes = Counter("ok" if e is None else kind(e) for i, (r, e) in by_index.items() if i != right)
        T.check(area, len(results) == len(calls) and set(wrong_outcomes) == {"PT403 otp_expired"},
                f"{label}: every wrong code fails with PT403 otp_expired", f"{dict(wrong_outcomes)}")
        events = conn.execute("SELECT op, failed_before, failed_after FROM public.token_events "
                              "WHERE token_id = %s ORDER BY seq", [token_id]).fetchall()
        counted = [e for e in events if e[0] == "update"]
        deleted = [e for e in events if e[0] == "delete"]
        highest = max([e[2] for e in counted] + [0])
        T.check(area, len(counted) <= MAX_ATTEMPTS and highest <= MAX_ATTEMPTS,
                f"{label}: at most {MAX_ATTEMPTS} wrong codes counted, failed_attempts never above it",
                f"{len(counted)} counted, highest {highest}: {events}")
        result, error = by_index.get(right, (None, None))
        sessions = one(conn, "SELECT count(*) FROM auth.sessions WHERE user_id = %s", [user_id])
        confirmed = one(conn, "SELECT email_confirmed_at IS NOT NULL FROM auth.users WHERE id = %s", [user_id])
        if result is not None:
            won += 1
            ok = ("refresh_token" in json.loads(result) and sessions == 1 and confirmed
                  and len(deleted) == 1 and deleted[0][1] < MAX_ATTEMPTS)
            story = "the right code won before the token died"
        else:
            lost += 1
            ok = (error is not None and kind(error) == "PT403 otp_expired" and sessions == 0 and not confirmed
                  and len(deleted) == 1 and deleted[0][1] == MAX_ATTEMPTS and len(counted) == MAX_ATTEMPTS)
            story = f"the token died after {MAX_ATTEMPTS} wrong codes and the right one failed"
        T.check(area, ok, f"{label}: consistent: {story}",
                f"right code: {result and 'session'} {error and kind(error)}; sessions {sessions}, "
                f"confirmed {confirmed}, token events {events}")
        if wrong_count < MAX_ATTEMPTS:
            T.check(area, result is not None,
                    f"{label}: fewer wrong codes than otp_max_attempts cannot kill the token: the right code wins",
                    f"{error and kind(error)}")
        try:
            as_anon(conn, query, [code, email])
            replay = "ok"
        except psycopg.Error as e:
            replay = kind(e)
        T.check(area, replay == "PT403 otp_expired", f"{label}: the right code replayed afterwards fails",
                replay)
    note(f"wrong-code races: the right code won {won}, lost {lost} (the token died first)")

    # Guessing across many accounts at once: every token's wrong codes counted (the counts go
    # through one queue and writer for the whole database), each token dead after exactly 5.
    tokens = {}
    for n in range(GUESSED_USERS):
        email = f"guessed{n}@example.com"
        _, code, token_id = signed_up(conn, email)
        tokens[token_id] = (email, code)
    calls = []
    for email, code in tokens.values():
        for _ in range(GUESSES_EACH):
            guess = code
            while guess == code:
                guess = f"{rng.randrange(10 ** len(code)):0{len(code)}d}"
            calls.append((query, [guess, email]))
    rng.shuffle(calls)
    results = storm(DB_OTP, calls, CONNECTIONS)
    outcomes = tally_errors(results)
    label = f"{GUESSED_USERS} accounts, {GUESSES_EACH} wrong codes each, over {CONNECTIONS} connections at once"
    note(f"{label}: {dict(outcomes)}")
    T.check(area, len(results) == len(calls) and set(outcomes) == {"PT403 otp_expired"},
            f"{label}: every guess fails with PT403 otp_expired", f"{len(results)} answered: {dict(outcomes)}")
    events = conn.execute("""SELECT token_id, count(*) FILTER (WHERE op = 'update'),
                                    max(failed_after), count(*) FILTER (WHERE op = 'delete'),
                                    max(failed_before) FILTER (WHERE op = 'delete')
                               FROM public.token_events WHERE token_id = ANY (%s) GROUP BY token_id""",
                          [list(tokens)]).fetchall()
    exact = [e for e in events if e[1:] == (MAX_ATTEMPTS, MAX_ATTEMPTS, 1, MAX_ATTEMPTS)]
    T.check(area, len(exact) == len(tokens),
            f"{label}: each token counted exactly {MAX_ATTEMPTS} wrong codes, then died",
            f"{len(exact)} of {len(tokens)}; e.g. {[e for e in events if e not in exact][:3]}")
    left = one(conn, "SELECT count(*) FROM auth.one_time_tokens WHERE id = ANY (%s)", [list(tokens)])
    T.check(area, left == 0, f"{label}: no guessed token is left", f"{left} left")
    T.check(area, deadlocks(conn) == stuck,
            "link, wrong-code and guessing rounds: no deadlock detected (pg_stat_database.deadlocks)",
            f"{deadlocks(conn) - stuck} deadlocks")
    conn.close()


# ---------------------------------------------------------------------------------------------
# 2. SMTP down, then back
# ---------------------------------------------------------------------------------------------

def queue_mails(conn, prefix, n):
    """n messages to new addresses, a quarter each by auth.sign_up and auth.sign_in_with_otp as
    anon, and by the shim's POST /signup and POST /otp. Returns ({address: (code, token hash)},
    the HTTP statuses)."""
    expected, statuses = {}, []
    for i in range(n):
        email = f"{prefix}{i}@example.com"
        if i % 4 == 0:
            as_anon(conn, "SELECT auth.sign_up(%s, %s)", [email, PASSWORD])
        elif i % 4 == 1:
            as_anon(conn, "SELECT auth.sign_in_with_otp(%s)", [email])
        elif i % 4 == 2:
            statuses.append(http_post("/signup", {"email": email, "password": PASSWORD})[0])
        else:
            statuses.append(http_post("/otp", {"email": email, "create_user": True})[0])
        expected[email] = queued_code(conn, email)
    return expected, statuses


def check_down(area, conn, shim, expected, label):
    """While the SMTP server is away: every message of `expected` tried, retried, pending with
    its code, a reason that gives nothing away."""
    def tried(least):
        rows = outbox_rows(conn)
        return all(r in rows and rows[r]["attempts"] >= least and rows[r]["status"] == "pending"
                   for r in expected)

    def state():
        rows = outbox_rows(conn)
        return f"{Counter((rows[r]['status'], rows[r]['attempts']) for r in expected if r in rows)}"
    T.check(area, wait_for(lambda: tried(1), 30), f"{label}: every message tried and back to pending within 30 s",
            state())
    # The first retry comes 5 s after the first failure (exponential backoff).
    T.check(area, wait_for(lambda: tried(2), 40), f"{label}: every message retried while the server is away",
            state())
    rows = outbox_rows(conn)
    mine = {r: rows[r] for r in expected if r in rows}
    statuses = Counter(r["status"] for r in mine.values())
    T.check(area, len(mine) == len(expected) and statuses == Counter({"pending": len(expected)}),
            f"{label}: nothing lost, sent or given up: every row pending", f"{dict(statuses)}")
    T.check(area, all(r["backing_off"] and r["has_token"] for r in mine.values()),
            f"{label}: each keeps its code and waits for its next attempt (backoff)", "")
    errors = Counter(r["last_error"] for r in mine.values())
    note(f"{label}: attempts {dict(Counter(r['attempts'] for r in mine.values()))}, last_error {dict(errors)}")
    T.check(area, all(r["last_error"] for r in mine.values()), f"{label}: every row has last_error set",
            f"{dict(errors)}")
    leaks = [r for r, row in mine.items()
             if any(s and s.lower() in (row["last_error"] or "").lower() for s in (*expected[r], r))]
    T.check(area, not leaks, f"{label}: no code, token hash or address in last_error", f"{leaks[:3]}")
    T.check(area, shim.alive(), f"{label}: the shim keeps running", "")


def bring_back(area, conn, work, label):
    """The SMTP server (back) on its port; the pending rows made due: that stands for the backoff
    running out (minutes passing). The shim notices on its next poll (2 s)."""
    catcher = start_catcher(work, SMTP_DOWN_PORT, "mail-smtp-down")
    conn.execute("UPDATE auth.outbox SET next_attempt_at = now() WHERE status = 'pending'")
    drained = wait_for(lambda: all(r["status"] == "sent" for r in outbox_rows(conn).values()), 60, 0.2)
    T.check(area, drained, f"{label}: the whole outbox is sent within 60 s of the server coming back",
            f"{Counter(r['status'] for r in outbox_rows(conn).values())}")
    time.sleep(0.5)  # a mail accepted in the instant before its row was marked is on disk now
    return catcher


def area_smtp_down(admin, work):
    area = A_DOWN
    conn = create_database(admin, DB_DOWN, {"smtp_max_frequency": 0, "rate_limit_email_sent": 100000})
    T.check(area, not listening(SMTP_DOWN_PORT), f"nothing listens on the SMTP port {SMTP_DOWN_PORT}", "")
    shim = start_shim(work, DB_DOWN, SMTP_DOWN_PORT, "shim-smtp-down")
    catcher = None
    try:
        # Never there: the shim starts without an SMTP server.
        expected, http_statuses = queue_mails(conn, "down", DOWN_MAILS)
        T.check(area, http_statuses == [200] * len(http_statuses),
                "the shim answers sign-ups and OTP requests while its SMTP server is down", f"{http_statuses}")
        T.check(area, len(expected) == DOWN_MAILS and all(code and h for code, h in expected.values()),
                f"{DOWN_MAILS} messages queued, each with a code", f"{expected}")
        check_down(area, conn, shim, expected, "down from the start")
        catcher = bring_back(area, conn, work, "back")
        check_delivered(area, conn, catcher.directory, expected)

        # Gone again after it served: the shim's pooled SMTP connections are dead now.
        catcher.stop()
        catcher = None
        again, http_statuses = queue_mails(conn, "again", DOWN_MAILS // 2)
        T.check(area, http_statuses == [200] * len(http_statuses),
                "the shim answers while its SMTP server is gone again", f"{http_statuses}")
        check_down(area, conn, shim, again, "gone again")
        catcher = bring_back(area, conn, work, "back again")
        check_delivered(area, conn, catcher.directory, {**expected, **again})
        T.check(area, shim.alive(), "the shim still runs at the end", "")
    finally:
        shim.stop()
        if catcher:
            catcher.stop()
    conn.close()


# ---------------------------------------------------------------------------------------------
# 3. Shim killed while sending
# ---------------------------------------------------------------------------------------------

def area_kill(admin, work):
    area = A_KILL
    conn = create_database(admin, DB_KILL, {"smtp_max_frequency": 0, "rate_limit_email_sent": 100000})
    expected = {}
    for i in range(KILL_MAILS):
        email = f"kill{i}@example.com"
        as_anon(conn, "SELECT auth.sign_in_with_otp(%s)", [email])
        expected[email] = queued_code(conn, email)
    T.check(area, one(conn, "SELECT count(*) FROM auth.outbox WHERE status = 'pending'") == KILL_MAILS
            and all(c for c, _ in expected.values()), f"{KILL_MAILS} messages queued", "")
    catcher = start_catcher(work, SMTP_PORT, "mail-kill")
    shims = []
    try:
        shims.append(start_shim(work, DB_KILL, SMTP_PORT, "shim-kill-1"))
        arrived = wait_for(lambda: mail_count(catcher.directory) >= 3, 30, 0.002)
        shims[0].kill9()
        before = mail_count(catcher.directory)
        T.check(area, arrived and before < KILL_MAILS, "the shim is SIGKILLed after its first deliveries",
                f"{before} mails had arrived")
        time.sleep(0.5)  # a mail the catcher was writing at the kill
        before_mails = mails(catcher.directory)
        rows = outbox_rows(conn)
        statuses = Counter(r["status"] for r in rows.values())
        note(f"at the kill: {len(before_mails)} messages arrived; rows {dict(statuses)}")
        T.check(area, set(rows) == set(expected) and set(statuses) <= {"pending", "sending", "sent"},
                "after the kill every row is pending, sending or sent (none lost or given up)", f"{dict(statuses)}")
        unsent_marked = [r for r, row in rows.items() if row["status"] == "sent" and r not in before_mails]
        T.check(area, not unsent_marked, "no row is marked sent without its mail having arrived",
                f"{len(unsent_marked)}: {unsent_marked[:3]}")
        in_flight = {r for r, row in rows.items() if row["status"] == "sending"}
        unsent = [row for row in rows.values() if row["status"] != "sent"]
        T.check(area, all(row["has_token"] for row in unsent), "unsent rows keep their codes", "")
        # The dead shim's leases (60 s) would run out by themselves; ending them now stands for
        # that minute passing.
        conn.execute("UPDATE auth.outbox SET lease_until = now() - interval '1 second' WHERE status = 'sending'")
        # Two shims now, draining the one outbox side by side (SKIP LOCKED: never the same row).
        shims.append(start_shim(work, DB_KILL, SMTP_PORT, "shim-kill-2"))
        shims.append(start_shim(work, DB_KILL, SMTP_PORT, "shim-kill-3", listen=SHIM2_PORT))
        drained = wait_for(lambda: all(r["status"] == "sent" for r in outbox_rows(conn).values()), 90, 0.2)
        T.check(area, drained, "two restarted shims send everything within 90 s, the dead one's claims included",
                f"{Counter(r['status'] for r in outbox_rows(conn).values())}")
        sent_by = [len(re.findall(r"outbox: sent", s.output())) for s in shims[1:]]
        note(f"sent by the two restarted shims: {sent_by}")
        time.sleep(0.5)
        reclaimed = [r for r in in_flight if outbox_rows(conn)[r]["attempts"] < 2]
        T.check(area, not reclaimed, "the messages in flight at the kill were claimed again (attempts 2)",
                f"{reclaimed[:3]}")
        check_delivered(area, conn, catcher.directory, expected, in_flight=in_flight)
    finally:
        for s in shims:
            s.stop()
        catcher.stop()
    conn.close()


# ---------------------------------------------------------------------------------------------
# 4. Resend storm
# ---------------------------------------------------------------------------------------------

def area_resend(admin):
    area = A_STORM
    conn = create_database(admin, DB_RESEND, {"smtp_max_frequency": 60, "rate_limit_email_sent": 100000})
    email = "resend@example.com"
    user_id, _, _ = signed_up(conn, email)
    # The sign-up's mail went out a minute ago: stands for the frequency window having passed, so
    # that exactly one resend is due.
    conn.execute("UPDATE auth.users SET confirmation_sent_at = now() - interval '61 seconds' WHERE id = %s",
                 [user_id])
    stuck = deadlocks(conn)
    for burst in (1, 2):
        before = one(conn, "SELECT count(*) FROM auth.outbox WHERE recipient = %s", [email])
        results = storm(DB_RESEND, [("SELECT auth.resend('signup', %s)", [email])] * RESENDS, RESENDS)
        outcomes = tally_errors(results)
        queued = one(conn, "SELECT count(*) FROM auth.outbox WHERE recipient = %s", [email]) - before
        note(f"burst {burst}: {RESENDS} concurrent resends: {dict(outcomes)}; {queued} queued")
        label = f"burst {burst}: {RESENDS} concurrent resends"
        expect = 1 if burst == 1 else 0
        T.check(area, len(results) == RESENDS and queued <= 1 and outcomes["ok"] == queued,
                f"{label}: at most one new message, one per successful call", f"{queued} queued, {dict(outcomes)}")
        T.check(area, queued == expect,
                f"{label}: " + ("the one due resend is queued" if expect else "none within the minute"), f"{queued}")
        T.check(area, set(outcomes) - {"ok"} <= {"PT429 over_email_send_rate_limit"},
                f"{label}: the others get PT429 over_email_send_rate_limit", f"{dict(outcomes)}")
    T.check(area, one(conn, "SELECT count(*) FROM auth.one_time_tokens WHERE user_id = %s", [user_id]) == 1,
            "the user holds one confirmation token (the resend replaced the first)", "")
    code, _ = queued_code(conn, email)
    try:
        ok = "refresh_token" in json.loads(as_anon(conn, "SELECT auth.verify_otp('email', %s, email => %s)",
                                                   [code, email]))
        why = ""
    except psycopg.Error as e:
        ok, why = False, kind(e)
    T.check(area, ok, "the resent code verifies", why)
    T.check(area, deadlocks(conn) == stuck, "resend bursts: no deadlock detected (pg_stat_database.deadlocks)",
            f"{deadlocks(conn) - stuck} deadlocks")

    # Resends racing verifications of the same user's code (no frequency limit, so each resend
    # issues a new code): a user who asks for a new code while entering the one they have.
    conn.execute("""SELECT auth.configure('{"smtp_max_frequency": 0}')""")
    stuck = deadlocks(conn)
    outcomes = Counter()
    unclean = Counter()
    late = 0
    consistent = []
    for n in range(RACE_ROUNDS):
        email = f"race{n}@example.com"
        user_id, code, _ = signed_up(conn, email)
        calls = ([("SELECT auth.verify_otp('email', %s, email => %s)", [code, email])] * RACE_EACH
                 + [("SELECT auth.resend('signup', %s)", [email])] * RACE_EACH)
        random.shuffle(calls)
        results = storm(DB_RESEND, calls, len(calls))
        for i, r, e in results:
            outcomes[("verify" if "verify" in calls[i][0] else "resend", "ok" if e is None else kind(e))] += 1
            if e is not None and not clean(e):
                unclean[kind(e)] += 1
        verified = sum(1 for i, r, e in results if e is None and "verify" in calls[i][0])
        sessions = one(conn, "SELECT count(*) FROM auth.sessions WHERE user_id = %s", [user_id])
        confirmed = one(conn, "SELECT email_confirmed_at IS NOT NULL FROM auth.users WHERE id = %s", [user_id])
        consistent.append(len(results) == len(calls) and verified <= 1 and sessions == verified
                          and confirmed == (verified == 1))
        # A confirmation token issued after the user was confirmed (a resend that read the user
        # as unconfirmed before the verification committed).
        late += one(conn, """SELECT count(*) FROM auth.one_time_tokens t JOIN auth.users u ON u.id = t.user_id
                              WHERE u.id = %s AND u.email_confirmed_at IS NOT NULL
                                AND t.token_type = 'confirmation_token'""", [user_id])
    label = f"{RACE_ROUNDS} rounds of {RACE_EACH} verifications and {RACE_EACH} resends of one user at once"
    note(f"{label}: {dict(outcomes)}; {late} confirmed users were left a fresh confirmation code")
    T.check(area, not unclean, f"{label}: every call answers with a session, {{}} or a clean PTxxx",
            f"{dict(unclean)}")
    T.check(area, all(consistent), f"{label}: at most one verification gets in, and then the user is confirmed",
            f"{consistent}")
    found = deadlocks(conn) - stuck
    T.check(area, found == 0 and not any(k[1] == "PT409 conflict" for k in outcomes),
            f"{label}: no deadlock (pg_stat_database.deadlocks; auth_ext answers one with PT409 conflict)",
            f"{found} deadlocks detected; PT409 answers: "
            f"{ {k[0]: v for k, v in outcomes.items() if k[1] == 'PT409 conflict'} }")
    conn.close()

    conn = create_database(admin, DB_HOURLY, {"smtp_max_frequency": 60, "rate_limit_email_sent": HOURLY_LIMIT})
    calls = []
    for i in range(HOURLY_REQUESTS):
        if i % 2:
            calls.append(("SELECT auth.sign_up(%s, %s)", [f"hourly{i}@example.com", PASSWORD]))
        else:
            calls.append(("SELECT auth.sign_in_with_otp(%s)", [f"hourly{i}@example.com"]))
    stuck = deadlocks(conn)
    results = storm(DB_HOURLY, calls, HOURLY_REQUESTS)
    outcomes = tally_errors(results)
    queued = one(conn, "SELECT count(*) FROM auth.outbox WHERE created_at > now() - interval '1 hour'")
    users = one(conn, "SELECT count(*) FROM auth.users")
    note(f"{HOURLY_REQUESTS} concurrent sign-ups and OTP requests, limit {HOURLY_LIMIT}/h: {dict(outcomes)}; "
         f"{queued} queued, {users} users")
    label = f"{HOURLY_REQUESTS} concurrent sign-ups/OTP requests, rate_limit_email_sent {HOURLY_LIMIT}"
    T.check(area, len(results) == HOURLY_REQUESTS and queued <= HOURLY_LIMIT,
            f"{label}: at most {HOURLY_LIMIT} messages queued within the hour", f"{queued}")
    T.check(area, queued == outcomes["ok"] == HOURLY_LIMIT,
            f"{label}: the limit is reached, one message per successful call", f"{queued}, {dict(outcomes)}")
    T.check(area, set(outcomes) - {"ok"} <= {"PT429 over_email_send_rate_limit"},
            f"{label}: the others get PT429 over_email_send_rate_limit", f"{dict(outcomes)}")
    T.check(area, users == outcomes["ok"], f"{label}: a refused call leaves no user behind",
            f"{users} users for {outcomes['ok']} successes")
    T.check(area, deadlocks(conn) == stuck, f"{label}: no deadlock detected (pg_stat_database.deadlocks)",
            f"{deadlocks(conn) - stuck} deadlocks")
    conn.close()


# ---------------------------------------------------------------------------------------------

def run_area(area, fn, *args):
    try:
        fn(*args)
    except Exception as e:  # the area fails; the suite goes on
        traceback.print_exc()
        T.check(area, False, "the area ran to its end", f"{type(e).__name__}: {short(str(e), 400)}")


def main():
    started = time.time()
    print(f"delivery: port {PORT}, shim {SHIM_PORT}, SMTP {SMTP_PORT} and {SMTP_DOWN_PORT}, "
          f"{'long' if LONG else 'default'} variant", flush=True)
    for path in (SHIM, CATCHER, PYTHON):
        if not os.path.exists(path):
            print(f"missing {path} (./test builds the shim: cargo build --release -p auth_ext_shim)")
            for area in (A_OTP, A_DOWN, A_KILL, A_STORM):
                T.check(area, False, "the suite's parts exist", path)
            return T.finish(SUMMARY, "delivery", started)
    taken = reserve_ports([SHIM_PORT, SMTP_PORT, SMTP_DOWN_PORT])
    if taken:
        print(f"ports {taken} are taken by another program: the shim and SMTP areas will fail")
    # Logs and mail of this run (the previous run's, kept when it failed, go first).
    work = os.path.join(ROOT, "build", "delivery")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    admin = connect("postgres")
    try:
        for area, fn, args in ((A_OTP, area_otp, (admin,)),
                               (A_DOWN, area_smtp_down, (admin, work)),
                               (A_KILL, area_kill, (admin, work)),
                               (A_STORM, area_resend, (admin,))):
            t0 = time.time()
            print(f"-- {area}", flush=True)
            run_area(area, fn, *args)
            note(f"{time.time() - t0:.1f} s")
    finally:
        for p in PROCESSES:
            p.stop()
        for r in RESERVED:
            r.close()
    if not T.failed():
        for db in DATABASES:
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept for a look: databases {', '.join(DATABASES)}; shim logs and mail in {work}")
        failing = {area for area, _, _ in T.failures}
        for p in PROCESSES:
            if p.name.startswith("shim") and failing & {A_DOWN, A_KILL}:
                lines = re.sub(r"\x1b\[[0-9;]*m", "", p.output()).splitlines()
                tail = [line for line in lines if " WARN " in line or " ERROR " in line][-5:]
                if tail:
                    print(f"  {p.name}, last warnings:\n    " + "\n    ".join(tail))
    admin.close()
    return T.finish(SUMMARY, "delivery", started)


if __name__ == "__main__":
    sys.exit(main())
