"""Argument fuzzing of every SQL entry point of auth_ext (run by tests/reliability/20-hostile-input).

The entry points are enumerated from pg_proc: functions in the schemas `auth` and `auth_api` and
every function that belongs to the extension. Trigger functions and functions taking `internal`
cannot be called from SQL; they are listed as skipped. For each argument, by its declared type and
name, hostile values are tried one at a time (the other arguments plausible): NULL, empty, 1 MB
strings, JSON nested 100,000 deep and objects with 100,000 keys, control characters, escaped
\\u0000 and lone surrogates, invalid UTF-8 (through convert_from), invalid uuids, numbers at the
extremes, malformed and hostile-but-validly-signed JWTs, malformed keys. Each case runs as
superuser and as each of anon / authenticated / service_role (a role without EXECUTE is tried
once and must get 42501), in a transaction that is rolled back.

A case passes when the call
  - succeeds, or fails with SQLSTATE PT4xx and a GoTrue code (lower_snake_case) in DETAIL, or
    fails with PostgreSQL's own input error raised before the function runs (22P02, 22P05, 22021,
    54001, ...: the arguments alone, evaluated without the function, raise the same SQLSTATE), or
    with 42501 when the role has no EXECUTE;
  - does not crash the backend (the connection survives, pg_postmaster_start_time() is unchanged);
  - does not raise XX000 or any other SQLSTATE, nor PT5xx (an internal failure);
  - leaks nothing internal (Rust panic text, unwrap/expect, source paths, SPI, SQL text) in the
    message, detail, hint or context, nor any password, token or key it was given;
  - leaves auth.users, sessions, refresh_tokens (and their revocation), identities, audit log,
    signing keys and settings as they were (committed state, checked after every case).

Areas (one summary line each): arguments as superuser, arguments as the API roles, request
settings (hostile request.jwt.claims / legacy claims / request.headers, and tokens with hostile
claims under a valid signature, read by every claims-reading function), random mutations (seeded;
many more with AUTH_EXT_LONG=1), phone factors (hostile numbers, channels, codes and challenge ids
at real phone factors, and other users' factors and challenges, each call committed when it
succeeds: every one must be refused with its GoTrue code and change no factor, challenge, outbox
row, session or audit entry), non-UTF-8 database (the extension in a LATIN1 database, non-ASCII
arguments), server log (no crash, no panic, no secret from failing literal statements).

Phone MFA is on in the suite's database (mfa_phone_enroll_enabled, mfa_phone_verify_enabled); the
MFA entry points' arguments default to the caller's own phone factor and its pending challenge, so
that each hostile argument reaches the phone code.

Environment: AUTH_EXT_TEST_PORT, AUTH_EXT_SUMMARY, AUTH_EXT_LONG, AUTH_EXT_SEED (see README.md).
"""

import base64
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import sys
import time

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader

import suite

PORT = int(os.environ.get("AUTH_EXT_TEST_PORT", "54330"))
SUMMARY = os.environ.get("AUTH_EXT_SUMMARY")
LONG = os.environ.get("AUTH_EXT_LONG") == "1"
VERBOSE = os.environ.get("AUTH_EXT_VERBOSE") == "1"
SEED = int(os.environ.get("AUTH_EXT_SEED") or secrets.randbits(32))
RANDOM_CASES = 20000 if LONG else 400
MAX_PRINTED = int(os.environ.get("AUTH_EXT_MAX_PRINTED", "150"))
SUITE = "hostile-input"
DB = "suite_hostile"
DB_LATIN1 = "suite_hostile_latin1"
SUPER = "postgres"
API_ROLES = ["anon", "authenticated", "service_role"]
PASSWORD = "correct-horse-battery-staple"
MB = 1024 * 1024

# PostgreSQL's own errors for argument values it cannot even build. Acceptable only when the
# arguments alone, evaluated without the function, raise the same SQLSTATE.
PRECALL = {
    "22P02": "invalid input syntax (type input)",
    "22P05": "untranslatable character / unsupported Unicode escape (jsonb input)",
    "22021": "invalid byte sequence for encoding",
    "22003": "numeric value out of range (type input)",
    "54001": "stack depth limit exceeded (JSON parsed by PostgreSQL)",
    "54000": "program limit exceeded (value too large for PostgreSQL)",
    "22023": "invalid parameter value (type input)",
}

LEAK_PATTERNS = [
    (re.compile(r"panick|panic", re.I), "Rust panic"),
    (re.compile(r"unwrap|\bexpect\(|called `|Option::|Result::|RUST_BACKTRACE|backtrace", re.I), "Rust internals"),
    (re.compile(r"\.rs\b|\.rs:\d|/src/|/home/|/root/|/usr/|/work/|/tmp/|\.cargo|registry/", re.I), "a file path"),
    (re.compile(r"pgrx|pg_sys|\bSPI\b|SpiError|serde|Error\(\"|thread '"), "library internals"),
    (re.compile(r"\b(SELECT|INSERT INTO|UPDATE auth|DELETE FROM|WHERE|jsonb_build_object|RETURNING)\b"), "SQL text"),
    (re.compile(r"\bauth\.(users|sessions|refresh_tokens|identities|config|signing_keys)\b"), "a private table name"),
]
STANDARD_CONTEXT = re.compile(r'SQL function "[a-z_]+" statement \d+|SQL function "[a-z_]+" during startup')
GOTRUE_CODE = re.compile(r"[a-z][a-z0-9_]*")
SECRET_ARG_NAMES = {"password", "token", "refresh_token", "key"}


# ---------------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------------

class Tally(suite.Tally):
    def record(self, area, ok, what, why="", group=""):
        if not self.count(area, ok, f"{what} {why}"):
            self.failures.append((area, what, why, group))
            if len(self.failures) <= MAX_PRINTED:
                print(f"FAIL [{area}] {what}\n       -> {why}", flush=True)
            elif len(self.failures) == MAX_PRINTED + 1:
                print(f"(more failures: only the first {MAX_PRINTED} are printed in full; all are "
                      "grouped at the end)", flush=True)
        return ok


T = Tally(SUITE, VERBOSE)


def short(value, n=120):
    if value is None:
        return "NULL"
    s = value if isinstance(value, str) else repr(value)
    total = len(s)
    s = s[:n].encode("unicode_escape").decode("ascii")[:n]
    return s if total <= n else s + f"...({total} chars)"


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------

def connect(dbname, **kw):
    deadline = time.time() + 60
    while True:
        try:
            conn = psycopg.connect(host="127.0.0.1", port=PORT, user=SUPER, dbname=dbname,
                                   autocommit=True, connect_timeout=10, **kw)
            break
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)  # the server may be restarting after a crash
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    conn.execute("SET search_path = pg_catalog")
    conn.execute("SET client_encoding = 'UTF8'")
    return conn


def q(conn, query, params=()):
    return conn.execute(query, params).fetchall()


class Outcome:
    def __init__(self, rows=None, error=None, crashed=False):
        self.rows, self.error, self.crashed = rows, error, crashed

    @property
    def ok(self):
        return self.error is None and not self.crashed

    @property
    def sqlstate(self):
        return None if self.error is None else self.error.sqlstate

    def fields(self):
        if self.error is None:
            return {}
        d = self.error.diag
        return {"message": d.message_primary or str(self.error), "detail": d.message_detail,
                "hint": d.message_hint, "context": d.context}

    def describe(self):
        if self.crashed:
            return f"CONNECTION LOST: {short(str(self.error), 200)}"
        if self.error is None:
            return f"ok: {short(self.rows[0][0] if self.rows else None, 80)}"
        f = self.fields()
        return (f"{self.sqlstate}: {short(f['message'], 200)} | detail: {short(f['detail'], 80)}"
                f" | hint: {short(f['hint'], 80)}" + (f" | context: {short(f['context'], 120)}" if f['context'] else ""))


def attempt(conn, query, params=()):
    conn.execute("SAVEPOINT attempt")
    try:
        cur = conn.execute(query, params)
        rows = cur.fetchall() if cur.description else []
        conn.execute("RELEASE SAVEPOINT attempt")
        return Outcome(rows=rows)
    except psycopg.Error as e:
        if conn.broken or conn.closed:
            return Outcome(error=e, crashed=True)
        conn.execute("ROLLBACK TO SAVEPOINT attempt")
        conn.execute("RELEASE SAVEPOINT attempt")
        return Outcome(error=e)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

class Val:
    """One argument value: a Python string bound as a parameter, a raw SQL expression, or NULL.
    `secret` is what must never come back in an error (a password, token or key given)."""
    __slots__ = ("label", "param", "sql", "secret")

    def __init__(self, label, param=None, sql_expr=None, secret=None):
        self.label, self.param, self.sql, self.secret = label, param, sql_expr, secret

    def render(self, typ):
        if self.sql is not None:
            return self.sql, []
        if self.param is None:
            return f"NULL::{typ}", []
        return f"%s::{typ}", [self.param]

    def show(self):
        if self.sql is not None:
            return f"{self.label} = SQL {short(self.sql, 80)}"
        return f"{self.label} = {short(self.param, 80)}"


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def deep_array(n):
    return "[" * n + "]" * n


def deep_object(n):
    return '{"a":' * n + "1" + "}" * n


def wide_object(n):
    return "{" + ",".join(f'"k{i}":{i}' for i in range(n)) + "}"


def wide_array(n):
    return "[" + ",".join(str(i) for i in range(n)) + "]"


