"""auth_saml against the real IdP (shim/acceptance/saml/idp.py) and every attack variant.

    saml/tests/run.sh        # builds the CLI, makes the venv, runs this

Starts the IdP in-process on a free port with this SP's entity ID and ACS, builds the
AuthnRequest with auth_saml (HTTP-Redirect), logs in through the IdP's form as a browser would,
and hands auth_saml's verifier (saml_cli verify) the valid response, the kit's variants and a few
more made with /__control/sign. Prints a table and "N passed, N failed"; exit 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.join(HERE, "..", "..", "shim", "acceptance", "saml")
sys.path.insert(0, KIT)

import samlkit  # noqa: E402,F401  (first: it quiets pysaml2)
import attacks  # noqa: E402
import idp as idp_mod  # noqa: E402
from selftest import forms, http  # noqa: E402

CLI = os.environ.get("SAML_CLI") or sys.argv[1]
SP_BASE = "http://127.0.0.1:9/auth/v1/sso/saml"  # nothing listens: the driver posts nothing there
SP_ENTITY, SP_ACS = f"{SP_BASE}/metadata", f"{SP_BASE}/acs"

results = []


def cli(obj):
    p = subprocess.run([CLI], input=json.dumps(obj), capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"saml_cli failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout)


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def main():
    env = dict(os.environ, SAML_SP_ENTITY_ID=SP_ENTITY, SAML_SP_ACS_URL=SP_ACS)
    httpd, idp = idp_mod.serve(0, env, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    status, md = http(f"{idp.base}/metadata")
    cert_b64 = re.search(r"<(?:ds:)?X509Certificate>([^<]+)<", md).group(1).strip()
    cert_pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
        cert_b64[i:i + 64] for i in range(0, len(cert_b64), 64)) + "\n-----END CERTIFICATE-----\n"

    # SP metadata and the AuthnRequest, built by auth_saml.
    spmd = cli({"op": "metadata", "sp_entity_id": SP_ENTITY, "acs_url": SP_ACS})["xml"]
    check("SP metadata names the entity and the ACS", f'entityID="{SP_ENTITY}"' in spmd and SP_ACS in spmd)
    req = cli({"op": "request", "idp_sso_url": idp.sso_url, "sp_entity_id": SP_ENTITY,
               "acs_url": SP_ACS, "relay_state": "0b5e4b0e-6a51-4f38-9b3c-0d1f3c2b9a11"})
    status, page = http(req["url"])
    check("the IdP takes auth_saml's redirect AuthnRequest (login form)", status == 200 and "login" in forms(page),
          f"HTTP {status}")
    action, fields = forms(page)["login"]
    status, page = http(urllib.parse.urljoin(idp.base, action), {**fields, "login": "mallory"})
    acs, post = forms(page)["saml-post"]
    check("the IdP posts to our ACS with our RelayState",
          acs == SP_ACS and post.get("RelayState") == "0b5e4b0e-6a51-4f38-9b3c-0d1f3c2b9a11")
    valid = post["SAMLResponse"]
    rid = req["id"]
    check("the response answers our request", attacks.facts(valid)["in_response_to"] == rid)

    def sign(**fields):
        return attacks.sign_via_idp(idp.base, **fields)

    # (name, b64, expected_request_id, should_accept, options); the attack variants are judged by
    # the verifier alone (guard off: the valid response already took their request ID), the
    # replays by the database's guard as well.
    cases = [("valid (login form, Response+Assertion signed)", valid, rid, True, {})]
    variants = {}
    for name, (fn, needs_idp) in attacks.VARIANTS.items():
        if name == "replayed":
            continue
        variants[name] = fn(valid, idp=idp.base if needs_idp else None, victim="alice")
        cases.append((name, variants[name], rid, False, {"guard": False}))
    cases.append(("replayed", attacks.replayed(valid), rid, False, {}))
    # Defence in depth: each wrapping variant again with the structural checks off, to see what
    # the next layer (the signature shape, then libxmlsec1's pre-digest alone) refuses.
    for name in [n for n in attacks.VARIANTS if n.startswith("xsw")]:
        cases.append((f"{name} [no one-assertion check]", variants[name], rid, False,
                      {"guard": False, "one_assertion": False}))
        cases.append((f"{name} [pre-digest only]", variants[name], rid, False,
                      {"guard": False, "one_assertion": False, "signature_shape": False}))
    # More from /__control/sign, each with a fresh request ID of its own.
    extra = [
        ("assertion signed only", dict(sign_response=False, sign_assertion=True), True),
        ("response signed only", dict(sign_response=True, sign_assertion=False), True),
        ("neither signed (IdP)", dict(sign_response=False, sign_assertion=False), False),
        ("email NameID format", dict(name_id_format="email"), True),
        ("other request's InResponseTo", dict(in_response_to="_someone_elses"), False),
        ("not yet valid (NotBefore +1 h)", dict(not_before="+3600"), False),
        ("Recipient another ACS, Destination ours", dict(recipient="https://evil.example.com/acs",
                                                         destination=SP_ACS), False),
        ("other issuer, IdP's key", dict(issuer="https://evil.example.com/idp"), False),
    ]
    import time
    for name, fields, accept in extra:
        fid = f"_drv{os.urandom(8).hex()}"
        if "not_before" in fields:
            fields = dict(fields, not_before=int(time.time()) + 3600, not_on_or_after=int(time.time()) + 7200)
        body = {"login": "bob", "in_response_to": fid, **fields}
        if fields.get("in_response_to"):
            body["in_response_to"] = fields["in_response_to"]
        cases.append((name, sign(**body), fid, accept, {}))
    # IdP-initiated: no InResponseTo, no request ID expected.
    status, page = http(f"{idp.sso_url}?RelayState=https%3A%2F%2Fapp.example%2Fhome")
    a2, f2 = forms(page)["login"]
    _, page = http(urllib.parse.urljoin(idp.base, a2), {**f2, "login": "carol"})
    unsolicited = forms(page)["saml-post"][1]["SAMLResponse"]
    cases.append(("IdP-initiated (no request)", unsolicited, None, True, {}))
    cases.append(("IdP-initiated, replayed", unsolicited, None, False, {}))
    cases.append(("IdP-initiated, posted as an answer to our request", unsolicited, rid, False, {"guard": False}))

    hits_before = json.loads(http(f"{idp.base}/__control/canary")[1])["hits"]
    out = cli({"op": "verify", "idp_entity_id": idp.entity_id, "idp_cert_pem": cert_pem,
               "sp_entity_id": SP_ENTITY, "acs_url": SP_ACS,
               "cases": [{"name": n, "b64": b, "expected_request_id": r, **o} for n, b, r, _, o in cases]})
    hits_after = json.loads(http(f"{idp.base}/__control/canary")[1])["hits"]

    print(f"\n| case | verdict | refused by | check | time |\n|---|---|---|---|---|")
    rows = []
    for (name, _, _, accept, _), r in zip(cases, out["results"]):
        verdict = "accepted" if r["accepted"] else "refused"
        who = r.get("by", "")
        why = r.get("refusal", "")
        if r["accepted"]:
            a = r["assertion"]
            why = f'{a["name_id"]} ({"Response" if a["response_signed"] else "Assertion"} signed)'
        rows.append((name, verdict, who, why, r["micros"]))
        print(f"| {name} | {verdict} | {who} | {why} | {r['micros'] / 1000:.1f} ms |")
    print()
    for (name, _, _, accept, _), r in zip(cases, out["results"]):
        if name == "comment_injection":
            a = r.get("assertion")
            ok = not r["accepted"] or (a and a["name_id"] == "alice@example.com.evil.com")
            check("comment_injection: refused or read whole", ok, json.dumps(r.get("refusal") or a["name_id"]))
        elif "[" in name:
            # A layer alone: it must not be fooled. Refusing is right; so is reading only what
            # was signed (the genuine user, mallory), never the victim.
            a = r.get("assertion") or {}
            ok = not r["accepted"] or a.get("name_id") == "mallory@example.com"
            check(f"{name}: never the victim", ok, r.get("refusal") or f'read the signed {a.get("name_id")}')
        else:
            check(f"{name}: {'accepted' if accept else 'refused'}", r["accepted"] == accept,
                  r.get("refusal") or r.get("assertion", {}).get("name_id", ""))
        if name.startswith("valid") and r["accepted"]:
            a = r["assertion"]
            attrs = {x["name"]: x["values"] for x in a["attributes"]}
            check("valid: NameID, attributes, issuer",
                  a["name_id"] == "mallory@example.com" and attrs.get("email") == ["mallory@example.com"]
                  and attrs.get("groups") == ["users"] and a["issuer"] == idp.entity_id, json.dumps(attrs))
    check("xxe: the IdP's canary was never fetched", hits_after == hits_before, json.dumps(hits_after))
    slow = [(n, m) for n, _, _, _, m in rows if m > 500_000]
    check("every verdict in under 0.5 s", not slow, json.dumps(slow))
    httpd.shutdown()
    failed = results.count(False)
    print(f"\n{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
