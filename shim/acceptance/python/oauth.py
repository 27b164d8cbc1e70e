"""The Python supabase_auth client (PyPI), unchanged, through social login on auth-ext-shim
(FLOWS_SHIM_URL) with the two local identity providers of shim/acceptance/providers/: oidc-provider
(OpenID Certified) configured as the custom provider `custom:local` (OIDC_ISSUER), and a
GitHub-style OAuth 2.0 provider configured as `github` (GITHUB_PROVIDER_URL). The database (set up
by ./test) confirms by mail, allows redirects to http://localhost:3000/** and
http://127.0.0.1:*/**, and has manual linking on.

The twin of js/oauth.test.mjs. sign_in_with_oauth only builds the provider's URL; a small
browser-like driver (Browser below, a port of providers/browser.mjs) logs in at the provider, and
the client takes the landing URL: initialize_from_url for the implicit flow's fragment,
exchange_code_for_session for PKCE's ?code=. Covered: both providers, implicit and PKCE,
sign_in_with_id_token with a token the OIDC provider issued (the client sends the raw nonce, the
provider was given its SHA-256 in hex), link_identity / get_user_identities / unlink_identity, and
refusals (a wrong or missing nonce, a forged ID token signature, a replayed or forged callback, a
refused consent, the same identity linked to a second user, the last identity unlinked).

supabase_auth 2.34.1 types OAuthResponse.provider as a Literal of its built-in providers, so
sign_in_with_oauth and link_identity raise pydantic's ValidationError for `custom:*` after
building the URL (supabase-js allows `custom:${string}` since supabase-js#2134). oauth_url() then
takes the URL from the client's own builder (_get_url_for_provider, what sign_in_with_oauth
calls) and says so in a NOTE line; linking is done with `github`, which the client accepts.

Each case runs on its own: one that fails or raises is counted and the others still run.
"""
import base64
import hashlib
import html
import json
import os
import re
import sys
import time
import traceback
from collections import Counter
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
from pydantic import ValidationError
from supabase_auth import SyncGoTrueClient, SyncMemoryStorage
from supabase_auth.errors import AuthApiError, AuthImplicitGrantRedirectError

URL = os.environ.get("FLOWS_SHIM_URL", "http://127.0.0.1:54611")
OIDC = os.environ.get("OIDC_ISSUER", "http://127.0.0.1:54631")
GITHUB = os.environ.get("GITHUB_PROVIDER_URL", "http://127.0.0.1:54632")
SERVICE_KEY = os.environ.get("SERVICE_ROLE_KEY")
OIDC_CLIENT_ID, OIDC_CLIENT_SECRET = "auth-ext", "auth-ext-secret"
SITE = "http://localhost:3000"
APP = "http://127.0.0.1:3001/after-login"  # in uri_allow_list through http://127.0.0.1:*/**
CALLBACK = f"{URL}/callback"
results = Counter()  # "passed", "failed"
notes = set()


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    if not condition:
        print(f"FAIL {name} {detail}")


def note(text):
    if text not in notes:
        notes.add(text)
        print(f"NOTE {text}")


def client(**kwargs):
    return SyncGoTrueClient(url=URL, headers={"apikey": "anon-key"}, auto_refresh_token=False, persist_session=False, **kwargs)


def fresh(name):
    """A login name no run has used: the providers derive the account (and its address) from it."""
    return f"{name}-py{int(time.time() * 1000):x}{os.urandom(3).hex()}"


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the kind
        return e
    return None


def api_error(e, code=None, status=None):
    return isinstance(e, AuthApiError) and (code is None or e.code == code) and (status is None or e.status == status)


def query(url):
    return dict(parse_qsl(urlsplit(url).query))


def fragment(url):
    return dict(parse_qsl(urlsplit(url).fragment))


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sha256hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


# --- the browser: a port of providers/browser.mjs ------------------------------------------------

def expires_before_now(text):
    try:
        return parsedate_to_datetime(text).timestamp() <= time.time()
    except (TypeError, ValueError):
        return False


