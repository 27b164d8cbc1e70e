"""The Python supabase_auth client (PyPI), unchanged, against auth-ext-shim (SHIM_URL).

The core path: sign up, sign in, get the user, update metadata and password, refresh, get_claims,
sign out, and the errors the client maps to its exception types.
"""
import os
import random
import sys
import time

from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

URL = os.environ.get("SHIM_URL", "http://127.0.0.1:9999")
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def client():
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key"}, auto_refresh_token=False, persist_session=False)


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

print(f"python supabase_auth: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