BIG_ASCII = "A" * MB
BIG_MULTIBYTE = "é" * (MB // 2)
BIG_CONTROL = "\x01\x1b" * (MB // 20)
DEEP_100K = deep_array(100_000)
WIDE_100K = wide_object(100_000)

TEXT_COMMON = [
    Val("NULL"), Val("empty", ""), Val("a space", " "), Val("tab/newline", "\t\n\r"),
    Val("one char", "a"), Val("the word null", "null"),
    Val("control characters", "\x01\x02\x1b[31m\x7f"), Val("RLO", "\u202egnp.exe"),
    Val("zero-width/BOM", "\u200b\ufeff\u2060"), Val("emoji", "😀" * 20),
    Val("fullwidth", "ＡＢＣ＠ＥＸＡＭＰＬＥ．ＣＯＭ"), Val("combining", "e\u0301" * 50),
    Val("SQL injection", "'; DROP TABLE auth.users; --"), Val("format string", "%s%n%x%p%%{}"),
    Val("backslashes", "\\\\\\x00\\u0000"), Val("quote", '"'),
    Val("JSON fragment", '{"a":'), Val("JSON with \\u0000", '{"a":"\\u0000"}'),
    Val("JSON with a lone surrogate", '{"a":"\\ud800"}'),
    Val("JSON nested 100000 deep", DEEP_100K), Val("JSON object with 100000 keys", WIDE_100K),
    Val("1 MB ASCII", BIG_ASCII), Val("1 MB multibyte", BIG_MULTIBYTE),
    Val("100 KB control characters", BIG_CONTROL),
    Val("invalid uuid", "00000000-0000-0000-0000-00000000000g"),
    Val("nil uuid", "00000000-0000-0000-0000-000000000000"),
    Val("braced uuid", "{6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f}"),
    Val("number -1", "-1"), Val("number 1e400", "1e400"),
    Val("number 2^63", "9223372036854775808"), Val("NaN", "NaN"),
    Val("invalid UTF-8 (convert_from)", sql_expr="convert_from('\\xc328a0ff'::bytea, 'UTF8')"),
    Val("overlong UTF-8 NUL (convert_from)", sql_expr="convert_from('\\xc080'::bytea, 'UTF8')"),
    Val("CESU surrogate (convert_from)", sql_expr="convert_from('\\xeda080'::bytea, 'UTF8')"),
]

EMAILS = [
    Val("email a@b", "a@b"), Val("email @", "@"), Val("email a@", "a@"), Val("email @b.c", "@b.c"),
    Val("email with newline", "user@example.com\n"), Val("email header injection", "x@y.z\r\nBcc: evil@evil.com"),
    Val("email 300-char local part", "a" * 300 + "@example.com"),
    Val("email 300-char domain", "a@" + "b" * 300 + ".com"),
    Val("email quoted local part", '"a b"@example.com'), Val("email IP literal", "a@[127.0.0.1]"),
    Val("email unicode", "ünïcödé@exämple.com"), Val("email RLO", "a\u202e@example.com"),
    Val("email many @", "a@b@c@d.com"), Val("email with %00", "a%00@example.com"),
]

PASSWORDS = [
    Val("password short", "short", secret="short"),
    Val("password 1024 bytes", "P" * 1024, secret="P" * 1024),
    Val("password 1025 bytes", "P" * 1025, secret="P" * 1025),
    Val("password 1024 bytes multibyte", "é" * 512, secret="é" * 512),
    Val("password 1026 bytes multibyte", "é" * 513, secret="é" * 513),
    Val("password only spaces", " " * 12), Val("password control chars", "\x01\x1b\x7f" * 4),
    Val("password RLO", "\u202e" * 10 + "pw-1234", secret="\u202e" * 10 + "pw-1234"),
    Val("password marker", "Hostile-Pw-Marker-7f3a9c", secret="Hostile-Pw-Marker-7f3a9c"),
]

REFRESH_TOKENS = [
    Val("refresh 43 x", "x" * 43, secret="x" * 43), Val("refresh 255 chars", "r" * 255, secret="r" * 255),
    Val("refresh 256 chars", "r" * 256, secret="r" * 256),
    Val("refresh random", secrets.token_urlsafe(32)), Val("refresh with spaces", "  abc def  "),
    Val("refresh control chars", "\x01" * 43),
]

# Phone numbers for a phone factor (mfa_enroll): none is E.164, each must be validation_failed.
PHONES = [
    Val("phone 1 MB of digits", "+1" + "5" * MB), Val("phone 10,000 digits", "+1" + "5" * 10_000),
    Val("phone 16 digits", "+1555010010012345"), Val("phone leading 0", "+05550100100"),
    Val("phone fullwidth digits", "+１５５５０１００１００"), Val("phone Arabic-Indic digits", "+١٥٥٥٠١٠٠١٠٠"),
    Val("phone Devanagari digits", "+१५५५०१००१००"), Val("phone superscript digits", "+¹⁵⁵⁵⁰¹⁰⁰¹⁰⁰"),
    Val("phone RLO before it", "\u202e+15550100100"), Val("phone zero-width space inside", "+1555\u200b0100100"),
    Val("phone combining mark", "+15550100100\u0301"), Val("phone emoji", "📞15550100100"),
    Val("phone two numbers", "+15550100100,+15550100101"), Val("phone tel: URI", "tel:+15550100100"),
    Val("phone NUL inside (chr)", sql_expr="'+1555' || chr(0) || '0100100'"),
    Val("phone NUL inside (convert_from)", sql_expr="convert_from('\\x2b3135353500303130303130'::bytea, 'UTF8')"),
    Val("phone invalid UTF-8 (convert_from)", sql_expr="convert_from('\\x2b31353535ff'::bytea, 'UTF8')"),
]
# Channels for a phone factor's challenge (mfa_challenge): only sms is offered.
CHANNELS = [Val(f"channel {short(c, 20)!r}", c) for c in (
    "whatsapp", "SMS", "carrier pigeon", "sms\u200b", "ｓｍｓ", "sms\u202e", "s\u0301ms", "sms,whatsapp", "x" * MB)] + [
    Val("channel NUL inside (chr)", sql_expr="'sms' || chr(0)"),
    Val("channel invalid UTF-8 (convert_from)", sql_expr="convert_from('\\x736d73ff'::bytea, 'UTF8')"),
]


def mfa_codes(ctx):
    """Codes at the caller's own phone challenge (mfa_verify): none is the code sent, though some
    hold it; the code itself must never come back in an error."""
    code = ctx.phone_code
    fullwidth = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [Val(label, v, secret=code) for label, v in (
        ("code of 10,000 digits", "1" * 10_000), ("code of 10,000 chars after the right one", code + "0" * 9_994),
        ("code 1 MB", "7" * MB), ("the right code in fullwidth digits", fullwidth),
        ("the right code, one digit more", code + "0"), ("the right code but its last digit", code[:-1]),
        ("the right code after a zero-width space", "\u200b" + code), ("the right code after RLO", "\u202e" + code),
        ("the right code as a number with a sign", "+" + code), ("the right code as a JSON string", json.dumps(code)))] + [
        Val("the right code with NUL (chr)", sql_expr=f"'{code}' || chr(0)"),
        Val("the right code, invalid UTF-8 after (convert_from)",
            sql_expr=f"'{code}' || convert_from('\\xff'::bytea, 'UTF8')"),
    ]


MFA_FNS = {"mfa_enroll", "mfa_challenge", "mfa_verify", "mfa_unenroll"}

SCOPES = [Val(f"scope {s!r}", s) for s in ("global", "local", "others", "GLOBAL", "global ", "all", "")]
ALGS = [Val(f"alg {a!r}", a) for a in ("ES256", "RS256", "EdDSA", "HS256", "none", "NONE", "es256",
                                        "HS512", "ES256 ", "Ed25519", "RSA-OAEP", "PS256")]
STATUSES = [Val(f"status {s!r}", s) for s in ("standby", "current", "previous", "revoked", "CURRENT",
                                               "deleted", "current ")]

OIDS = [Val("NULL"), Val("oid 0", sql_expr="0::oid"), Val("oid 1", sql_expr="1::oid"),
        Val("oid max", sql_expr="4294967295::oid"), Val("oid of auth.config", sql_expr="'auth.config'::regclass::oid"),
        Val("oid of pg_class", sql_expr="'pg_class'::regclass::oid"),
        Val("oid -1 (input)", "-1"), Val("oid 2^32 (input)", "4294967296"), Val("oid text (input)", "abc")]

USER_ROWS = [Val("NULL row"), Val("row of NULLs", sql_expr="jsonb_populate_record(NULL::auth.users, '{}')"),
             Val("a real row", sql_expr="(SELECT u FROM auth.users u LIMIT 1)"),
             Val("a made-up row with hostile values", sql_expr=(
                 "jsonb_populate_record(NULL::auth.users, '{\"id\": \"6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f\", "
                 "\"email\": \"\\u202e\\u0001\", \"raw_user_meta_data\": {\"a\": 1e400, \"b\": "
                 + deep_array(1000) + "}}')"))]

JSON_NUMBERS = ["1e308", "1e309", "-1e400", "1e-400", "123456789012345678901234567890",
                "18446744073709551616", "-9223372036854775809", "0.1" + "1" * 1000, "-0"]

JSONB_COMMON = [
    Val("NULL"), Val("{}", "{}"), Val("[]", "[]"), Val("json null", "null"), Val('""', '""'),
    Val("0", "0"), Val("true", "true"), Val("a string", '"x"'), Val("array of mixed", '[1, "a", null, {}]'),
    Val("nested 127", deep_array(127)), Val("nested 128", deep_array(128)), Val("nested 129", deep_array(129)),
    Val("nested 200", deep_array(200)), Val("nested 5000", deep_array(5000)),
    Val("object nested 200", deep_object(200)),
    Val("nested 100000 (JSON bomb)", DEEP_100K), Val("object with 100000 keys (JSON bomb)", WIDE_100K),
    Val("array of 100000", wide_array(100_000)), Val("1 MB string", json.dumps(BIG_ASCII)),
    Val("control characters", json.dumps({"k\u0001": "\u0001\u001b\u202e\u0085"})),
    Val("escaped \\u0000", '{"a": "\\u0000"}'), Val("lone surrogate", '{"a": "\\ud800"}'),
    Val("duplicate keys", '{"a": 1, "a": 2}'),
    Val("invalid UTF-8 (convert_from)", sql_expr="convert_from('\\x7b2261223a2280ff227d'::bytea, 'UTF8')::jsonb"),
    Val("not JSON (input)", "{'a': 1}"), Val("truncated (input)", '{"a": [1, 2'),
] + [Val(f"number {n[:20]}", n) for n in JSON_NUMBERS] + [
    Val(f"object with number {n[:20]}", f'{{"a": {n}}}') for n in JSON_NUMBERS]


class Context:
    """Users, keys and tokens the cases refer to."""

    def __init__(self):
        self.counter = 0

    def fresh_email(self):
        self.counter += 1
        return f"fuzz{self.counter}-{secrets.token_hex(3)}@example.com"

    def hs256(self, payload_text, header=None):
        """A token signed with the imported verify-only HS256 key, payload given as raw text."""
        header = header if header is not None else json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.hs_kid})
        signing_input = f"{b64u(header)}.{b64u(payload_text)}"
        sig = hmac.new(self.hs_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64u(sig)}"


