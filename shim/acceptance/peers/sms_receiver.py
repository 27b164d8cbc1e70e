"""The receiving end of the shim's SMS webhook, for the flows acceptance: checks the Standard
Webhooks signature and keeps each delivery as a file.

    sms_receiver.py --port 54403 --dir build/test/sms --secret v1,whsec_<base64> [--host 127.0.0.1]

POST /sms (any path but the ones below) with webhook-id, webhook-timestamp and webhook-signature
(`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, several space-separated allowed; the
key is the base64 after `whsec_` of the secret): a valid one is written to DIR/NAME.json as
{received_at, webhook_id, webhook_timestamp, webhook_signature, body (the raw body, text),
payload (the parsed JSON: Supabase's send-SMS hook input {user, sms: {otp, sms_type, phone}})}
and answered 200 `{}`. A missing or wrong signature, or a timestamp more than 5 minutes away,
is answered 401 and counted; a body that is not JSON is 400. A webhook-id seen before is answered
200 and not stored again (at-least-once delivery: a retry of a delivery that arrived).

GET /stats: {"accepted", "rejected", "duplicates", "failed_on_purpose"}.
POST /control/fail?phone=DIGITS&times=N: answer 503 to the next N deliveries to that phone
(to show that the sender retries).
GET /health: {}.
"""
import argparse
import base64
import hashlib
import hmac
import itertools
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOLERANCE_SECONDS = 300


def secret_key(secret):
    """The HMAC key of a `v1,whsec_<base64>` (or `whsec_<base64>`) secret."""
    value = secret.strip()
    if value.startswith("v1,"):
        value = value[3:]
    if value.startswith("whsec_"):
        value = value[len("whsec_"):]
    return base64.b64decode(value)


def sign(key, webhook_id, timestamp, body):
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(key, headers, body, now=None):
    """None when the delivery is genuine, else the reason it is not."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        ts = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not an integer"
    if abs((now or time.time()) - ts) > TOLERANCE_SECONDS:
        return "webhook-timestamp too far from now"
    expected = sign(key, webhook_id, timestamp, body)
    for candidate in signatures.split(" "):
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected.encode()):
            return None
    return "no matching v1 signature"


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, directory, key):
        super().__init__(address, Handler)
        self.directory = directory
        self.key = key
        self.lock = threading.Lock()
        self.sequence = itertools.count()
        self.stats = {"accepted": 0, "rejected": 0, "duplicates": 0, "failed_on_purpose": 0}
        self.seen_ids = set()
        self.fail = {}  # phone -> deliveries still to refuse


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, fmt, *args):
        print(f"sms receiver: {self.address_string()} {fmt % args}", flush=True)

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/stats":
            with self.server.lock:
                return self.answer(200, dict(self.server.stats))
        if path == "/health":
            return self.answer(200, {})
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        if url.path == "/control/fail":
            query = parse_qs(url.query)
            phone = "".join(ch for ch in query.get("phone", [""])[0] if ch.isdigit())
            with server.lock:
                server.fail[phone] = int(query.get("times", ["1"])[0])
            return self.answer(200, {"phone": phone, "times": server.fail[phone]})
        headers = {k.lower(): v for k, v in self.headers.items()}
        reason = verify(server.key, headers, body)
        if reason:
            with server.lock:
                server.stats["rejected"] += 1
            print(f"sms receiver: rejected: {reason}", flush=True)
            return self.answer(401, {"error": reason})
        try:
            payload = json.loads(body)
        except ValueError:
            return self.answer(400, {"error": "the body is not JSON"})
        phone = str(((payload.get("sms") or {}) if isinstance(payload, dict) else {}).get("phone", ""))
        phone = "".join(ch for ch in phone if ch.isdigit())
        with server.lock:
            if server.fail.get(phone, 0) > 0:
                server.fail[phone] -= 1
                server.stats["failed_on_purpose"] += 1
                return self.answer(503, {"error": "failing on purpose (test control)"})
            if headers["webhook-id"] in server.seen_ids:
                server.stats["duplicates"] += 1
                return self.answer(200, {})
            server.seen_ids.add(headers["webhook-id"])
            server.stats["accepted"] += 1
            name = f"{time.time_ns()}.{next(server.sequence):06d}.json"
        record = {
            "file": name,
            "received_at": time.time(),
            "path": url.path,
            "webhook_id": headers["webhook-id"],
            "webhook_timestamp": headers["webhook-timestamp"],
            "webhook_signature": headers["webhook-signature"],
            "content_type": headers.get("content-type"),
            "body": body.decode("utf-8", "replace"),
            "payload": payload,
        }
        tmp = os.path.join(server.directory, "." + name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        os.rename(tmp, os.path.join(server.directory, name))
        return self.answer(200, {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--secret", default=os.environ.get("SMS_WEBHOOK_SECRET"))
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or SMS_WEBHOOK_SECRET) is required")
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    server = Receiver((args.host, args.port), directory, secret_key(args.secret))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"sms receiver listening on http://{args.host}:{args.port}, deliveries in {directory}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
