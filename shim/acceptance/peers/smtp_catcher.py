"""A real SMTP server (aiosmtpd) that keeps every message it accepts, for the flows acceptance.

    smtp_catcher.py --port 54402 --dir build/test/mail [--host 127.0.0.1]

Each accepted message is written maildir-style: first to DIR/tmp/, then renamed into DIR/new/,
as NAME.eml (the raw message as received, with X-MailFrom / X-RcptTo / X-Peer prepended) and
NAME.json (what a test reads: envelope, headers, the decoded text and HTML bodies). NAME sorts in
arrival order (nanosecond time, then a sequence number). The JSON is renamed last, so a reader
that sees it sees a complete message.

A recipient whose local part starts with `tempfailN-` (N a digit) is refused with a temporary
451 for its first N deliveries, then accepted: a way to show that the sender retries.

It prints one line "smtp catcher listening on HOST:PORT, mail in DIR" once it accepts
connections, and stops on SIGTERM or SIGINT.
"""
import argparse
import email
import itertools
import json
import os
import re
import signal
import threading
import time
from collections import Counter
from email import policy

from aiosmtpd.controller import Controller

TEMPFAIL = re.compile(r"^tempfail(\d)-", re.IGNORECASE)


def body_of(message, kind):
    part = message.get_body(preferencelist=(kind,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown charset: keep what can be read
        return part.get_payload(decode=True).decode("utf-8", "replace")


class MaildirHandler:
    def __init__(self, directory):
        self.directory = directory
        for sub in ("tmp", "new"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        self.sequence = itertools.count()
        self.attempts = Counter()  # tempfail recipient -> deliveries tried
        self.lock = threading.Lock()

    def _write(self, name, data):
        tmp = os.path.join(self.directory, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, "new", name))

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                match = TEMPFAIL.match(rcpt)
                if match:
                    self.attempts[rcpt.lower()] += 1
                    if self.attempts[rcpt.lower()] <= int(match.group(1)):
                        return f"451 4.3.0 Try again later (test address, delivery {self.attempts[rcpt.lower()]})"
            name = f"{time.time_ns()}.{next(self.sequence):06d}"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        prefix = (
            f"X-Peer: {peer}\r\nX-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        message = email.message_from_bytes(raw, policy=policy.default)
        record = {
            "file": name + ".eml",
            "received_at": time.time(),
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "date": str(message.get("Date", "")),
            "message_id": str(message.get("Message-ID", "")),
            "content_type": message.get_content_type(),
            "headers": [[k, str(v)] for k, v in message.items()],
            "text": body_of(message, "plain"),
            "html": body_of(message, "html"),
        }
        self._write(name + ".eml", prefix + raw)
        self._write(name + ".json", json.dumps(record, indent=1).encode())
        print(f"mail {name}: {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}: {record['subject']}", flush=True)
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    directory = os.path.abspath(args.dir)
    controller = Controller(
        MaildirHandler(directory), hostname=args.host, port=args.port,
        enable_SMTPUTF8=True, data_size_limit=10 * 1024 * 1024,
    )
    controller.start()
    print(f"smtp catcher listening on {args.host}:{args.port}, mail in {directory}/new", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
