"""The Python supabase_auth client (PyPI), unchanged, through the admin API of auth-ext-shim
(FLOWS_SHIM_URL) with a service-role key the database signed (SERVICE_ROLE_KEY, minted by ./test),
and anonymous sign-in with its conversion to a permanent user. Invitations and the conversion's
code arrive at the local SMTP server (inbox.py). The database confirms by mail
(mailer_autoconfirm false) and has external_anonymous_users_enabled on.

The twin of js/admin.test.mjs. The admin API is what supabase-py hands out as auth.admin: a
SyncGoTrueClient built with the service key as apikey and bearer, and its .admin
(SyncGoTrueAdminAPI). Where the Python client differs from auth-js the case follows the Python
client and says so. Each case runs on its own: one that fails or raises is counted and the others
still run.
"""
import os
import re
import sys
import time
import traceback
from collections import Counter
from datetime import datetime, timezone

from pydantic import ValidationError
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError

from inbox import mail_after, mails_to

URL = os.environ.get("FLOWS_SHIM_URL", "http://127.0.0.1:54404")
SERVICE_KEY = os.environ.get("SERVICE_ROLE_KEY")
# The crypt_blowfish test vector: the bcrypt hash of "U*U" (as a hash imported from another system).
BCRYPT_U_STAR_U = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
results = Counter()  # "passed", "failed"


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")


def skip(name, reason):
    print(f"SKIP {name}: {reason}")


def client(**headers):
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key", **headers}, auto_refresh_token=False, persist_session=False)


def admin_client():
    # as supabase-py's create_client(url, service_key).auth.admin: the key is apikey and bearer
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


def timestamp(text):
    """banned_until and deleted_at are plain strings in the Python client's User model."""
    if not text:
        return None
    # fromisoformat takes at most 6 fractional digits
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)


def no_mail_within(address, seconds=1.0):
    before = len(mails_to(address))
    time.sleep(seconds)
    return len(mails_to(address)) == before