class Browser:
    """Follows redirects by hand and fills the providers' forms (pages.mjs): data-step="login" gets
    the login name, then data-step="consent" (or "deny") is submitted. Cookies are kept per origin
    (scheme://host:port) with their Path, as browsers do; http.cookiejar would share 127.0.0.1's
    cookies across the ports of shim and providers."""

    MAX_HOPS = 30

    def __init__(self):
        self.cookies = {}  # origin -> {(name, path): value}
        self.http = httpx.Client(follow_redirects=False, timeout=15)

    @staticmethod
    def origin(url):
        u = urlsplit(url)
        return f"{u.scheme}://{u.netloc}"

    def store(self, url, response):
        jar = self.cookies.setdefault(self.origin(url), {})
        for line in response.headers.get_list("set-cookie"):
            pair, *attrs = [s.strip() for s in line.split(";")]
            name, _, value = pair.partition("=")
            path, expired = "/", False
            for attr in attrs:
                key, _, v = attr.partition("=")
                key = key.lower()
                if key == "path" and v.startswith("/"):
                    path = v
                if key == "max-age" and v.lstrip("-").isdigit() and int(v) <= 0:
                    expired = True
                if key == "expires" and expires_before_now(v):
                    expired = True
            if expired:
                jar.pop((name, path), None)
            else:
                jar[(name, path)] = value

    def cookie_header(self, url):
        path = urlsplit(url).path or "/"
        jar = self.cookies.get(self.origin(url), {})
        return "; ".join(f"{name}={value}" for (name, p), value in jar.items()
                         if path == p or path.startswith(p if p.endswith("/") else p + "/"))

    def request(self, url, method="GET", form=None):
        headers = {"accept": "text/html,application/json;q=0.9,*/*;q=0.8"}
        if cookie := self.cookie_header(url):
            headers["cookie"] = cookie
        response = self.http.request(method, url, headers=headers, data=form)
        self.store(url, response)
        return response

    @staticmethod
    def forms(page, base):
        """The page's forms, as {step, action, method, fields} each."""
        def attrs(text):
            return {k.lower(): html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', text)}
        found = []
        for form_attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.I | re.S):
            a = attrs(form_attrs)
            fields = {i["name"]: i.get("value", "") for i in map(attrs, re.findall(r"<input\b([^>]*)>", inner, re.I)) if "name" in i}
            found.append({"step": a.get("data-step"), "action": urljoin(base, a.get("action", "")),
                          "method": a.get("method", "get").upper(), "fields": fields})
        return found

    def walk(self, url, stop, login=None, consent=True):
        """Walks from url until a redirect's target starts with stop; returns that target, unrequested."""
        method, form, trail = "GET", None, []
        for _ in range(self.MAX_HOPS):
            trail.append(f"{method} {url}")
            response = self.request(url, method, form)
            location = response.headers.get("location")
            if 300 <= response.status_code < 400 and location:
                target = urljoin(url, location)
                if target.startswith(stop):
                    return target
                # 307/308 repeat the method and body; the others become a GET, as in browsers
                if response.status_code not in (307, 308):
                    method, form = "GET", None
                url = target
                continue
            forms = self.forms(response.text, url) if response.status_code == 200 else []
            want = "login" if any(f["step"] == "login" for f in forms) else "consent" if consent else "deny"
            chosen = next((f for f in forms if f["step"] == want), None)
            if chosen is None:
                raise RuntimeError(f"stuck: {response.status_code} at {url} without a redirect to {stop}\n"
                                   f"trail:\n  " + "\n  ".join(trail) + f"\nbody: {response.text[:500]}")
            if want == "login":
                if login is None:
                    raise RuntimeError(f"a login page at {url}, but no login name was given")
                chosen["fields"]["login"] = login
            if chosen["method"] == "GET":
                url, method, form = f"{chosen['action'].split('?')[0]}?{urlencode(chosen['fields'])}", "GET", None
            else:
                url, method, form = chosen["action"], chosen["method"], chosen["fields"]
        raise RuntimeError(f"more than {self.MAX_HOPS} hops:\n  " + "\n  ".join(trail))


def landing(authorize_url, login, stop_at=APP, consent=True):
    """Logs in at the provider as `login` (a fresh browser) and follows the shim's callback on to
    stop_at, as the user's browser would: (the callback URL, where it landed)."""
    callback = Browser().walk(authorize_url, CALLBACK, login=login, consent=consent)
    return callback, Browser().walk(callback, stop_at)


