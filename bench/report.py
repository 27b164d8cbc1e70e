"""Turns bench/run's measurements (JSON lines on stdin) into its tables, each figure beside the
baseline measured in the same run. Benchmarks, not tests: targets are printed, never asserted.

  report.py signin              loadgen --op signin-vs-argon2 (one line)
  report.py failed              loadgen --op failed-signin (one line per run)
  report.py refresh             {"alg", "script": "refresh"|"baseline", "tps"} per pgbench run
  report.py otp OUT.json        {"op": "request"|"verify"|..., "script": "otp"|"baseline", "tps"}
                                per pgbench run; writes OUT.json
  report.py outbox OUT.json SINK.jsonl LATENCY.csv
                                {"kind": "drain", "mails", "seconds"}, loadgen --op smtp (the bare
                                client), {"kind": "latency", "rate", "seconds"}; the sink's lines and
                                the latency phase's outbox rows (recipient, created_at, sent_at in
                                epoch seconds); writes OUT.json
  report.py growth OUT.json     {"users", "refresh_tokens", "signin": <signin-vs-argon2>,
                                 "signin_scattered": <the same with --users>, "refresh_tps": [...],
                                 "otp": <loadgen --op otp>, "base": {the same, at 1,000 users}}
                                 per population size; writes OUT.json
"""
import csv
import json
import os
import statistics
import sys
import time


def lines():
    return [json.loads(line) for line in sys.stdin if line.strip()]


def ms(x):
    return f"{x:.2f}"


def signin():
    (r,) = lines()
    s, a = r["signin"], r["argon2_verify"]
    print("| figure | attempts | p50 ms | p99 ms | vs one argon2id verify (p50) |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| sign-in over SQL, one connection | {s['attempts']} | {ms(s['p50_ms'])} | {ms(s['p99_ms'])} "
          f"| {r['ratio']:.2f}x (target <= 1.05x) |")
    print(f"| argon2id verify, same cost, in loadgen | {a['attempts']} | {ms(a['p50_ms'])} | {ms(a['p99_ms'])} | 1.00x |")
    print(f"\nsign-in costs {s['p50_ms'] - a['p50_ms']:.2f} ms beyond the hash at the median "
          f"(lookup, session and token rows, JWT, commit); attempts interleaved.")


def failed():
    runs = lines()
    print("| run | wrong password p50 (p99) ms | unknown email p50 (p99) ms | unknown / wrong (p50) |")
    print("| --- | --- | --- | --- |")
    for i, r in enumerate(runs, 1):
        w, u = r["wrong_password"], r["unknown_email"]
        print(f"| {i} ({w['attempts']} + {u['attempts']} attempts) | {ms(w['p50_ms'])} ({ms(w['p99_ms'])}) "
              f"| {ms(u['p50_ms'])} ({ms(u['p99_ms'])}) | {r['ratio']:.3f} |")
    med = lambda k: statistics.median(r[k]["p50_ms"] for r in runs)  # noqa: E731
    print(f"| median | {ms(med('wrong_password'))} | {ms(med('unknown_email'))} "
          f"| {statistics.median(r['ratio'] for r in runs):.3f} (target 0.95-1.05) |")


def refresh():
    runs = lines()
    print("| signing algorithm | auth.refresh_session tps (median; runs) | baseline UPDATE + INSERT tps "
          "(median; runs) | refresh / baseline (target >= 0.5x) |")
    print("| --- | --- | --- | --- |")
    for alg in dict.fromkeys(r["alg"] for r in runs):
        tps = {s: [r["tps"] for r in runs if r["alg"] == alg and r["script"] == s] for s in ("refresh", "baseline")}
        m = {s: statistics.median(v) for s, v in tps.items()}
        cell = lambda s: f"{m[s]:.0f}; {', '.join(f'{t:.0f}' for t in tps[s])}"  # noqa: E731
        print(f"| {alg} | {cell('refresh')} | {cell('baseline')} | {m['refresh'] / m['baseline']:.2f}x |")


