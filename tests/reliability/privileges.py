"""Catalog-driven privilege matrix of auth_ext (run by tests/reliability/10-privileges).

Everything is enumerated from the catalogs (objects that belong to the extension `auth_ext` through
pg_depend deptype 'e', plus everything in the schemas `auth` and `auth_api`), so a new table,
sequence, view or function is covered without touching this file; what each role may do is written
down below as explicit allow-lists, so a new grant fails the suite until someone adds it here on
purpose.

Areas (one summary line each):
  role attributes        the API roles are not superusers, members of other roles, ...
  schema privileges      USAGE/CREATE on the extension's schemas, tried for real; default ACLs
  table privileges       has_table/column/sequence_privilege for every relation and role, and
                         SELECT/INSERT/UPDATE/DELETE/TRUNCATE/nextval tried for real; RLS, policies
  function privileges    has_function_privilege against the allow-list, and every function called
                         for real by every role
  security definer       every SECURITY DEFINER function pins a safe search_path; auth_api wrappers
                         are SECURITY INVOKER
  cross-user isolation   user A calls every user-facing function (PostgREST-style claims and
                         auth.authenticate()); nothing of user B comes back or changes (B's
                         sessions, MFA factors and challenges, SMS in the outbox among it: A
                         challenges and verifies B's phone factor with B's challenge and code);
                         with claims_trust = 'verified', A cannot pass B's claims off as A's
  secret exposure        every function, called by every role, returns (and errors, notices and
                         visible settings carry) no private key, HS256 secret, refresh-chain key,
                         password hash, refresh-token hash, one-time token hash or phone code hash,
                         read as superuser from the tables

Environment: AUTH_EXT_TEST_PORT, AUTH_EXT_SUMMARY (see README.md in this folder).
"""

import base64
import binascii
import json
import os
import re
import secrets
import sys
import time
import uuid

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader

import suite

PORT = int(os.environ.get("AUTH_EXT_TEST_PORT", "54330"))
SUMMARY = os.environ.get("AUTH_EXT_SUMMARY")
VERBOSE = os.environ.get("AUTH_EXT_VERBOSE") == "1"  # print every case, not only failures
SUITE = "privileges"
DB = "suite_privileges"
OWNER = "postgres"  # the superuser that runs CREATE EXTENSION: the extension owner
PLAIN = "suite_priv_plain"  # a fresh LOGIN role without any grant
APP = "suite_priv_app"  # a directly connected application's LOGIN role (member of authenticated)
API_ROLES = ["anon", "authenticated", "service_role"]
ROLES = API_ROLES + [PLAIN]
PASSWORD = "correct-horse-battery-staple"

# ---------------------------------------------------------------------------------------------
# The intended privileges (sql/finalize.sql, README "SQL API" and "Security model").
# ---------------------------------------------------------------------------------------------

# Table, view and sequence privileges: none. README: "The API roles have no privilege on any
# `auth` table; RLS is enabled on all of them." Entries would be
# ("role", "auth.table") -> {"SELECT", ...}.
TABLE_PRIVILEGES_ALLOWED = {}
COLUMN_PRIVILEGES_ALLOWED = {}  # ("role", "auth.table", "column") -> {"SELECT", ...}
SEQUENCE_PRIVILEGES_ALLOWED = {}  # ("role", "auth.sequence") -> {"USAGE", ...}
POLICIES_ALLOWED = set()  # ("auth.table", "policy name")

# Schema privileges.
SCHEMA_PRIVILEGES_ALLOWED = {
    "anon": {("auth", "USAGE"), ("auth_api", "USAGE")},
    "authenticated": {("auth", "USAGE"), ("auth_api", "USAGE")},
    "service_role": {("auth", "USAGE"), ("auth_api", "USAGE")},
    PLAIN: set(),
}

# EXECUTE, by regprocedure.
EVERYONE = {
    # RLS helpers: policies run with the querying role's rights.
    "auth.uid()", "auth.role()", "auth.email()", "auth.jwt()",
    "auth._uid_value()", "auth._role_value()", "auth._email_value()", "auth._jwt_value()",
    # verifies a token before trusting it; the public JWKS.
    "auth.authenticate(text)", "auth.jwks()",
}
SIGN_UP = "(text,text,jsonb,text,text,text,text,text)"
OTP = "(text,text,boolean,jsonb,text,text,text,text)"
SIX = "(text,text,text,text,text,text)"
FLOWS = {
    "auth.sign_up" + SIGN_UP, "auth.sign_in_with_password(text,text,text)",
    "auth.refresh_session(text)", "auth.sign_out(text)", "auth.get_user()",
    "auth.update_user(jsonb)", "auth.verify_jwt(text)",
    "auth_api.sign_up" + SIGN_UP, "auth_api.sign_in_with_password(text,text,text)",
    "auth_api.refresh_session(text)", "auth_api.jwks()",
    # the email and phone flows (0.5.0): anyone holding an address, a code or a link
    "auth.sign_in_with_otp" + OTP, "auth_api.sign_in_with_otp" + OTP,
    "auth.reset_password_for_email(text,text,text,text)",
    "auth_api.reset_password_for_email(text,text,text,text)",
    "auth._resend" + SIX, "auth.resend" + SIX, "auth_api.resend" + SIX,
    "auth._verify_otp" + SIX, "auth.verify_otp" + SIX, "auth_api.verify_otp" + SIX,
    "auth._verify_link(text,text,text)", "auth.verify_link(text,text,text)",
    "auth.redirect_target(text)",
    "auth.exchange_code_for_session(text,text)", "auth_api.exchange_code_for_session(text,text)",
    "auth.reauthenticate()",
}
GEN_LINK = "(text,text,text,jsonb,text,text)"
# The admin API (0.6.0) and anonymous sign-in: granted to every API role; the functions refuse
# any caller whose token's role is not in jwt_admin_roles (403 not_admin), which the isolation
# checks below see as "nothing of B comes back".
ADMIN = {
    "auth.admin_list_users(bigint,bigint,text)", "auth.admin_get_user(text)",
    "auth.admin_create_user(jsonb)", "auth.admin_update_user(text,jsonb)",
    "auth.admin_delete_user(text,boolean)", "auth.admin_sign_out_user(text)",
    "auth.admin_audit_log(bigint,bigint,text)", "auth._admin_generate_link" + GEN_LINK,
    "auth.admin_generate_link" + GEN_LINK, "auth.admin_invite_user(text,jsonb,text)",
    "auth.sign_in_anonymously(jsonb)",
}
ADMIN |= {"auth_api." + sig.split(".", 1)[1] for sig in ADMIN if not sig.startswith("auth._")}
# Social login (0.7.0): anyone may start a flow or sign in with an ID token (the provider's
# configuration decides); unlinking needs a signed-in caller (the function checks).
# auth.oauth_callback_take/_finish and auth.provider_document_store: only auth_provider_broker
# (the shim's role); configure_provider/remove_provider/providers: the owner only.
SOCIAL = {
    "auth.oauth_authorize(text,text,text,text,text,jsonb,boolean)",
    "auth.sign_in_with_id_token(text,text,text,text,boolean)",
}
SOCIAL |= {"auth_api." + sig.split(".", 1)[1] for sig in SOCIAL}
SIGNED_IN_SOCIAL = {"auth.unlink_identity(text)", "auth_api.unlink_identity(text)"}
# SAML SSO (0.8.0): anyone may start a sign-in and read our SP names; the admin functions are
# granted to every API role and refuse non-admins (not_admin); auth.saml_acs_take/_finish: only
# auth_provider_broker, as auth.saml_metadata_refresh.
SSO = {
    "auth.sso_start(text,text,text,text,text)", "auth.sso_service_provider()",
    "auth.admin_sso_providers()", "auth.admin_sso_provider(text)",
    "auth.admin_create_sso_provider(jsonb,text)", "auth.admin_update_sso_provider(text,jsonb,text)",
    "auth.admin_delete_sso_provider(text)",
    "auth_api.sso_start(text,text,text,text,text)", "auth_api.admin_sso_providers()",
    "auth_api.admin_sso_provider(text)", "auth_api.admin_create_sso_provider(jsonb)",
    "auth_api.admin_update_sso_provider(text,jsonb)", "auth_api.admin_delete_sso_provider(text)",
}
# MFA (0.8.0): the signed-in caller's own factors (the functions check). Challenge and verify
# take GoTrue's bodies (the phone factor's channel, WebAuthn's parameters).
MFA = {
    "auth.mfa_enroll(text,text,text,text)", "auth.mfa_challenge(text,text,jsonb)",
    "auth.mfa_verify(text,text,text,jsonb)", "auth.mfa_unenroll(text)",
}
MFA |= {"auth_api." + sig.split(".", 1)[1] for sig in MFA}
# ... and the admin API's factor routes (granted to every API role, admins only).
MFA_ADMIN = {"auth.admin_list_factors(text)", "auth.admin_delete_factor(text,text)"}
SIGNED_IN_API = {"auth_api.sign_out(text)", "auth_api.get_user()", "auth_api.update_user(jsonb)",
                 "auth_api.reauthenticate()"}