def case_create_get_list_update_delete():
    admin = admin_client()
    email = unique("admin-create")
    created = admin.create_user({
        "email": email, "password": "admin-made-pw-1", "email_confirm": True,
        "user_metadata": {"full_name": "Ada Admin"}, "app_metadata": {"plan": "pro"},
    })
    user = created.user
    check("create_user returns the user", user.email == email and user.email_confirmed_at is not None, user)
    check("create_user keeps user_metadata", user.user_metadata == {"full_name": "Ada Admin"}, user.user_metadata)
    check("create_user keeps app_metadata, provider email",
          user.app_metadata.get("plan") == "pro" and user.app_metadata.get("provider") == "email", user.app_metadata)
    signed = client().sign_in_with_password({"email": email, "password": "admin-made-pw-1"})
    check("the user signs in with the password the admin set", signed.session is not None and signed.user.id == user.id, signed)

    by_id = admin.get_user_by_id(user.id)
    check("get_user_by_id", by_id.user.id == user.id and by_id.user.email == email, by_id)

    # pages. supabase_auth's list_users returns a plain list of users: unlike auth-js it reads
    # neither x-total-count nor the Link header, so there is no total, nextPage or lastPage to check.
    for _ in range(2):
        admin.create_user({"email": unique("admin-page")})
    page1 = admin.list_users(page=1, per_page=2)
    page2 = admin.list_users(page=2, per_page=2)
    check("list_users page 1 of per_page 2 has 2 users", len(page1) == 2, [u.email for u in page1])
    check("list_users page 2 has others", len(page2) >= 1 and not {u.id for u in page1} & {u.id for u in page2},
          ([u.id for u in page1], [u.id for u in page2]))
    everyone = admin.list_users(page=1, per_page=1000)
    check("list_users finds the created user", any(u.id == user.id for u in everyone), len(everyone))
    beyond = admin.list_users(page=len(everyone) + 1, per_page=1)
    check("a page past the end is empty", beyond == [], beyond)
    skip("list_users total / next_page / last_page", "supabase_auth's list_users does not expose the pagination headers")

    # metadata merges, ban and unban, a confirmation by the admin
    meta = admin.update_user_by_id(user.id, {"user_metadata": {"team": "a"}, "app_metadata": {"plan": None}})
    check("update_user_by_id merges user_metadata", meta.user.user_metadata == {"full_name": "Ada Admin", "team": "a"}, meta.user.user_metadata)
    check("an app_metadata key set to null is removed", "plan" not in meta.user.app_metadata, meta.user.app_metadata)
    banned = admin.update_user_by_id(user.id, {"ban_duration": "24h"})
    until = timestamp(banned.user.banned_until)
    check("ban_duration 24h sets banned_until a day ahead",
          until is not None and 23 * 3600 < (until - datetime.now(timezone.utc)).total_seconds() <= 24 * 3600 + 60, banned.user.banned_until)
    refused = raises(lambda: client().sign_in_with_password({"email": email, "password": "admin-made-pw-1"}))
    check("a banned user's sign-in is user_banned", api_error(refused, "user_banned"), repr(refused))
    gone = raises(lambda: client().refresh_session(signed.session.refresh_token))
    check("banning ended the earlier session: its refresh token is refused", api_error(gone), repr(gone))
    unbanned = admin.update_user_by_id(user.id, {"ban_duration": "none"})
    check("ban_duration none clears banned_until", unbanned.user.banned_until is None, unbanned.user.banned_until)
    again = client().sign_in_with_password({"email": email, "password": "admin-made-pw-1"})
    check("after the unban the user signs in", again.session is not None and again.user.id == user.id, again)

    pending = unique("admin-unconfirmed")
    made = admin.create_user({"email": pending, "password": "pending-pw-1"})
    check("create_user without email_confirm leaves the address unconfirmed", made.user.email_confirmed_at is None, made.user)
    early = raises(lambda: client().sign_in_with_password({"email": pending, "password": "pending-pw-1"}))
    check("so the user cannot sign in yet", api_error(early, "email_not_confirmed"), repr(early))
    confirmed = admin.update_user_by_id(made.user.id, {"email_confirm": True})
    check("update_user_by_id email_confirm confirms", confirmed.user.email_confirmed_at is not None, confirmed.user)
    check("then the user signs in", client().sign_in_with_password({"email": pending, "password": "pending-pw-1"}).session is not None)

    # soft delete keeps an obfuscated row; hard delete removes it
    check("delete_user (soft) returns nothing", admin.delete_user(made.user.id, True) is None)
    kept = admin.get_user_by_id(made.user.id)
    check("a soft-deleted user is still readable, with deleted_at",
          kept.user.id == made.user.id and timestamp(kept.user.deleted_at) is not None, kept.user)
    check("its address is obfuscated", kept.user.email != pending, kept.user.email)
    no_login = raises(lambda: client().sign_in_with_password({"email": pending, "password": "pending-pw-1"}))
    check("a soft-deleted user cannot sign in", api_error(no_login, "invalid_credentials"), repr(no_login))
    check("delete_user (hard) returns nothing", admin.delete_user(user.id) is None)
    missing = raises(lambda: admin.get_user_by_id(user.id))
    check("a hard-deleted user is 404 user_not_found", api_error(missing, "user_not_found", 404), repr(missing))
    twice = raises(lambda: admin.delete_user(user.id))
    check("deleting it again is 404 user_not_found", api_error(twice, "user_not_found", 404), repr(twice))


def case_bcrypt_import():
    admin = admin_client()
    email = unique("admin-bcrypt")
    created = admin.create_user({"email": email, "password_hash": BCRYPT_U_STAR_U, "email_confirm": True})
    check("create_user with a bcrypt password_hash", created.user.email == email, created)
    ok = client().sign_in_with_password({"email": email, "password": "U*U"})
    check("the user signs in with the original password", ok.session is not None and ok.user.id == created.user.id, ok)
    wrong = raises(lambda: client().sign_in_with_password({"email": email, "password": "U*V"}))
    check("another password is invalid_credentials", api_error(wrong, "invalid_credentials"), repr(wrong))
    bad = raises(lambda: admin.create_user({"email": unique("admin-bad-hash"), "password_hash": "md5$nope"}))
    check("an unknown hash format is a 400", api_error(bad, status=400), repr(bad))


