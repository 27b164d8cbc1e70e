"""Multi-factor authentication with the Python supabase_auth client (PyPI), unchanged
(auth.mfa: enroll, challenge, verify, challenge_and_verify, unenroll, list_factors,
get_authenticator_assurance_level), through auth-ext-shim (FLOWS_SHIM_URL). TOTP codes come from
pyotp (an independent RFC 6238 implementation) and the secret the server gave; phone codes from
the SMS the shim delivered to the signed webhook receiver (inbox.py, SMS_DIR).

The twin of js/mfa.test.mjs's main flows. TOTP: enroll, challenge, verify (aal2, totp in amr), a
code refused the second time, a wrong code refused, step-up (a fresh sign-in is aal1 and may not
change the password nor unenroll until challenge_and_verify), unenroll, and the next refresh back at
aal1. Phone (./test turns phone factors on in shim_flows, mfa_phone_max_frequency 1 s): enroll
{factor_type: phone, phone}, challenge (channel sms) and the code by SMS, a wrong code refused,
verify (aal2, mfa/phone in amr), the code refused on its spent challenge, the frequency limit
(429 over_sms_send_rate_limit), step-up, unenroll; another user's factor refused. supabase_auth's
challenge_and_verify challenges without a channel and needs the code beforehand: TOTP only.
Users are made confirmed by the admin API (SERVICE_ROLE_KEY, minted by ./test): the database
confirms by mail. Each case runs on its own: one that fails or raises is counted and the others
still run.
"""
import base64
import json
import os
import random
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

from inbox import digits, sms_to, wait_for_sms

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


# -- phone factors --------------------------------------------------------------------------------


def new_phone():
    """Digits only (the client sends it with its +): 1 558 and 7 more, apart from the other
    suites' numbers (flows 1 555 and 1 556, js/mfa.test.mjs 1 557)."""
    return "1558" + f"{random.randrange(10**7):07d}"


def other_code(code):
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def challenge_sms(auth, factor_id, phone, then=None, **params):
    """A challenge of a phone factor and the SMS it sent; a challenge refused by the factor's
    frequency limit (mfa_phone_max_frequency) is asked again once the wait the server named is over.
    `then()` runs as soon as the challenge is answered, before the SMS is waited for."""
    for tries in range(6):
        before = len(sms_to(phone))
        e = None
        try:
            ch = auth.mfa.challenge({"factor_id": factor_id, **params})
        except AuthApiError as err:
            e = err
        if e is not None and e.code == "over_sms_send_rate_limit" and tries < 5:
            m = re.search(r"after (\d+) seconds?", str(e))
            time.sleep((int(m.group(1)) if m else 1) + 0.05)
            continue
        if e is not None:
            raise e
        if then is not None:
            then()
        return ch, wait_for_sms(phone, before)
    raise AssertionError("unreachable")