SERVICE_ONLY = {"auth.sign_jwt(jsonb)", "auth.settings()", "auth.signing_keys()",
                "auth.cleanup(integer)"}
# auth.outbox_claim/_sent/_failed: only auth_outbox_consumer (the shim's role), none of these.
EXECUTE_ALLOWED = {
    "anon": EVERYONE | FLOWS | ADMIN | SOCIAL | SSO | MFA_ADMIN,
    "authenticated": EVERYONE | FLOWS | SIGNED_IN_API | ADMIN | SOCIAL | SIGNED_IN_SOCIAL | SSO | MFA | MFA_ADMIN,
    "service_role": EVERYONE | FLOWS | SIGNED_IN_API | SERVICE_ONLY | ADMIN | SOCIAL | SIGNED_IN_SOCIAL | SSO | MFA | MFA_ADMIN,
    PLAIN: EVERYONE,  # what PUBLIC has
}
# MFA recovery codes (0.9.0): the signed-in caller's own (the functions check); never anon.
MFA_RECOVERY_CODES = {
    "auth.mfa_recovery_codes_status()", "auth.mfa_recovery_codes_generate(text)",
    "auth.mfa_recovery_codes_verify(text)", "auth.mfa_recovery_codes_regenerate()",
    "auth.mfa_recovery_codes_delete()",
}
MFA_RECOVERY_CODES |= {"auth_api." + sig.split(".", 1)[1] for sig in MFA_RECOVERY_CODES}
for _role in ("authenticated", "service_role"):
    EXECUTE_ALLOWED[_role] = EXECUTE_ALLOWED[_role] | MFA_RECOVERY_CODES
# Passkeys (0.9.0): registration and management by the signed-in user; sign-in by anyone; the
# admin API's passkey routes granted to every API role (admins only).
PASSKEYS_SIGNED_IN = {
    "auth.passkey_registration_options()", "auth.passkey_registration_verify(text,jsonb)",
    "auth.passkeys_list()", "auth.passkey_update(text,text)", "auth.passkey_delete(text)",
}
PASSKEYS_SIGNED_IN |= {"auth_api." + sig.split(".", 1)[1] for sig in PASSKEYS_SIGNED_IN}
PASSKEYS_ANYONE = {
    "auth.passkey_authentication_options()", "auth.passkey_authentication_verify(text,jsonb)",
    "auth.admin_list_passkeys(text)", "auth.admin_delete_passkey(text,text)",
    "auth_api.passkey_authentication_options()", "auth_api.passkey_authentication_verify(text,jsonb)",
}
for _role in ("anon", "authenticated", "service_role"):
    EXECUTE_ALLOWED[_role] = EXECUTE_ALLOWED[_role] | PASSKEYS_ANYONE
for _role in ("authenticated", "service_role"):
    EXECUTE_ALLOWED[_role] = EXECUTE_ALLOWED[_role] | PASSKEYS_SIGNED_IN

# Role attributes: only service_role bypasses RLS (as in Supabase); none can log in.
ROLE_ATTRIBUTES = {
    "anon": dict(rolsuper=False, rolcreaterole=False, rolcreatedb=False, rolreplication=False,
                 rolbypassrls=False, rolcanlogin=False),
    "authenticated": dict(rolsuper=False, rolcreaterole=False, rolcreatedb=False,
                          rolreplication=False, rolbypassrls=False, rolcanlogin=False),
    "service_role": dict(rolsuper=False, rolcreaterole=False, rolcreatedb=False,
                         rolreplication=False, rolbypassrls=True, rolcanlogin=False),
    PLAIN: dict(rolsuper=False, rolcreaterole=False, rolcreatedb=False, rolreplication=False,
                rolbypassrls=False, rolcanlogin=True),
}

# Functions that cannot be called from SQL at all.
def uncallable_reason(fn):
    return suite.uncallable(fn, "a trigger function: PostgreSQL refuses direct calls",
                            "takes an `internal` argument: planner support, no SQL value can be passed")


# ---------------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------------

class Tally(suite.Tally):
    def check(self, area, ok, what):
        if not self.count(area, ok, what):
            self.failures.append((area, what))
            print(f"FAIL [{area}] {what}", flush=True)
        return ok


T = Tally(SUITE, VERBOSE)


def short(value, n=160):
    s = value if isinstance(value, str) else repr(value)
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + f"...({len(s)} chars)"


# ---------------------------------------------------------------------------------------------
# Database access
# ---------------------------------------------------------------------------------------------

NOTICES = {}


def connect(dbname, user="postgres"):
    conn = psycopg.connect(host="127.0.0.1", port=PORT, user=user, dbname=dbname,
                           autocommit=True, connect_timeout=10)
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    notices = []
    NOTICES[id(conn)] = notices
    conn.add_notice_handler(lambda d: notices.append(
        f"{d.severity}: {d.message_primary} {d.message_detail or ''} {d.message_hint or ''}"))
    conn.execute("SET search_path = pg_catalog")
    conn.execute("SET statement_timeout = '60s'")
    return conn


class Outcome:
    def __init__(self, rows=None, error=None, notices=()):
        self.rows = rows
        self.error = error
        self.notices = list(notices)

    @property
    def ok(self):
        return self.error is None

    @property
    def sqlstate(self):
        return None if self.error is None else self.error.sqlstate

    def value(self):
        if self.rows:
            return self.rows[0][0]
        return None

    def texts(self):
        out = []
        for row in self.rows or []:
            out.extend("" if v is None else str(v) for v in row)
        if self.error is not None:
            d = self.error.diag
            out.extend(x for x in (d.message_primary, d.message_detail, d.message_hint,
                                   d.context, d.internal_query) if x)
        out.extend(self.notices)
        return out

    def describe(self):
        if self.ok:
            return f"ok: {short(self.value())}"
        d = self.error.diag
        return f"{self.sqlstate}: {short(d.message_primary or '')} (detail: {d.message_detail})"


def attempt(conn, query, params=()):
    """Runs one statement inside a savepoint of the current transaction."""
    notices = NOTICES[id(conn)]
    notices.clear()
    conn.execute("SAVEPOINT attempt")
    try:
        cur = conn.execute(query, params)
        rows = cur.fetchall() if cur.description else []
        conn.execute("RELEASE SAVEPOINT attempt")
        return Outcome(rows=rows, notices=notices)
    except psycopg.Error as e:
        if conn.broken:
            raise
        conn.execute("ROLLBACK TO SAVEPOINT attempt")
        conn.execute("RELEASE SAVEPOINT attempt")
        return Outcome(error=e, notices=notices)


class Rollback:
    """A transaction that is always rolled back."""

    def __init__(self, conn, role=None, login=None):
        self.conn, self.role, self.login = conn, role, login

    def __enter__(self):
        self.conn.execute("BEGIN")
        if self.login:
            # as if connected as `login` (a superuser's connection may take its identity)
            self.conn.execute(sql.SQL("SET LOCAL SESSION AUTHORIZATION {}").format(sql.Identifier(self.login)))
        if self.role and self.role != OWNER:
            self.conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self.role)))
        return self.conn

    def __exit__(self, *exc):
        if not self.conn.broken:
            self.conn.execute("ROLLBACK")
        return False


def q(conn, query, params=()):
    return conn.execute(query, params).fetchall()


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------

MEMBER_OR_SCHEMA = """
    (n.nspname IN ('auth', 'auth_api') OR EXISTS (
        SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE e.extname = 'auth_ext' AND d.refclassid = 'pg_extension'::regclass
           AND d.classid = {cls}::regclass AND d.objid = {obj} AND d.deptype = 'e'))
"""


class Rel:
    def __init__(self, oid, name, kind, columns, update_col):
        self.oid, self.name, self.kind = oid, name, kind
        self.columns, self.update_col = columns, update_col


class Fn:
    def __init__(self, oid, sig, nsp, name, argtypes, rettype, secdef, config, owner_super, lang):
        self.oid, self.sig, self.nsp, self.name = oid, sig, nsp, name
        self.argtypes, self.rettype, self.secdef = argtypes, rettype, secdef
        self.config, self.owner_super, self.lang = config or [], owner_super, lang

    def call_sql(self, args_sql):
        return sql.SQL("SELECT {}({})").format(sql.Identifier(self.nsp, self.name),
                                               sql.SQL(args_sql))


