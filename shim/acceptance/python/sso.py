"""The Python supabase_auth client (PyPI), unchanged, through SAML 2.0 single sign-on on
auth-ext-shim (FLOWS_SHIM_URL), against a real SAML identity provider running locally: pysaml2
(shim/acceptance/saml/idp.py, at SAML_IDP_URL). The twin of js/sso.test.mjs, with fewer attacks.

Two Pythons: this script runs in the main venv (build/venv: supabase_auth, httpx); the attack
kit (shim/acceptance/saml/attacks.py) needs pysaml2 and lxml, which live in the SAML venv
(build/saml-venv), so each hostile variant is made by running attacks.py there as a subprocess
(SAML_PYTHON, default build/saml-venv/bin/python), the IdP's response on its stdin, the variant on
its stdout. The variants that the IdP must sign anew go through the IdP's /__control/sign.

Covered: the settings and SP metadata; the admin API (create, list, get, the same IdP again,
validation, unknown ids); sign_in_with_sso by domain and by provider id, implicit and PKCE, the
user it makes (provider sso:<id>, confirmed address, mapped attributes, amr sso/saml), the same
account twice; update_user refused for SSO users (user_sso_managed); IdP-initiated login and its
replay; and hostile responses (unsigned, other_user, xsw3, xsw7, wrong_audience, stranger_key, a
replay, an unknown RelayState) refused with a 303 to site_url and no victim account.

Like the JS suite, it first deletes any provider registered for this IdP (the JS suite's), then
registers its own. Each case runs on its own: one that fails or raises is counted and the others
still run. The last line is "N passed, M failed".
"""
import base64
import html
import json
import os
import re
import subprocess
import sys
import time
import traceback
import uuid
import zlib
from collections import Counter
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import httpx
from supabase_auth import SyncGoTrueClient, SyncMemoryStorage
from supabase_auth.errors import AuthApiError

URL = os.environ.get("FLOWS_SHIM_URL", "http://127.0.0.1:54611")
IDP = os.environ.get("SAML_IDP_URL", "http://127.0.0.1:54633").rstrip("/")
SERVICE_KEY = os.environ.get("SERVICE_ROLE_KEY")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SAML_PYTHON = os.environ.get("SAML_PYTHON", os.path.join(ROOT, "build", "saml-venv", "bin", "python"))
ATTACKS = os.path.join(ROOT, "shim", "acceptance", "saml", "attacks.py")
SITE = "http://localhost:3000"
APP = "http://127.0.0.1:3001/after-sso-py"  # in uri_allow_list through http://127.0.0.1:*/**
ACS = f"{URL}/sso/saml/acs"
SP_ENTITY = f"{URL}/sso/saml/metadata"
IDP_ENTITY = f"{IDP}/metadata"
OTHER_IDP = "https://other-idp.invalid/saml/"  # made-up IdPs' entity ids (the JS suite's too)
TAG = f"{int(time.time() * 1000):x}{os.urandom(2).hex()}"
DOMAIN = f"sso-py-{TAG}.example.org"
MAPPING = {"keys": {"name": {"name": "name"}, "groups": {"name": "groups", "array": True}}}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
results = Counter()  # "passed", "failed"
state = {}  # metadata, provider


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")
    return bool(condition)


def fresh(name):
    """A login name no run has used: the IdP's account (and address) is name@example.com."""
    return f"{name}-py{int(time.time() * 1000):x}{os.urandom(3).hex()}"


def client(**kwargs):
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key"}, auto_refresh_token=False, persist_session=False, **kwargs)


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the kind
        return e
    return None


def api_error(e, code, status=None):
    return isinstance(e, AuthApiError) and e.code == code and (status is None or e.status == status)


def query(url):
    return dict(parse_qsl(urlsplit(url).query))


def fragment(url):
    return dict(parse_qsl(urlsplit(url).fragment))


def origin(url):
    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def short(text, n=300):
    text = str(text)
    return text if len(text) <= n else f"{text[:n]}...({len(text)} chars)"


# --- HTTP: the admin API, the IdP's pages, the ACS -----------------------------------------------

http = httpx.Client(follow_redirects=False, timeout=60)


def admin(method, path, body=None):
    r = http.request(method, f"{URL}{path}", json=body,
                     headers={"apikey": SERVICE_KEY, "authorization": f"Bearer {SERVICE_KEY}"})
    try:
        data = r.json()
    except ValueError:
        data = None
    return r.status_code, data, r.text


def error_is(answer, status, code):
    got_status, data, _ = answer
    return got_status == status and isinstance(data, dict) and data.get("error_code") == code


