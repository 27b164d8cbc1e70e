"""TOTP multi-factor authentication with the Python supabase_auth client (PyPI), unchanged
(auth.mfa: enroll, challenge, verify, challenge_and_verify, unenroll, list_factors,
get_authenticator_assurance_level), through auth-ext-shim (FLOWS_SHIM_URL). Codes come from
pyotp (an independent RFC 6238 implementation) and the secret the server gave.

The twin of js/mfa.test.mjs's main flow: enroll, challenge, verify (aal2, totp in amr), a code
refused the second time, a wrong code refused, step-up (a fresh sign-in is aal1 and may not change
the password nor unenroll until challenge_and_verify), unenroll, and the next refresh back at aal1.
Users are made confirmed by the admin API (SERVICE_ROLE_KEY, minted by ./test): the database
confirms by mail. Each case runs on its own: one that fails or raises is counted and the others
still run.
"""
import base64
import json
import os
import re
import sys
import time
import traceback
import uuid
from collections import Counter
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError

URL = os.environ.get("FLOWS_SHIM_URL", "http://127.0.0.1:54611")
SERVICE_KEY = os.environ.get("SERVICE_ROLE_KEY")
PASSWORD = "mfa-py-password-1"
PERIOD = 30
QR_PREFIX = "data:image/svg+xml;utf-8,"
results = Counter()  # "passed", "failed"


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")


def client(**headers):
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key", **headers}, auto_refresh_token=False, persist_session=False)


def admin_client():
    return client(apikey=SERVICE_KEY, Authorization=f"Bearer {SERVICE_KEY}").admin


def unique(name):
    return f"{name}-py-{int(time.time() * 1000)}-{os.urandom(3).hex()}@example.com"


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the kind
        return e
    return None


def api_error(e, code=None, status=None):
    return isinstance(e, AuthApiError) and (code is None or e.code == code) and (status is None or e.status == status)


def is_uuid(text):
    try:
        uuid.UUID(text)
        return True
    except (ValueError, TypeError, AttributeError):
        return False


def describe(e):
    return f"{type(e).__name__} {getattr(e, 'status', '')} {getattr(e, 'code', '')}: {e}" if e else "no error"


def claims(jwt):
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def methods(jwt):
    return [e.get("method") for e in claims(jwt).get("amr") or []]


def new_user(name):
    """A confirmed user (admin API) and a client signed in with its password (aal1)."""
    email = unique(name)
    admin_client().create_user({"email": email, "password": PASSWORD, "email_confirm": True})
    return email, sign_in(email)


def sign_in(email, password=PASSWORD):
    auth = client()
    auth.sign_in_with_password({"email": email, "password": password})
    return auth


def token(auth):
    return auth.get_session().access_token


def levels(auth):
    a = auth.mfa.get_authenticator_assurance_level()
    return a.current_level, a.next_level