def relations(conn):
    rows = q(conn, """
        SELECT c.oid, c.oid::regclass::text, c.relkind
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND """
             + MEMBER_OR_SCHEMA.format(cls="'pg_class'", obj="c.oid") + " ORDER BY 2")
    out = []
    for oid, name, kind in rows:
        cols = q(conn, """SELECT attname, attgenerated FROM pg_attribute
                           WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum""",
                 [oid])
        update_col = next((c for c, gen in cols if gen == ""), None)
        out.append(Rel(oid, name, kind, [c for c, _ in cols], update_col))
    return out


def functions(conn):
    rows = q(conn, """
        SELECT p.oid, p.oid::regprocedure::text, n.nspname, p.proname,
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t),
               format_type(p.prorettype, NULL), p.prosecdef, p.proconfig,
               (SELECT rolsuper FROM pg_roles WHERE oid = p.proowner), l.lanname
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_language l ON l.oid = p.prolang
         WHERE """ + MEMBER_OR_SCHEMA.format(cls="'pg_proc'", obj="p.oid") + " ORDER BY 2")
    return [Fn(*r) for r in rows]


def schemas(conn):
    rows = q(conn, """
        SELECT DISTINCT n.nspname FROM pg_namespace n
         WHERE n.nspname IN ('auth', 'auth_api')
            OR n.oid IN (SELECT c.relnamespace FROM pg_class c JOIN pg_depend d ON d.objid = c.oid
                          AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
                          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'auth_ext')
            OR n.oid IN (SELECT p.pronamespace FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
                          AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
                          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'auth_ext')
         ORDER BY 1""")
    return [r[0] for r in rows]


# ---------------------------------------------------------------------------------------------
# Users and tokens
# ---------------------------------------------------------------------------------------------

