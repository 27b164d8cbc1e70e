"""Recovery timing (run by tests/reliability/70-timing): `reset_password_for_email` for a known
address and for unknown ones, 200 of each interleaved on one connection, each in its own
transaction (committed, as PostgREST would), must not tell which is which: the medians within 5%.

Prints one JSON line: {"known_ms", "unknown_ms", "ratio"} (ratio = unknown / known).
Environment: AUTH_EXT_TEST_PORT; the database is the first argument.
"""

import json
import os
import statistics
import sys
import time

import psycopg

PORT = int(os.environ.get("AUTH_EXT_TEST_PORT", "54330"))
ATTEMPTS = 200


def main():
    db = sys.argv[1]
    conn = psycopg.connect(f"host=127.0.0.1 port={PORT} user=postgres dbname={db}", autocommit=True)
    # No frequency limit: every known call sends, as a first request would.
    conn.execute("""SELECT auth.configure('{"smtp_max_frequency": 0, "rate_limit_email_sent": 1000000000}')""")
    if not conn.execute("SELECT count(*) FROM auth.users WHERE email = 'known-recovery@example.com'").fetchone()[0]:
        conn.execute("SELECT auth.sign_up('known-recovery@example.com', 'a-good-password-1')")
    conn.execute("DELETE FROM auth.outbox")
    known, unknown = [], []
    for i in range(ATTEMPTS):
        for email, into in (("known-recovery@example.com", known), (f"ghost-{i}@example.com", unknown)):
            started = time.perf_counter()
            answer = conn.execute("SELECT auth.reset_password_for_email(%s)", [email]).fetchone()[0]
            into.append(time.perf_counter() - started)
            assert answer == {}, answer
    sent = conn.execute("""SELECT count(*) FROM auth.outbox
                            WHERE recipient = 'known-recovery@example.com'""").fetchone()[0]
    assert sent == ATTEMPTS, f"every known request queued a message ({sent})"
    k, u = statistics.median(known), statistics.median(unknown)
    print(json.dumps({"known_ms": round(k * 1000, 3), "unknown_ms": round(u * 1000, 3),
                      "ratio": round(u / k, 4)}))


if __name__ == "__main__":
    main()