def jwt_values(ctx):
    if getattr(ctx, "_jwt_values", None) is None:
        ctx._jwt_values = make_jwt_values(ctx)
    return ctx._jwt_values


def make_jwt_values(ctx):
    tok = ctx.access
    h, p, s = tok.split(".")
    header = json.loads(b64u_decode(h))
    claims = json.loads(b64u_decode(p))
    exp = int(time.time()) + 3600

    def with_header(hdr):
        return f"{b64u(hdr)}.{p}.{s}"

    def V(label, value):
        return Val(f"jwt: {label}", value, secret=value if len(value) >= 12 else None)

    out = [
        V("two empty dots", ".."), V("one dot", "a.b"), V("four parts", tok + ".x"),
        V("alg none", f"{b64u(json.dumps({'alg': 'none', 'typ': 'JWT'}))}.{p}."),
        V("alg none with kid", with_header(json.dumps({"alg": "none", "kid": header["kid"]}))),
        V("signature stripped", f"{h}.{p}."), V("signature of another token", f"{h}.{p}.{ctx.other_access.split('.')[2]}"),
        V("payload tampered", f"{h}.{b64u(json.dumps(dict(claims, role='service_role')))}.{s}"),
        V("padded base64", f"{h}==.{p}==.{s}=="), V("standard base64 alphabet", tok.replace("-", "+").replace("_", "/")),
        V("newline inside", f"{h}\n.{p}.{s}"), V("leading space", " " + tok), V("trailing newline", tok + "\n"),
        V("Bearer prefix", "Bearer " + tok), V("header not JSON", f"{b64u('not json')}.{p}.{s}"),
        V("header a JSON array", f"{b64u('[]')}.{p}.{s}"), V("payload not JSON", f"{h}.{b64u('nope')}.{s}"),
        V("header nested 3000", with_header('{"alg":"ES256","x":' + deep_array(3000) + "}")),
        V("header lone surrogate kid", with_header('{"alg":"ES256","kid":"\\ud800"}')),
        V("header \\u0000 kid", with_header('{"alg":"ES256","kid":"\\u0000"}')),
        V("header SQL kid", with_header(json.dumps({"alg": "ES256", "kid": "' OR 1=1 --"}))),
        V("header 10 KB kid", with_header(json.dumps({"alg": "ES256", "kid": "k" * 10_000}))),
        V("header path kid", with_header(json.dumps({"alg": "ES256", "kid": "../../../../etc/passwd"}))),
        V("header numeric kid", with_header(json.dumps({"alg": "ES256", "kid": 1}))),
        V("header null kid", with_header(json.dumps({"alg": "ES256", "kid": None}))),
        V("header alg HS256 with the ES256 kid", with_header(json.dumps({"alg": "HS256", "kid": header["kid"]}))),
        V("header alg number", with_header(json.dumps({"alg": 256}))),
        V("header crit", with_header(json.dumps(dict(header, crit=["exp"])))),
        V("header duplicate alg", with_header('{"alg":"none","alg":"ES256","kid":"%s"}' % header["kid"])),
        V("header jku", with_header(json.dumps(dict(header, jku="http://evil.example/jwks.json")))),
        V("16 KiB + 1", tok + "A" * (16 * 1024 + 1 - len(tok))), V("1 MB token", "a" * MB),
        V("1 MB of dots", "." * MB), V("invalid base64", "a!b.c$d.e%f"),
        V("control characters", "\x01\x1b.\x02.\x03"), V("RLO", "\u202e" + tok),
    ]
    # Validly signed (with an imported HS256 key), hostile claims.
    payloads = {
        "exp 1e400": '{"sub":"x","exp":1e400}', "exp -1e400": '{"exp":-1e400}', "exp NaN string": '{"exp":"NaN"}',
        "exp null": '{"exp":null}', "exp i64 max": '{"exp":9223372036854775807}', "exp 1e308": '{"exp":1e308}',
        "exp 2^64": '{"exp":18446744073709551616}', "nbf -1e308": '{"exp":%d,"nbf":-1e308}' % exp,
        "iat 1e308": '{"exp":%d,"iat":1e308}' % exp, "no exp": '{"sub":"x"}',
        "sub \\u0000": '{"exp":%d,"sub":"\\u0000"}' % exp,
        "email \\u0000": '{"exp":%d,"sub":"%s","email":"a\\u0000b"}' % (exp, ctx.user_id),
        "role \\u0000": '{"exp":%d,"sub":"%s","role":"service_role\\u0000x"}' % (exp, ctx.user_id),
        "sub lone surrogate": '{"exp":%d,"sub":"\\ud800"}' % exp,
        "nested 3000": '{"exp":%d,"x":%s}' % (exp, deep_array(3000)),
        "sub not a uuid": '{"exp":%d,"sub":"not-a-uuid"}' % exp, "sub a number": '{"exp":%d,"sub":1}' % exp,
        "sub nil uuid": '{"exp":%d,"sub":"00000000-0000-0000-0000-000000000000"}' % exp,
        "session_id garbage": '{"exp":%d,"sub":"%s","session_id":"garbage"}' % (exp, ctx.user_id),
        "aud mixed array": '{"exp":%d,"aud":["a",1,null,{}]}' % exp,
        "duplicate sub": '{"exp":%d,"sub":"%s","sub":"%s"}' % (exp, ctx.user_id, ctx.other_id),
        "payload an array": "[]", "payload a string": '"x"', "payload null": "null", "payload empty": "",
        "payload not JSON": "{", "payload 12 KB": '{"exp":%d,"x":"%s"}' % (exp, "x" * 12_000),
    }
    for label, payload in payloads.items():
        out.append(V(f"HS256-signed, {label}", ctx.hs256(payload)))
    out.append(V("HS256-signed without kid", ctx.hs256('{"exp":%d,"sub":"%s"}' % (exp, ctx.user_id),
                                                       header='{"alg":"HS256","typ":"JWT"}')))
    return out