def write(out, data):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d", time.gmtime())} | data, f, indent=1)
        f.write("\n")


def percentile(values, p):
    """The same rank as loadgen's: the value at (n - 1) * p, rounded down."""
    v = sorted(values)
    return v[int((len(v) - 1) * p)] if v else float("nan")


def otp(out):
    """Each operation's runs against the baseline runs that alternated with them."""
    runs = lines()
    print("| operation | tps (median; runs) | baseline UPDATE + INSERT tps (median; runs) | operation / baseline |")
    print("| --- | --- | --- | --- |")
    summary = {}
    for op in dict.fromkeys(r["op"] for r in runs):
        tps = {s: [r["tps"] for r in runs if r["op"] == op and r["script"] == s] for s in ("otp", "baseline")}
        m = {s: statistics.median(v) for s, v in tps.items() if v}
        cell = lambda s: f"{m[s]:.0f}; {', '.join(f'{t:.0f}' for t in tps[s])}" if s in m else "-"  # noqa: E731
        name = {"request": "code request (auth.sign_in_with_otp)",
                "verify": "sign-in by code (auth.verify_otp)"}.get(op, f"code {op}")
        ratio = f"{m['otp'] / m['baseline']:.2f}x" if "baseline" in m else "-"
        print(f"| {name} | {cell('otp')} | {cell('baseline')} | {ratio} |")
        summary[op] = {"tps": tps["otp"], "baseline_tps": tps["baseline"], "tps_median": m["otp"],
                       "baseline_median": m.get("baseline"), "ratio": m["otp"] / m["baseline"] if "baseline" in m else None}
    print()
    # A variant against the operation it varies: "request, custom plans, 1 client" against
    # "request, custom plans", which is against "request".
    for op in summary:
        ref = op.rsplit(", ", 1)[0]
        if ref != op and ref in summary:
            print(f"{op}: {summary[op]['tps_median'] / summary[ref]['tps_median']:.2f}x the rate of {ref}")
    users = os.environ.get("BENCH_OTP_USERS", "")
    waits = os.environ.get("BENCH_OTP_WAITS", "")
    plan = os.environ.get("BENCH_OTP_LOOKUP_PLAN", "")
    print(f"{users} users; during the second request run {waits or 'no samples'}; the address lookup's "
          f"generic plan (src/signup/existing_user_by_email.sql), {plan or 'unknown'}")
    write(out, {"users": int(users or 0), "advisory_lock_waits": waits, "lookup_generic_plan": plan,
                "operations": summary})


