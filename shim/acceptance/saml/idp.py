"""A small SAML 2.0 identity provider for the acceptance tests, on pysaml2.

    python idp.py            # prints "saml-idp ready http://127.0.0.1:PORT"

Endpoints (see README.md):
  GET  /metadata          IdP metadata (signing certificate, SSO endpoint)
  GET|POST /sso           an AuthnRequest (HTTP-Redirect or HTTP-POST binding)
                          -> login form; no SAMLRequest = IdP-initiated
  POST /sso/login         the login form's target -> auto-posting form to the ACS
  POST /__control/sign    JSON -> any signed SAMLResponse (for attack tests)
  GET  /__canary/<token>  records a hit (XXE / SSRF probes point here)
  GET  /__control/canary  {"hits": [paths hit so far]}

The signing key and certificate are made anew at each start (RSA-2048,
self-signed, in a temporary directory): an SP reads /metadata, never pins them.
"""
import html
import json
import os
import secrets
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import samlkit  # first: it quiets a warning that importing pysaml2 prints
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, md, saml, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary

MAX_BODY = 1 << 20  # what the IdP itself accepts in a request body


class SPRegistry:
    """The service providers this IdP answers: from SAML_SP_METADATA_URL
    (fetched when first needed, again when a request names an unknown SP or
    ACS URL) and/or SAML_SP_ENTITY_ID + SAML_SP_ACS_URL. With none of them
    configured, any SP is answered at the ACS URL its AuthnRequest names."""

    def __init__(self, env):
        self.metadata_url = env.get("SAML_SP_METADATA_URL") or None
        self.static = {}
        if env.get("SAML_SP_ENTITY_ID") or env.get("SAML_SP_ACS_URL"):
            self.static[env.get("SAML_SP_ENTITY_ID", "")] = [u for u in env.get("SAML_SP_ACS_URL", "").split(",") if u]
        self.fetched = None
        self.lock = threading.Lock()

    @property
    def configured(self):
        return bool(self.metadata_url or self.static)

    def _fetch(self):
        with urllib.request.urlopen(self.metadata_url, timeout=10) as r:  # noqa: S310 (test tool)
            ed = md.entity_descriptor_from_string(r.read(MAX_BODY))
        acs = []
        for spsso in ed.spsso_descriptor:
            acs += [a.location for a in spsso.assertion_consumer_service if a.binding == BINDING_HTTP_POST]
        return {ed.entity_id: acs}

    def all(self, refresh=False):
        with self.lock:
            if self.metadata_url and (self.fetched is None or refresh):
                self.fetched = self._fetch()
            return {**self.static, **(self.fetched or {})}

    def default(self):
        """(entity id, first ACS URL) of the first configured SP, for IdP-initiated logins."""
        for entity_id, acs in self.all().items():
            return entity_id, (acs[0] if acs else None)
        return None, None

    def resolve(self, issuer, acs_url):
        """The ACS URL to post to for an AuthnRequest, or raises ValueError."""
        if not self.configured:
            if not acs_url:
                raise ValueError("the AuthnRequest names no AssertionConsumerServiceURL and no SP is configured")
            return acs_url
        known = None
        for refresh in ((False, True) if self.metadata_url else (False,)):
            sps = self.all(refresh=refresh)
            # SAML_SP_ACS_URL without SAML_SP_ENTITY_ID answers any issuer
            known = sps.get(issuer, sps.get(""))
            if known is not None and acs_url in known:
                return acs_url
            if known and not acs_url:
                return known[0]
        if known is None:
            raise ValueError(f"unknown service provider {issuer!r}")
        raise ValueError(f"ACS URL {acs_url!r} is not registered for {issuer!r}")


