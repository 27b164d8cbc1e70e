"""Self-test of the IdP and the attack kit, with pysaml2's own SP as the judge.

Starts the IdP on a free port, logs in through it as a browser would
(AuthnRequest -> login form -> auto-posting form), verifies the SAMLResponse
with a pysaml2 SP configured from the IdP's metadata, then feeds that SP every
attack variant. Prints "N passed, M failed"; exits 1 on any failure.
"""
import base64
import html
import io
import json
import logging
import re
import subprocess
import sys
import tempfile
import threading
import traceback
import urllib.error
import urllib.parse
import urllib.request
import xml.sax
import xml.sax.handler
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

import samlkit  # first: it quiets a warning that importing pysaml2 prints
import attacks
import idp as idp_mod
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.sigver import get_xmlsec_binary

logging.disable(logging.CRITICAL)  # pysaml2 logs every refusal as an error

SP_BASE = "http://127.0.0.1:9/auth/v1/sso/saml"  # GoTrue's paths; nothing listens there
SP_ENTITY, SP_ACS = f"{SP_BASE}/metadata", f"{SP_BASE}/acs"

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def start(env):
    httpd, idp = idp_mod.serve(0, env, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, idp


def sp_client(idp, allow_unsolicited=False, signing_keys=None):
    """A pysaml2 SP; signing_keys (a samlkit.KeyPair): it signs its AuthnRequests, as GoTrue does."""
    conf = SPConfig()
    keys = {"key_file": signing_keys.key_file, "cert_file": signing_keys.cert_file} if signing_keys else {}
    conf.load({
        **keys,
        "entityid": SP_ENTITY,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(SP_ACS, BINDING_HTTP_POST)]},
            # like GoTrue (crewjam/saml): a signed Response or a signed Assertion
            "want_response_signed": False, "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
            "allow_unsolicited": allow_unsolicited, "authn_requests_signed": bool(signing_keys),
        }},
        "metadata": {"inline": [idp.metadata]},
        "allow_unknown_attributes": True,  # email, name, groups: basic names pysaml2 has no converter for
        "xmlsec_binary": get_xmlsec_binary(),
    })
    return Saml2Client(config=conf)


# ---------------------------------------------------------------- a browser, just enough