def case_generate_link():
    admin = admin_client()
    email = unique("admin-link")
    signup = admin.generate_link({"type": "signup", "email": email, "password": "linked-pw-1", "options": {"data": {"via": "link"}}})
    p = signup.properties
    check("signup action_link", re.search(r"/verify\?token=[0-9a-f]{56}&type=signup&redirect_to=", p.action_link) is not None, p.action_link)
    check("signup email_otp is 6 digits", re.fullmatch(r"\d{6}", p.email_otp) is not None, p.email_otp)
    check("signup hashed_token", re.fullmatch(r"[0-9a-f]{56}", p.hashed_token) is not None, p.hashed_token)
    check("signup verification_type", p.verification_type == "signup", p.verification_type)
    check("signup returns the user", signup.user.email == email and signup.user.email_confirmed_at is None, signup.user)
    check("generate_link sends no mail", no_mail_within(email))
    verified = client().verify_otp({"type": "signup", "token_hash": p.hashed_token})
    check("verify_otp signup by token_hash signs the user in",
          verified.session is not None and verified.user.id == signup.user.id, verified)
    check("with the link's data as user_metadata", verified.user.user_metadata == {"via": "link"}, verified.user.user_metadata)
    check("the link's password signs in", client().sign_in_with_password({"email": email, "password": "linked-pw-1"}).session is not None)

    for kind in ("magiclink", "recovery"):
        link = admin.generate_link({"type": kind, "email": email})
        check(f"{kind} verification_type", link.properties.verification_type == kind, link.properties)
        check(f"{kind} action_link", f"type={kind}" in link.properties.action_link, link.properties.action_link)
        session = client().verify_otp({"type": "email", "email": email, "token": link.properties.email_otp})
        check(f"{kind} email_otp verifies with type email", session.session is not None and session.user.email == email, session)

    stranger = unique("admin-magic-new")
    magic_new = admin.generate_link({"type": "magiclink", "email": stranger})
    check("a magiclink for an unknown address is a signup link", magic_new.properties.verification_type == "signup", magic_new.properties)
    missing = raises(lambda: admin.generate_link({"type": "recovery", "email": unique("admin-nobody")}))
    check("a recovery link for an unknown address is 404", api_error(missing, status=404), repr(missing))

    invitee = unique("admin-link-invite")
    invite = admin.generate_link({"type": "invite", "email": invitee})
    check("invite verification_type", invite.properties.verification_type == "invite", invite.properties)
    check("invite marks the user invited", invite.user.invited_at is not None and invite.user.email == invitee, invite.user)
    accepted = client().verify_otp({"type": "invite", "token_hash": invite.properties.hashed_token})
    check("verify_otp invite by token_hash signs the invitee in",
          accepted.session is not None and accepted.user.id == invite.user.id and accepted.user.email_confirmed_at is not None, accepted)


def case_generate_link_email_change():
    admin = admin_client()
    email = unique("admin-link-change")
    admin.create_user({"email": email, "password": "change-link-pw-1", "email_confirm": True})
    new_email = unique("admin-link-changed")
    for kind in ("email_change_current", "email_change_new"):
        # GoTrue answers verification_type = the requested type (adminGenerateLink echoes
        # params.Type; only the action_link says type=email_change), and supabase_auth's
        # GenerateLinkProperties accepts nothing else: its verification_type is a Literal of the
        # six request types, so any other value makes generate_link raise a ValidationError.
        change = p = None
        try:
            change = admin.generate_link({"type": kind, "email": email, "new_email": new_email})
            p = change.properties
        except ValidationError as e:
            check(f"generate_link {kind}: the client parses the answer", False, str(e).replace("\n", " "))
        else:
            check(f"generate_link {kind}: the client parses the answer", True)
        check(f"{kind} verification_type", p is not None and p.verification_type == kind, p)
        check(f"{kind} action_link has type=email_change", p is not None and "type=email_change" in p.action_link, p)
        check(f"{kind} sets new_email", change is not None and change.user.new_email == new_email, change)
        check(f"{kind} has a code and a hashed token", p is not None and re.fullmatch(r"\d{6}", p.email_otp) is not None
              and re.fullmatch(r"[0-9a-f]{56}", p.hashed_token) is not None, p)
    check("generate_link email_change sends no mail", no_mail_within(email, 0.2) and no_mail_within(new_email, 0.8))


