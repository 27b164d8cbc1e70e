"""Wrong password vs unknown email: the medians of failed sign-ins must not tell them apart."""
import json
import sys

runs = [json.loads(line) for line in sys.stdin if line.strip()]
by = {}
for r in runs:
    by.setdefault(r["op"], []).append(r)
print("| failed sign-in | attempts | median ms (per run) | p99 ms |")
print("| --- | --- | --- | --- |")
for op in ("wrong-password", "unknown-email"):
    rs = by[op]
    medians = ", ".join(f"{r['p50_ms']:.2f}" for r in rs)
    print(f"| {op} | {sum(r['requests'] for r in rs)} | {medians} | {max(r['p99_ms'] for r in rs):.2f} |")
# Runs alternate, so drift of the shared machine hits both sides alike; compare each pair.
pairs = [u["p50_ms"] / w["p50_ms"] for w, u in zip(by["wrong-password"], by["unknown-email"])]
pairs.sort()
print(f"\nunknown / wrong median, per alternating pair: {', '.join(f'{p:.3f}' for p in pairs)}; "
      f"median {pairs[len(pairs) // 2]:.3f}")