def http(url, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def forms(page):
    """{data-step: (action, {field: value})} of an HTML page (as ../providers/browser.mjs)."""
    out = {}
    for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        a = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', attrs)}
        fields = {}
        for inp in re.findall(r"<input\b([^>]*)>", inner):
            ia = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', inp)}
            if "name" in ia:
                fields[ia["name"]] = ia.get("value", "")
        out[a.get("data-step")] = (a.get("action"), fields)
    return out


def login_flow(idp, sso_status_page, login):
    """From the page /sso answered to the saml-post form: (action, fields)."""
    action, fields = forms(sso_status_page)["login"]
    status, page = http(urllib.parse.urljoin(idp.base, action), {**fields, "login": login})
    assert status == 200, (status, page)
    return forms(page)["saml-post"]


def parse(client, b64, outstanding):
    """pysaml2's verdict: the AuthnResponse, or the exception it refused with.
    pysaml2 refuses some responses (e.g. a foreign Destination) by returning
    None or a response object without an assertion: both count as refusals."""
    try:
        r = client.parse_authn_request_response(b64, BINDING_HTTP_POST, outstanding=outstanding)
        if r is None or r.assertion is None or r.name_id is None:
            return Exception(f"no verified assertion (pysaml2 returned {'None' if r is None else 'no assertion'})")
        return r
    except Exception as e:  # noqa: BLE001 -- any exception is a refusal
        return e


# ---------------------------------------------------------------- the checks

def idp_checks(idp, client):
    status, page = http(f"{idp.base}/metadata")
    check("GET /metadata", status == 200 and idp.keys.cert_b64 in page and f'entityID="{idp.entity_id}"' in page)

    # HTTP-Redirect binding, as GoTrue sends it
    reqid, info = client.prepare_for_authenticate(entityid=idp.entity_id, relay_state="rs-123",
                                                  binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    status, page = http(location)
    check("redirect AuthnRequest -> login form", status == 200 and "login" in forms(page))
    action, post = login_flow(idp, page, "mallory")
    check("saml-post form to the ACS with RelayState", action == SP_ACS and post.get("RelayState") == "rs-123")
    r = parse(client, post["SAMLResponse"], {reqid: "/"})
    ok = not isinstance(r, Exception)
    check("pysaml2 SP accepts the IdP's response", ok, "" if ok else repr(r))
    if ok:
        check("NameID persistent mallory@example.com",
              r.name_id.text == "mallory@example.com" and r.name_id.format == saml.NAMEID_FORMAT_PERSISTENT)
        check("attributes email, name, groups",
              r.ava.get("email") == ["mallory@example.com"] and r.ava.get("name") == ["mallory"]
              and r.ava.get("groups") == ["users"], json.dumps(r.ava))
    f = attacks.facts(post["SAMLResponse"])
    check("Response and Assertion signed, InResponseTo set",
          f["response_signed"] and f["assertion_signed"] and f["in_response_to"] == reqid)

    # HTTP-POST binding, asking for an email NameID; alice is in admins
    reqid2, req = client.create_authn_request(idp.sso_url, nameid_format=saml.NAMEID_FORMAT_EMAILADDRESS)
    status, page = http(idp.sso_url, {"SAMLRequest": base64.b64encode(str(req).encode()).decode(), "RelayState": "x"})
    check("POST AuthnRequest -> login form", status == 200 and "login" in forms(page))
    status, bad = http(urllib.parse.urljoin(idp.base, forms(page)["login"][0]),
                       {**forms(page)["login"][1], "login": "no such/user"})
    check("invalid login name -> the login form again, with an error",
          status == 200 and "login" in forms(bad) and 'class="error"' in bad)
    _, post2 = login_flow(idp, page, "alice")
    r2 = parse(client, post2["SAMLResponse"], {reqid2: "/"})
    check("email NameID on request, alice in admins",
          not isinstance(r2, Exception) and r2.name_id.format == saml.NAMEID_FORMAT_EMAILADDRESS
          and r2.ava.get("groups") == ["users", "admins"], repr(r2) if isinstance(r2, Exception) else "")
    status, _ = http(urllib.parse.urljoin(idp.base, forms(page)["login"][0]), {**forms(page)["login"][1], "login": "x"})
    check("a login state is used once", status == 400)

    # an ACS URL the SP did not register is refused (400 page, never a post)
    _, req3 = client.create_authn_request(idp.sso_url, assertion_consumer_service_url="https://evil.example.com/acs")
    status, page = http(idp.sso_url, {"SAMLRequest": base64.b64encode(str(req3).encode()).decode()})
    check("unregistered ACS URL -> 400, no form", status == 400 and "saml-post" not in page)

    # IdP-initiated: no SAMLRequest
    status, page = http(f"{idp.sso_url}?RelayState=https%3A%2F%2Fapp.example%2Fhome")
    _, post4 = login_flow(idp, page, "carol")
    r4 = parse(sp_client(idp, allow_unsolicited=True), post4["SAMLResponse"], {})
    check("IdP-initiated login", not isinstance(r4, Exception) and r4.name_id.text == "carol@example.com"
          and post4["RelayState"] == "https://app.example/home", repr(r4) if isinstance(r4, Exception) else "")

    # signed AuthnRequests (the IdP does not check their signatures, nor trip on them)
    signer = sp_client(idp, signing_keys=samlkit.KeyPair("sp"))
    _, info = signer.prepare_for_authenticate(entityid=idp.entity_id, binding=BINDING_HTTP_REDIRECT, sign=True)
    location = dict(info["headers"])["Location"]
    status, page = http(location)
    check("signed redirect AuthnRequest -> login form",
          "Signature=" in location and status == 200 and "login" in forms(page))
    _, req5 = signer.create_authn_request(idp.sso_url, sign=True)
    status, page = http(idp.sso_url, {"SAMLRequest": base64.b64encode(str(req5).encode()).decode()})
    check("signed POST AuthnRequest -> login form",
          "Signature" in str(req5) and status == 200 and "login" in forms(page))
    return post["SAMLResponse"], reqid


def metadata_url_check():
    """SAML_SP_METADATA_URL: the IdP fetches the SP's metadata and posts to its ACS."""
    conf = SPConfig()
    conf.load({"entityid": SP_ENTITY, "service": {"sp": {
        "endpoints": {"assertion_consumer_service": [(SP_ACS, BINDING_HTTP_POST)]}}}})
    sp_md = entity_descriptor(conf).to_string()

    class MD(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(sp_md)))
            self.end_headers()
            self.wfile.write(sp_md)

        def log_message(self, *a):
            pass

    mdsrv = ThreadingHTTPServer(("127.0.0.1", 0), MD)
    threading.Thread(target=mdsrv.serve_forever, daemon=True).start()
    httpd, idp = start({"SAML_SP_METADATA_URL": f"http://127.0.0.1:{mdsrv.server_address[1]}/md"})
    try:
        client = sp_client(idp)
        _, req = client.create_authn_request(idp.sso_url)
        status, page = http(idp.sso_url, {"SAMLRequest": base64.b64encode(str(req).encode()).decode()})
        action, post = login_flow(idp, page, "dave")
        check("SAML_SP_METADATA_URL: ACS and audience from the SP's metadata",
              action == SP_ACS and attacks.facts(post["SAMLResponse"])["audience"] == SP_ENTITY)
    finally:
        httpd.shutdown()
        mdsrv.shutdown()


def canary_hits(idp):
    return json.loads(http(f"{idp.base}/__control/canary")[1])["hits"]


def signatures_verifying(b64, cert_file):
    """For each ds:Signature of a response, in document order: does xmlsec1 verify it
    with cert_file? (What a naive SP checks before reading the first assertion.)"""
    doc = base64.b64decode(b64)
    found = []
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(doc)
        f.flush()
        for i in range(1, doc.count(b"<ds:Signature>") + 1):
            p = subprocess.run([get_xmlsec_binary(), "--verify", "--pubkey-cert-pem", cert_file,
                                "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                                "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                                "--node-xpath", f"(//*[local-name()='Signature'])[{i}]", f.name],
                               capture_output=True, check=False)
            found.append(p.returncode == 0)
    return found


def kit_checks(idp, original):
    """The variants are what they say: the wraps keep a valid IdP signature
    while the first assertion names the victim, so only a careful SP refuses them."""
    for name in ["xsw1", "xsw2", "xsw3", "xsw4", "xsw5", "xsw7"]:
        v = attacks.VARIANTS[name][0](original, victim="alice")
        check(f"kit: {name} keeps a valid signature, first assertion is alice's",
              any(signatures_verifying(v, idp.keys.cert_file)) and attacks.facts(v)["name_id"] == "alice@example.com")
    for name in ["xsw6", "xsw8"]:  # the original sits inside the Signature: enveloped-signature removes it
        v = attacks.VARIANTS[name][0](original, victim="alice")
        print(f"info kit: {name}: signatures xmlsec1 verifies: {signatures_verifying(v, idp.keys.cert_file)}")
    for name in ["unsigned", "other_user", "stranger_key"]:
        v = attacks.VARIANTS[name][0](original, victim="alice")
        check(f"kit: {name} has no signature the IdP's key verifies",
              not any(signatures_verifying(v, idp.keys.cert_file)))
    ci = attacks.comment_injection(original, idp=idp.base, victim="alice")
    check("kit: comment_injection keeps a valid signature",
          all(signatures_verifying(ci, idp.keys.cert_file))
          and "alice@example.com<!---->.evil.com" in base64.b64decode(ci).decode())
    v = base64.b64decode(attacks.xxe(original))  # the file entity alone: lxml refuses network ones
    doc = etree.fromstring(v, etree.XMLParser(resolve_entities=True, load_dtd=True))
    nid = doc.find("saml:Assertion/saml:Subject/saml:NameID", attacks.NS).text
    check("kit: xxe reads a local file in a parser that resolves entities",
          nid.startswith("mallory@example.com") and nid != "mallory@example.com", repr(nid))
    v = base64.b64decode(attacks.xxe(original, idp=idp.base))
    sax = xml.sax.make_parser()
    sax.setFeature(xml.sax.handler.feature_external_ges, True)
    sax.parse(io.BytesIO(v))
    check("kit: xxe reaches the canary in a parser that fetches external entities", canary_hits(idp) != [])
    big = attacks.huge(original)
    check("kit: huge is over 5 MB and keeps valid signatures",
          len(base64.b64decode(big)) > 5 << 20 and all(signatures_verifying(big, idp.keys.cert_file)))


MUST_REFUSE = ["unsigned", "other_user", "xsw1", "xsw2", "xsw3", "xsw4", "xsw5", "xsw6", "xsw7", "xsw8",
               "expired", "wrong_audience", "wrong_recipient", "xxe", "billion_laughs", "stranger_key"]


def attack_checks(idp, client, original, reqid):
    outstanding = {reqid: "/"}
    control = attacks._resign_like(original, idp.base)
    r = parse(client, control, outstanding)
    check("control: re-signed by /__control/sign, unchanged -> accepted", not isinstance(r, Exception),
          repr(r) if isinstance(r, Exception) else "")
    accepted = []
    hits_before = canary_hits(idp)
    for name in MUST_REFUSE:
        variant = attacks.VARIANTS[name][0](original, idp=idp.base, victim="alice")
        r = parse(client, variant, outstanding)
        refused = isinstance(r, Exception)
        if not refused:
            accepted.append(name)
        check(f"refuses {name}", refused,
              f"{type(r).__name__}: {str(r)[:90]}" if refused else f"ACCEPTED as {r.name_id.text}")
    check("xxe: the SP fetched no external entity", canary_hits(idp) == hits_before)

    r = parse(client, attacks.comment_injection(original, idp=idp.base, victim="alice"), outstanding)
    who = "refused" if isinstance(r, Exception) else r.name_id.text
    check("comment_injection: not read as alice@example.com", who != "alice@example.com", who)

    # informational: what pysaml2 alone does; the SP around it must refuse these
    r = parse(client, attacks.huge(original), outstanding)
    print(f"info huge (5 MB, signature valid): pysaml2 {'refused' if isinstance(r, Exception) else 'ACCEPTED'}"
          " -- the SP needs its own size limit")
    first, second = parse(client, original, outstanding), parse(client, original, outstanding)
    print(f"info replayed: pysaml2 {'ACCEPTED' if not isinstance(second, Exception) else 'refused'} the same"
          " response twice with the same outstanding request -- the SP must use up InResponseTo/RelayState")
    check("replayed: refused once the request is used up",
          not isinstance(first, Exception) and isinstance(parse(client, original, {}), Exception))
    return accepted


def main():
    httpd, idp = start({"SAML_SP_ENTITY_ID": SP_ENTITY, "SAML_SP_ACS_URL": SP_ACS})
    accepted = []
    try:
        client = sp_client(idp)
        original, reqid = idp_checks(idp, client)
        kit_checks(idp, original)
        accepted = attack_checks(idp, client, original, reqid)
        metadata_url_check()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        results.append(False)
    finally:
        httpd.shutdown()
    if accepted:
        print(f"pysaml2 accepted: {', '.join(accepted)}")
    passed, failed = results.count(True), results.count(False)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