def id_token_for(login, nonce=None):
    """The OIDC provider's token response after a real code flow, as the relying party (e.g. a
    mobile app with the provider's SDK) would run it; the nonce is sent as given."""
    meta = httpx.get(f"{OIDC}/.well-known/openid-configuration").json()
    state = os.urandom(12).hex()
    params = {"response_type": "code", "client_id": OIDC_CLIENT_ID, "redirect_uri": CALLBACK,
              "scope": "openid email profile", "state": state}
    if nonce is not None:
        params["nonce"] = nonce
    got = query(Browser().walk(f"{meta['authorization_endpoint']}?{urlencode(params)}", CALLBACK, login=login))
    if got.get("error") or got.get("state") != state:
        raise RuntimeError(f"authorization failed: {got}")
    response = httpx.post(meta["token_endpoint"], headers={"accept": "application/json"}, data={
        "grant_type": "authorization_code", "code": got["code"], "redirect_uri": CALLBACK,
        "client_id": OIDC_CLIENT_ID, "client_secret": OIDC_CLIENT_SECRET})
    response.raise_for_status()
    return response.json()


def misbehave(provider_url, endpoint, mode, count=1):
    httpx.post(f"{provider_url}/__control/misbehave", params={"endpoint": endpoint, "mode": mode, "count": count}).raise_for_status()


# --- the client ---------------------------------------------------------------------------------

def oauth_url(auth, provider, **options):
    """The provider URL sign_in_with_oauth hands out (it never fetches it)."""
    options = {"redirect_to": APP, **options}
    try:
        return auth.sign_in_with_oauth({"provider": provider, "options": options}).url
    except ValidationError:
        if not provider.startswith("custom:"):
            raise
        note(f"supabase_auth's sign_in_with_oauth raises ValidationError for {provider} (OAuthResponse.provider "
             "is a Literal of built-in providers); the URL is taken from its _get_url_for_provider instead")
        # the parameters as sign_in_with_oauth puts them together
        params = {**options.get("query_params", {}), "redirect_to": options["redirect_to"]}
        if options.get("scopes"):
            params["scopes"] = options["scopes"]
        return auth._get_url_for_provider(f"{auth._url}/authorize", provider, params)[0]


def signed_in(landed):
    """A client holding the implicit flow's session from the landing URL's fragment."""
    auth = client()
    auth.initialize_from_url(landed)
    return auth


def case_oidc_implicit():
    login = fresh("alice")
    to = oauth_url(client(), "custom:local", scopes="offline_access", query_params={"prompt": "consent"})
    check("the URL is the shim's /authorize for custom:local", to.startswith(f"{URL}/authorize?")
          and query(to).get("provider") == "custom:local" and query(to).get("redirect_to") == APP, to)
    _, landed = landing(to, login)
    check("the OIDC login lands on redirect_to with a session in the fragment",
          landed.startswith(APP + "#") and fragment(landed).get("access_token"), landed)
    auth = signed_in(landed)
    session = auth.get_session()
    user = auth.get_user().user
    check("initialize_from_url keeps the session, with the provider token", session is not None and bool(session.provider_token), session)
    check("the provider's verified address, confirmed", user.email == f"{login}@example.com" and user.email_confirmed_at is not None, user)
    check("app_metadata names the provider", user.app_metadata.get("provider") == "custom:local"
          and user.app_metadata.get("providers") == ["custom:local"], user.app_metadata)
    check("one identity, the OIDC sub", [(i.provider, i.id) for i in user.identities] == [("custom:local", f"sub-{login}")], user.identities)
    check("user_metadata has the claims", user.user_metadata.get("email_verified") is True, user.user_metadata)
    claims = jwt_payload(session.access_token)
    check("the access token's amr is oauth", [a.get("method") for a in claims.get("amr", [])] == ["oauth"], claims.get("amr"))
    _, again = landing(oauth_url(client(), "custom:local"), login)
    check("signing in again finds the same user", signed_in(again).get_user().user.id == user.id)


def case_github_implicit():
    login = fresh("octo")
    to = oauth_url(client(), "github")
    check("sign_in_with_oauth(github) gives the shim's /authorize", to.startswith(f"{URL}/authorize?")
          and query(to) == {"provider": "github", "redirect_to": APP}, to)
    _, landed = landing(to, login)
    auth = signed_in(landed)
    user = auth.get_user().user
    check("a GitHub access token as provider token", (auth.get_session().provider_token or "").startswith("gho_"), fragment(landed))
    check("GitHub's verified primary address", user.email == f"{login}@example.com" and user.email_confirmed_at is not None, user)
    check("app_metadata.provider is github", user.app_metadata.get("provider") == "github", user.app_metadata)
    check("user_name is the GitHub login", user.user_metadata.get("user_name") == login, user.user_metadata)
    check("GitHub's numeric id, kept as text", re.fullmatch(r"\d+", user.identities[0].id) is not None, user.identities)