def key_values():
    def V(label, value):
        return Val(f"key: {label}", value, secret=value if len(value) >= 12 else None)

    ec = {"kty": "EC", "crv": "P-256", "x": b64u(b"\x01" * 32), "y": b64u(b"\x02" * 32)}
    return [
        V("HS256 secret 31 chars", "s" * 31), V("HS256 secret 1 MB", "s" * MB),
        V("PEM garbage", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----"),
        V("PEM empty body", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"),
        V("PEM truncated", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49"),
        V("PEM of random DER", "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(os.urandom(200)).decode()
          + "\n-----END PRIVATE KEY-----"),
        V("JWK empty", "{}"), V("JWK kty only", '{"kty":"EC"}'), V("JWK unknown kty", '{"kty":"XYZ"}'),
        V("JWK EC off-curve point", json.dumps(ec)),
        V("JWK EC d = 0", json.dumps(dict(ec, d=b64u(b"\x00" * 32)))),
        V("JWK EC d = n", json.dumps(dict(ec, d=b64u(bytes.fromhex(
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"))))),
        V("JWK EC d all ff", json.dumps(dict(ec, d=b64u(b"\xff" * 32)))),
        V("JWK EC short x", json.dumps(dict(ec, x=b64u(b"\x01")))),
        V("JWK OKP wrong length", json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64u(b"\x01" * 5)})),
        V("JWK OKP d only", json.dumps({"kty": "OKP", "crv": "Ed25519", "d": b64u(b"\x01" * 32)})),
        V("JWK RSA n = 0", json.dumps({"kty": "RSA", "n": "AA", "e": "AQAB"})),
        V("JWK RSA e = 1", json.dumps({"kty": "RSA", "n": b64u(b"\xc1" * 256), "e": "AQ"})),
        V("JWK RSA 16384-bit n", json.dumps({"kty": "RSA", "n": b64u(b"\xc1" * 2048), "e": "AQAB"})),
        V("JWK RSA huge e", json.dumps({"kty": "RSA", "n": b64u(b"\xc1" * 256), "e": b64u(b"\xff" * 512)})),
        V("JWK oct", json.dumps({"kty": "oct", "k": b64u(b"k" * 40)})),
        V("JWK nested 3000", '{"kty":' + deep_array(3000) + "}"),
        V("JWK lone surrogate", '{"kty":"EC","crv":"\\ud800"}'),
        V("JWK \\u0000", '{"kty":"EC\\u0000"}'),
        V("JWK set", json.dumps({"keys": [ec]})),
    ]


def kid_values(ctx):
    return [Val("kid standby", ctx.standby_kid), Val("kid current", ctx.current_kid),
            Val("kid revoked", ctx.revoked_kid), Val("kid unknown uuid", "6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f"),
            Val("kid SQL", "' OR ''='")]


def json_string_secret(v):
    """The string inside a JSON text, when it is long enough to recognise in an error."""
    try:
        dec = json.loads(v)
    except ValueError:
        return None
    return dec if isinstance(dec, str) and len(dec) >= 8 else None


def structured_jsonb(fn_name, ctx):
    """JSON objects whose keys the function understands, with hostile values."""
    out = []
    hostile = ["null", "true", "-1", "0", "1", "2147483648", "9223372036854775808", "1e308", "1e400", "1.5",
               '""', '"x"', json.dumps("x" * MB), "[]", "{}", deep_array(200), '"\\u202e"']
    if fn_name == "update_user":
        for key in ("password", "data", "email", "phone"):
            for v in hostile:
                secret = json_string_secret(v) if key == "password" else None
                out.append(Val(f"{{{key}: {short(v, 30)}}}", f'{{"{key}": {v}}}', secret=secret))
        out.append(Val("data with 100000 keys", '{"data": %s}' % WIDE_100K))
        out.append(Val("data nested 100000", '{"data": %s}' % DEEP_100K))
        out.append(Val("password marker", json.dumps({"password": "Hostile-Upd-Marker-8c1d"}),
                       secret="Hostile-Upd-Marker-8c1d"))
        out.append(Val("data removing keys", '{"data": {"a": null, "": null}}'))
    elif fn_name == "configure":
        for key in ctx.setting_keys + ["jwt_secret", "no_such_setting"]:
            for v in hostile:
                secret = json_string_secret(v) if key == "jwt_secret" else None
                out.append(Val(f"{{{key}: {short(v, 30)}}}", f'{{"{key}": {v}}}', secret=secret))
        out.append(Val("jwt_secret marker (too short)", json.dumps({"jwt_secret": "Short-Secret-Marker-1"}),
                       secret="Short-Secret-Marker-1"))
        out.append(Val("trusted_roles odd names", json.dumps({"trusted_roles": ["", "x" * 100, "\u202e", "a\"b"]})))
    elif fn_name == "sign_jwt":
        for key in ("exp", "iat", "nbf", "sub", "role", "aud", "kid"):
            for v in hostile:
                out.append(Val(f"{{{key}: {short(v, 30)}}}", f'{{"{key}": {v}}}'))
        out.append(Val("claims of 13 KB", json.dumps({"x": "x" * 13_000})))
    return out


VALUES_CACHE = {}


def values_for(fn, argname, typ, ctx):
    key = (id(ctx), fn.sig, argname, typ)
    if key not in VALUES_CACHE:
        VALUES_CACHE[key] = make_values(fn, argname, typ, ctx)
    return VALUES_CACHE[key]


def make_values(fn, argname, typ, ctx):
    if typ == "text":
        extra = {"email": EMAILS, "password": PASSWORDS, "refresh_token": REFRESH_TOKENS + jwt_values(ctx)[:3],
                 "token": jwt_values(ctx), "scope": SCOPES, "alg": ALGS, "status": STATUSES,
                 "key": key_values(), "kid": kid_values(ctx)}.get(argname, [])
        if fn.name in MFA_FNS:  # these names mean other things elsewhere (sign_up's channel)
            extra = {"phone": PHONES, "channel": CHANNELS, "code": mfa_codes(ctx),
                     "factor_id": [Val("the other user's phone factor", ctx.other_phone_factor)],
                     "challenge_id": [Val("the other user's phone challenge", ctx.other_phone_challenge)],
                     }.get(argname, extra)
        vals = TEXT_COMMON + extra
        if argname in SECRET_ARG_NAMES:
            vals = [Val(v.label, v.param, v.sql, secret=v.secret or (v.param if v.param and len(v.param) >= 12
                                                                      and v.param.strip() else None))
                    for v in vals]
        return vals
    if typ == "jsonb":
        return JSONB_COMMON + structured_jsonb(fn.name, ctx)
    if typ == "oid":
        return OIDS
    if typ == "auth.users":
        return USER_ROWS
    return [Val("NULL")]


def baseline(fn, argname, typ, ctx):
    """A plausible value, so that the other argument is what the case is about."""
    by_name = {
        "email": lambda: Val("fresh email", ctx.fresh_email()),
        "password": lambda: Val("good password", PASSWORD),
        "data": lambda: Val("{}", "{}"), "attributes": lambda: Val("{}", "{}"),
        "changes": lambda: Val("{}", "{}"), "claims": lambda: Val("claims", json.dumps({"sub": ctx.user_id})),
        "refresh_token": lambda: Val("own refresh token", ctx.refresh),
        "token": lambda: Val("own access token", ctx.access), "scope": lambda: Val("global", "global"),
        "alg": lambda: Val("ES256", "ES256") if fn.name == "create_signing_key" else Val("HS256", "HS256"),
        "key": lambda: Val("a 40-char secret", secrets.token_urlsafe(30)),
        "kid": lambda: Val("standby kid", ctx.standby_kid), "status": lambda: Val("standby", "standby"),
        "relid": lambda: Val("auth.config", sql_expr="'auth.config'::regclass::oid"),
        "u": lambda: Val("a real row", sql_expr="(SELECT u FROM auth.users u LIMIT 1)"),
    }
    if fn.name in MFA_FNS:  # the caller's own phone factor, its pending challenge, a wrong code
        by_name.update({
            "factor_type": lambda: Val("phone", "phone"), "phone": lambda: Val("a new number", "+15550109999"),
            "factor_id": lambda: Val("own phone factor", ctx.phone_factor),
            "challenge_id": lambda: Val("own pending challenge", ctx.phone_challenge),
            "code": lambda: Val("a wrong code", other_code(ctx.phone_code)),
            "channel": lambda: Val("sms", "sms"),
        })
    make = by_name.get(argname)
    return make() if make else Val("NULL")


def other_code(code):
    """A code of the same length that is not `code`."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------

class Fn:
    def __init__(self, oid, sig, nsp, name, argtypes, argnames, rettype):
        self.oid, self.sig, self.nsp, self.name = oid, sig, nsp, name
        self.argtypes = list(argtypes)
        self.argnames = list(argnames or []) + [f"arg{i}" for i in range(len(argnames or []), len(argtypes))]
        self.rettype = rettype

    def skip_reason(self):
        return suite.uncallable(self, "trigger function (PostgreSQL refuses direct calls)",
                                "takes `internal` (planner support function; no SQL value can be passed)")


def functions(conn):
    rows = q(conn, """
        SELECT p.oid, p.oid::regprocedure::text, n.nspname, p.proname,
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t),
               p.proargnames, format_type(p.prorettype, NULL)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname IN ('auth', 'auth_api') OR EXISTS (
               SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                WHERE e.extname = 'auth_ext' AND d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.deptype = 'e')
         ORDER BY 2""")
    return [Fn(*r) for r in rows]


# ---------------------------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------------------------

FINGERPRINT = """
    SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM auth.sessions),
           (SELECT count(*) FROM auth.refresh_tokens), (SELECT count(*) FROM auth.refresh_tokens WHERE revoked),
           (SELECT count(*) FROM auth.identities),
           -- a failed sign-in's login_failed row is written apart from the call on purpose
           -- (src/trace/), after it: not part of the committed state a failing call must keep
           (SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' IS DISTINCT FROM 'login_failed'),
           (SELECT count(*) FROM auth.mfa_amr_claims),
           (SELECT count(*) FROM auth.mfa_factors), (SELECT count(*) FROM auth.mfa_challenges),
           (SELECT count(*) FROM auth.mfa_challenges WHERE verified_at IS NOT NULL),
           (SELECT count(*) FROM auth.outbox),
           (SELECT md5(string_agg(kid || status, ',' ORDER BY kid)) FROM auth.signing_keys),
           (SELECT md5(settings::text) FROM auth.config), pg_postmaster_start_time()"""
# Text the extension writes must be valid text: convert_to() refuses a NUL byte (which a Rust
# string decoded from a JSON \u0000 escape can carry into a text datum).
STORED_TEXT_CHECK = "SELECT " + " + ".join([
    "(SELECT count(convert_to(user_agent, 'UTF8')) + count(convert_to(tag, 'UTF8')) FROM auth.sessions)",
    "(SELECT count(convert_to(email, 'UTF8')) + count(convert_to(phone, 'UTF8')) + count(convert_to(aud, 'UTF8')) + count(convert_to(role, 'UTF8')) + count(convert_to(encrypted_password, 'UTF8')) FROM auth.users)",
    "(SELECT count(convert_to(provider_id, 'UTF8')) + count(convert_to(provider, 'UTF8')) + count(convert_to(email, 'UTF8')) FROM auth.identities)",
    "(SELECT count(convert_to(token, 'UTF8')) + count(convert_to(user_id, 'UTF8')) + count(convert_to(parent, 'UTF8')) FROM auth.refresh_tokens)",
])
WRITERS = {"sign_up", "sign_in_with_password", "refresh_session", "update_user", "sign_out"}
FINGERPRINT_NAMES = ["users", "sessions", "refresh_tokens", "revoked refresh tokens", "identities",
                     "audit log entries", "mfa_amr_claims", "mfa_factors", "mfa_challenges",
                     "verified mfa_challenges", "outbox", "signing keys", "settings", "postmaster start"]


class Runner:
    def __init__(self, dbname, ctx):
        self.dbname, self.ctx = dbname, ctx
        self.conn = connect(dbname)
        self.fp = self.fingerprint()
        self.executable = {}

    def fingerprint(self):
        return q(self.conn, FINGERPRINT)[0]

    def reconnect(self):
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = connect(self.dbname)

    def can_execute(self, role, fn):
        key = (role, fn.oid)
        if key not in self.executable:
            self.executable[key] = role == SUPER or q(self.conn, """
                SELECT has_function_privilege(%s, %s, 'EXECUTE') AND has_schema_privilege(%s, %s, 'USAGE')""",
                                                        [role, fn.oid, role, fn.nsp])[0][0]
        return self.executable[key]

    def run(self, area, fn, role, args, label, settings=(), pre=(), wrap=None):
        """args: [Val] matching fn.argtypes. settings: [(guc, value)] set for the transaction;
        pre: [(sql, params)] run first (e.g. auth.authenticate()). wrap: SQL around the call,
        with {} for it (e.g. convert_to({}, 'UTF8')). Three round trips: the set-up batch, the
        call, and the rollback with the fingerprint of the committed state."""
        parts, params = [], []
        for val, typ in zip(args, fn.argtypes):
            frag, ps = val.render(typ)
            parts.append(frag)
            params.extend(ps)
        call = sql.SQL("{}({})").format(sql.Identifier(fn.nsp, fn.name), sql.SQL(", ".join(parts)))
        if wrap:
            call = sql.SQL(wrap).format(call)
        stmt = sql.SQL("SELECT {}").format(call)
        setup = [sql.SQL("BEGIN")]
        if role != SUPER:
            setup.append(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        setup.append(sql.SQL("SET LOCAL statement_timeout = '30s'"))
        for guc, value in [("request.jwt.claims", self.ctx.claims)] + list(settings):
            setup.append(sql.SQL("SELECT set_config({}, {}, true)").format(sql.Literal(guc), sql.Literal(value)))
        setup = sql.SQL("; ").join(setup)
        probe = setup_failed = fp = stored_problem = None
        conn = self.conn
        try:
            conn.execute(setup)
            for s, p in pre:
                o = attempt(conn, s, p)
                if not o.ok and setup_failed is None:
                    setup_failed = o
            try:
                cur = conn.execute(stmt, params)
                out = Outcome(rows=cur.fetchall())
            except psycopg.Error as e:
                out = Outcome(error=e, crashed=conn.broken or conn.closed)
            if out.ok and fn.name in WRITERS:
                try:
                    conn.execute("RESET ROLE; " + STORED_TEXT_CHECK)
                except psycopg.Error as e:
                    stored_problem = f"the call stored invalid text ({e.sqlstate}: {short(str(e), 100)})"
            if not out.crashed:
                cur = conn.execute("ROLLBACK; " + FINGERPRINT)
                cur.nextset()
                fp = cur.fetchone()
                if not out.ok and parts and out.sqlstate in PRECALL:
                    # Do the arguments alone, without the function, raise the same error?
                    # (Their text forces every one to be evaluated.)
                    conn.execute(setup)
                    probe = attempt(conn, sql.SQL("SELECT octet_length(ROW({})::text)").format(
                        sql.SQL(", ".join(parts))), params)
                    conn.execute("ROLLBACK")
        except psycopg.Error as e:
            out = Outcome(error=e, crashed=True)
        if out.crashed or conn.broken or conn.closed:
            out.crashed = True
            self.reconnect()
        problems = self.judge(role, fn, args, out, probe, wrap)
        if stored_problem:
            problems.append(stored_problem)
        # Nothing committed, whatever happened (every case is rolled back).
        if fp is None:
            fp = self.fingerprint()
        if fp != self.fp:
            changed = [n for n, a, b in zip(FINGERPRINT_NAMES, self.fp, fp) if a != b]
            problems.append(f"committed state changed: {changed}")
            self.fp = fp
        ok = not problems
        if ok and not VERBOSE:
            return T.record(area, True, "", "")
        what = f"{role}: {fn.sig} [{label}] " + "; ".join(v.show() for v in args)
        for guc, value in settings:
            what += f"; {guc} = {short(value, 80)}"
        return T.record(area, ok, what, "; ".join(problems) + f" [{out.describe()}]"
                        + (f" [set-up step: {setup_failed.describe()}]" if setup_failed else ""), group=fn.sig)

    def judge(self, role, fn, args, out, probe, wrap=None):
        if out.crashed:
            return ["the backend crashed or the connection broke"]
        if out.ok:
            return []
        st = out.sqlstate or "?????"
        if st == "42501":
            return [] if not self.can_execute(role, fn) else ["42501 although the role may execute the function"]
        if st.startswith("PT"):
            problems = []
            if not re.fullmatch(r"PT[1-5]\d\d", st):
                problems.append(f"malformed SQLSTATE {st}")
            if st.startswith("PT5"):
                problems.append(f"internal failure reported as {st}")
            f = out.fields()
            if not (f["detail"] and GOTRUE_CODE.fullmatch(f["detail"])):
                problems.append(f"DETAIL is not a GoTrue error code: {short(f['detail'])}")
            for name in ("message", "detail", "hint", "context"):
                text = f[name] or ""
                if name == "context":
                    text = STANDARD_CONTEXT.sub("", text)
                for pattern, kind in LEAK_PATTERNS:
                    if pattern.search(text):
                        problems.append(f"{kind} in the {name}: {short(text, 200)}")
                for v in args:
                    if v.secret and echoes(v.secret, text):
                        problems.append(f"the {name} repeats the secret input {v.label}")
            return problems
        if wrap and "convert_to" in wrap and st == "22021":
            return ["the function returned text holding a NUL byte (no PostgreSQL text may; convert_to refuses it)"]
        if st in PRECALL:
            if probe is not None and probe.sqlstate == st:
                return []
            return [f"{st} ({PRECALL[st]}) raised by the function itself, not by PostgreSQL's input "
                    f"of the arguments (probe: {probe.describe() if probe else 'no arguments'})"]
        if st == "XX000":
            return ["XX000 internal error"]
        if st == "57014":
            return ["statement timeout (30 s): the call does not finish"]
        return [f"unexpected SQLSTATE {st}"]


def echoes(secret, text):
    if not text or not secret or len(secret) < 8:
        return False
    if len(secret) <= 24:
        return secret in text
    sample = secret[:4096] + "\x00" + secret[-4096:]
    windows = {sample[i:i + 24] for i in range(len(sample) - 23)}
    return any(text[i:i + 24] in windows for i in range(len(text) - 23))


# ---------------------------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------------------------

def fuzz_arguments(runner, fns, ctx):
    for fn in fns:
        if fn.skip_reason():
            continue
        roles = [SUPER] + API_ROLES
        for role in roles:
            area = "arguments as superuser" if role == SUPER else "arguments as API roles"
            base = [baseline(fn, n, t, ctx) for n, t in zip(fn.argnames, fn.argtypes)]
            if not runner.can_execute(role, fn):
                runner.run(area, fn, role, base, "role without EXECUTE")
                continue
            if not fn.argtypes:
                runner.run(area, fn, role, [], "no arguments")
                continue
            for i, (name, typ) in enumerate(zip(fn.argnames, fn.argtypes)):
                for val in values_for(fn, name, typ, ctx):
                    args = [baseline(fn, n, t, ctx) if j != i else val
                            for j, (n, t) in enumerate(zip(fn.argnames, fn.argtypes))]
                    runner.run(area, fn, role, args, f"{name} hostile")


def fuzz_request_settings(runner, fns, ctx):
    area = "request settings"
    uid, other = ctx.user_id, ctx.other_id
    claims_values = [
        "", "{}", "[]", "null", '"x"', "not json", "{", '{"sub": null}', '{"sub": 1}', '{"sub": "not-a-uuid"}',
        '{"sub": "00000000-0000-0000-0000-00000000000g"}', '{"sub": " %s"}' % uid,
        '{"sub": "%s", "session_id": "garbage"}' % uid, '{"sub": "%s", "session_id": 7}' % uid,
        '{"sub": "6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f"}', '{"sub": "\\ud800"}',
        '{"sub": "%s", "email": "a\\u0000b", "role": "x\\u0000y"}' % uid, '{"sub": "%s", "x": "\\u0000"}' % uid,
        '{"sub": "%s", "sub": "%s"}' % (uid, other), '{"sub": "%s", "exp": 1e400}' % uid,
        '{"sub": "%s", "role": %s}' % (uid, json.dumps("r" * MB)), '{"sub": "%s", "x": %s}' % (uid, DEEP_100K),
        '{"sub": "%s", "x": %s}' % (uid, WIDE_100K), '{"sub": "%s", "email": "\\u202e@x"}' % uid,
        "\x01\x1b", "😀" * 100,
    ]
    legacy_values = ["", "garbage", " %s" % uid, "\x01", "x" * MB, "00000000-0000-0000-0000-00000000000g"]
    header_values = [
        "not json", "[]", '{"x-forwarded-for": "1.2.3.4, 5.6.7.8"}', '{"x-forwarded-for": "::1%eth0"}',
        '{"x-forwarded-for": "999.1.1.1"}', '{"x-forwarded-for": %s}' % json.dumps("1" * MB),
        '{"x-forwarded-for": 5}', '{"user-agent": %s}' % json.dumps("u" * MB), '{"user-agent": "\\u0000"}',
        '{"user-agent": "\\ud800"}', '{"user-agent": "\\u001b[2J\\u202e"}', '{"x-real-ip": "::ffff:1.2.3.4"}',
        DEEP_100K, WIDE_100K,
    ]
    readers = [fn for fn in fns if fn.name in ("uid", "role", "email", "jwt", "_uid_value", "_role_value",
                                               "_email_value", "_jwt_value", "get_user", "update_user",
                                               "sign_out")]
    writers = [fn for fn in fns if fn.name in ("sign_up", "sign_in_with_password")]
    signed = [v for v in jwt_values(ctx) if v.label.startswith("jwt: HS256-signed")]

    def plausible(fn):
        return [baseline(fn, n, t, ctx) if fn.name != "sign_out" else Val("local", "local")
                for n, t in zip(fn.argnames, fn.argtypes)]

    def wrap(fn):
        # Text results go through convert_to(): it refuses a NUL byte, which no text may hold.
        return "convert_to({}, 'UTF8')" if fn.rettype == "text" else None

    for fn in readers:
        for role in [SUPER] + API_ROLES:
            if not runner.can_execute(role, fn):
                continue
            for v in claims_values:
                runner.run(area, fn, role, plausible(fn), "hostile request.jwt.claims",
                           settings=[("request.jwt.claims", v)], wrap=wrap(fn))
            for name in ("request.jwt.claim.sub", "request.jwt.claim.role", "request.jwt.claim.email",
                         "request.jwt.claim"):
                for v in legacy_values + (['{"sub": "\\ud800"}', DEEP_100K] if name == "request.jwt.claim" else []):
                    runner.run(area, fn, role, plausible(fn), "hostile legacy claim",
                               settings=[("request.jwt.claims", ""), (name, v)], wrap=wrap(fn))
            if role == SUPER or role == "authenticated":
                for tok in signed:
                    runner.run(area, fn, role, plausible(fn), f"after authenticate({tok.label})",
                               settings=[("request.jwt.claims", "")],
                               pre=[("SELECT auth.authenticate(%s)", [tok.param])], wrap=wrap(fn))
    for fn in writers:
        for role in [SUPER, "anon"]:
            if not runner.can_execute(role, fn):
                continue
            for v in header_values:
                args = [baseline(fn, n, t, ctx) for n, t in zip(fn.argnames, fn.argtypes)]
                if fn.name == "sign_in_with_password":
                    args = [Val("own email", ctx.email), Val("own password", ctx.password)]
                runner.run(area, fn, role, args, "hostile request.headers", settings=[("request.headers", v)])


UNICODE_POOL = [c for c in range(1, 0x30000) if not 0xD800 <= c <= 0xDFFF]
JSON_LEAVES = ["null", "true", "false", "0", "-1", "1e308", "1e400", "-1e-400", "3.14", "-0",
               "18446744073709551616", '""', '"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"', '"\\u202e"']
JSON_KEYS = ["password", "data", "email", "phone", "sub", "exp", "iat", "role", "jwt_exp", "jwt_secret",
             "claims_trust", "trusted_roles", "argon2_memory_kib", "password_min_length", "kty", "crv",
             "x", "d", "n", "e", "k", ""]


def random_text(rng):
    kind = rng.random()
    n = rng.choice([0, 1, 2, 8, 43, 64, 255, 256, 1024, 1025, 5000])
    if kind < 0.3:
        return "".join(chr(rng.randint(1, 0x7F)) for _ in range(n))
    if kind < 0.6:
        pool = UNICODE_POOL[:2000] if rng.random() < 0.5 else UNICODE_POOL
        return "".join(chr(rng.choice(pool)) for _ in range(n))
    if kind < 0.8:
        return rng.choice(["@", ".", "-", "_", "=", "/", "+", "\\", '"', "'", "\x01", "\u202e", " "]) * n
    return random_json(rng, rng.randint(0, 40))


def random_json(rng, depth, budget=None):
    """Random JSON text, at most `depth` deep and about 200 values large."""
    budget = budget if budget is not None else [200]
    budget[0] -= 1
    r = rng.random()
    if depth <= 0 or budget[0] <= 0 or r < 0.3:
        if rng.random() < 0.2:
            return json.dumps("".join(chr(rng.choice(UNICODE_POOL[:800])) for _ in range(rng.randint(0, 20))))
        return rng.choice(JSON_LEAVES)
    if r < 0.45:  # a deep chain, cheaply
        d = rng.randint(1, depth)
        return "[" * d + random_json(rng, 0, budget) + "]" * d
    if r < 0.7:
        return "[" + ",".join(random_json(rng, depth - 1, budget) for _ in range(rng.randint(0, 3))) + "]"
    return "{" + ",".join(f'{json.dumps(rng.choice(JSON_KEYS))}:{random_json(rng, depth - 1, budget)}'
                          for _ in range(rng.randint(0, 4))) + "}"


def mutate_jwt(rng, token):
    op = rng.randint(0, 5)
    if op == 0 and token:
        i = rng.randrange(len(token))
        return token[:i] + rng.choice("ABCxyz019-_.=+/ \x01") + token[i + 1:]
    if op == 1:
        parts = token.split(".")
        rng.shuffle(parts)
        return ".".join(parts)
    if op == 2:
        return token[:rng.randint(0, len(token))]
    if op == 3:
        h = json.dumps({"alg": rng.choice(["ES256", "HS256", "RS256", "EdDSA", "none", "", None, 1]),
                        "kid": rng.choice([None, "", "x", "k" * 300, 5])})
        return b64u(h) + "." + token.split(".", 1)[-1]
    if op == 4:
        return token + "." * rng.randint(1, 3) + random_text(rng)[:50]
    return b64u(random_json(rng, 6)) + "." + b64u(random_json(rng, 6)) + "." + b64u(os.urandom(rng.randint(0, 70)))


def fuzz_random(runner, fns, ctx, rng):
    area = "random mutations"
    callable_fns = [fn for fn in fns if not fn.skip_reason() and fn.argtypes]
    # What anonymous callers reach is weighted most, owner-only functions least.
    weights = [3 if runner.can_execute("anon", fn) else 2 if any(runner.can_execute(r, fn) for r in API_ROLES)
               else 1 for fn in callable_fns]
    for n in range(RANDOM_CASES):
        fn = rng.choices(callable_fns, weights)[0]
        roles = [r for r in [SUPER] + API_ROLES if runner.can_execute(r, fn)]
        role = rng.choice(roles) if roles else SUPER
        args = []
        for name, typ in zip(fn.argnames, fn.argtypes):
            r = rng.random()
            if r < 0.25:
                args.append(baseline(fn, name, typ, ctx))
                continue
            if typ == "jsonb":
                args.append(Val("random JSON", random_json(rng, rng.choice([1, 3, 8, 30, 150]))))
            elif typ == "text" and name in ("token", "refresh_token"):
                v = mutate_jwt(rng, rng.choice([ctx.access, ctx.other_access, ctx.refresh]))
                args.append(Val("mutated token", v, secret=v if len(v) >= 12 else None))
            elif typ == "text":
                pool = values_for(fn, name, typ, ctx)
                if r < 0.5:
                    v = rng.choice(pool)
                    if v.param is not None and rng.random() < 0.5:
                        s = v.param[:rng.randint(0, min(len(v.param), 300))] + random_text(rng)[:100]
                        v = Val("mutated " + v.label, s, secret=s if name in SECRET_ARG_NAMES and len(s) >= 12 else None)
                    args.append(v)
                else:
                    s = random_text(rng)
                    args.append(Val("random text", s, secret=s if name in SECRET_ARG_NAMES and len(s.strip()) >= 12 else None))
            else:
                args.append(rng.choice(values_for(fn, name, typ, ctx)))
        runner.run(area, fn, role, args, f"random #{n}")
        if LONG and n % 2000 == 1999:
            print(f"  random mutations: {n + 1} cases", flush=True)


# What a phone-factor call could write, read as superuser from the committed state.
PHONE_STATE = """
    SELECT (SELECT md5(coalesce(string_agg(concat_ws(',', id, user_id, status, phone, friendly_name,
                                                     last_challenged_at), ';' ORDER BY id), ''))
              FROM auth.mfa_factors),
           (SELECT md5(coalesce(string_agg(concat_ws(',', id, factor_id, verified_at, otp_code,
                                                     ip_address), ';' ORDER BY id), ''))
              FROM auth.mfa_challenges),
           (SELECT count(*) FROM auth.outbox),
           (SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' IS DISTINCT FROM 'login_failed'),
           (SELECT md5(coalesce(string_agg(concat_ws(',', id, aal, factor_id), ';' ORDER BY id), ''))
              FROM auth.sessions),
           (SELECT count(*) FROM auth.mfa_amr_claims), (SELECT count(*) FROM auth.refresh_tokens)"""
PHONE_STATE_NAMES = ["mfa_factors", "mfa_challenges", "outbox", "audit log", "sessions", "mfa_amr_claims",
                     "refresh_tokens"]


def fuzz_phone_factors(runner, fns, ctx):
    """Hostile input at real phone factors, as the caller (authenticated, and superuser with the
    caller's claims), each call in a transaction that is committed when the call succeeds: every
    case must be refused with the GoTrue code expected (or by PostgreSQL's input of the arguments,
    before the call), and leave the factors, challenges, outbox, sessions and audit log as they
    were. The sign-in backoff is off meanwhile, so that every wrong code reaches the code check.
    Last, the caller's challenge, attempted with all of it, still takes its code."""
    area = "phone factors"
    by_sig = {fn.sig: fn for fn in fns}
    enroll = by_sig["auth.mfa_enroll(text,text,text,text)"]
    challenge = by_sig["auth.mfa_challenge(text,text,jsonb)"]
    verify = by_sig["auth.mfa_verify(text,text,text,jsonb)"]
    conn = connect(DB)
    backoff = json.loads(q(conn, "SELECT auth.settings()")[0][0])["sign_in_backoff_max_seconds"]
    q(conn, """SELECT auth.configure('{"sign_in_backoff_max_seconds": 0}')""")

    def call(fn, **given):
        return [given.get(n, Val("NULL")) for n in fn.argnames]

    invalid = ("PT400", "validation_failed")
    not_found = ("PT404", "mfa_factor_not_found")
    # GoTrue answers an unknown challenge with the factor's code but 422.
    challenge_not_found = ("PT422", "mfa_factor_not_found")
    wrong = ("PT422", "mfa_verification_failed")
    mine = dict(factor_id=Val("own phone factor", ctx.phone_factor))
    cases = []
    for v in PHONES:
        cases.append((enroll, call(enroll, factor_type=Val("phone", "phone"), phone=v), "precall" if v.sql else invalid))
    for t in ("PHONE", "sms", "phone\u200b", "totp,phone"):
        cases.append((enroll, call(enroll, factor_type=Val(f"factor_type {t!r}", t), phone=Val("a number", "+15550107003")), invalid))
    cases.append((enroll, call(enroll, factor_type=Val("phone", "phone"), friendly_name=Val("name 1 MB", "n" * MB),
                                  phone=Val("a number", "+15550107003")), invalid))
    for v in CHANNELS:
        cases.append((challenge, call(challenge, channel=v, **mine), "precall" if v.sql else invalid))
    for label, fid in (("the other user's phone factor", ctx.other_phone_factor), ("not a uuid", "not-a-uuid"),
                       ("a uuid nobody has", "6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f"), ("1 MB", "f" * MB),
                       ("nil uuid", "00000000-0000-0000-0000-000000000000")):
        cases.append((challenge, call(challenge, factor_id=Val(label, fid), channel=Val("sms", "sms")), not_found))
    own_challenge = Val("own pending challenge", ctx.phone_challenge)
    for v in mfa_codes(ctx) + [Val("NULL code"), Val("empty code", ""), Val("a wrong code", other_code(ctx.phone_code))]:
        cases.append((verify, call(verify, challenge_id=own_challenge, code=v, **mine), "precall" if v.sql else wrong))
    right = Val("the right code", ctx.phone_code, secret=ctx.phone_code)
    for label, cid in (("not a uuid", "not-a-uuid"), ("1 MB", "c" * MB), ("a uuid nobody made", "6f1e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f"),
                       ("the other user's challenge", ctx.other_phone_challenge)):
        cases.append((verify, call(verify, challenge_id=Val(f"challenge {label}", cid), code=right, **mine),
                      challenge_not_found))
    # the other user's factor, with its own challenge and the code its SMS carried
    cases.append((verify, call(verify, factor_id=Val("the other user's phone factor", ctx.other_phone_factor),
                               challenge_id=Val("the other user's challenge", ctx.other_phone_challenge),
                               code=Val("the other user's code", ctx.other_phone_code, secret=ctx.other_phone_code)), not_found))
    cases.append((verify, call(verify, factor_id=Val("not a uuid", "not-a-uuid"), challenge_id=own_challenge, code=right), not_found))

    for fn, args, expected in cases:
        for role in ("authenticated", SUPER):
            what = f"{role}: {fn.sig} " + "; ".join(v.show() for v in args)
            before = q(conn, PHONE_STATE)[0]
            out, probe = committed_call(conn, fn, role, args, ctx.claims)
            if out.crashed:
                conn = connect(DB)
            problems = runner.judge(role, fn, args, out, probe)
            for name, text in out.fields().items():  # a code is too short for judge's echo check
                if name != "context" and text and ctx.phone_code in text:
                    problems.append(f"the {name} holds the code sent")
            if out.ok:
                problems.append("accepted (and committed)")
            elif expected == "precall":
                if out.sqlstate not in PRECALL:
                    problems.append(f"expected PostgreSQL's refusal of the argument, got {out.sqlstate}")
            elif (out.sqlstate, out.fields().get("detail")) != expected:
                problems.append(f"expected {expected[0]} {expected[1]}")
            after = q(conn, PHONE_STATE)[0]
            changed = [n for n, a, b in zip(PHONE_STATE_NAMES, before, after) if a != b]
            if changed:
                problems.append(f"wrote {changed}")
            T.record(area, not problems, what, "; ".join(problems) + f" [{out.describe()}]", group=fn.sig)

    # The challenge every hostile code was tried at still takes its code; nothing else was raised.
    out, _ = committed_call(conn, verify, "authenticated",
                            call(verify, challenge_id=own_challenge, code=right, **mine), ctx.claims)
    session = json.loads(out.rows[0][0]) if out.ok else {}
    amr = [e.get("method") for e in json.loads(b64u_decode(session["access_token"].split(".")[1])).get("amr", [])] if out.ok else []
    T.record(area, out.ok and "mfa/phone" in amr, "the own challenge still takes its code after every hostile attempt",
             out.describe())
    other = q(conn, """SELECT f.status, c.verified_at IS NULL FROM auth.mfa_factors f JOIN auth.mfa_challenges c ON c.factor_id = f.id
                        WHERE f.id = %s AND c.id = %s""", [ctx.other_phone_factor, ctx.other_phone_challenge])
    T.record(area, other == [("unverified", True)], "the other user's factor and challenge are untouched", str(other))
    q(conn, "SELECT auth.configure(jsonb_build_object('sign_in_backoff_max_seconds', %s::int))", [backoff])
    conn.close()
    runner.fp = runner.fingerprint()  # the verification above is committed on purpose


def committed_call(conn, fn, role, args, claims):
    """Calls fn(args) as `role` with `claims` and commits when it succeeds. Returns the outcome
    and, when PostgreSQL refused an argument, the same arguments evaluated alone (Runner.run's
    probe)."""
    parts, params = [], []
    for val, typ in zip(args, fn.argtypes):
        frag, ps = val.render(typ)
        parts.append(frag)
        params.extend(ps)
    setup = [sql.SQL("BEGIN")]
    if role != SUPER:
        setup.append(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    setup.append(sql.SQL("SET LOCAL statement_timeout = '30s'"))
    setup.append(sql.SQL("SELECT set_config('request.jwt.claims', {}, true)").format(sql.Literal(claims)))
    probe = None
    try:
        conn.execute(sql.SQL("; ").join(setup))
        try:
            cur = conn.execute(sql.SQL("SELECT {}({})").format(sql.Identifier(fn.nsp, fn.name),
                                                                sql.SQL(", ".join(parts))), params)
            out = Outcome(rows=cur.fetchall())
            conn.execute("COMMIT")
        except psycopg.Error as e:
            out = Outcome(error=e, crashed=conn.broken or conn.closed)
            if not out.crashed:
                conn.execute("ROLLBACK")
                if out.sqlstate in PRECALL:
                    conn.execute(sql.SQL("; ").join(setup))
                    probe = attempt(conn, sql.SQL("SELECT octet_length(ROW({})::text)").format(
                        sql.SQL(", ".join(parts))), params)
                    conn.execute("ROLLBACK")
    except psycopg.Error as e:
        out = Outcome(error=e, crashed=True)
    return out, probe


def fuzz_latin1(ctx):
    """pgrx turns text arguments into Rust &str: in a database whose encoding is not UTF-8, a
    non-ASCII argument is bytes that are not UTF-8. Either the extension refuses to be installed
    there, or it answers such calls cleanly."""
    area = "non-UTF-8 database"
    admin = connect("postgres")
    admin.execute(f"DROP DATABASE IF EXISTS {DB_LATIN1} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB_LATIN1} ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    admin.close()
    conn = connect(DB_LATIN1)
    conn.execute("RESET search_path")
    try:
        conn.execute("CREATE EXTENSION auth_ext")
    except psycopg.Error as e:
        T.record(area, e.sqlstate.startswith("PT") or e.sqlstate in ("0A000", "22023", "55000"),
                 "CREATE EXTENSION in a LATIN1 database is refused cleanly", f"{e.sqlstate}: {e}")
        conn.close()
        return
    conn.execute("""SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1,
        "rate_limit_token_refresh": 1000000000, "rate_limit_verify": 1000000000,
        "rate_limit_otp": 1000000000, "rate_limit_anonymous_users": 1000000000}')""")
    email, pw = f"latin1-{secrets.token_hex(3)}@example.com", PASSWORD
    user = json.loads(q(conn, "SELECT auth.sign_up(%s, %s)", [email, pw])[0][0])
    access, refresh = user["access_token"], user["refresh_token"]
    claims = b64u_decode(access.split(".")[1]).decode()
    conn.close()
    sub = Context()
    sub.__dict__.update(ctx.__dict__)
    sub.access, sub.refresh, sub.claims = access, refresh, claims
    sub.email, sub.password = email, pw
    runner = Runner(DB_LATIN1, sub)
    fns = functions(runner.conn)
    non_ascii_text = [Val("non-ASCII (é)", "josé-ñ-ü-ß"), Val("non-ASCII email", "josé@exämple.com"),
                      Val("non-ASCII password", "pässwörd-lang-genug", secret="pässwörd-lang-genug"),
                      Val("Latin-1 only (ÿ)", "ÿ" * 20)]
    non_ascii_json = [Val("JSON with é", '{"name": "Zoë", "data": {"name": "Zoë"}}'),
                      Val("JSON key with é", '{"é": 1}')]
    for fn in fns:
        if fn.skip_reason() or not fn.argtypes:
            continue
        for role in (SUPER, "anon"):
            if not runner.can_execute(role, fn):
                continue
            for i, (name, typ) in enumerate(zip(fn.argnames, fn.argtypes)):
                pool = non_ascii_text if typ == "text" else non_ascii_json if typ == "jsonb" else []
                for val in pool:
                    args = [baseline(fn, n, t, sub) if j != i else val
                            for j, (n, t) in enumerate(zip(fn.argnames, fn.argtypes))]
                    runner.run(area, fn, role, args, f"{name} non-ASCII in LATIN1")
    runner.conn.close()


def check_server_log(runner, ctx, log_path, log_start):
    area = "server log"
    if log_path is None:
        print("  server log: not found next to the data directory; area skipped")
        return
    # Failing statements with passwords and tokens as literals (a client without bind
    # parameters): the server log must not repeat them (README, Security model).
    markers = {name: f"LogMarker-{name}-{secrets.token_hex(6)}" for name in
               ("signup", "signin", "refresh", "update", "authenticate", "verify", "import", "mfa-code")}
    markers["configure"] = f"LogMk-{secrets.token_hex(4)}"  # under 32 characters: refused
    statements = [
        ("sign_up with a bad email", "SELECT auth.sign_up('not-an-email', %s)", markers["signup"]),
        ("sign_in with a wrong password", "SELECT auth.sign_in_with_password('nobody@example.com', %s)", markers["signin"]),
        ("refresh with an unknown token", "SELECT auth.refresh_session(%s)", markers["refresh"]),
        ("update_user with a weak password", "SELECT auth.update_user(jsonb_build_object('password', 'x', 'm', %s::text))", markers["update"]),
        ("authenticate a garbage token", "SELECT auth.authenticate(%s)", markers["authenticate"]),
        ("verify_jwt a garbage token", "SELECT auth.verify_jwt(%s)", markers["verify"]),
        ("import a garbage key", "SELECT auth.import_signing_key(%s)", markers["import"]),
        ("configure a short jwt_secret", "SELECT auth.configure(jsonb_build_object('jwt_secret', %s::text))", markers["configure"]),
        # a phone factor's code (mfa_verify is set log_min_error_statement = panic)
        ("mfa_verify with a wrong code", f"SELECT auth.mfa_verify('{ctx.phone_factor}', '{ctx.phone_challenge}', %s)",
         markers["mfa-code"]),
    ]
    conn = runner.conn
    cur = psycopg.ClientCursor(conn)
    for label, stmt, marker in statements:
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [ctx.claims])
        try:
            cur.execute(stmt, [marker])
            result = "succeeded"
        except psycopg.Error as e:
            result = f"{e.sqlstate}"
        conn.execute("ROLLBACK")
        T.record(area, result.startswith("PT"), f"literal statement fails cleanly: {label}", result)
    time.sleep(0.5)
    size = q(conn, "SELECT (pg_stat_file(%s, true)).size", [log_path])[0][0] or 0
    text = bytes(q(conn, "SELECT pg_read_binary_file(%s, %s, %s)", [log_path, log_start, max(0, size - log_start)])[0][0]
                 ).decode("utf-8", "replace")
    for name, marker in markers.items():
        T.record(area, marker not in text, f"the server log does not contain the {name} secret",
                 next((line for line in text.splitlines() if marker in line), ""))
    for pattern, what in [(r"terminated by signal|was terminated|server process \(PID", "a backend crash"),
                          (r"\bPANIC:", "a PANIC"), (r"TRAP:", "an assertion failure"),
                          (r"database system is in recovery mode|all server processes terminated", "a restart"),
                          (r"panicked at|RUST_BACKTRACE", "a Rust panic message"),
                          (r"auth_ext: (internal error|SPI failure|loading the instance failed)", "an internal error of auth_ext")]:
        hits = [line for line in text.splitlines() if re.search(pattern, line)]
        T.record(area, not hits, f"the server log shows no {what}", f"{len(hits)} lines, e.g. {short(hits[0], 300) if hits else ''}")


# ---------------------------------------------------------------------------------------------

def setup():
    admin = connect("postgres")
    admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB}")
    admin.close()
    conn = connect(DB)
    conn.execute("RESET search_path")
    conn.execute("CREATE EXTENSION auth_ext")
    conn.execute("SET search_path = pg_catalog")
    # SAML on, so that the SSO entry points (0.8.0) get past their first check; phone factors on
    # (off by default), challenges as often as the cases ask; WebAuthn factors, passkeys and
    # recovery codes on (0.9.0), with a relying party, so hostile credentials reach the parsers.
    conn.execute("""SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1,
        "rate_limit_token_refresh": 1000000000, "rate_limit_verify": 1000000000,
        "rate_limit_otp": 1000000000, "rate_limit_anonymous_users": 1000000000,
        "rate_limit_sso": 1000000000, "saml_enabled": true,
        "mfa_phone_enroll_enabled": true, "mfa_phone_verify_enabled": true,
        "mfa_phone_max_frequency": 0, "mfa_webauthn_enroll_enabled": true,
        "mfa_webauthn_verify_enabled": true, "passkey_enabled": true,
        "rate_limit_passkey": 1000000000, "webauthn_rp_id": "app.example.com",
        "webauthn_rp_display_name": "Example", "webauthn_rp_origins": "https://app.example.com",
        "mfa_recovery_codes_enroll_enabled": true, "mfa_recovery_codes_verify_enabled": true}')""")
    ctx = Context()
    for who in ("", "other_"):
        email, pw = f"fuzz-{who or 'me_'}{secrets.token_hex(3)}@example.com", PASSWORD
        r = json.loads(q(conn, "SELECT auth.sign_up(%s, %s)", [email, pw])[0][0])
        setattr(ctx, who + "email", email)
        setattr(ctx, who + "password", pw)
        setattr(ctx, who + "access", r["access_token"])
        setattr(ctx, who + "refresh", r["refresh_token"])
        setattr(ctx, who + "user_id", r["user"]["id"])
    ctx.other_id = ctx.other_user_id
    ctx.claims = b64u_decode(ctx.access.split(".")[1]).decode()
    ctx.other_claims = b64u_decode(ctx.other_access.split(".")[1]).decode()
    # A phone factor each, with a pending challenge (committed); the code read from the outbox,
    # as an SMS gateway would. The MFA entry points' baselines are the caller's own.
    for who, claims, number in (("", ctx.claims, "+15550107001"), ("other_", ctx.other_claims, "+15550107002")):
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", [claims])
        factor = json.loads(q(conn, "SELECT auth.mfa_enroll('phone', phone => %s)", [number])[0][0])["id"]
        challenge = json.loads(q(conn, "SELECT auth.mfa_challenge(%s)", [factor])[0][0])["id"]
        code = q(conn, """SELECT payload->'sms'->>'otp' FROM auth.outbox
                           WHERE action = 'mfa' AND recipient = %s ORDER BY id DESC LIMIT 1""", [number[1:]])[0][0]
        setattr(ctx, who + "phone_factor", factor)
        setattr(ctx, who + "phone_challenge", challenge)
        setattr(ctx, who + "phone_code", code)
        setattr(ctx, who + "phone_number", number)
    conn.execute("SELECT set_config('request.jwt.claims', '', false)")
    ctx.hs_secret = secrets.token_urlsafe(32)
    ctx.hs_kid = q(conn, "SELECT auth.import_signing_key(%s, 'HS256')", [ctx.hs_secret])[0][0]
    q(conn, "SELECT auth.set_signing_key_status(%s, 'previous')", [ctx.hs_kid])
    ctx.standby_kid = q(conn, "SELECT auth.create_signing_key('ES256')")[0][0]
    ctx.revoked_kid = q(conn, "SELECT auth.create_signing_key('EdDSA')")[0][0]
    q(conn, "SELECT auth.set_signing_key_status(%s, 'revoked')", [ctx.revoked_kid])
    ctx.current_kid = json.loads(b64u_decode(ctx.access.split(".")[0]))["kid"]
    ctx.setting_keys = sorted(json.loads(q(conn, "SELECT auth.settings()")[0][0]).keys())
    data_dir = q(conn, "SHOW data_directory")[0][0]
    log_path = os.path.join(os.path.dirname(data_dir), "server.log")
    size = q(conn, "SELECT (pg_stat_file(%s, true)).size", [log_path])[0][0]
    conn.close()
    return ctx, (log_path if size is not None else None), size or 0


def main():
    started = time.time()
    print(f"hostile input: seed {SEED} (AUTH_EXT_SEED={SEED} to replay), "
          f"{'long' if LONG else 'default'} variant, {RANDOM_CASES} random cases")
    ctx, log_path, log_start = setup()
    runner = Runner(DB, ctx)
    fns = functions(runner.conn)
    for fn in fns:
        if fn.skip_reason():
            print(f"  skipped {fn.sig}: {fn.skip_reason()}")
    print(f"  {sum(1 for f in fns if not f.skip_reason())} entry points fuzzed: "
          + ", ".join(f.sig for f in fns if not f.skip_reason()))
    start_time = runner.fp[-1]
    fuzz_arguments(runner, fns, ctx)
    print(f"  arguments done ({time.time() - started:.0f}s)", flush=True)
    fuzz_request_settings(runner, fns, ctx)
    print(f"  request settings done ({time.time() - started:.0f}s)", flush=True)
    fuzz_random(runner, fns, ctx, random.Random(SEED))
    print(f"  random mutations done ({time.time() - started:.0f}s)", flush=True)
    fuzz_phone_factors(runner, fns, ctx)
    print(f"  phone factors done ({time.time() - started:.0f}s)", flush=True)
    fuzz_latin1(ctx)
    print(f"  non-UTF-8 database done ({time.time() - started:.0f}s)", flush=True)
    check_server_log(runner, ctx, log_path, log_start)
    T.record("server log", runner.fingerprint()[-1] == start_time,
             "pg_postmaster_start_time() unchanged over the run (no restart)", "")
    runner.conn.close()

    failed = T.failed()
    if not failed:
        admin = connect("postgres")
        for db in (DB, DB_LATIN1):
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()
    if T.failures:
        print(f"\n{len(T.failures)} failing cases, by entry point and kind (one example each):")
        kinds = {}
        for area, what, why, group in T.failures:
            kind = re.sub(r"\[(?!XX000)[^\]]*\]", "", why)
            for pattern, repl in ((r"line: \d+, column: \d+", "line: N, column: N"), (r"relation \d+", "relation N"),
                                  (r"valid_up_to: \d+, error_len: Some\(\d+\)", "..."), (r"probe: ok: \d+", "probe: ok"),
                                  (r"statement \d+", "statement N")):
                kind = re.sub(pattern, repl, kind)
            kind = kind.strip()[:200]
            kinds.setdefault((group, area if area in ("server log",) else "", kind), []).append((what, why))
        for (group, area, kind), cases in sorted(kinds.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
            what, why = cases[0]
            print(f"  {len(cases):4d} x {group or area}: {kind}\n         e.g. {short(what, 260)}\n"
                  f"              {short(why, 260)}")
    return T.finish(SUMMARY, "hostile input", started, f", seed {SEED}")


if __name__ == "__main__":
    sys.exit(main())
