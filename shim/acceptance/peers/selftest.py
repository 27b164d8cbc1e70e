"""Checks the two delivery peers on their own, before the shim talks to them: a MIME mail sent
with smtplib lands decoded in the mail folder, a temporary failure is a 451, a signed webhook is
stored, forged / stale / unsigned ones are 401 and counted, a repeated webhook-id is stored once.

    selftest.py --smtp 127.0.0.1:PORT --mail-dir DIR --sms-url http://127.0.0.1:PORT --sms-dir DIR --secret v1,whsec_...

Prints "peers: N passed, M failed" last; exits non-zero on a failure. Uses addresses and a phone
(selftest-…@peers.invalid, 1999…) that no acceptance case uses.
"""
import argparse
import glob
import json
import os
import random
import smtplib
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sms_receiver import secret_key, sign  # noqa: E402

failed = []
passed = 0


def check(name, condition, detail=""):
    global passed
    if condition:
        passed += 1
    else:
        failed.append(name)
        print(f"FAIL {name} {detail}")


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json", **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for(pattern, predicate, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(glob.glob(pattern)):
            with open(path) as f:
                record = json.load(f)
            if predicate(record):
                return record
        time.sleep(0.05)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp", required=True)
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--sms-url", required=True)
    parser.add_argument("--sms-dir", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    host, port = args.smtp.rsplit(":", 1)
    tag = f"{int(time.time() * 1000)}-{random.randint(0, 10**6)}"

    # A multipart mail, quoted-printable HTML with non-ASCII text, as a mailer would send it.
    to = f"selftest-{tag}@peers.invalid"
    message = EmailMessage()
    message["From"] = "auth_ext tests <auth@example.com>"
    message["To"] = to
    message["Subject"] = "Confirm Your Signup ✓"
    message.set_content("Your code is 123456\nhttp://127.0.0.1:1/verify?token=abc&type=signup\n")
    message.add_alternative(
        '<h2>Confirm — your signup</h2><p><a href="http://127.0.0.1:1/verify?token=abc&amp;type=signup">Confirm</a></p>'
        "<p>Code: 123456</p>" + "<p>" + "x" * 2000 + "</p>",
        subtype="html",
    )
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)
    record = wait_for(os.path.join(args.mail_dir, "new", "*.json"), lambda r: to in r["rcpt_to"])
    check("the mail is stored", record is not None)
    if record:
        check("envelope and headers", record["mail_from"] == "auth@example.com" and record["subject"] == "Confirm Your Signup ✓", record)
        check("the HTML body decoded", 'href="http://127.0.0.1:1/verify?token=abc&amp;type=signup"' in (record["html"] or ""), record["html"])
        check("the text body decoded", "Your code is 123456" in (record["text"] or ""), record["text"])
        check("the raw message beside it", os.path.exists(os.path.join(args.mail_dir, "new", record["file"])))

    # A tempfail address: 451 first, accepted on the second try.
    to = f"tempfail1-{tag}@peers.invalid"
    message.replace_header("To", to)
    try:
        with smtplib.SMTP(host, int(port), timeout=10) as smtp:
            smtp.send_message(message)
        first = None
    except smtplib.SMTPDataError as e:
        first = e.smtp_code
    check("a tempfail address is refused with 451 first", first == 451, first)
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)
    check("and accepted on the retry", wait_for(os.path.join(args.mail_dir, "new", "*.json"), lambda r: to in r["rcpt_to"]) is not None)

    # The webhook: a genuine delivery, then forged ones.
    key = secret_key(args.secret)
    phone = "1999" + "".join(random.choice("0123456789") for _ in range(7))
    body = json.dumps({"user": {"id": "00000000-0000-0000-0000-000000000000", "phone": phone},
                       "sms": {"otp": "654321", "sms_type": "sms", "phone": phone}}).encode()
    url = args.sms_url.rstrip("/") + "/sms"
    before = get_json(args.sms_url.rstrip("/") + "/stats")
    now = str(int(time.time()))
    wid = f"msg_{tag}"
    good = {"webhook-id": wid, "webhook-timestamp": now, "webhook-signature": sign(key, wid, now, body)}
    status, _ = post(url, body, good)
    check("a signed delivery is 200", status == 200, status)
    stored = wait_for(os.path.join(args.sms_dir, "*.json"), lambda r: r["webhook_id"] == wid)
    check("and stored with its payload", stored is not None and stored["payload"]["sms"]["otp"] == "654321", stored)
    status, _ = post(url, body, {**good, "webhook-signature": f"v1,bad v1,{good['webhook-signature'][3:]}"})
    check("a repeated webhook-id is 200", status == 200, status)
    forged = [
        ("a wrong key", {**good, "webhook-id": wid + "x", "webhook-signature": sign(b"another key", wid + "x", now, body)}),
        ("a changed body's old signature", {**good, "webhook-id": wid + "y", "webhook-signature": sign(key, wid + "y", now, body + b" ")}),
        ("a stale timestamp", {**good, "webhook-id": wid + "z", "webhook-timestamp": str(int(now) - 600),
                               "webhook-signature": sign(key, wid + "z", str(int(now) - 600), body)}),
        ("no signature", {"webhook-id": wid + "w", "webhook-timestamp": now}),
    ]
    for what, headers in forged:
        status, _ = post(url, body, headers)
        check(f"{what} is 401", status == 401, status)
    after = get_json(args.sms_url.rstrip("/") + "/stats")
    check("counted: 1 accepted, 1 duplicate, 4 rejected",
          (after["accepted"] - before["accepted"], after["duplicates"] - before["duplicates"], after["rejected"] - before["rejected"]) == (1, 1, 4),
          (before, after))
    stored_ids = [r for r in (json.load(open(p)) for p in glob.glob(os.path.join(args.sms_dir, "*.json"))) if r["webhook_id"].startswith(wid)]
    check("only the genuine delivery is stored, once", len(stored_ids) == 1, len(stored_ids))
    # control: the next delivery to a phone fails on purpose
    post(f"{args.sms_url.rstrip('/')}/control/fail?phone={phone}&times=1", b"", {})
    wid2 = wid + "-2"
    signed = {"webhook-id": wid2, "webhook-timestamp": now, "webhook-signature": sign(key, wid2, now, body)}
    first, _ = post(url, body, signed)
    second, _ = post(url, body, signed)
    check("control/fail: 503, then 200", (first, second) == (503, 200), (first, second))

    print(f"peers: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