class IdP:
    def __init__(self, port, env=os.environ):
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = f"{self.base}/metadata"
        self.sso_url = f"{self.base}/sso"
        self.keys = samlkit.KeyPair(f"auth-ext test SAML IdP {self.base}")
        self.sps = SPRegistry(env)
        self.sign_mode = env.get("SAML_IDP_SIGN", "both")  # both | response | assertion
        if self.sign_mode not in ("both", "response", "assertion"):
            raise SystemExit("SAML_IDP_SIGN must be both, response or assertion")
        self.pending = {}  # login form state -> the AuthnRequest's particulars
        self.canary_hits = []
        self.lock = threading.Lock()
        conf = IdPConfig()
        conf.load({
            "entityid": self.entity_id,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT),
                                                         (self.sso_url, BINDING_HTTP_POST)]},
                "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT, saml.NAMEID_FORMAT_EMAILADDRESS],
                "want_authn_requests_signed": False,
            }},
            "key_file": self.keys.key_file,
            "cert_file": self.keys.cert_file,
            "xmlsec_binary": get_xmlsec_binary(),
            "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
        })
        self.server = Server(config=conf)
        ed = entity_descriptor(conf)
        ed.extensions = None  # pysaml2 lists every algorithm xmlsec1 knows, md5 included
        self.metadata = ed.to_string({"md": md.NAMESPACE, "ds": samlkit.xmldsig.NAMESPACE}).decode()

    # -- responses

    def signed_response(self, login=None, *, audience, recipient, in_response_to=None, name_id=None, email=None,
                        name_id_format=saml.NAMEID_FORMAT_PERSISTENT, destination=None, not_before=None,
                        not_on_or_after=None, sign_response=None, sign_assertion=None, issuer=None):
        """The XML of a signed Response for login (or for a name_id/email given as is)."""
        acct = samlkit.account(login) if login else None
        if login and acct is None:
            raise ValueError(f"invalid login {login!r}")
        if acct is None and not name_id:
            raise ValueError("login or name_id is needed")
        acct = acct or {"email": email or name_id, "name": name_id, "groups": ["users"]}
        if sign_response is None:
            sign_response = self.sign_mode in ("both", "response")
        if sign_assertion is None:
            sign_assertion = self.sign_mode in ("both", "assertion")
        response = samlkit.build_response(
            issuer=issuer or self.entity_id, audience=audience, recipient=recipient, destination=destination,
            in_response_to=in_response_to, name_id=name_id or acct["email"], name_id_format=name_id_format,
            email=email or acct["email"], name=acct["name"], groups=acct["groups"],
            not_before=not_before, not_on_or_after=not_on_or_after)
        return samlkit.sign(response, self.keys, sign_response=sign_response, sign_assertion=sign_assertion)

    def start_login(self, saml_request, binding, relay_state):
        """A pending login for an AuthnRequest (None: IdP-initiated); returns its state token."""
        if saml_request is None:
            audience, acs = self.sps.default()
            if not acs:
                raise ValueError("IdP-initiated login needs a configured SP (SAML_SP_ACS_URL or SAML_SP_METADATA_URL)")
            req = {"audience": audience, "acs": acs, "in_response_to": None,
                   "name_id_format": saml.NAMEID_FORMAT_PERSISTENT}
        else:
            if binding == BINDING_HTTP_POST:
                # AuthnRequest signatures are not checked (the IdP may not know the SP's
                # certificate): drop an enveloped one, which pysaml2 would try to verify.
                unsigned = samlp.authn_request_from_string(samlkit.unb64(saml_request))
                unsigned.signature = None
                saml_request = samlkit.b64(unsigned.to_string())
            msg = self.server.parse_authn_request(saml_request, binding).message
            issuer = msg.issuer.text.strip() if msg.issuer is not None and msg.issuer.text else ""
            fmt = msg.name_id_policy.format if msg.name_id_policy is not None else None
            req = {"audience": issuer, "acs": self.sps.resolve(issuer, msg.assertion_consumer_service_url),
                   "in_response_to": msg.id,
                   "name_id_format": fmt if fmt == saml.NAMEID_FORMAT_EMAILADDRESS else saml.NAMEID_FORMAT_PERSISTENT}
        req["relay_state"] = relay_state
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.pending[token] = req
        return token

    def finish_login(self, token, login):
        """(acs, SAMLResponse, RelayState) for a pending login; KeyError if none, ValueError for a bad login."""
        with self.lock:
            req = self.pending[token]
            if samlkit.account(login) is None:
                raise ValueError("unknown login name")
            del self.pending[token]
        xml = self.signed_response(login, audience=req["audience"], recipient=req["acs"],
                                   in_response_to=req["in_response_to"], name_id_format=req["name_id_format"])
        return req["acs"], samlkit.b64(xml), req["relay_state"]


# ---------------------------------------------------------------- HTML (as ../providers/pages.mjs)

def esc(s):
    return html.escape(str(s), quote=True)


def form(step, action, hidden, body=""):
    inputs = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
                     for k, v in hidden.items() if v is not None)
    return f'<form data-step="{step}" method="post" action="{esc(action)}">{inputs}{body}</form>'


def page(title, body, extra=""):
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
            f'<body><h1>{esc(title)}</h1>{body}{extra}</body></html>')


def login_page(token, error=None):
    return page("Sign in to the SAML IdP", (f'<p class="error">{esc(error)}</p>' if error else "") + form(
        "login", "/sso/login", {"state": token},
        '<input type="text" name="login" autofocus><button type="submit">Sign in</button>'))