def outbox(out, sink_path, latency_path):
    """The drain rate against the bare client's, and the queue latency: created_at to the sink's
    receipt (matched by recipient, in order) and to the outbox's sent_at."""
    given = lines()
    drain = next(r for r in given if r.get("kind") == "drain")
    bare = next(r for r in given if r.get("op") == "smtp")
    offered = next(r for r in given if r.get("kind") == "latency")
    sink = [json.loads(line) for line in open(sink_path) if line.strip()]
    shim_mails = [r for r in sink if not r["rcpt"].startswith("bare-")]
    bare_mails = [r for r in sink if r["rcpt"].startswith("bare-")]
    received = {}
    for r in sorted(shim_mails, key=lambda r: r["t"]):
        received.setdefault(r["rcpt"].lower(), []).append(r["t"])
    delivered, marked = [], []
    rows = sorted(([rcpt, float(c), float(s) if s else None] for rcpt, c, s in csv.reader(open(latency_path))),
                  key=lambda r: r[1])
    for rcpt, created, sent in rows:
        times = received.get(rcpt.lower(), [])
        if times:
            delivered.append((times.pop(0) - created) * 1000)
        if sent is not None:
            marked.append((sent - created) * 1000)
    rate = drain["mails"] / drain["seconds"]
    data_ms = lambda rs, p: percentile([r["data_ms"] for r in rs], p)  # noqa: E731
    b = bare["latency"]
    print("| figure | shim (release) | bare SMTP client, same sink | shim / bare |")
    print("| --- | --- | --- | --- |")
    print(f"| drain {drain['mails']:,} queued mails, mails/s | {rate:.0f} ({drain['seconds']:.2f} s until all 'sent') "
          f"| {bare['rate']:.0f} ({bare['concurrency']} connections) | {rate / bare['rate']:.3f}x |")
    print(f"| one mail's DATA phase at the sink, p50 (p99) ms | {data_ms(shim_mails, 0.5):.2f} "
          f"({data_ms(shim_mails, 0.99):.2f}) | {data_ms(bare_mails, 0.5):.2f} ({data_ms(bare_mails, 0.99):.2f}) | |")
    print(f"| queue latency at {offered['rate']} requests/s for {offered['seconds']} s, created_at to the sink, "
          f"p50 (p99) ms | {percentile(delivered, 0.5):.1f} ({percentile(delivered, 0.99):.1f}) "
          f"| one mail {b['p50_ms']:.2f} ({b['p99_ms']:.2f}) | {percentile(delivered, 0.5) / b['p50_ms']:.0f}x |")
    print(f"\n{len(delivered)} of {len(rows)} mails of the latency run matched at the sink; until marked sent "
          f"(outbox.sent_at): p50 {percentile(marked, 0.5):.1f} ms, p99 {percentile(marked, 0.99):.1f} ms. "
          f"Mails of {percentile([r['bytes'] for r in shim_mails], 0.5)} bytes (bare: {bare['bytes']}).")
    write(out, {"drain": drain | {"rate": rate}, "bare_client": bare,
                "data_phase_ms": {"shim_p50": data_ms(shim_mails, 0.5), "shim_p99": data_ms(shim_mails, 0.99),
                                  "bare_p50": data_ms(bare_mails, 0.5), "bare_p99": data_ms(bare_mails, 0.99)},
                "latency": offered | {"mails": len(rows), "matched": len(delivered),
                                      "delivered_p50_ms": percentile(delivered, 0.5),
                                      "delivered_p99_ms": percentile(delivered, 0.99),
                                      "sent_p50_ms": percentile(marked, 0.5), "sent_p99_ms": percentile(marked, 0.99)}})