class Factor:
    """A factor's id and secret, and the last 30 s step a code of it was used for."""

    def __init__(self, enrolled):
        self.id = enrolled.id
        self.secret = enrolled.totp.secret
        self.last_step = None

    def code(self, margin=3):
        """The code of a step this factor has not used, with `margin` seconds of it left: waits
        for the next step when needed (a code is good once per factor)."""
        while True:
            now = time.time()
            step = int(now // PERIOD)
            left = (step + 1) * PERIOD - now
            if (self.last_step is None or step > self.last_step) and left >= margin:
                self.last_step = step
                return pyotp.TOTP(self.secret).at(step * PERIOD)
            time.sleep(left + 0.1)

    def wrong_code(self):
        step = int(time.time() // PERIOD)
        near = {pyotp.TOTP(self.secret).at((step + d) * PERIOD) for d in range(-2, 3)}
        n = 0
        while True:
            code = f"{(123456 + n * 7919) % 1000000:06d}"
            if code not in near:
                return code
            n += 1


def case_main_flow():
    email, auth = new_user("mfa")
    uid = auth.get_user().user.id
    check("a password sign-in is aal1", claims(token(auth)).get("aal") == "aal1", claims(token(auth)))

    # enroll
    issuer = "auth_ext MFA py"
    enrolled = auth.mfa.enroll({"factor_type": "totp", "friendly_name": "Py phone", "issuer": issuer})
    f = Factor(enrolled)
    qr = enrolled.totp.qr_code
    check("enroll: type totp and the friendly name", enrolled.type == "totp" and enrolled.friendly_name == "Py phone", enrolled)
    check("enroll: an SVG QR code (the client prefixes the data: URL once)",
          qr.startswith(QR_PREFIX) and qr[len(QR_PREFIX):].lstrip().startswith(("<svg", "<?xml")) and "<svg" in qr, qr[:120])
    uri = urlparse(enrolled.totp.uri)
    params = parse_qs(uri.query)
    check("enroll: an otpauth://totp/ URI with the secret, the issuer and the account",
          enrolled.totp.uri.startswith("otpauth://totp/") and params.get("secret") == [f.secret]
          and params.get("issuer") == [issuer] and email in unquote(uri.path), enrolled.totp.uri)
    check("enroll: the secret is base32, at least 128 bits", re.fullmatch(r"[A-Z2-7]{26,}=*", f.secret) is not None, f.secret)
    listed = auth.mfa.list_factors()
    check("list_factors: the factor unverified in all, none in totp",
          [(x.id, x.status, x.factor_type) for x in listed.all] == [(f.id, "unverified", "totp")] and listed.totp == [], listed)

    # challenge
    ch = auth.mfa.challenge({"factor_id": f.id})
    check("challenge: an id, type totp, expires_at about now + 300",
          is_uuid(ch.id) and ch.factor_type == "totp" and abs(ch.expires_at - (time.time() + 300)) <= 30, ch)

    # a wrong code
    e = raises(lambda: auth.mfa.verify({"factor_id": f.id, "challenge_id": ch.id, "code": f.wrong_code()}))
    check("a wrong code: 422 mfa_verification_failed", api_error(e, "mfa_verification_failed", 422), describe(e))

    # verify with pyotp's code
    ch = auth.mfa.challenge({"factor_id": f.id})
    code = f.code()
    before = claims(token(auth))
    v = auth.mfa.verify({"factor_id": f.id, "challenge_id": ch.id, "code": code})
    c = claims(v.access_token)
    check("verify: an aal2 token for the same session, totp beside password in amr",
          c.get("aal") == "aal2" and c.get("sub") == uid and c.get("session_id") == before.get("session_id")
          and "totp" in methods(v.access_token) and "password" in methods(v.access_token), c)
    check("the client keeps the aal2 session", token(auth) == v.access_token and levels(auth) == ("aal2", "aal2"), levels(auth))
    listed = auth.mfa.list_factors()
    check("the factor is verified (list_factors().totp)", [x.id for x in listed.totp] == [f.id] and listed.all[0].status == "verified", listed)

    # the same code again, a new challenge
    ch2 = auth.mfa.challenge({"factor_id": f.id})
    e = raises(lambda: auth.mfa.verify({"factor_id": f.id, "challenge_id": ch2.id, "code": code}))
    check("the same code again: mfa_verification_failed", api_error(e, "mfa_verification_failed"), describe(e))
    e = raises(lambda: auth.mfa.verify({"factor_id": f.id, "challenge_id": ch.id, "code": code}))
    check("the verified challenge again: mfa_ip_address_mismatch (GoTrue's answer)", api_error(e, "mfa_ip_address_mismatch"), describe(e))

    # step-up: a fresh sign-in is aal1, next aal2
    step = sign_in(email)
    check("a fresh sign-in: aal1, next aal2", levels(step) == ("aal1", "aal2") and methods(token(step)) == ["password"], levels(step))
    e = raises(lambda: step.update_user({"password": "mfa-py-password-2"}))
    check("update_user(password) from aal1: insufficient_aal", api_error(e, "insufficient_aal"), describe(e))
    e = raises(lambda: step.mfa.unenroll({"factor_id": f.id}))
    check("unenroll a verified factor from aal1: insufficient_aal", api_error(e, "insufficient_aal"), describe(e))
    cv = step.mfa.challenge_and_verify({"factor_id": f.id, "code": f.code()})  # may wait for the next 30 s step
    check("challenge_and_verify: aal2", claims(cv.access_token).get("aal") == "aal2" and levels(step) == ("aal2", "aal2"), claims(cv.access_token))
    upd = step.update_user({"password": "mfa-py-password-2"})
    check("update_user(password) from aal2", upd.user is not None and upd.user.id == uid, upd)
    e = raises(lambda: sign_in(email, "mfa-py-password-2"))
    check("the new password signs in", e is None, describe(e))

    # unenroll from aal2; the next refresh is aal1
    gone = step.mfa.unenroll({"factor_id": f.id})
    check("unenroll from aal2: {id}", gone.id == f.id, gone)
    listed = step.mfa.list_factors()
    check("no factors left", listed.all == [] and listed.totp == [], listed)
    refreshed = step.refresh_session()
    t = refreshed.session.access_token
    check("the next refresh: aal1, no totp in amr", claims(t).get("aal") == "aal1" and "totp" not in methods(t), claims(t))
    check("and get_authenticator_assurance_level says aal1, next aal1", levels(step) == ("aal1", "aal1"), levels(step))


def case_limits_and_other_users():
    email, auth = new_user("mfa-limits")
    _, bob = new_user("mfa-bob")
    first = Factor(auth.mfa.enroll({"factor_type": "totp", "friendly_name": "one"}))
    e = raises(lambda: auth.mfa.enroll({"factor_type": "totp", "friendly_name": "one"}))
    check("a friendly name twice: mfa_factor_name_conflict", api_error(e, "mfa_factor_name_conflict"), describe(e))
    for i in range(2, 11):
        auth.mfa.enroll({"factor_type": "totp", "friendly_name": f"factor {i}"})
    e = raises(lambda: auth.mfa.enroll({"factor_type": "totp", "friendly_name": "factor 11"}))
    check("the 11th factor: too_many_enrolled_mfa_factors", api_error(e, "too_many_enrolled_mfa_factors"), describe(e))
    e = raises(lambda: bob.mfa.challenge({"factor_id": first.id}))
    check("another user's factor: 404 mfa_factor_not_found", api_error(e, "mfa_factor_not_found", 404), describe(e))
    e = raises(lambda: bob.mfa.unenroll({"factor_id": first.id}))
    check("unenroll another user's factor: 404 mfa_factor_not_found", api_error(e, "mfa_factor_not_found", 404), describe(e))
    check("the factors are all still there", len(auth.mfa.list_factors().all) == 10)


if not SERVICE_KEY:
    print("FAIL SERVICE_ROLE_KEY is not set (./test mints it)")
    results["failed"] += 1
else:
    for case in (case_main_flow, case_limits_and_other_users):
        try:
            case()
        except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
            results["failed"] += 1
            print(f"FAIL {case.__name__} raised:")
            traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth MFA: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