def forms(page, base):
    """The page's forms: {data-step: (action, {field: value})} (as providers/browser.mjs)."""
    def attrs(text):
        return {k.lower(): html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', text)}
    out = {}
    for form_attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.I | re.S):
        a = attrs(form_attrs)
        fields = {i["name"]: i.get("value", "") for i in map(attrs, re.findall(r"<input\b([^>]*)>", inner, re.I)) if "name" in i}
        out[a.get("data-step")] = (urljoin(base, a.get("action", "")), fields)
    return out


def page_text(page):
    m = re.search(r'<p class="error">(.*?)</p>', page, re.S)
    return f"error: {m.group(1)}" if m else short(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip())


def idp_login(at, login):
    """Opens at (an AuthnRequest URL, or the IdP's /sso alone), signs in as login; the
    auto-posting form's (action, fields)."""
    first = http.get(at)
    if first.status_code != 200 or "login" not in forms(first.text, at):
        raise RuntimeError(f"the IdP refused GET {short(at, 160)}: {first.status_code} {page_text(first.text)}")
    action, fields = forms(first.text, at)["login"]
    second = http.post(action, data={**fields, "login": login})
    post = forms(second.text, action).get("saml-post")
    if second.status_code != 200 or post is None:
        raise RuntimeError(f"no auto-posting SAML form after logging in as {login}: {second.status_code} {page_text(second.text)}")
    return post


def post_acs(fields, action=ACS):
    """POSTs form fields to the ACS; (status, absolute Location or None, body)."""
    r = http.post(action, data={k: v for k, v in fields.items() if v is not None})
    loc = r.headers.get("location")
    return r.status_code, (urljoin(action, loc) if loc else None), r.text


def sso_url(auth, redirect_to=APP, **params):
    options = {"redirect_to": redirect_to} if redirect_to else {}
    return auth.sign_in_with_sso({**params, "options": options}).url


def landed_ok(answer):
    """The landing URL of a successful ACS answer, or None."""
    status, loc, _ = answer
    if status in (302, 303) and loc and not query(loc).get("error_code") and not query(loc).get("error"):
        return loc
    return None


def refused(answer, code=None):
    """A refusal: 303 to site_url with error and error_code (code if given), no session, no code."""
    status, loc, _ = answer
    if not loc:
        return False
    q, f = query(loc), fragment(loc)
    return (status == 303 and origin(loc) == SITE and bool(q.get("error")) and bool(q.get("error_code"))
            and (code is None or q.get("error_code") == code)
            and "access_token" not in f and "access_token" not in q and "code" not in q)


def describe(answer):
    status, loc, body = answer
    return f"{status} {loc or short(body, 200)}"


def sso_sign_in(login, auth=None, redirect_to=APP, **params):
    """The SP-initiated flow as login: (ACS answer, landing URL or None, the posted fields)."""
    params = params or {"domain": DOMAIN}
    _, fields = idp_login(sso_url(auth or client(), redirect_to, **params), login)
    answer = post_acs(fields)
    return answer, landed_ok(answer), fields


def signed_in(landed):
    """A client holding the implicit flow's session from the landing URL's fragment."""
    auth = client()
    auth.initialize_from_url(landed)
    return auth


def variant(name, b64, victim):
    """A hostile variant by attacks.py, run with the SAML venv's Python."""
    r = subprocess.run([SAML_PYTHON, ATTACKS, "--idp", IDP, "--victim", victim, name], input=b64,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"attacks.py {name} ({SAML_PYTHON}) failed: {r.stderr}")
    return r.stdout.strip()


def users_with_email(email):
    found, page = [], 1
    while True:
        status, data, text = admin("GET", f"/admin/users?page={page}&per_page=500")
        if status != 200:
            raise RuntimeError(f"GET /admin/users: {status} {short(text)}")
        found += [u for u in data["users"] if (u.get("email") or "").lower() == email.lower()]
        if len(data["users"]) < 500:
            return found
        page += 1


def provider():
    if not state.get("provider"):
        raise RuntimeError(f"no SSO provider (its creation failed: {state.get('created')})")
    return state["provider"]


# --- cases ---------------------------------------------------------------------------------------

def case_settings_and_metadata():
    settings = http.get(f"{URL}/settings", headers={"apikey": "anon-key"}).json()
    check("GET /settings says saml_enabled", settings.get("saml_enabled") is True, settings)
    r = http.get(f"{URL}/sso/saml/metadata")
    entity = re.search(r'entityID="([^"]*)"', r.text)
    acs = re.search(r'<(?:\w+:)?AssertionConsumerService\b[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="([^"]*)"'
                    r'|<(?:\w+:)?AssertionConsumerService\b[^>]*Location="([^"]*)"[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"', r.text)
    check("GET /sso/saml/metadata: entityID <url>/sso/saml/metadata, an HTTP-POST ACS at <url>/sso/saml/acs",
          r.status_code == 200 and entity and entity.group(1) == SP_ENTITY and acs and ACS in acs.groups(),
          f"{r.status_code} {short(r.text, 600)}")


