"""The Python supabase_auth client (PyPI), unchanged, through the email and phone flows of
auth-ext-shim (FLOWS_SHIM_URL), with real delivery: the shim drains its outbox to an SMTP server
and an SMS webhook (shim/acceptance/peers/), and the cases read what they received (inbox.py).

Sign-up confirmed by the mailed code and by token_hash, sign-in by email and phone OTP, password
recovery, the secure email change (the client's handling of the first confirmation's 200 message),
and PKCE with exchange_code_for_session. Each case runs on its own: one that fails or raises is
counted and the others still run.
"""
import hashlib
import os
import random
import re
import sys
import time
import traceback
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import httpx
from supabase_auth import SyncGoTrueClient, SyncMemoryStorage
from supabase_auth.errors import AuthApiError

from inbox import digits, mail_after, mails_to, sms_after, wait_for_mail

URL = os.environ.get("FLOWS_SHIM_URL", "http://127.0.0.1:54404")
APP = "http://127.0.0.1:3001"  # in uri_allow_list through http://127.0.0.1:*/**
results = Counter()  # "passed", "failed"


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")


def client(**kwargs):
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key"}, auto_refresh_token=False, persist_session=False, **kwargs)


def unique(name):
    return f"{name}-py-{int(time.time() * 1000)}-{random.randint(0, 10**6)}@example.com"


def unique_phone():
    return "1556" + "".join(random.choice("0123456789") for _ in range(7))


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the kind
        return e
    return None


def api_error(e, code):
    return isinstance(e, AuthApiError) and e.code == code


def signed_in(session, **expected):
    """The session works: the server knows the user behind its access token."""
    if session is None or not session.access_token:
        return False
    user = client().get_user(session.access_token).user
    return all(getattr(user, k) == v for k, v in expected.items())


def confirmed_user(tag, password=None):
    email = unique(tag)
    password = password or f"{tag}-password-1"
    auth = client()
    _, mail = mail_after(email, lambda: auth.sign_up({"email": email, "password": password}))
    auth.verify_otp({"email": email, "token": mail["code"], "type": "email"})
    return email, password, auth


def case_sign_up_and_verify_by_code():
    auth = client()
    email = unique("confirm")
    password = "confirm-password-1"
    up, mail = mail_after(email, lambda: auth.sign_up(
        {"email": email, "password": password, "options": {"email_redirect_to": f"{APP}/confirmed", "data": {"plan": "py"}}}))
    check("sign_up without autoconfirm returns no session", up.session is None, up)
    check("sign_up returns the user", up.user is not None and up.user.email == email and not up.user.email_confirmed_at, up.user)
    check("the mail has a code and the link", mail["code"] and mail["link"] and mail["link"].startswith(f"{URL}/verify?"), mail.get("text"))
    check("the link's redirect_to", mail["params"].get("redirect_to") == f"{APP}/confirmed", mail["params"])
    early = raises(lambda: client().sign_in_with_password({"email": email, "password": password}))
    check("sign-in before confirming is email_not_confirmed", api_error(early, "email_not_confirmed"), repr(early))
    v = auth.verify_otp({"email": email, "token": mail["code"], "type": "email"})
    check("verify_otp by code gives a session", signed_in(v.session, id=up.user.id, email=email), v)
    check("the client keeps it", auth.get_user().user.email == email)
    check("then the password signs in", client().sign_in_with_password({"email": email, "password": password}).session is not None)
    again = raises(lambda: client().verify_otp({"email": email, "token": mail["code"], "type": "email"}))
    check("the code is spent", api_error(again, "otp_expired"), repr(again))

    # a second user, by token_hash
    email2 = unique("hash")
    _, mail2 = mail_after(email2, lambda: client().sign_up({"email": email2, "password": "hash-password-1"}))
    check("token_hash has GoTrue's shape but is keyed (not sha224 of address and code)",
          re.fullmatch(r"[0-9a-f]{56}", mail2["token_hash"]) is not None
          and mail2["token_hash"] != hashlib.sha224((email2 + mail2["code"]).encode()).hexdigest(),
          mail2["token_hash"])
    v2 = client().verify_otp({"token_hash": mail2["token_hash"], "type": "email"})
    check("verify_otp by token_hash gives a session", signed_in(v2.session, email=email2), v2)


