"""What the IdP, the attack kit and the self-test share: accounts, keys,
and building + signing a SAML 2.0 Response with pysaml2 (signing is done by
pysaml2 through the xmlsec1 binary).

The account rule is the one of ../providers/accounts.mjs: login X is
X@example.com; alice, bob and carol have fixed names.
"""
import atexit
import base64
import datetime as dt
import os
import re
import shutil
import tempfile
import warnings

# before pysaml2 is imported (so the imports below are not at the top)
warnings.filterwarnings("ignore", message=".*CFB has been moved")  # pysaml2 7.5 with cryptography >= 46

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from saml2 import saml, samlp, xmldsig  # noqa: E402
from saml2.s_utils import sid  # noqa: E402
from saml2.sigver import CryptoBackendXmlSec1, SecurityContext, get_xmlsec_binary, pre_signature_part  # noqa: E402

# ---------------------------------------------------------------- accounts

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
FIXED_NAMES = {"alice": "Alice Example", "bob": "Bob Example", "carol": "Carol Example"}
# groups: every account is in "users"; alice is also in "admins".
ADMINS = {"alice"}


def valid_login(login):
    return isinstance(login, str) and bool(LOGIN_RE.match(login))


def account(login):
    """The account for a login name, or None if the name is not valid."""
    if not valid_login(login):
        return None
    return {
        "login": login,
        "email": f"{login}@example.com",
        "name": FIXED_NAMES.get(login, login),
        "groups": ["users"] + (["admins"] if login in ADMINS else []),
    }


# ---------------------------------------------------------------- keys

class KeyPair:
    """An RSA-2048 key and a self-signed certificate, written as PEM files
    into a temporary directory (xmlsec1 reads files)."""

    def __init__(self, common_name):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        self.dir = tempfile.mkdtemp(prefix="saml-key-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.key_file = os.path.join(self.dir, "key.pem")
        self.cert_file = os.path.join(self.dir, "cert.pem")
        with open(self.key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
        with open(self.cert_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        # The base64 body of the certificate, as in <ds:X509Certificate>.
        self.cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._sec = None

    @property
    def sec(self):
        if self._sec is None:
            self._sec = SecurityContext(CryptoBackendXmlSec1(get_xmlsec_binary()),
                                        key_file=self.key_file, cert_file=self.cert_file)
        return self._sec


# ---------------------------------------------------------------- responses

def instant(t):
    """A SAML dateTime (UTC, seconds) for a datetime or a unix time."""
    if isinstance(t, (int, float)):
        t = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value, default):
    """A unix time (number) or an ISO 8601 string -> SAML dateTime; None -> default."""
    if value is None:
        return instant(default)
    if isinstance(value, (int, float)):
        return instant(value)
    return instant(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def _attribute(name, values):
    return saml.Attribute(
        name=name, friendly_name=name, name_format=saml.NAME_FORMAT_BASIC,
        attribute_value=[saml.AttributeValue(text=v) for v in values])


def build_response(*, issuer, audience, recipient, name_id, email, name, groups,
                   destination=None, in_response_to=None, name_id_format=saml.NAMEID_FORMAT_PERSISTENT,
                   not_before=None, not_on_or_after=None, lifetime=300):
    """An unsigned samlp.Response holding one bearer Assertion.

    recipient is SubjectConfirmationData/@Recipient and, unless destination is
    given, Response/@Destination. Times are parse_time() values.
    """
    now = dt.datetime.now(dt.timezone.utc)
    nb = parse_time(not_before, now - dt.timedelta(seconds=30))
    noa = parse_time(not_on_or_after, now + dt.timedelta(seconds=lifetime))
    assertion = saml.Assertion(
        id=sid(), version="2.0", issue_instant=instant(now),
        issuer=saml.Issuer(text=issuer, format=saml.NAMEID_FORMAT_ENTITY),
        subject=saml.Subject(
            name_id=saml.NameID(format=name_id_format, text=name_id),
            subject_confirmation=[saml.SubjectConfirmation(
                method=saml.SCM_BEARER,
                subject_confirmation_data=saml.SubjectConfirmationData(
                    recipient=recipient, not_on_or_after=noa, in_response_to=in_response_to))]),
        conditions=saml.Conditions(
            not_before=nb, not_on_or_after=noa,
            audience_restriction=[saml.AudienceRestriction(audience=[saml.Audience(text=audience)])]),
        authn_statement=[saml.AuthnStatement(
            authn_instant=instant(now), session_index=sid(),
            authn_context=saml.AuthnContext(
                authn_context_class_ref=saml.AuthnContextClassRef(text=saml.AUTHN_PASSWORD_PROTECTED)))],
        attribute_statement=[saml.AttributeStatement(attribute=[
            _attribute("email", [email]), _attribute("name", [name]), _attribute("groups", groups)])],
    )
    return samlp.Response(
        id=sid(), version="2.0", issue_instant=instant(now),
        destination=destination or recipient, in_response_to=in_response_to,
        issuer=saml.Issuer(text=issuer, format=saml.NAMEID_FORMAT_ENTITY),
        status=samlp.Status(status_code=samlp.StatusCode(value=samlp.STATUS_SUCCESS)),
        assertion=[assertion],
    )


NSPAIR = {"samlp": samlp.NAMESPACE, "saml": saml.NAMESPACE, "ds": xmldsig.NAMESPACE,
          "xs": "http://www.w3.org/2001/XMLSchema", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}


def sign(response, keys, *, sign_response=True, sign_assertion=True):
    """XML text of a samlp.Response, signed with keys (RSA-SHA256, exclusive
    C14N, the certificate in KeyInfo): the Assertion first, then the Response
    around it. Any signature it had is dropped first."""
    response.signature = None
    for a in response.assertion:
        a.signature = None

    def template(ident):
        return pre_signature_part(ident, public_key=keys.cert_b64,
                                  sign_alg=xmldsig.SIG_RSA_SHA256, digest_alg=xmldsig.DIGEST_SHA256)

    assertion = response.assertion[0]
    if sign_assertion:
        assertion.signature = template(assertion.id)
    if sign_response:
        response.signature = template(response.id)
    xml = response.to_string(NSPAIR).decode()
    if sign_assertion:
        xml = keys.sec.sign_statement(xml, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                                      key_file=keys.key_file, node_id=assertion.id)
    if sign_response:
        xml = keys.sec.sign_statement(xml, "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                                      key_file=keys.key_file, node_id=response.id)
    return xml if isinstance(xml, str) else xml.decode()


def b64(xml):
    return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()


def unb64(value):
    return base64.b64decode(value).decode()