def case_admin():
    state["metadata"] = http.get(f"{IDP}/metadata").text
    status, data, text = admin("GET", "/admin/sso/providers")
    for p in (data or {}).get("items", []):  # the JS suite's provider and made-up IdPs
        entity = (p.get("saml") or {}).get("entity_id", "")
        if entity == IDP_ENTITY or entity.startswith(OTHER_IDP):
            admin("DELETE", f"/admin/sso/providers/{p['id']}")
    created = admin("POST", "/admin/sso/providers", {"type": "saml", "metadata_xml": state["metadata"], "domains": [DOMAIN],
                                                     "attribute_mapping": MAPPING})
    status, data, text = created
    state["created"] = f"{status} {short(text)}"
    ok = check("POST /admin/sso/providers: 201 with the entity id, domain and mapping",
               status in (200, 201) and UUID_RE.match(str((data or {}).get("id")))
               and data["saml"]["entity_id"] == IDP_ENTITY and [d["domain"] for d in data["domains"]] == [DOMAIN]
               and data["saml"].get("attribute_mapping") == MAPPING, f"{status} {short(text, 600)}")
    if ok:
        state["provider"] = data["id"]
    status, data, text = admin("GET", "/admin/sso/providers")
    check("GET /admin/sso/providers lists it under items",
          status == 200 and any(p["id"] == state.get("provider") for p in data.get("items", [])), f"{status} {short(text)}")
    check("the same IdP again: 422 saml_idp_already_exists",
          error_is(admin("POST", "/admin/sso/providers", {"type": "saml", "metadata_xml": state["metadata"]}), 422, "saml_idp_already_exists"))
    other = state["metadata"].replace(f'entityID="{IDP_ENTITY}"', f'entityID="{OTHER_IDP}{fresh("py")}"')
    check("a metadata_url over http: 400 validation_failed",
          error_is(admin("POST", "/admin/sso/providers", {"type": "saml", "metadata_url": IDP_ENTITY}), 400, "validation_failed"))
    check("another IdP with a taken domain: 400 sso_domain_already_exists",
          error_is(admin("POST", "/admin/sso/providers", {"type": "saml", "metadata_xml": other, "domains": [DOMAIN]}), 400,
                   "sso_domain_already_exists"))
    check("GET an unknown provider: 404 sso_provider_not_found",
          error_is(admin("GET", f"/admin/sso/providers/{uuid.uuid4()}"), 404, "sso_provider_not_found"))


def case_sign_in():
    pid = provider()
    to = sso_url(client(), domain=DOMAIN)
    u = urlsplit(to)
    req = zlib.decompress(base64.b64decode(query(to).get("SAMLRequest", "")), -15).decode()
    check("sign_in_with_sso gives the IdP's URL with a RelayState UUID and an AuthnRequest for this SP",
          f"{u.scheme}://{u.netloc}{u.path}" == f"{IDP}/sso" and UUID_RE.match(query(to).get("RelayState", ""))
          and f'AssertionConsumerServiceURL="{ACS}"' in req, f"{to}\n{short(req, 600)}")
    login = fresh("sso")
    answer, landed, fields = sso_sign_in(login)
    check("the ACS takes the valid response: 302 to redirect_to with a session in the fragment",
          answer[0] == 302 and landed and landed.startswith(APP + "#") and fragment(landed).get("access_token"), describe(answer))
    auth = signed_in(landed)
    session, user = auth.get_session(), auth.get_user().user
    check("the user: provider sso:<id> in app_metadata and its one identity",
          user.app_metadata.get("provider") == f"sso:{pid}" and user.app_metadata.get("providers") == [f"sso:{pid}"]
          and [i.provider for i in user.identities] == [f"sso:{pid}"], (user.app_metadata, user.identities))
    check("the IdP's address, confirmed", user.email == f"{login}@example.com" and user.email_confirmed_at is not None, user)
    groups = user.user_metadata.get("groups", (user.user_metadata.get("custom_claims") or {}).get("groups"))
    check("the mapped attributes: name, groups as an array", user.user_metadata.get("name") == login and groups == ["users"],
          user.user_metadata)
    claims = jwt_payload(session.access_token)
    check("the access token's amr has sso/saml, aal1",
          any(a.get("method") == "sso/saml" for a in claims.get("amr", [])) and claims.get("aal") == "aal1", claims)
    _, again, _ = sso_sign_in(login, provider_id=pid)
    check("the same account again (by provider id) is the same user", again and signed_in(again).get_user().user.id == user.id, again)
    unknown = raises(lambda: sso_url(client(), domain=f"nobody-{TAG}.example.org"))
    check("an unknown domain: sso_provider_not_found 404", api_error(unknown, "sso_provider_not_found", 404), repr(unknown))


