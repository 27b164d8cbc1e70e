"""Turns bench/run's measurements (JSON lines on stdin) into its tables, each figure beside the
baseline measured in the same run. Benchmarks, not tests: targets are printed, never asserted.

  report.py signin              loadgen --op signin-vs-argon2 (one line)
  report.py failed              loadgen --op failed-signin (one line per run)
  report.py refresh             {"alg", "script": "refresh"|"baseline", "tps"} per pgbench run
  report.py growth OUT.json     {"users", "refresh_tokens", "signin": <signin-vs-argon2>,
                                 "refresh_tps": [...], "base": {the same, at 1,000 users}} per
                                 population size; writes OUT.json
"""
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


def growth(out):
    """Each size is measured alternately with a 1,000-user database: ratios are taken pairwise."""
    sizes = lines()
    for s in sizes:
        for d in (s, s["base"]):
            d["signin_p50_ms"] = d["signin"]["signin"]["p50_ms"]
            d["argon2_p50_ms"] = d["signin"]["argon2_verify"]["p50_ms"]
            d["signin_over_argon2"] = d["signin"]["ratio"]
            d["refresh_tps_median"] = statistics.median(d["refresh_tps"])
        b = s["base"]
        s["signin_vs_base"] = s["signin_p50_ms"] / b["signin_p50_ms"]
        s["signin_over_argon2_vs_base"] = s["signin_over_argon2"] / b["signin_over_argon2"]
        s["refresh_tps_vs_base"] = s["refresh_tps_median"] / b["refresh_tps_median"]
    print("| users | refresh-token rows | sign-in p50 ms (1k beside) | sign-in / argon2id (1k beside) "
          "| refresh tps, median (1k beside) | sign-in p50 vs 1k | refresh tps vs 1k |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        b = s["base"]
        print(f"| {s['users']:,} | {s['refresh_tokens']:,} | {ms(s['signin_p50_ms'])} ({ms(b['signin_p50_ms'])}) "
              f"| {s['signin_over_argon2']:.2f}x ({b['signin_over_argon2']:.2f}x) "
              f"| {s['refresh_tps_median']:.0f} ({b['refresh_tps_median']:.0f}) "
              f"| {s['signin_vs_base']:.2f}x (/argon2id {s['signin_over_argon2_vs_base']:.2f}x) "
              f"| {s['refresh_tps_vs_base']:.2f}x |")
    s = sizes[-1]
    print(f"\n{s['users']:,} users against 1,000 measured beside them (target: at most 1.2x slower):")
    print(f"  sign-in p50 latency {s['signin_vs_base']:.2f}x (each against the argon2id verify timed beside it: "
          f"{s['signin_over_argon2_vs_base']:.2f}x)")
    print(f"  refresh throughput {s['refresh_tps_vs_base']:.2f}x, i.e. {1 / s['refresh_tps_vs_base']:.2f}x the time per refresh")
    if sizes[0]["users"] == 1000:
        print(f"  (at 1,000 users both databases are alike, so that row is the noise: sign-in "
              f"{sizes[0]['signin_vs_base']:.2f}x, refresh {sizes[0]['refresh_tps_vs_base']:.2f}x)")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    strip = lambda d: {k: v for k, v in d.items() if k != "signin"} | {"loadgen": d["signin"]}  # noqa: E731
    with open(out, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": os.environ.get("BENCH_MACHINE", ""),
                   "signing_algorithm": os.environ.get("BENCH_GROWTH_ALG", ""),
                   "sizes": [strip(s) | {"base": strip(s["base"])} for s in sizes]}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    {"signin": signin, "failed": failed, "refresh": refresh, "growth": lambda: growth(sys.argv[2])}[sys.argv[1]]()