def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_encode(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class User:
    def __init__(self, email, password, marker):
        self.email, self.password, self.marker = email, password, marker
        self.id = None
        self.sessions = []  # (session_id, access_token, refresh_token, claims text)
        # a phone factor (digits of its number) with a pending challenge and the code sent
        self.phone = self.phone_factor = self.phone_challenge = self.phone_code = None

    def add_session(self, response):
        r = json.loads(response)
        claims_text = b64url_decode(r["access_token"].split(".")[1]).decode()
        claims = json.loads(claims_text)
        self.id = r["user"]["id"]
        self.sessions.append((claims["session_id"], r["access_token"], r["refresh_token"],
                              claims_text))

    @property
    def access(self):
        return self.sessions[-1][1]

    @property
    def refresh(self):
        return self.sessions[-1][2]

    @property
    def claims(self):
        return self.sessions[-1][3]

    def markers(self):
        """What must never reach another user."""
        out = {"id": self.id, "email": self.email, "password": self.password,
               "metadata marker": self.marker, "phone factor's number": self.phone}
        for i, (sid, access, refresh, _) in enumerate(self.sessions):
            out[f"session id {i}"] = sid
            out[f"access token {i}"] = access
            out[f"access token signature {i}"] = access.split(".")[2]
            out[f"refresh token {i}"] = refresh
        return out


def tamper_sub(token, new_sub):
    h, p, s = token.split(".")
    claims = json.loads(b64url_decode(p))
    claims["sub"] = new_sub
    return f"{h}.{b64url_encode(json.dumps(claims).encode())}.{s}"


class Ctx:
    def __init__(self):
        self.counter = 0
        self.standby_kid = None

    def fresh_email(self):
        self.counter += 1
        return f"fresh{self.counter}-{secrets.token_hex(4)}@example.com"

    @staticmethod
    def new_secret():
        return secrets.token_urlsafe(30)


class Plans(dict):
    """regprocedure -> [(label, args SQL, params)]; a function nobody wrote a plan for yet is
    still called, with NULL arguments (and the function-privileges area fails until it has one)."""

    def for_fn(self, fn):
        if fn.sig in self:
            return self[fn.sig]
        return [("NULL arguments (no call plan)", ", ".join(f"NULL::{t}" for t in fn.argtypes), [])]


def call_plans(ctx, me, other):
    """How to call each function plausibly: regprocedure -> [(label, args SQL, params)].
    The first entry is the one the function-privileges area uses."""
    P = Plans()
    tampered = tamper_sub(me.access, other.id)
    three = "%s::text, %s::text, %s::jsonb"
    two = "%s::text, %s::text"
    P["auth.sign_up" + SIGN_UP] = [
        ("a new user", three, [ctx.fresh_email(), PASSWORD, '{"plan": "new"}']),
        ("the other user's email", three, [other.email, PASSWORD + "-x", "{}"]),
        ("a weak password", three, [ctx.fresh_email(), "short", "{}"]),
    ]
    P["auth.sign_in_with_password(text,text,text)"] = [
        ("own credentials", two, [me.email, me.password]),
        ("the other user's email, a wrong password", two, [other.email, "wrong-password-123"]),
        ("an unknown email", two, [ctx.fresh_email(), "wrong-password-123"]),
    ]
    P["auth.refresh_session(text)"] = [
        ("own refresh token", "%s::text", [me.refresh]),
        ("an unknown refresh token", "%s::text", [secrets.token_urlsafe(32)]),
    ]
    P["auth.sign_out(text)"] = [(f"scope {s}", "%s::text", [s]) for s in ("local", "others", "global")]
    P["auth.get_user()"] = [("no arguments", "", [])]
    P["auth.update_user(jsonb)"] = [
        ("metadata", "%s::jsonb", ['{"data": {"plan": "update"}}']),
        ("a new password", "%s::jsonb", [json.dumps({"password": "a-brand-new-password"})]),
        ("the same password", "%s::jsonb", [json.dumps({"password": me.password})]),
        ("the other user's email", "%s::jsonb", [json.dumps({"email": other.email})]),
    ]
    P["auth.verify_jwt(text)"] = [
        ("own access token", "%s::text", [me.access]),
        ("own token with the other user's sub", "%s::text", [tampered]),
    ]
    P["auth.authenticate(text)"] = list(P["auth.verify_jwt(text)"])
    P["auth.sign_jwt(jsonb)"] = [
        ("claims", "%s::jsonb", [json.dumps({"sub": me.id, "role": "authenticated"})])]
    for no_args in ("auth.uid()", "auth.role()", "auth.email()", "auth.jwt()",
                    "auth._uid_value()", "auth._role_value()", "auth._email_value()",
                    "auth._jwt_value()", "auth.jwks()", "auth.settings()",
                    "auth.signing_keys()", "auth.postgrest_jwt_secret()",
                    "auth._install_secrets()"):
        P[no_args] = [("no arguments", "", [])]
    P["auth.configure(jsonb)"] = [
        ("no change", "%s::jsonb", ["{}"]),
        ("adopt a jwt_secret", "%s::jsonb", [json.dumps({"jwt_secret": ctx.new_secret()})]),
    ]
    P["auth.create_signing_key(text)"] = [
        (alg, "%s::text", [alg]) for alg in ("ES256", "EdDSA", "HS256", "RS256")]
    P["auth.import_signing_key(text,text)"] = [
        ("an HS256 secret", two, [ctx.new_secret(), "HS256"])]
    P["auth.set_signing_key_status(text,text)"] = [
        ("a standby key becomes current", two, [ctx.standby_kid, "current"])]
    P["auth._invalidate_instance_cache(oid)"] = [
        ("auth.config", "%s::regclass::oid", ["auth.config"])]
    # The email and phone flows. Codes and mail go only to A or to fresh addresses: anyone may ask
    # for a mail to B's address, which changes B's `*_sent_at`, not what isolation checks.
    unknown_hash = "0" * 56
    P["auth.sign_in_with_otp" + OTP] = [
        ("a new email", "%s::text", [ctx.fresh_email()]),
        ("own email, no new user", "%s::text, NULL::text, false", [me.email]),
        ("a phone (phone sign-in off)", "NULL::text, %s::text", ["+15550001111"]),
    ]
    P["auth.reset_password_for_email(text,text,text,text)"] = [
        ("an unknown email", "%s::text", [ctx.fresh_email()]),
        ("own email", "%s::text", [me.email]),
    ]
    P["auth._resend" + SIX] = [
        ("signup, an unknown email", two, ["signup", ctx.fresh_email()]),
        ("email_change, none pending", two, ["email_change", me.email]),
    ]
    P["auth.resend" + SIX] = list(P["auth._resend" + SIX])
    P["auth._verify_otp" + SIX] = [
        ("a wrong code for the other user's email", "%s::text, %s::text, NULL::text, %s::text",
         ["email", "123456", other.email]),
        ("an unknown token_hash", "%s::text, NULL::text, %s::text", ["magiclink", unknown_hash]),
        ("a wrong SMS code", "%s::text, %s::text, NULL::text, NULL::text, %s::text",
         ["sms", "123456", "+15550001111"]),
    ]
    P["auth.verify_otp" + SIX] = list(P["auth._verify_otp" + SIX])
    P["auth._verify_link(text,text,text)"] = [
        ("an unknown token", two, [unknown_hash, "signup"]),
        ("an outside redirect", three.replace("jsonb", "text"),
         [unknown_hash, "magiclink", "https://evil.example/"]),
    ]
    P["auth.verify_link(text,text,text)"] = list(P["auth._verify_link(text,text,text)"])
    P["auth.redirect_target(text)"] = [("an outside URL", "%s::text", ["https://evil.example/"])]
    P["auth.exchange_code_for_session(text,text)"] = [
        ("an unknown code", two, [str(uuid.uuid4()), "v" * 43])]
    P["auth.reauthenticate()"] = [("no arguments", "", [])]
    P["auth.outbox_claim(integer,integer,text[])"] = [("ten for a minute", "10, 60", [])]
    P["auth.outbox_sent(bigint)"] = [("an unknown id", "%s::bigint", [0])]
    P["auth.outbox_failed(bigint,text)"] = [("an unknown id", "%s::bigint, %s::text", [0, "x"])]
    # The admin API: the other user's id (isolation: refused, nothing of B back), fresh addresses.
    P["auth.admin_list_users(bigint,bigint,text)"] = [
        ("the first page", "1::bigint, 10::bigint", []),
        ("the other user's email", "1::bigint, 10::bigint, %s::text", [other.email])]
    P["auth.admin_get_user(text)"] = [("the other user", "%s::text", [other.id]),
                                      ("not a uuid", "%s::text", ["x"])]
    P["auth.admin_create_user(jsonb)"] = [
        ("a new user", "%s::jsonb", [json.dumps({"email": ctx.fresh_email(), "password": "new-user-pw-1"})]),
        ("the other user's email", "%s::jsonb", [json.dumps({"email": other.email})])]
    P["auth.admin_update_user(text,jsonb)"] = [
        ("ban the other user", "%s::text, %s::jsonb", [other.id, json.dumps({"ban_duration": "24h"})]),
        ("the other user's password", "%s::text, %s::jsonb", [other.id, json.dumps({"password": "taken-over-1"})])]
    P["auth.admin_delete_user(text,boolean)"] = [("the other user", "%s::text", [other.id]),
                                                 ("the other user, soft", "%s::text, true", [other.id])]
    P["auth.admin_sign_out_user(text)"] = [("the other user", "%s::text", [other.id])]
    P["auth.admin_audit_log(bigint,bigint,text)"] = [("the first page", "1::bigint, 10::bigint", [])]
    P["auth._admin_generate_link" + GEN_LINK] = [
        ("recovery for the other user", two, ["recovery", other.email]),
        ("magiclink for the other user", two, ["magiclink", other.email])]
    P["auth.admin_generate_link" + GEN_LINK] = list(P["auth._admin_generate_link" + GEN_LINK])
    P["auth.admin_invite_user(text,jsonb,text)"] = [("a new address", "%s::text", [ctx.fresh_email()])]
    P["auth.sign_in_anonymously(jsonb)"] = [("no data", "", [])]
    P["auth.cleanup(integer)"] = [("a batch of ten", "10", [])]
    # Social login (0.7.0): no provider is configured here, so the flows refuse at once; the
    # broker's and the owner's functions are what the matrix is about.
    P["auth.oauth_authorize(text,text,text,text,text,jsonb,boolean)"] = [
        ("an unconfigured provider", "%s::text", ["github"])]
    P["auth.sign_in_with_id_token(text,text,text,text,boolean)"] = [
        ("a token of an unconfigured provider", two, ["google", me.access])]
    P["auth.unlink_identity(text)"] = [("the other user's id as an identity", "%s::text", [other.id])]
    P["auth.oauth_callback_take(text)"] = [("a forged state", "%s::text", ["forged-state"])]
    P["auth.oauth_callback_finish(text,text,jsonb,jsonb,text,text)"] = [
        ("a forged state with a user for the other user's address", "%s::text, NULL, %s::jsonb",
         ["forged-state", json.dumps({"id": 1, "email": other.email})])]
    P["auth.provider_document_store(text,text,jsonb,bigint)"] = [
        ("a JWKS for an unconfigured provider", "%s::text, %s::text, %s::jsonb",
         ["github", "jwks", '{"keys": []}'])]
    P["auth.configure_provider(text,jsonb)"] = [
        ("a provider", "%s::text, %s::jsonb", ["github", '{"enabled": false}'])]
    P["auth.remove_provider(text)"] = [("a provider", "%s::text", ["github"])]
    P["auth.providers()"] = [("no arguments", "", [])]
    # SAML SSO (0.8.0): SAML is off here, so every entry point refuses at once
    # (saml_provider_disabled); the matrix is about who may call them at all.
    P["auth.sso_start(text,text,text,text,text)"] = [("the other user's domain", "NULL, %s::text",
                                                      [other.email.split("@")[1]])]
    P["auth.sso_service_provider()"] = [("no arguments", "", [])]
    P["auth.saml_acs_take(text,text)"] = [("a forged relay state", "%s::text", [str(uuid.uuid4())])]
    P["auth.saml_acs_finish(text,jsonb)"] = [
        ("an assertion naming the other user's address", "NULL, %s::jsonb",
         [json.dumps({"assertion_id": "a", "issuer": "https://idp.example", "name_id": other.email,
                      "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                      "attributes": [], "session_not_on_or_after": None,
                      "not_on_or_after": 4102444800, "in_response_to": None})])]
    P["auth.saml_metadata_refresh(text,text)"] = [
        ("an unknown provider", "%s::text, %s::text", [str(uuid.uuid4()), "<x/>"])]
    # MFA (0.8.0): as the caller, against the other user's factor where one is named. Phone
    # factors are on here: each user has one with a pending challenge (create_users), the code
    # its SMS carried read from the outbox.
    P["auth.mfa_enroll(text,text,text,text)"] = [
        ("a TOTP factor", "%s::text", ["totp"]),
        ("a phone factor", "%s::text, NULL, NULL, %s::text", ["phone", "+15550108001"]),
        ("a phone factor of the other user's number", "%s::text, NULL, NULL, %s::text", ["phone", "+" + other.phone])]
    P["auth.mfa_challenge(text,text,jsonb)"] = [
        ("an unknown factor", "%s::text", [str(uuid.uuid4())]),
        ("own phone factor by SMS", "%s::text, %s::text", [me.phone_factor, "sms"]),
        ("the other user's phone factor", "%s::text, %s::text", [other.phone_factor, "sms"])]
    P["auth.mfa_verify(text,text,text,jsonb)"] = [
        ("an unknown factor and challenge", "%s::text, %s::text, %s::text",
         [str(uuid.uuid4()), str(uuid.uuid4()), "123456"]),
        ("own phone factor, its challenge and code", "%s::text, %s::text, %s::text",
         [me.phone_factor, me.phone_challenge, me.phone_code]),
        ("the other user's phone factor, its challenge and code", "%s::text, %s::text, %s::text",
         [other.phone_factor, other.phone_challenge, other.phone_code]),
        ("own phone factor, the other user's challenge and code", "%s::text, %s::text, %s::text",
         [me.phone_factor, other.phone_challenge, other.phone_code])]
    P["auth.mfa_unenroll(text)"] = [("an unknown factor", "%s::text", [str(uuid.uuid4())]),
                                    ("the other user's phone factor", "%s::text", [other.phone_factor])]
    P["auth.admin_list_factors(text)"] = [("the other user", "%s::text", [other.id])]
    P["auth.admin_delete_factor(text,text)"] = [
        ("an unknown factor of the other user", "%s::text, %s::text", [other.id, str(uuid.uuid4())]),
        ("the other user's phone factor", "%s::text, %s::text", [other.id, other.phone_factor])]
    for sig in sorted(MFA):
        if sig.startswith("auth_api."):
            P[sig] = list(P["auth." + sig.split(".", 1)[1]])
    # Recovery codes (0.9.0): as the caller (no codes, an aal1 session: refused or not found); a
    # code that is no one's.
    P["auth.mfa_recovery_codes_status()"] = [("no arguments", "", [])]
    P["auth.mfa_recovery_codes_generate(text)"] = [("the default name", "", []),
                                                   ("a name", "%s::text", ["Paper codes"])]
    P["auth.mfa_recovery_codes_verify(text)"] = [("a code", "%s::text", ["abcd-efgh-ijkl-mnop"])]
    P["auth.mfa_recovery_codes_regenerate()"] = [("no arguments", "", [])]
    P["auth.mfa_recovery_codes_delete()"] = [("no arguments", "", [])]
    for sig in sorted(MFA_RECOVERY_CODES):
        if sig.startswith("auth_api."):
            P[sig] = list(P["auth." + sig.split(".", 1)[1]])
    # Passkeys (0.9.0; off here: passkey_disabled for every caller, which must still leak and
    # change nothing): an unknown challenge, passkey and another user's id.
    P["auth.passkey_registration_options()"] = [("no arguments", "", [])]
    P["auth.passkey_registration_verify(text,jsonb)"] = [
        ("an unknown challenge", "%s::text, %s::jsonb", [str(uuid.uuid4()), "{}"])]
    P["auth.passkey_authentication_options()"] = [("no arguments", "", [])]
    P["auth.passkey_authentication_verify(text,jsonb)"] = [
        ("an unknown challenge", "%s::text, %s::jsonb", [str(uuid.uuid4()), "{}"])]
    P["auth.passkeys_list()"] = [("no arguments", "", [])]
    P["auth.passkey_update(text,text)"] = [
        ("an unknown passkey", "%s::text, %s::text", [str(uuid.uuid4()), "renamed"])]
    P["auth.passkey_delete(text)"] = [("an unknown passkey", "%s::text", [str(uuid.uuid4())])]
    P["auth.admin_list_passkeys(text)"] = [("the other user", "%s::text", [other.id])]
    P["auth.admin_delete_passkey(text,text)"] = [
        ("an unknown passkey of the other user", "%s::text, %s::text", [other.id, str(uuid.uuid4())])]
    for sig in sorted(PASSKEYS_SIGNED_IN | PASSKEYS_ANYONE):
        if sig.startswith("auth_api."):
            P[sig] = list(P["auth." + sig.split(".", 1)[1]])
    P["auth.admin_sso_providers()"] = [("no arguments", "", [])]
    P["auth.admin_sso_provider(text)"] = [("an unknown id", "%s::text", [str(uuid.uuid4())])]
    P["auth.admin_create_sso_provider(jsonb,text)"] = [
        ("a provider for the other user's domain", "%s::jsonb",
         [json.dumps({"type": "saml", "metadata_xml": "<x/>", "domains": [other.email.split("@")[1]]})])]
    P["auth.admin_update_sso_provider(text,jsonb,text)"] = [
        ("an unknown id", "%s::text, %s::jsonb", [str(uuid.uuid4()), '{"disabled": true}'])]
    P["auth.admin_delete_sso_provider(text)"] = [("an unknown id", "%s::text", [str(uuid.uuid4())])]
    for sig in sorted(SSO):
        if sig.startswith("auth_api."):
            base = sig.split(".", 1)[1].split("(")[0]
            full = next(k for k in P if k.startswith("auth." + base + "("))
            P[sig] = list(P[full])
    for sig in sorted(SOCIAL | SIGNED_IN_SOCIAL):
        if sig.startswith("auth_api."):
            P[sig] = list(P["auth." + sig.split(".", 1)[1]])
    for sig in sorted(ADMIN):
        if sig.startswith("auth_api."):
            P[sig] = list(P["auth." + sig.split(".", 1)[1]])
    for wrapper in ("sign_up" + SIGN_UP, "sign_in_with_password(text,text,text)",
                    "refresh_session(text)", "sign_out(text)", "get_user()",
                    "update_user(jsonb)", "jwks()", "sign_in_with_otp" + OTP,
                    "reset_password_for_email(text,text,text,text)", "resend" + SIX,
                    "verify_otp" + SIX, "exchange_code_for_session(text,text)",
                    "reauthenticate()"):
        P["auth_api." + wrapper] = list(P["auth." + wrapper])
    return P


# ---------------------------------------------------------------------------------------------
# Secrets: read as superuser, searched for in every output
# ---------------------------------------------------------------------------------------------

WINDOW = 16  # bytes; a 16-byte window of a random secret cannot occur by chance


def der_items(buf):
    items, i = [], 0
    while i < len(buf):
        tag = buf[i]
        length = buf[i + 1]
        i += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(buf[i:i + n], "big")
            i += n
        items.append((tag, buf[i:i + length]))
        i += length
    return items


def private_components(algorithm, der):
    """The private parts of a stored key (DER), without the public parts that the JWKS
    legitimately publishes: the EC scalar, the Ed25519 seed, RSA's d, p, q, dp, dq, qi."""
    top = der_items(der)
    assert len(top) == 1 and top[0][0] == 0x30, "not a DER SEQUENCE"
    fields = der_items(top[0][1])
    if algorithm == "RS256" and len(fields) >= 9 and all(t == 0x02 for t, _ in fields[:9]):
        return [v.lstrip(b"\x00") for _, v in fields[3:9]]  # PKCS#1
    # PKCS#8: version, algorithm, privateKey OCTET STRING, ...
    assert fields[2][0] == 0x04, "PKCS#8 without privateKey"
    inner = der_items(fields[2][1])
    if algorithm == "ES256":  # ECPrivateKey: version, privateKey OCTET STRING, [0], [1]
        ec = der_items(inner[0][1])
        assert ec[1][0] == 0x04 and len(ec[1][1]) == 32
        return [ec[1][1]]
    if algorithm == "EdDSA":  # CurvePrivateKey ::= OCTET STRING
        assert inner[0][0] == 0x04 and len(inner[0][1]) == 32
        return [inner[0][1]]
    if algorithm == "RS256":  # PKCS#8 wrapping PKCS#1
        rsa = der_items(inner[0][1])
        return [v.lstrip(b"\x00") for _, v in rsa[3:9]]
    raise AssertionError(f"unknown algorithm {algorithm}")


def b64_decode_loose(text):
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


class SecretIndex:
    def __init__(self):
        self.windows = {}
        self.seen = set()
        self.kinds = {}  # label -> kind

    def add(self, kind, label, material):
        """material: bytes of a secret (or of an encoding of one)."""
        if not material or (kind, material) in self.seen:
            return
        self.seen.add((kind, material))
        self.kinds[label] = kind
        if len(material) < WINDOW:
            material = material  # short secrets are matched whole below
            self.windows.setdefault(material, label)
            return
        for i in range(len(material) - WINDOW + 1):
            self.windows.setdefault(material[i:i + WINDOW], label)

    def load(self, conn):
        """Reads every secret as superuser (the caller's transaction sees its own writes)."""
        for name, secret in q(conn, "SELECT name, secret FROM auth.identity_providers"):
            if secret:
                self.add("provider client secret", f"client secret of provider {name}",
                         secret.encode())
        for kid, alg, status, secret, private in q(conn, """
                SELECT kid, algorithm, status, secret, private_key FROM auth.signing_keys"""):
            if secret is not None:
                self.add(f"hs256 secret ({status})", f"HS256 secret of key {kid} ({status})",
                         bytes(secret))
            if private is not None:
                try:
                    parts = private_components(alg, bytes(private))
                except (AssertionError, IndexError) as e:
                    T.check("secret exposure", False,
                            f"cannot extract the private components of key {kid} ({alg}): {e}")
                    parts = [bytes(private)]
                for j, part in enumerate(parts):
                    self.add("private key", f"private key {kid} ({alg}) component {j}", part)
        for (key,) in q(conn, "SELECT refresh_token_key FROM auth.config"):
            self.add("chain key", "auth.config.refresh_token_key", bytes(key))
        for cid, h in q(conn, "SELECT id::text, code_hash FROM auth.mfa_recovery_codes"):
            self.add("recovery code hash", f"mfa_recovery_codes.code_hash of {cid}", h.encode())
        for uid, phc in q(conn, """SELECT id::text, encrypted_password FROM auth.users
                                     WHERE coalesce(encrypted_password, '') <> ''"""):
            segments = [s for s in phc.split("$") if s]
            for seg in segments[-2:]:  # salt and hash (argon2id / bcrypt layouts differ)
                self.add("password hash", f"password hash of {uid}", seg.encode())
                try:
                    self.add("password hash", f"password hash of {uid} (decoded)",
                             b64_decode_loose(seg))
                except (binascii.Error, ValueError):
                    pass
            self.add("password hash", f"password hash of {uid} (whole)", phc.encode())
        for tid, token, parent in q(conn, "SELECT id, token, parent FROM auth.refresh_tokens"):
            for what, h in (("token", token), ("parent", parent)):
                if h:
                    self.add("refresh token hash", f"refresh_tokens.{what} of row {tid}",
                             h.encode())
                    try:
                        self.add("refresh token hash", f"refresh_tokens.{what} of row {tid} (bytes)",
                                 bytes.fromhex(h))
                    except ValueError:
                        pass

        for cid, h in q(conn, "SELECT id::text, otp_code FROM auth.mfa_challenges WHERE otp_code IS NOT NULL"):
            self.add("phone code hash", f"mfa_challenges.otp_code of {cid}", h.encode())
            try:
                self.add("phone code hash", f"mfa_challenges.otp_code of {cid} (bytes)", bytes.fromhex(h))
            except ValueError:
                pass
        for tid, h in q(conn, "SELECT id::text, token_hash FROM auth.one_time_tokens"):
            self.add("one-time token hash", f"one_time_tokens.token_hash of {tid}", h.encode())
            bare = h.removeprefix("pkce_")
            self.add("one-time token hash", f"one_time_tokens.token_hash of {tid} (bytes)",
                     bytes.fromhex(bare))

    B64RUN = re.compile(rb"[A-Za-z0-9+/_-]{20,}")
    HEXRUN = re.compile(rb"[0-9a-fA-F]{32,}")

    def candidates(self, raw):
        yield raw
        for m in self.B64RUN.finditer(raw):
            run = m.group().replace(b"-", b"+").replace(b"_", b"/")
            for off in range(4):
                chunk = run[off:]
                chunk = chunk[:len(chunk) // 4 * 4]
                try:
                    yield base64.b64decode(chunk, validate=True)
                except (binascii.Error, ValueError):
                    pass
        for m in self.HEXRUN.finditer(raw):
            run = m.group()
            for off in (0, 1):
                chunk = run[off:]
                chunk = chunk[:len(chunk) // 2 * 2]
                yield bytes.fromhex(chunk.decode())

    def find(self, text):
        found = set()
        raw = text.encode("utf-8", "surrogateescape")
        for cand in self.candidates(raw):
            for i in range(len(cand) - WINDOW + 1):
                label = self.windows.get(cand[i:i + WINDOW])
                if label:
                    found.add(label)
        return found


# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------

def setup():
    admin = connect("postgres")
    admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB}")
    admin.execute(f"DROP ROLE IF EXISTS {PLAIN}")
    admin.execute(f"CREATE ROLE {PLAIN} LOGIN")
    admin.close()
    conn = connect(DB)
    conn.execute("RESET search_path")  # as an installer would run it
    conn.execute("CREATE EXTENSION auth_ext")
    conn.execute("SET search_path = pg_catalog")
    conn.execute("""SELECT auth.configure('{"argon2_memory_kib": 1024, "argon2_iterations": 1,
                                            "rate_limit_email_sent": 100000, "rate_limit_sms_sent": 100000,
                                            "mfa_phone_enroll_enabled": true, "mfa_phone_verify_enabled": true,
                                            "mfa_phone_max_frequency": 0}')""")
    return conn


def create_users(conn, ctx):
    users = []
    for name in ("a", "b"):
        u = User(f"user-{name}-{secrets.token_hex(4)}@example.com",
                 f"{PASSWORD}-{name}-{secrets.token_hex(4)}", f"marker-{name}-{secrets.token_hex(8)}")
        conn.execute("BEGIN")
        conn.execute("SET LOCAL ROLE anon")
        u.add_session(q(conn, "SELECT auth_api.sign_up(%s, %s, %s::jsonb)",
                        [u.email, u.password, json.dumps({"marker": u.marker})])[0][0])
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        conn.execute("SET LOCAL ROLE anon")
        u.add_session(q(conn, "SELECT auth_api.sign_in_with_password(%s, %s)",
                        [u.email, u.password])[0][0])
        conn.execute("COMMIT")
        users.append(u)
    # A phone factor each, with a pending challenge (as the user, through auth_api); the code from
    # the outbox, as an SMS gateway would read it.
    for n, u in enumerate(users):
        u.phone = f"155501080{n + 2}{secrets.randbelow(10)}"
        conn.execute("BEGIN")
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [u.claims])
        u.phone_factor = json.loads(q(conn, "SELECT auth_api.mfa_enroll('phone', phone => %s)", ["+" + u.phone])[0][0])["id"]
        u.phone_challenge = json.loads(q(conn, "SELECT auth_api.mfa_challenge(%s, 'sms')", [u.phone_factor])[0][0])["id"]
        conn.execute("COMMIT")
        u.phone_code = q(conn, """SELECT payload->'sms'->>'otp' FROM auth.outbox WHERE action = 'mfa' AND recipient = %s
                                   ORDER BY id DESC LIMIT 1""", [u.phone])[0][0]
    # Key material of every algorithm, in every state, for the secret scan.
    for alg in ("RS256", "EdDSA", "HS256", "ES256"):
        q(conn, "SELECT auth.create_signing_key(%s)", [alg])
    revoked = q(conn, "SELECT auth.create_signing_key('ES256')")[0][0]
    q(conn, "SELECT auth.set_signing_key_status(%s, 'revoked')", [revoked])
    ctx.standby_kid = q(conn, "SELECT auth.create_signing_key('EdDSA')")[0][0]
    return users


# ---------------------------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------------------------

def check_role_attributes(conn):
    area = "role attributes"
    for role in ROLES:
        rows = q(conn, """SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication,
                                 rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s""", [role])
        if not T.check(area, len(rows) == 1, f"role {role} exists"):
            continue
        actual = dict(zip(["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication",
                           "rolbypassrls", "rolcanlogin"], rows[0]))
        for attr, want in ROLE_ATTRIBUTES[role].items():
            T.check(area, actual[attr] == want, f"{role}.{attr} is {actual[attr]}, expected {want}")
        member_of = [r[0] for r in q(conn, """
            SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
             WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = %s)""", [role])]
        T.check(area, not member_of, f"{role} is a member of no other role (is of {member_of})")
        owns = q(conn, """SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)
                          AND relnamespace IN ('auth'::regnamespace, 'auth_api'::regnamespace)""", [role])[0][0]
        T.check(area, owns == 0, f"{role} owns no relation in auth/auth_api (owns {owns})")


def check_schemas(conn, nsps):
    area = "schema privileges"
    for nsp in nsps:
        owner_super = q(conn, """SELECT r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
                                  WHERE n.nspname = %s""", [nsp])[0][0]
        T.check(area, owner_super, f"schema {nsp} is owned by a superuser")
        for role in ROLES:
            for priv in ("USAGE", "CREATE"):
                has = q(conn, "SELECT has_schema_privilege(%s, %s, %s)", [role, nsp, priv])[0][0]
                want = (nsp, priv) in SCHEMA_PRIVILEGES_ALLOWED[role]
                T.check(area, has == want,
                        f"has_schema_privilege({role}, {nsp}, {priv}) = {has}, allow-list says {want}")
            # CREATE tried for real: a table or function in these schemas would be an attack.
            for what, stmt in (
                    ("table", sql.SQL("CREATE TABLE {}.suite_probe (x int)").format(sql.Identifier(nsp))),
                    ("function", sql.SQL("CREATE FUNCTION {}.suite_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'")
                     .format(sql.Identifier(nsp)))):
                with Rollback(conn, role):
                    out = attempt(conn, stmt)
                want = (nsp, "CREATE") in SCHEMA_PRIVILEGES_ALLOWED[role]
                T.check(area, out.ok if want else out.sqlstate == "42501",
                        f"{role}: CREATE {what} in {nsp}: {out.describe()}")
    # Default privileges would hand future tables or functions to the API roles.
    rows = q(conn, """
        SELECT pg_get_userbyid(d.defaclrole), coalesce(n.nspname, '(all schemas)'), d.defaclobjtype,
               coalesce(r.rolname, 'PUBLIC'), a.privilege_type
          FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace,
               aclexplode(d.defaclacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
         WHERE a.grantee = 0 OR r.rolname = ANY(%s)""", [ROLES])
    T.check(area, not rows, f"no default privileges for the API roles or PUBLIC: {rows}")


def check_tables(conn, rels):
    area = "table privileges"
    table_privs = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    seq_privs = ["USAGE", "SELECT", "UPDATE"]
    for rel in rels:
        for role in ROLES:
            if rel.kind == "S":
                for priv in seq_privs:
                    has = q(conn, "SELECT has_sequence_privilege(%s, %s, %s)", [role, rel.oid, priv])[0][0]
                    want = priv in SEQUENCE_PRIVILEGES_ALLOWED.get((role, rel.name), set())
                    T.check(area, has == want,
                            f"has_sequence_privilege({role}, {rel.name}, {priv}) = {has}, allow-list {want}")
                continue
            for priv in table_privs:
                has = q(conn, "SELECT has_table_privilege(%s, %s, %s)", [role, rel.oid, priv])[0][0]
                want = priv in TABLE_PRIVILEGES_ALLOWED.get((role, rel.name), set())
                T.check(area, has == want,
                        f"has_table_privilege({role}, {rel.name}, {priv}) = {has}, allow-list {want}")
            col_rows = q(conn, """
                SELECT a.attname, p.priv, has_column_privilege(%s, a.attrelid, a.attnum, p.priv)
                  FROM pg_attribute a, unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p(priv)
                 WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum, p.priv""",
                         [role, rel.oid])
            for col, priv, has in col_rows:
                want = (priv in TABLE_PRIVILEGES_ALLOWED.get((role, rel.name), set())
                        or priv in COLUMN_PRIVILEGES_ALLOWED.get((role, rel.name, col), set()))
                T.check(area, has == want,
                        f"has_column_privilege({role}, {rel.name}.{col}, {priv}) = {has}, allow-list {want}")
    # Tried for real, as each role, in transactions that are rolled back.
    for rel in rels:
        ident = sql.SQL(rel.name)  # regclass text: already quoted where needed
        if rel.kind == "S":
            tries = [("SELECT", sql.SQL("SELECT last_value FROM {}").format(ident)),
                     ("USAGE", sql.SQL("SELECT nextval({})").format(sql.Literal(rel.name))),
                     ("UPDATE", sql.SQL("SELECT setval({}, 1000000000)").format(sql.Literal(rel.name)))]
            allowed = SEQUENCE_PRIVILEGES_ALLOWED
        else:
            tries = [("SELECT", sql.SQL("SELECT * FROM {} LIMIT 1").format(ident)),
                     ("INSERT", sql.SQL("INSERT INTO {} DEFAULT VALUES").format(ident)),
                     ("DELETE", sql.SQL("DELETE FROM {} WHERE true").format(ident))]
            if rel.update_col:
                col = sql.Identifier(rel.update_col)
                tries.append(("UPDATE", sql.SQL("UPDATE {} SET {} = {} WHERE true").format(ident, col, col)))
            if rel.kind in ("r", "p"):
                tries.append(("TRUNCATE", sql.SQL("TRUNCATE {}").format(ident)))
            allowed = TABLE_PRIVILEGES_ALLOWED
        for role in ROLES:
            for priv, stmt in tries:
                with Rollback(conn, role):
                    out = attempt(conn, stmt)
                want = priv in allowed.get((role, rel.name), set())
                ok = (out.ok or out.sqlstate != "42501") if want else out.sqlstate == "42501"
                T.check(area, ok, f"{role}: {priv} on {rel.name}: {out.describe()}")
    # Row-level security on every table in auth, and no policy nobody reviewed.
    for rel in rels:
        if rel.kind in ("r", "p") and rel.name.startswith("auth."):
            rls = q(conn, "SELECT relrowsecurity FROM pg_class WHERE oid = %s", [rel.oid])[0][0]
            T.check(area, rls, f"row-level security is enabled on {rel.name}")
    for table, policy, roles in q(conn, """SELECT polrelid::regclass::text, polname, polroles::regrole[]::text
                                             FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class
                                             WHERE relnamespace IN ('auth'::regnamespace, 'auth_api'::regnamespace))"""):
        T.check(area, (table, policy) in POLICIES_ALLOWED, f"unexpected policy {policy} on {table} for {roles}")


def check_functions(conn, fns, plans):
    area = "function privileges"
    for fn in fns:
        T.check(area, fn.owner_super, f"{fn.sig} is owned by a superuser (the extension owner)")
        for role in ROLES:
            has = q(conn, "SELECT has_function_privilege(%s, %s, 'EXECUTE')", [role, fn.oid])[0][0]
            want = fn.sig in EXECUTE_ALLOWED[role]
            T.check(area, has == want,
                    f"has_function_privilege({role}, {fn.sig}, EXECUTE) = {has}, allow-list says {want}")
    # Every allow-listed function exists (a rename would otherwise pass silently).
    sigs = {fn.sig for fn in fns}
    for sig in sorted(set().union(*EXECUTE_ALLOWED.values())):
        T.check(area, sig in sigs, f"allow-listed function {sig} exists")
    # Called for real by every role; refused exactly when it should be.
    for fn in fns:
        reason = uncallable_reason(fn)
        if reason:
            print(f"  skipping calls of {fn.sig}: {reason}")
            continue
        T.check(area, fn.sig in plans, f"{fn.sig} has a call plan in privileges.py "
                                      "(new function: add it to call_plans)")
        label, args_sql, params = plans.for_fn(fn)[0]
        for role in ROLES:
            usage = q(conn, "SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, fn.nsp])[0][0]
            callable_ = usage and fn.sig in EXECUTE_ALLOWED[role]
            with Rollback(conn, role):
                out = attempt(conn, fn.call_sql(args_sql), params)
            if callable_:
                ok = out.ok or (out.sqlstate != "42501" and not out.sqlstate.startswith("XX"))
            else:
                ok = out.sqlstate == "42501"
            T.check(area, ok, f"{role}: {fn.sig} [{label}] {'allowed' if callable_ else 'refused'} "
                              f"expected, got {out.describe()}")


def check_security_definer(conn, fns):
    area = "security definer"
    creatable = {r[0] for r in q(conn, """
        SELECT n.nspname FROM pg_namespace n
         WHERE NOT (SELECT rolsuper FROM pg_roles WHERE oid = n.nspowner)
            OR EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                        WHERE a.privilege_type = 'CREATE'
                          AND (a.grantee = 0 OR a.grantee IN (SELECT oid FROM pg_roles WHERE rolname = ANY(%s))))""",
                                 [ROLES])}
    for fn in fns:
        if fn.nsp == "auth_api":
            T.check(area, not fn.secdef,
                    f"{fn.sig} is SECURITY INVOKER (auth_api holds thin wrappers; rights are those of auth.*)")
        if not fn.secdef:
            continue
        sp = [c.split("=", 1)[1] for c in fn.config if c.startswith("search_path=")]
        if not T.check(area, len(sp) == 1, f"SECURITY DEFINER {fn.sig} sets search_path (proconfig {fn.config})"):
            continue
        path = [p.strip().strip('"') for p in sp[0].split(",") if p.strip()]
        T.check(area, path and path[-1] == "pg_temp",
                f"SECURITY DEFINER {fn.sig}: search_path {sp[0]!r} names pg_temp, last")
        unsafe = [p for p in path if p not in ("pg_catalog", "pg_temp") and (p in creatable or p.startswith("$"))]
        T.check(area, not unsafe,
                f"SECURITY DEFINER {fn.sig}: search_path {sp[0]!r} has no schema the API roles can write ({unsafe})")
        T.check(area, fn.owner_super, f"SECURITY DEFINER {fn.sig} is owned by a superuser")


def user_fingerprint(conn, user):
    """Everything stored about one user, as superuser (in the current transaction)."""
    return q(conn, """
        SELECT md5(concat_ws('|',
            (SELECT to_jsonb(u)::text FROM auth.users u WHERE u.id = %(id)s::uuid),
            (SELECT string_agg(to_jsonb(i)::text, ',' ORDER BY i.id) FROM auth.identities i WHERE i.user_id = %(id)s::uuid),
            (SELECT string_agg(to_jsonb(s)::text, ',' ORDER BY s.id) FROM auth.sessions s WHERE s.user_id = %(id)s::uuid),
            (SELECT string_agg(to_jsonb(t)::text, ',' ORDER BY t.id) FROM auth.refresh_tokens t WHERE t.user_id = %(id)s::text),
            (SELECT string_agg(to_jsonb(c)::text, ',' ORDER BY c.id) FROM auth.mfa_amr_claims c
              WHERE c.session_id IN (SELECT id FROM auth.sessions WHERE user_id = %(id)s::uuid)),
            (SELECT string_agg(to_jsonb(f)::text, ',' ORDER BY f.id) FROM auth.mfa_factors f WHERE f.user_id = %(id)s::uuid),
            (SELECT string_agg(to_jsonb(c)::text, ',' ORDER BY c.id) FROM auth.mfa_challenges c
              WHERE c.factor_id IN (SELECT id FROM auth.mfa_factors WHERE user_id = %(id)s::uuid)),
            (SELECT string_agg(to_jsonb(o)::text, ',' ORDER BY o.id) FROM auth.outbox o WHERE o.user_id = %(id)s::uuid)))""",
             {"id": user.id})[0][0]


def leaks_of(user, texts, params):
    """Which of `user`'s markers occur in texts (markers we passed in ourselves excepted)."""
    passed = " ".join(str(p) for p in params)
    blob = "\n".join(texts)
    return [k for k, v in user.markers().items() if v and v not in passed and v in blob]


def check_isolation(conn, fns, ctx, a, b):
    area = "cross-user isolation"
    plans = call_plans(ctx, a, b)
    b_before = user_fingerprint(conn, b)
    modes = [("authenticated", "claims"), ("anon", "claims"), ("service_role", "claims"),
             ("authenticated", "authenticate")]
    user_facing = []
    for fn in fns:
        if uncallable_reason(fn):
            continue
        runners = [m for m in modes if q(conn, """SELECT has_function_privilege(%s, %s, 'EXECUTE')
                                                   AND has_schema_privilege(%s, %s, 'USAGE')""",
                                           [m[0], fn.oid, m[0], fn.nsp])[0][0]]
        if runners:
            user_facing.append((fn, runners))
    for fn, runners in user_facing:
        for label, args_sql, params in plans.for_fn(fn):
            for role, how in runners:
                what = f"{role} as A ({how}): {fn.sig} [{label}]"
                with Rollback(conn, role):
                    if how == "claims":
                        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [a.claims])
                    else:
                        pre = attempt(conn, "SELECT auth.authenticate(%s)", [a.access])
                        T.check(area, pre.ok, f"{what}: authenticate(A) {pre.describe()}")
                    out = attempt(conn, fn.call_sql(args_sql), params)
                    conn.execute("RESET ROLE")
                    b_now = user_fingerprint(conn, b)
                leaked = leaks_of(b, out.texts(), params)
                T.check(area, not leaked, f"{what}: nothing of B comes back (found {leaked}; {out.describe()})")
                T.check(area, b_now == b_before, f"{what}: B's rows unchanged ({out.describe()})")
                if fn.name == "get_user" and out.ok:
                    T.check(area, json.loads(out.value())["id"] == a.id, f"{what}: returns A")
                if fn.name in ("uid", "_uid_value", "email", "_email_value"):
                    T.check(area, out.ok and str(out.value()) in (a.id, a.email),
                            f"{what}: returns A's ({out.describe()})")
    # claims_trust = 'verified': A (whose session role is not trusted) cannot present B's claims.
    # The forger connects as an application role (superusers and the owner are trusted).
    q(conn, """SELECT auth.configure('{"claims_trust": "verified"}')""")
    for stmt in ("DROP ROLE IF EXISTS {app}", "CREATE ROLE {app} LOGIN", "GRANT authenticated TO {app}"):
        conn.execute(sql.SQL(stmt).format(app=sql.Identifier(APP)))
    try:
        with Rollback(conn, "authenticated", login=APP):
            a_claims, a_mac = q(conn, """SELECT current_setting('request.jwt.claims'), current_setting('auth_ext.claims_mac')
                                           FROM (SELECT auth.authenticate(%s)) t""", [a.access])[0]
        victims = [fn for fn, _ in user_facing if fn.name in ("get_user", "update_user", "sign_out", "uid",
                                                              "email", "jwt", "role", "_uid_value",
                                                              "_email_value", "_jwt_value", "_role_value")]
        forgeries = [
            ("B's claims set directly", [("SELECT set_config('request.jwt.claims', %s, true)", [b.claims])]),
            ("authenticate(A), then B's claims", [("SELECT auth.authenticate(%s)", [a.access]),
                                                  ("SELECT set_config('request.jwt.claims', %s, true)", [b.claims])]),
            ("B's claims with A's claims_mac", [("SELECT set_config('request.jwt.claims', %s, true)", [b.claims]),
                                               ("SELECT set_config('auth_ext.claims_mac', %s, true)", [a_mac])]),
            ("legacy request.jwt.claim.sub = B", [("SELECT set_config('request.jwt.claim.sub', %s, true)", [b.id]),
                                                  ("SELECT set_config('request.jwt.claim.email', %s, true)", [b.email])]),
            ("A's token with B's sub", [("SELECT auth.authenticate(%s)", [tamper_sub(a.access, b.id)])]),
            # the mark is bound to its transaction: A's own claims and mark, copied into another
            ("A's claims and mark from an earlier transaction",
             [("SELECT set_config('request.jwt.claims', %s, true)", [a_claims]),
              ("SELECT set_config('auth_ext.claims_mac', %s, true)", [a_mac])]),
        ]
        for fn in victims:
            for label, args_sql, params in plans.for_fn(fn):
                for forgery, steps in forgeries:
                    what = f"verified trust, {forgery}: {fn.sig} [{label}]"
                    with Rollback(conn, "authenticated", login=APP):
                        pre = [attempt(conn, s, p) for s, p in steps]
                        out = attempt(conn, fn.call_sql(args_sql), params)
                        conn.execute("RESET ROLE")
                        conn.execute("RESET SESSION AUTHORIZATION")
                        b_now = user_fingerprint(conn, b)
                    leaked = leaks_of(b, out.texts(), params + [p for _, ps in steps for p in ps])
                    got_b = out.ok and out.value() is not None and b.id in str(out.value())
                    T.check(area, not leaked and not got_b,
                            f"{what}: B is not impersonated ({out.describe()}; leaked {leaked})")
                    T.check(area, b_now == b_before, f"{what}: B's rows unchanged ({out.describe()})")
                    if fn.name in ("get_user", "update_user", "sign_out", "uid") and forgery != "A's token with B's sub":
                        T.check(area, not out.ok and out.sqlstate == "PT401",
                                f"{what}: refused with PT401 ({out.describe()}; steps {[p.describe() for p in pre]})")
    finally:
        q(conn, """SELECT auth.configure('{"claims_trust": "verified"}')""")
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(APP)))