def growth(out):
    """Each size is measured alternately with a 1,000-user database: ratios are taken pairwise."""
    sizes = lines()
    for s in sizes:
        for d in (s, s["base"]):
            d["signin_p50_ms"] = d["signin"]["signin"]["p50_ms"]
            d["argon2_p50_ms"] = d["signin"]["argon2_verify"]["p50_ms"]
            d["signin_over_argon2"] = d["signin"]["ratio"]
            d["refresh_tps_median"] = statistics.median(d["refresh_tps"])
            d["signin_scattered_p50_ms"] = d["signin_scattered"]["signin"]["p50_ms"]
            d["otp_request_p50_ms"] = d["otp"]["otp_request"]["p50_ms"]
            d["otp_verify_p50_ms"] = d["otp"]["otp_verify"]["p50_ms"]
            d["cleanup_ms"] = d.get("cleanup", {}).get("median_ms", float("nan"))
        b = s["base"]
        s["signin_vs_base"] = s["signin_p50_ms"] / b["signin_p50_ms"]
        s["signin_over_argon2_vs_base"] = s["signin_over_argon2"] / b["signin_over_argon2"]
        s["refresh_tps_vs_base"] = s["refresh_tps_median"] / b["refresh_tps_median"]
        s["signin_scattered_vs_base"] = s["signin_scattered_p50_ms"] / b["signin_scattered_p50_ms"]
        s["otp_request_vs_base"] = s["otp_request_p50_ms"] / b["otp_request_p50_ms"]
        s["otp_verify_vs_base"] = s["otp_verify_p50_ms"] / b["otp_verify_p50_ms"]
    print("| users | refresh-token rows | sign-in p50 ms (1k beside) | sign-in / argon2id (1k beside) "
          "| refresh tps, median (1k beside) | sign-in p50 vs 1k | refresh tps vs 1k "
          "| sign-in p50 ms, scattered users (1k beside) | code request p50 ms (1k beside) "
          "| sign-in by code p50 ms (1k beside) | scattered sign-in, code request, by code vs 1k |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        b = s["base"]
        print(f"| {s['users']:,} | {s['refresh_tokens']:,} | {ms(s['signin_p50_ms'])} ({ms(b['signin_p50_ms'])}) "
              f"| {s['signin_over_argon2']:.2f}x ({b['signin_over_argon2']:.2f}x) "
              f"| {s['refresh_tps_median']:.0f} ({b['refresh_tps_median']:.0f}) "
              f"| {s['signin_vs_base']:.2f}x (/argon2id {s['signin_over_argon2_vs_base']:.2f}x) "
              f"| {s['refresh_tps_vs_base']:.2f}x "
              f"| {ms(s['signin_scattered_p50_ms'])} ({ms(b['signin_scattered_p50_ms'])}) "
              f"| {ms(s['otp_request_p50_ms'])} ({ms(b['otp_request_p50_ms'])}) "
              f"| {ms(s['otp_verify_p50_ms'])} ({ms(b['otp_verify_p50_ms'])}) "
              f"| {s['signin_scattered_vs_base']:.2f}x, {s['otp_request_vs_base']:.2f}x, {s['otp_verify_vs_base']:.2f}x |")
    print("\n| users | auth.cleanup(1000) ms, median of 3 (1k beside) | rows deleted by the 3 calls |")
    print("| --- | --- | --- |")
    for s in sizes:
        b = s["base"]
        print(f"| {s['users']:,} | {ms(s['cleanup_ms'])} ({ms(b['cleanup_ms'])}) | {s.get('cleanup', {}).get('deleted', '')} |")
    s = sizes[-1]
    print(f"\n{s['users']:,} users against 1,000 measured beside them (target: at most 1.2x slower):")
    print(f"  sign-in p50 latency {s['signin_vs_base']:.2f}x (each against the argon2id verify timed beside it: "
          f"{s['signin_over_argon2_vs_base']:.2f}x); bench-0, the table's first user")
    print(f"  sign-in p50 latency of users scattered over the table {s['signin_scattered_vs_base']:.2f}x")
    print(f"  refresh throughput {s['refresh_tps_vs_base']:.2f}x, i.e. {1 / s['refresh_tps_vs_base']:.2f}x the time per refresh")
    print(f"  email code request p50 {s['otp_request_vs_base']:.2f}x, sign-in by code p50 {s['otp_verify_vs_base']:.2f}x "
          f"(one connection, {s['otp']['otp_request']['attempts']} distinct users each)")
    if sizes[0]["users"] == 1000:
        print(f"  (at 1,000 users both databases are alike, so that row is the noise: sign-in "
              f"{sizes[0]['signin_vs_base']:.2f}x, scattered {sizes[0]['signin_scattered_vs_base']:.2f}x, "
              f"refresh {sizes[0]['refresh_tps_vs_base']:.2f}x, code request "
              f"{sizes[0]['otp_request_vs_base']:.2f}x, by code {sizes[0]['otp_verify_vs_base']:.2f}x)")
    strip = lambda d: {k: v for k, v in d.items() if k != "signin"} | {"loadgen": d["signin"]}  # noqa: E731
    write(out, {"machine": os.environ.get("BENCH_MACHINE", ""), "signing_algorithm": os.environ.get("BENCH_GROWTH_ALG", ""),
                "sizes": [strip(s) | {"base": strip(s["base"])} for s in sizes]})


if __name__ == "__main__":
    {"signin": signin, "failed": failed, "refresh": refresh, "growth": lambda: growth(sys.argv[2]),
     "otp": lambda: otp(sys.argv[2]), "outbox": lambda: outbox(*sys.argv[2:5])}[sys.argv[1]]()