def case_pkce():
    provider()
    login = fresh("pkce")
    auth = client(flow_type="pkce", storage=SyncMemoryStorage(), storage_key="sso-py-pkce")
    to = sso_url(auth, domain=DOMAIN)
    answer = post_acs(idp_login(to, login)[1])
    landed = landed_ok(answer)
    code = query(landed).get("code") if landed else None
    check("PKCE: ?code= on redirect_to, no tokens in the URL",
          landed and landed.startswith(APP + "?") and code and not urlsplit(landed).fragment, describe(answer))
    ex = auth.exchange_code_for_session({"auth_code": code})
    check("exchange_code_for_session gives the session", ex.session is not None and ex.user.email == f"{login}@example.com", ex)


def case_sso_managed():
    provider()
    _, landed, _ = sso_sign_in(fresh("managed"))
    auth = signed_in(landed)
    e = raises(lambda: auth.update_user({"email": f"{fresh('elsewhere')}@example.com"}))
    check("update_user(email) by an SSO user: user_sso_managed 422", api_error(e, "user_sso_managed", 422), repr(e))
    e = raises(lambda: auth.update_user({"password": "a-New-password-1"}))
    check("update_user(password) by an SSO user: user_sso_managed 422", api_error(e, "user_sso_managed", 422), repr(e))


def case_idp_initiated():
    pid = provider()
    login = fresh("idpinit")
    action, fields = idp_login(f"{IDP}/sso", login)
    answer = post_acs(fields, action)
    landed = landed_ok(answer)
    check("IdP-initiated (no RelayState): lands on site_url with a session",
          action == ACS and "RelayState" not in fields and landed and origin(landed) == SITE and fragment(landed).get("access_token"),
          describe(answer))
    user = signed_in(landed).get_user().user
    check("... as that IdP account, provider sso:<id>",
          user.email == f"{login}@example.com" and user.app_metadata.get("provider") == f"sso:{pid}", user)
    again = post_acs(fields, action)
    check("the same IdP-initiated response again is refused", refused(again), describe(again))
    allowed = "http://127.0.0.1:3002/from-idp-py"
    _, fields = idp_login(f"{IDP}/sso?RelayState={quote(allowed, safe='')}", fresh("idprelay"))
    answer = post_acs(fields)
    landed = landed_ok(answer)
    check("an allowed RelayState URL is the landing", landed and landed.startswith(allowed + "#"), describe(answer))


def case_attacks():
    provider()
    victim = fresh("victim")
    for name in ("unsigned", "other_user", "xsw3", "xsw7", "wrong_audience", "stranger_key"):
        _, fields = idp_login(sso_url(client(), domain=DOMAIN), fresh("mallory"))
        answer = post_acs({"SAMLResponse": variant(name, fields["SAMLResponse"], victim), "RelayState": fields["RelayState"]})
        check(f"{name}: refused, 303 to site_url with validation_failed", refused(answer, "validation_failed"), describe(answer))
    check("... and the victim's account was never created", users_with_email(f"{victim}@example.com") == [])

    _, fields = idp_login(sso_url(client(), domain=DOMAIN), fresh("replay"))
    first = post_acs(fields)
    second = post_acs(fields)
    check("a valid response replayed: the first signs in, the second saml_relay_state_not_found",
          landed_ok(first) and refused(second, "saml_relay_state_not_found"), f"{describe(first)} / {describe(second)}")
    _, fields = idp_login(sso_url(client(), domain=DOMAIN), fresh("relay"))
    unknown = post_acs({"SAMLResponse": fields["SAMLResponse"], "RelayState": str(uuid.uuid4())})
    check("an unknown RelayState UUID: saml_relay_state_not_found", refused(unknown, "saml_relay_state_not_found"), describe(unknown))
    junk = post_acs({"SAMLResponse": "%%% not base64 %%%"})
    check("a SAMLResponse that is not base64: validation_failed", refused(junk, "validation_failed"), describe(junk))


if not SERVICE_KEY:
    print("SERVICE_ROLE_KEY is not set (./test sets it)")
    print("python supabase_auth SAML SSO: 0 passed, 1 failed")
    sys.exit(1)

for case in (case_admin, case_settings_and_metadata, case_sign_in, case_pkce, case_sso_managed, case_idp_initiated, case_attacks):
    try:
        case()
    except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
        results["failed"] += 1
        print(f"FAIL {case.__name__} raised:")
        traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth SAML SSO: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
