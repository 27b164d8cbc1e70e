"""The Python supabase_auth client (PyPI), unchanged, against auth-ext-shim (SHIM_URL).

The core path: sign up, sign in, get the user, update metadata and password, refresh, get_claims,
sign out, the errors the client maps to its exception types, tokens the server cannot verify,
and the client address recorded for a spoofed X-Forwarded-For. The last two read the shim's
database (SHIM_DATABASE_URL, or AUTH_EXT_TEST_URL with dbname=shim_acceptance as ./test sets it).
"""
import base64
import json
import os
import random
import sys
import time
from collections import Counter

import httpx
import psycopg
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

URL = os.environ.get("SHIM_URL", "http://127.0.0.1:9999")
DSN = os.environ.get("SHIM_DATABASE_URL") or (
    os.environ["AUTH_EXT_TEST_URL"] + " dbname=shim_acceptance" if os.environ.get("AUTH_EXT_TEST_URL") else None
)
BAD_JWT = "invalid JWT: unable to parse or verify signature, "
results = Counter()  # "passed", "failed"


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")


def client(**headers):
    return SyncGoTrueClient(
        url=URL, headers={"apikey": "anon-key", **headers}, auto_refresh_token=False, persist_session=False
    )


def unique(name):
    return f"{name}-{int(time.time() * 1000)}-{random.randint(0, 10**6)}@example.com"


def raises(fn, kind):
    try:
        fn()
    except kind as e:
        return e
    except Exception as e:  # noqa: BLE001 - reported as a failure below
        return e
    return None


auth = client()
email = unique("py")
up = auth.sign_up({"email": email, "password": "py-password-1", "options": {"data": {"lang": "py"}}})
check("sign_up returns a session", up.session is not None and up.session.access_token)
check("sign_up user", up.user.email == email and up.user.user_metadata == {"lang": "py"})

signed = auth.sign_in_with_password({"email": email, "password": "py-password-1"})
check("sign_in", signed.session is not None and signed.user.id == up.user.id)

me = auth.get_user()
check("get_user", me is not None and me.user.email == email)

upd = auth.update_user({"data": {"theme": "light"}})
check("update_user data", upd.user.user_metadata == {"lang": "py", "theme": "light"})
auth.update_user({"password": "py-password-2"})
check("new password signs in", client().sign_in_with_password({"email": email, "password": "py-password-2"}).session is not None)

first = auth.get_session()
refreshed = auth.refresh_session()
check("refresh rotates", refreshed.session.refresh_token != first.refresh_token)

claims = auth.get_claims()
check("get_claims verifies through the JWKS", claims is not None and claims["claims"]["sub"] == up.user.id, claims)
check("get_claims header", claims is not None and claims["headers"]["alg"] == "ES256" and "kid" in claims["headers"])

wrong = raises(lambda: client().sign_in_with_password({"email": email, "password": "not-it"}), AuthApiError)
check("wrong password", isinstance(wrong, AuthApiError) and wrong.code == "invalid_credentials" and wrong.status == 400, repr(wrong))

weak = raises(lambda: client().sign_up({"email": unique("weak"), "password": "short"}), AuthWeakPasswordError)
check("weak password", isinstance(weak, AuthWeakPasswordError) and weak.reasons == ["length"], repr(weak))

other = client()
other.sign_in_with_password({"email": email, "password": "py-password-2"})
auth.sign_out({"scope": "others"})
gone = raises(lambda: other.get_user(), AuthApiError)
check("sign_out others ends the other session", gone is not None, repr(gone))
check("this session survives", auth.get_user().user.email == email)
auth.sign_out({"scope": "local"})
check("sign_out local drops the session", auth.get_session() is None)


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def unb64(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# A token the server cannot verify: GoTrue's 403 bad_jwt and its wording, for every reason.
email = unique("badjwt")
token = client().sign_up({"email": email, "password": "badjwt-password"}).session.access_token
header, payload, signature = token.split(".")
forged = unb64(payload)
forged["role"] = "service_role"
bad_tokens = {"tampered claims": f"{header}.{b64(forged)}.{signature}", "malformed": "not.a.token"}
if DSN:
    with psycopg.connect(DSN, autocommit=True) as db:
        bad_tokens["expired"] = db.execute(
            "SELECT auth.sign_jwt(%s::jsonb - 'iat' || jsonb_build_object("
            "'iat', extract(epoch FROM now())::bigint - 7200, 'exp', extract(epoch FROM now())::bigint - 3600))",
            (json.dumps(unb64(payload)),),
        ).fetchone()[0]
for what, jwt in bad_tokens.items():
    e = raises(lambda: client().get_user(jwt), AuthApiError)
    check(
        f"get_user with a {what} token is 403 bad_jwt",
        isinstance(e, AuthApiError) and e.status == 403 and e.code == "bad_jwt" and e.message.startswith(BAD_JWT),
        repr(e),
    )
if "expired" in bad_tokens:
    e = raises(lambda: client().get_user(bad_tokens["expired"]), AuthApiError)
    check("the expired token's reason", isinstance(e, AuthApiError) and "expired" in e.message, repr(e))
check("the genuine token still works", client().get_user(token).user.email == email)
missing = httpx.get(f"{URL}/user", headers={"apikey": "anon-key"})
check(
    "no token is 401 no_authorization",
    missing.status_code == 401 and missing.json()["code"] == "no_authorization",
    missing.text,
)

# A client that writes its own X-Forwarded-For: the audit row has the address the shim saw.
email = unique("spoof")
spoofer = client(**{"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"})
spoofer.sign_up({"email": email, "password": "spoof-password"})
check("sign in with a spoofed X-Forwarded-For", spoofer.sign_in_with_password({"email": email, "password": "spoof-password"}).session is not None)
if DSN:
    with psycopg.connect(DSN, autocommit=True) as db:
        row = db.execute(
            "SELECT ip_address FROM auth.audit_log_entries"
            " WHERE payload->>'action' = 'login' AND payload->>'actor_username' = %s"
            " ORDER BY created_at DESC LIMIT 1",
            (email,),
        ).fetchone()
    check("the login's audit IP is the socket peer, not the spoofed 6.6.6.6", row is not None and row[0] == "127.0.0.1", repr(row))
else:
    print("SKIP database checks (expired token, audit IP): set SHIM_DATABASE_URL")

print(f"python supabase_auth: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