def check_secrets(conn, fns, ctx, a, b):
    area = "secret exposure"
    index = SecretIndex()
    index.load(conn)
    kinds = sorted(set(index.kinds.values()))
    T.check(area, {"private key", "chain key", "password hash", "refresh token hash", "phone code hash"} <= set(kinds)
            and any(k.startswith("hs256 secret") for k in kinds),
            f"secrets of every kind were read to search for ({kinds})")
    plans = call_plans(ctx, a, b)
    for fn in fns:
        if uncallable_reason(fn):
            continue
        for label, args_sql, params in plans.for_fn(fn):
            for role in [OWNER] + ROLES:
                with Rollback(conn, role):
                    conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [a.claims])
                    out = attempt(conn, fn.call_sql(args_sql), params)
                    settings = q(conn, """SELECT coalesce(string_agg(name || '=' || coalesce(setting, ''), E'\n'), '')
                                            FROM pg_settings""")[0][0]
                    conn.execute("RESET ROLE")
                    index.load(conn)  # secrets this very call created, in its transaction
                found = set()
                for text in out.texts() + [settings]:
                    found |= index.find(text)
                if role == OWNER and fn.sig == "auth.postgrest_jwt_secret()":
                    # Owner-only by design: PostgREST's jwt-secret holds the live HS256 secrets.
                    found = {f for f in found if not (index.kinds[f].startswith("hs256 secret")
                                                      and "revoked" not in index.kinds[f])}
                if role == OWNER and fn.sig == "auth.outbox_claim(integer,integer,text[])":
                    # The consumer's job: a claimed message carries its link's token_hash.
                    found = {f for f in found if index.kinds[f] != "one-time token hash"}
                T.check(area, not found,
                        f"{role}: {fn.sig} [{label}] returns no secret (found {sorted(found)}; {out.describe()})")


# ---------------------------------------------------------------------------------------------

def main():
    started = time.time()
    conn = setup()
    ctx = Ctx()
    a, b = create_users(conn, ctx)
    nsps = schemas(conn)
    rels = relations(conn)
    fns = functions(conn)
    print(f"catalog: {len(nsps)} schemas ({', '.join(nsps)}), {len(rels)} relations, {len(fns)} functions")
    plans = call_plans(ctx, a, b)
    check_role_attributes(conn)
    check_schemas(conn, nsps)
    check_tables(conn, rels)
    check_functions(conn, fns, plans)
    check_security_definer(conn, fns)
    check_isolation(conn, fns, ctx, a, b)
    check_secrets(conn, fns, ctx, a, b)
    conn.close()
    failed = T.failed()
    admin = connect("postgres")
    if not failed:  # kept for a look when something failed
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {PLAIN}")
    admin.close()

    return T.finish(SUMMARY, "privileges", started)


if __name__ == "__main__":
    sys.exit(main())