def post_page(acs, saml_response, relay_state):
    return page("Signing you in", form("saml-post", acs, {"SAMLResponse": saml_response, "RelayState": relay_state},
                                       '<noscript><button type="submit">Continue</button></noscript>'),
                "<script>document.forms[0].submit()</script>")


def error_page(text):
    return page("SAML IdP error", f'<p class="error">{esc(text)}</p>')


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    idp: IdP  # set by serve()
    protocol_version = "HTTP/1.1"

    quiet = False

    def log_message(self, fmt, *args):
        if not self.quiet:
            sys.stderr.write("saml-idp: " + (fmt % args) + "\n")

    def send(self, status, body, ctype="text/html; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(n).decode()

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body(), keep_blank_values=True).items()}

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        if url.path == "/metadata":
            return self.send(200, self.idp.metadata, "application/samlmetadata+xml")
        if url.path == "/sso":
            return self.sso(query, BINDING_HTTP_REDIRECT)
        if url.path.startswith("/__canary/"):
            with self.idp.lock:
                self.idp.canary_hits.append(url.path)
            return self.send(200, "canary", "text/plain")
        if url.path == "/__control/canary":
            with self.idp.lock:
                return self.send(200, json.dumps({"hits": self.idp.canary_hits}), "application/json")
        self.send(404, error_page("not found"))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/sso":
                return self.sso(self.form(), BINDING_HTTP_POST)
            if path == "/sso/login":
                return self.login(self.form())
            if path == "/__control/sign":
                return self.control_sign(json.loads(self.body() or "{}"))
        except ValueError as e:
            if path.startswith("/__control/"):
                return self.send(400, json.dumps({"error": str(e)}), "application/json")
            return self.send(400, error_page(e))
        self.send(404, error_page("not found"))

    def sso(self, params, binding):
        try:
            token = self.idp.start_login(params.get("SAMLRequest"), binding, params.get("RelayState"))
        except Exception as e:  # noqa: BLE001 -- any bad request is a 400 page, never a redirect
            return self.send(400, error_page(f"bad AuthnRequest: {e}"))
        self.send(200, login_page(token))

    def login(self, params):
        token = params.get("state", "")
        try:
            acs, saml_response, relay_state = self.idp.finish_login(token, params.get("login", ""))
        except KeyError:
            return self.send(400, error_page("unknown or used login state"))
        except ValueError as e:
            return self.send(200, login_page(token, str(e)))
        self.send(200, post_page(acs, saml_response, relay_state))

    def control_sign(self, req):
        """JSON {login | name_id, email, audience, recipient, destination, not_before, not_on_or_after,
        in_response_to, sign_response, sign_assertion, name_id_format ("persistent"|"email"), issuer}
        -> {"SAMLResponse": base64, "xml": ...}. audience and recipient default to the configured SP."""
        allowed = {"login", "name_id", "email", "audience", "recipient", "destination", "not_before",
                   "not_on_or_after", "in_response_to", "sign_response", "sign_assertion", "name_id_format", "issuer"}
        unknown = set(req) - allowed
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        sp_entity, sp_acs = self.idp.sps.default() if self.idp.sps.configured else (None, None)
        fmt = {None: saml.NAMEID_FORMAT_PERSISTENT, "persistent": saml.NAMEID_FORMAT_PERSISTENT,
               "email": saml.NAMEID_FORMAT_EMAILADDRESS}.get(req.pop("name_id_format", None), None)
        if fmt is None:
            raise ValueError("name_id_format is persistent or email")
        req.setdefault("audience", sp_entity)
        req.setdefault("recipient", sp_acs)
        if not req["audience"] or not req["recipient"]:
            raise ValueError("audience and recipient are needed (no SP configured)")
        login = req.pop("login", None)
        xml = self.idp.signed_response(login, name_id_format=fmt, **req)
        self.send(200, json.dumps({"SAMLResponse": samlkit.b64(xml), "xml": xml}), "application/json")


def serve(port, env=os.environ, quiet=False):
    """The IdP on 127.0.0.1:port (0 = a free one), not yet serving: (httpd, idp).
    quiet: no request log on stderr."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    idp = IdP(httpd.server_address[1], env)
    httpd.RequestHandlerClass = type("BoundHandler", (Handler,), {"idp": idp, "quiet": quiet})
    return httpd, idp


def main():
    httpd, idp = serve(int(os.environ.get("SAML_IDP_PORT", "54633")))
    print(f"saml-idp ready {idp.base}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