def case_invite_user_by_email():
    admin = admin_client()
    email = unique("admin-invite")
    invited, mail = mail_after(email, lambda: admin.invite_user_by_email(email, {"data": {"team": "b"}}))
    check("invite_user_by_email returns the invited user", invited.user.email == email and invited.user.invited_at is not None, invited)
    check("the invitation carries a code and an invite link", bool(mail["code"]) and mail["params"].get("type") == "invite", mail.get("text"))
    session = client().verify_otp({"type": "invite", "email": email, "token": mail["code"]})
    check("the code verifies with type invite", session.session is not None and session.user.id == invited.user.id, session)
    check("with the invitation's data", session.user.user_metadata == {"team": "b"}, session.user.user_metadata)
    again = raises(lambda: admin.invite_user_by_email(email))
    check("an invitation to a confirmed user is email_exists", api_error(again, "email_exists"), repr(again))
    check("and sends nothing", no_mail_within(email) and len(mails_to(email)) == 1, len(mails_to(email)))


def case_not_admin():
    email = unique("admin-nonadmin")
    admin_client().create_user({"email": email, "password": "plain-user-pw-1", "email_confirm": True})
    token = client().sign_in_with_password({"email": email, "password": "plain-user-pw-1"}).session.access_token
    as_user = client(Authorization=f"Bearer {token}").admin
    listed = raises(lambda: as_user.list_users())
    check("a user's bearer: list_users is 403 not_admin", api_error(listed, "not_admin", 403), repr(listed))
    created = raises(lambda: as_user.create_user({"email": unique("admin-by-user")}))
    check("a user's bearer: create_user is 403 not_admin", api_error(created, "not_admin", 403), repr(created))
    linked = raises(lambda: as_user.generate_link({"type": "magiclink", "email": email}))
    check("a user's bearer: generate_link is 403 not_admin", api_error(linked, "not_admin", 403), repr(linked))
    nobody = raises(lambda: client().admin.list_users())
    check("no bearer: list_users is 401", api_error(nobody, status=401), repr(nobody))


def case_anonymous():
    auth = client()
    anon = auth.sign_in_anonymously({"options": {"data": {"cart": 3}}})
    check("sign_in_anonymously gives a session", anon.session is not None and anon.user is not None, anon)
    check("the user is anonymous, without an address", anon.user.is_anonymous is True and not anon.user.email, anon.user)
    check("with the data as user_metadata", anon.user.user_metadata == {"cart": 3}, anon.user.user_metadata)
    claims = auth.get_claims()
    check("get_claims: is_anonymous true", claims is not None and claims["claims"].get("is_anonymous") is True, claims)
    check("get_claims: amr anonymous", claims is not None and (claims["claims"].get("amr") or [{}])[0].get("method") == "anonymous", claims)
    uid = anon.user.id

    no_password = raises(lambda: auth.update_user({"password": "anon-password-1"}))
    check("an anonymous user cannot set a password first: 422", api_error(no_password, status=422), repr(no_password))

    email = unique("anon-convert")
    upd, mail = mail_after(email, lambda: auth.update_user({"email": email}))
    check("update_user(email) keeps the user anonymous until the address is proven",
          upd.user.is_anonymous is True and upd.user.new_email == email, upd.user)
    check("the mail has a code", bool(mail["code"]), mail.get("text"))
    verified = auth.verify_otp({"type": "email_change", "email": email, "token": mail["code"]})
    check("verify_otp email_change signs in the same user",
          verified.session is not None and verified.user.id == uid and verified.user.email == email, verified)
    check("who is no longer anonymous", verified.user.is_anonymous is False, verified.user)
    check("and keeps user_metadata", verified.user.user_metadata == {"cart": 3}, verified.user.user_metadata)
    check("provider email", verified.user.app_metadata.get("provider") == "email", verified.user.app_metadata)
    refreshed = auth.refresh_session()
    check("the session refreshes", refreshed.session is not None and refreshed.user.id == uid, refreshed)
    after = auth.get_claims()
    check("the refreshed token: is_anonymous false", after is not None and after["claims"].get("is_anonymous") is False, after)
    check("the admin sees a permanent user", admin_client().get_user_by_id(uid).user.is_anonymous is False)


if not SERVICE_KEY:
    print("FAIL SERVICE_ROLE_KEY is not set (./test mints it)")
    results["failed"] += 1
else:
    for case in (case_create_get_list_update_delete, case_bcrypt_import, case_generate_link, case_generate_link_email_change,
                 case_invite_user_by_email, case_not_admin, case_anonymous):
        try:
            case()
        except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
            results["failed"] += 1
            print(f"FAIL {case.__name__} raised:")
            traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth admin: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
