"""What the flows tests read: the mails the SMTP catcher kept (MAIL_DIR/new/*.json) and the SMS
deliveries the webhook receiver kept (SMS_DIR/*.json), both written by shim/acceptance/peers/.
The Python twin of js/inbox.mjs."""
import html
import json
import os
import re
import time
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
MAIL_DIR = os.environ.get("MAIL_DIR") or os.path.join(HERE, "../../../build/test/mail")
SMS_DIR = os.environ.get("SMS_DIR") or os.path.join(HERE, "../../../build/test/sms")


def _records(directory):
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith("."))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        with open(os.path.join(directory, name)) as f:
            out.append(json.load(f))
    return out


def _html_text(markup):
    markup = re.sub(r"<(style|script|head)[\s\S]*?</\1>", " ", markup, flags=re.I)
    return html.unescape(re.sub(r"<[^>]*>", " ", markup))


def find_code(mail):
    """The first run of 6 to 10 digits in the text (or the HTML's text), URLs and email addresses
    (the tests' own hold digits) left out."""
    for source in (mail.get("text"), mail.get("html") and _html_text(mail["html"])):
        if not source:
            continue
        m = re.search(r"(?<![\d#])(\d{6,10})(?!\d)", re.sub(r"\S+@\S+", " ", re.sub(r"https?://\S+", " ", source)))
        if m:
            return m.group(1)
    return None


def find_links(mail):
    links = []
    if mail.get("html"):
        for m in re.finditer(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""", mail["html"], re.I):
            links.append(html.unescape(m.group(1) if m.group(1) is not None else m.group(2)))
    if mail.get("text"):
        links += re.findall(r"""https?://[^\s<>"')\]]+""", mail["text"])
    return list(dict.fromkeys(links))


def parse_mail(record):
    links = find_links(record)
    link = next((l for l in links if "/verify?" in l), None)
    params = dict(parse_qsl(urlsplit(link).query)) if link else {}
    hash_link = next((l for l in links if "token_hash=" in l), None)
    token_hash = dict(parse_qsl(urlsplit(hash_link).query))["token_hash"] if hash_link else params.get("token")
    return {**record, "links": links, "link": link, "params": params, "code": find_code(record), "token_hash": token_hash}


def mails_to(address):
    address = address.strip().lower()
    return [parse_mail(r) for r in _records(os.path.join(MAIL_DIR, "new")) if any(a.strip().lower() == address for a in r["rcpt_to"])]


def wait_for_mail(address, after=0, timeout=20):
    """The newest mail to the address once more than `after` arrived, waiting up to `timeout` s."""
    deadline = time.time() + timeout
    while True:
        mails = mails_to(address)
        if len(mails) > after:
            return mails[-1]
        if time.time() > deadline:
            raise TimeoutError(f"no mail to {address} within {timeout} s (had {len(mails)}, waited for more than {after})")
        time.sleep(0.1)


def mail_after(address, action, timeout=20):
    """Runs action(), returns (its result, the new mail it caused)."""
    after = len(mails_to(address))
    result = action()
    return result, wait_for_mail(address, after, timeout)


def digits(phone):
    return "".join(ch for ch in str(phone or "") if ch.isdigit())


def sms_to(phone):
    return [
        {**r, "otp": r["payload"]["sms"]["otp"], "sms_type": r["payload"]["sms"].get("sms_type")}
        for r in _records(SMS_DIR)
        if digits((r.get("payload") or {}).get("sms", {}).get("phone")) == digits(phone)
    ]


def wait_for_sms(phone, after=0, timeout=20):
    deadline = time.time() + timeout
    while True:
        found = sms_to(phone)
        if len(found) > after:
            return found[-1]
        if time.time() > deadline:
            raise TimeoutError(f"no SMS to {phone} within {timeout} s (had {len(found)}, waited for more than {after})")
        time.sleep(0.1)


def sms_after(phone, action, timeout=20):
    after = len(sms_to(phone))
    result = action()
    return result, wait_for_sms(phone, after, timeout)