def case_pkce():
    for provider in ("github", "custom:local"):
        login = fresh("pkce")
        storage = SyncMemoryStorage()
        auth = client(flow_type="pkce", storage=storage, storage_key="oauth-py-pkce")
        to = oauth_url(auth, provider)
        check(f"{provider}: PKCE adds an S256 challenge", query(to).get("code_challenge") and query(to).get("code_challenge_method") == "s256", to)
        verifier = storage.get_item("oauth-py-pkce-code-verifier")
        check(f"{provider}: the client keeps the verifier", bool(verifier))
        _, landed = landing(to, login)
        code = query(landed).get("code")
        check(f"{provider}: ?code= on redirect_to, no tokens in the URL", code and urlsplit(landed).fragment == "", landed)
        ex = auth.exchange_code_for_session({"auth_code": code})
        check(f"{provider}: exchange_code_for_session signs in", ex.session is not None and ex.user.email == f"{login}@example.com", ex)
        check(f"{provider}: the provider token comes with the exchange", bool(ex.session and ex.session.provider_token), ex.session)
        check(f"{provider}: the client keeps the session", auth.get_user().user.email == f"{login}@example.com")
        again = raises(lambda: client(flow_type="pkce").exchange_code_for_session({"auth_code": code, "code_verifier": verifier}))
        check(f"{provider}: the code works once", api_error(again, "flow_state_not_found"), repr(again))


def case_verified_address_links():
    if not SERVICE_KEY:
        print("SKIP case_verified_address_links: SERVICE_ROLE_KEY is not set")
        return
    admin = SyncGoTrueClient(url=URL, headers={"apikey": SERVICE_KEY, "Authorization": f"Bearer {SERVICE_KEY}"},
                             auto_refresh_token=False, persist_session=False).admin
    login = fresh("holder")
    email = f"{login}@example.com"
    made = admin.create_user({"email": email, "password": "a-Password-1", "email_confirm": True}).user
    user = signed_in(landing(oauth_url(client(), "github"), login)[1]).get_user().user
    check("a verified address joins the user who holds it", user.id == made.id, (user.id, made.id))
    check("the user has both providers", sorted(user.app_metadata.get("providers", [])) == ["email", "github"], user.app_metadata)
    check("the password still signs in", client().sign_in_with_password({"email": email, "password": "a-Password-1"}).session is not None)
    login = fresh("newbie") + "-unverified"
    _, landed = landing(oauth_url(client(), "custom:local"), login)
    check("an unverified address nobody holds: no session, provider_email_needs_verification",
          query(landed).get("error_code") == "provider_email_needs_verification" and "access_token" not in fragment(landed), landed)
    refused = raises(lambda: signed_in(landed))
    check("initialize_from_url raises the redirect's error", isinstance(refused, AuthImplicitGrantRedirectError)
          and (refused.details or {}).get("code") == "provider_email_needs_verification", repr(refused))


def case_id_token():
    login = fresh("idtoken")
    nonce = os.urandom(16).hex()
    tokens = id_token_for(login, nonce=sha256hex(nonce))
    credentials = {"provider": "custom:local", "token": tokens["id_token"]}
    bad = raises(lambda: client().sign_in_with_id_token({**credentials, "nonce": "another"}))
    check("a wrong nonce is bad_oidc_token", api_error(bad, "bad_oidc_token", 400), repr(bad))
    missing = raises(lambda: client().sign_in_with_id_token(credentials))
    check("a token with a nonce needs it", api_error(missing, "bad_oidc_token", 400), repr(missing))
    auth = client()
    res = auth.sign_in_with_id_token({**credentials, "nonce": nonce, "access_token": tokens["access_token"]})
    check("sign_in_with_id_token with the raw nonce signs in", res.session is not None and res.user.email == f"{login}@example.com", res)
    check("the identity is custom:local's sub", [(i.provider, i.id) for i in res.user.identities] == [("custom:local", f"sub-{login}")], res.user.identities)
    check("the client keeps the session", auth.get_user().user.id == res.user.id)
    # at_hash: checked where the token carries one (oidc-provider puts none in a token-endpoint ID token)
    wrong_at = raises(lambda: client().sign_in_with_id_token({**credentials, "nonce": nonce, "access_token": "not-it"}))
    check("a wrong access token is refused exactly when at_hash is present", (wrong_at is not None) == ("at_hash" in jwt_payload(tokens["id_token"])), repr(wrong_at))

    misbehave(OIDC, "token", "forge")
    forged = id_token_for(fresh("forged"))["id_token"]
    refused = raises(lambda: client().sign_in_with_id_token({"provider": "custom:local", "token": forged}))
    check("an ID token signed by a key the provider does not publish is refused", api_error(refused, "bad_oidc_token"), repr(refused))
    unknown = raises(lambda: client().sign_in_with_id_token({"provider": "custom:nowhere", "token": tokens["id_token"]}))
    check("an unknown provider is a 400", api_error(unknown, "validation_failed", 400), repr(unknown))