def case_phone_flow():
    email, auth = new_user("mfa-phone")
    uid = auth.get_user().user.id
    phone = new_phone()

    # enroll: {id, type phone, friendly_name, phone as given}
    enrolled = auth.mfa.enroll({"factor_type": "phone", "phone": f"+{phone}", "friendly_name": "Py mobile"})
    check("enroll phone: id, type phone, the friendly name and the number as given",
          is_uuid(enrolled.id) and enrolled.type == "phone" and enrolled.friendly_name == "Py mobile"
          and enrolled.phone == f"+{phone}" and enrolled.totp is None, enrolled)
    fid = enrolled.id
    listed = auth.mfa.list_factors()
    check("list_factors: the phone factor unverified in all, none in phone",
          [(x.id, x.status, x.factor_type) for x in listed.all] == [(fid, "unverified", "phone")] and listed.phone == [], listed)
    e = raises(lambda: auth.mfa.enroll({"factor_type": "phone", "phone": "call me"}))
    check("enroll with a number that is not one: 400 validation_failed", api_error(e, "validation_failed", 400), describe(e))

    # challenge: the code by SMS
    ch, sms = challenge_sms(auth, fid, phone, channel="sms")
    check("challenge: an id, type phone, expires_at about now + 300",
          is_uuid(ch.id) and ch.factor_type == "phone" and abs(ch.expires_at - (time.time() + 300)) <= 30, ch)
    code = sms["otp"]
    check("the SMS: sms_type mfa, to the factor's number, six digits, for the user",
          sms["sms_type"] == "mfa" and digits(sms["payload"]["sms"]["phone"]) == phone
          and re.fullmatch(r"\d{6}", code or "") is not None and (sms["payload"].get("user") or {}).get("id") == uid,
          {k: sms[k] for k in ("sms_type", "otp")})

    # a wrong code, then the right one on the same challenge
    e = raises(lambda: auth.mfa.verify({"factor_id": fid, "challenge_id": ch.id, "code": other_code(code)}))
    check("a wrong code: 422 mfa_verification_failed", api_error(e, "mfa_verification_failed", 422), describe(e))
    check("a wrong code leaves the session aal1", claims(token(auth)).get("aal") == "aal1", claims(token(auth)))
    before = claims(token(auth))
    v = auth.mfa.verify({"factor_id": fid, "challenge_id": ch.id, "code": code})
    c = claims(v.access_token)
    check("verify: an aal2 token for the same session, mfa/phone beside password in amr",
          c.get("aal") == "aal2" and c.get("sub") == uid and c.get("session_id") == before.get("session_id")
          and "mfa/phone" in methods(v.access_token) and "password" in methods(v.access_token)
          and "totp" not in methods(v.access_token), c)
    check("the client keeps the aal2 session", token(auth) == v.access_token and levels(auth) == ("aal2", "aal2"), levels(auth))
    listed = auth.mfa.list_factors()
    check("the factor is verified (list_factors().phone)",
          [x.id for x in listed.phone] == [fid] and listed.totp == [] and listed.all[0].status == "verified", listed)
    refreshed = auth.refresh_session()
    check("a refresh keeps aal2 and mfa/phone", claims(refreshed.session.access_token).get("aal") == "aal2"
          and "mfa/phone" in methods(refreshed.session.access_token), claims(refreshed.session.access_token))

    # the code again on its spent challenge
    e = raises(lambda: auth.mfa.verify({"factor_id": fid, "challenge_id": ch.id, "code": code}))
    check("the code again on its verified challenge: mfa_ip_address_mismatch (GoTrue's answer)",
          api_error(e, "mfa_ip_address_mismatch", 422), describe(e))

    # the frequency limit: a challenge right after another is refused, sends nothing
    at_once = []
    ch2, _ = challenge_sms(auth, fid, phone, then=lambda: at_once.append(raises(lambda: auth.mfa.challenge({"factor_id": fid}))))
    count = len(sms_to(phone))
    e = at_once[0]
    check("a challenge right after another: 429 over_sms_send_rate_limit", api_error(e, "over_sms_send_rate_limit", 429), describe(e))
    e = raises(lambda: auth.mfa.challenge({"factor_id": fid, "channel": "whatsapp"}))
    check("channel whatsapp (not offered here): 400 validation_failed", api_error(e, "validation_failed", 400), describe(e))
    if code != sms_to(phone)[-1]["otp"]:  # one time in a million the new code is the old one
        e = raises(lambda: auth.mfa.verify({"factor_id": fid, "challenge_id": ch2.id, "code": code}))
        check("the last challenge's code on a new challenge: mfa_verification_failed", api_error(e, "mfa_verification_failed", 422), describe(e))

    # step-up from a fresh sign-in
    step = sign_in(email)
    check("a fresh sign-in: aal1, next aal2", levels(step) == ("aal1", "aal2") and methods(token(step)) == ["password"], levels(step))
    e = raises(lambda: step.mfa.unenroll({"factor_id": fid}))
    check("unenroll a verified phone factor from aal1: insufficient_aal", api_error(e, "insufficient_aal"), describe(e))
    ch3, sms3 = challenge_sms(step, fid, phone)
    check("no SMS went out for the refused challenges", len(sms_to(phone)) == count + 1, (count, len(sms_to(phone))))
    v = step.mfa.verify({"factor_id": fid, "challenge_id": ch3.id, "code": sms3["otp"]})
    check("step-up by phone: aal2", claims(v.access_token).get("aal") == "aal2" and levels(step) == ("aal2", "aal2"), claims(v.access_token))
    e = raises(lambda: step.mfa.enroll({"factor_type": "phone", "phone": f"+{phone}"}))
    check("the verified number again: mfa_verified_factor_exists", api_error(e, "mfa_verified_factor_exists", 422), describe(e))

    # unenroll from aal2; the next refresh is aal1
    gone = step.mfa.unenroll({"factor_id": fid})
    check("unenroll from aal2: {id}", gone.id == fid, gone)
    check("no factors left", step.mfa.list_factors().all == [], step.mfa.list_factors())
    t = step.refresh_session().session.access_token
    check("the next refresh: aal1, no mfa/phone in amr", claims(t).get("aal") == "aal1" and "mfa/phone" not in methods(t), claims(t))


def case_phone_other_users():
    _, alice = new_user("mfa-phone-a")
    _, bob = new_user("mfa-phone-b")
    phone = new_phone()
    fa = alice.mfa.enroll({"factor_type": "phone", "phone": f"+{phone}"}).id
    before = len(sms_to(phone))
    e = raises(lambda: bob.mfa.challenge({"factor_id": fa}))
    check("challenge another user's phone factor: 404 mfa_factor_not_found", api_error(e, "mfa_factor_not_found", 404), describe(e))
    ch, sms = challenge_sms(alice, fa, phone)
    check("the only SMS to the number is its owner's challenge's", len(sms_to(phone)) == before + 1, len(sms_to(phone)) - before)
    e = raises(lambda: bob.mfa.verify({"factor_id": fa, "challenge_id": ch.id, "code": sms["otp"]}))
    check("verify another user's factor with its challenge and code: 404 mfa_factor_not_found",
          api_error(e, "mfa_factor_not_found", 404), describe(e))
    v = alice.mfa.verify({"factor_id": fa, "challenge_id": ch.id, "code": sms["otp"]})
    check("the owner's code still works after the other user's attempts", "mfa/phone" in methods(v.access_token), claims(v.access_token))


if not SERVICE_KEY:
    print("FAIL SERVICE_ROLE_KEY is not set (./test mints it)")
    results["failed"] += 1
else:
    for case in (case_main_flow, case_limits_and_other_users, case_phone_flow, case_phone_other_users):
        try:
            case()
        except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
            results["failed"] += 1
            print(f"FAIL {case.__name__} raised:")
            traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth MFA: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