def case_sign_in_with_otp():
    email, _, _ = confirmed_user("otp")
    res, mail = mail_after(email, lambda: client().sign_in_with_otp(
        {"email": email, "options": {"should_create_user": False, "email_redirect_to": f"{APP}/magic"}}))
    check("sign_in_with_otp (email) answers without a session", res.session is None, res)
    check("a magic link mail", mail["params"].get("type") == "magiclink", mail["params"])
    v = client().verify_otp({"email": email, "token": mail["code"], "type": "email"})
    check("verify_otp (email) signs in", signed_in(v.session, email=email), v)
    stranger = unique("stranger")
    refused = raises(lambda: client().sign_in_with_otp({"email": stranger, "options": {"should_create_user": False}}))
    check("an unknown address with should_create_user False is otp_disabled", api_error(refused, "otp_disabled"), repr(refused))

    phone = unique_phone()
    res, sms = sms_after(phone, lambda: client().sign_in_with_otp({"phone": f"+{phone}"}))
    check("sign_in_with_otp (phone) returns a message id", bool(res.message_id), res)
    check("the SMS hook input", sms["sms_type"] == "sms" and digits(sms["payload"]["sms"]["phone"]) == phone and len(sms["otp"]) == 6, sms["payload"])
    v = client().verify_otp({"phone": f"+{phone}", "token": sms["otp"], "type": "sms"})
    check("verify_otp (sms) signs in", signed_in(v.session, phone=phone) and v.user.phone_confirmed_at is not None, v)


def case_recovery():
    email, password, _ = confirmed_user("recover")
    res, mail = mail_after(email, lambda: client().reset_password_for_email(email, {"redirect_to": f"{APP}/reset"}))
    check("reset_password_for_email returns nothing", res is None, res)
    check("a recovery mail", mail["params"].get("type") == "recovery" and mail["params"].get("redirect_to") == f"{APP}/reset", mail["params"])
    auth = client()
    v = auth.verify_otp({"email": email, "token": mail["code"], "type": "recovery"})
    check("verify_otp (recovery) signs in", signed_in(v.session, email=email), v)
    auth.update_user({"password": "recovered-password-2"})
    s = client().sign_in_with_password({"email": email, "password": "recovered-password-2"})
    check("the new password signs in", signed_in(s.session, email=email))
    old = raises(lambda: client().sign_in_with_password({"email": email, "password": password}))
    check("the old one does not", api_error(old, "invalid_credentials"), repr(old))


def case_email_change():
    email, password, auth = confirmed_user("change")
    new_email = unique("changed")
    before = len(mails_to(email))
    upd = auth.update_user({"email": new_email})
    check("update_user(email) keeps the address until confirmed", upd.user.email == email and upd.user.new_email == new_email, upd.user)
    to_old = wait_for_mail(email, before)
    to_new = wait_for_mail(new_email)
    # the first confirmation answers {"msg": …, "code": "200"}: the client returns an empty response for it
    half = auth.verify_otp({"email": email, "token": to_old["code"], "type": "email_change"})
    check("the first confirmation: no session", half.session is None and half.user is None, half)
    done = client().verify_otp({"email": new_email, "token": to_new["code"], "type": "email_change"})
    check("the second confirmation signs in with the new address", signed_in(done.session, email=new_email), done)
    check("the earlier session sees the new address", auth.get_user().user.email == new_email)
    check("the new address signs in", client().sign_in_with_password({"email": new_email, "password": password}).session is not None)


def case_pkce():
    email, _, _ = confirmed_user("pkce")
    storage = SyncMemoryStorage()
    auth = client(flow_type="pkce", storage=storage, storage_key="flows-py-pkce")
    _, mail = mail_after(email, lambda: auth.sign_in_with_otp(
        {"email": email, "options": {"should_create_user": False, "email_redirect_to": f"{APP}/callback"}}))
    check("a PKCE link", mail["params"].get("token", "").startswith("pkce_"), mail["link"])
    verifier = storage.get_item("flows-py-pkce-code-verifier")
    check("the client kept a verifier", bool(verifier))
    res = httpx.get(mail["link"], follow_redirects=False)
    location = urlsplit(res.headers.get("location", ""))
    code = dict(parse_qsl(location.query)).get("code")
    check("the link redirects to redirect_to?code=", res.status_code == 303 and f"{location.scheme}://{location.netloc}{location.path}" == f"{APP}/callback" and code,
          (res.status_code, res.headers.get("location")))
    ex = auth.exchange_code_for_session({"auth_code": code})
    check("exchange_code_for_session signs in", signed_in(ex.session, email=email), ex)
    check("the client keeps the session", auth.get_user().user.email == email)
    again = raises(lambda: client().exchange_code_for_session({"auth_code": code, "code_verifier": verifier}))
    check("a second exchange is flow_state_not_found", api_error(again, "flow_state_not_found"), repr(again))


for case in (case_sign_up_and_verify_by_code, case_sign_in_with_otp, case_recovery, case_email_change, case_pkce):
    try:
        case()
    except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
        results["failed"] += 1
        print(f"FAIL {case.__name__} raised:")
        traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth flows: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