def case_link_and_unlink():
    first = fresh("linker")
    auth = signed_in(landing(oauth_url(client(), "custom:local"), first)[1])
    user = auth.get_user().user
    custom = raises(lambda: auth.link_identity({"provider": "custom:local", "options": {"redirect_to": APP}}))
    if isinstance(custom, ValidationError):
        note("supabase_auth's link_identity raises ValidationError for custom:* too (after the server answered); linking is tested with github")
    second = fresh("second")
    linking = auth.link_identity({"provider": "github", "options": {"redirect_to": APP}})
    check("link_identity gives the provider's authorize URL", linking.url.startswith(f"{GITHUB}/login/oauth/authorize?"), linking.url)
    after = signed_in(landing(linking.url, second)[1])
    check("the identity joins the signed-in user", after.get_user().user.id == user.id)
    ids = after.get_user_identities().identities
    check("get_user_identities lists both", sorted(i.provider for i in ids) == ["custom:local", "github"], ids)
    check("the original client sees both too", len(auth.get_user_identities().identities) == 2)

    other = signed_in(landing(oauth_url(client(), "github"), fresh("other"))[1])
    steal = other.link_identity({"provider": "github", "options": {"redirect_to": APP}})
    _, refused = landing(steal.url, second)
    check("an identity another user has cannot be linked", query(refused).get("error_code") == "identity_already_exists", refused)

    local = next(i for i in ids if i.provider == "custom:local")
    after.unlink_identity(local)
    left = after.get_user_identities().identities
    check("unlink_identity removes it", [i.provider for i in left] == ["github"], left)
    last = raises(lambda: after.unlink_identity(left[0]))
    check("the last identity cannot be unlinked", api_error(last, "single_identity_not_deletable"), repr(last))


def case_callback_refusals():
    callback, landed = landing(oauth_url(client(), "github"), fresh("replay"))
    check("the first callback signs in", bool(fragment(landed).get("access_token")), landed)
    replay = Browser().walk(callback, SITE)
    check("a replayed callback is bad_oauth_state, sent to site_url", query(replay).get("error_code") == "bad_oauth_state", replay)
    refused = raises(lambda: signed_in(replay))
    check("the client raises it from initialize_from_url", isinstance(refused, AuthImplicitGrantRedirectError)
          and (refused.details or {}).get("code") == "bad_oauth_state", repr(refused))
    forged = Browser().walk(f"{CALLBACK}?state=forged-state&code=whatever", SITE)
    check("a forged state is bad_oauth_state", query(forged).get("error_code") == "bad_oauth_state", forged)
    missing = Browser().walk(f"{CALLBACK}?code=whatever", SITE)
    check("no state is bad_oauth_callback", query(missing).get("error_code") == "bad_oauth_callback", missing)
    _, denied = landing(oauth_url(client(), "custom:local"), fresh("denier"), consent=False)
    check("a refused consent comes back to redirect_to as access_denied",
          denied.startswith(APP) and query(denied).get("error") == "access_denied", denied)


for case in (case_oidc_implicit, case_github_implicit, case_pkce, case_verified_address_links, case_id_token,
             case_link_and_unlink, case_callback_refusals):
    try:
        case()
    except Exception:  # noqa: BLE001 - a case that raises is a failure; the others still run
        results["failed"] += 1
        print(f"FAIL {case.__name__} raised:")
        traceback.print_exc(file=sys.stdout)

print(f"python supabase_auth social login: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
