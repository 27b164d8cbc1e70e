"""Turns loadgen's JSON lines into the README's table, each HTTP figure beside its SQL baseline."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
# A figure measured more than once (rounds on a shared machine): its best run.
by = {}
for r in rows:
    key = (r["op"], r["mode"])
    if key not in by or r["rps"] > by[key]["rps"]:
        by[key] = r


def fmt(r):
    return f"{r['rps']:.1f} ({r['p50_ms']:.2f}, {r['p99_ms']:.2f})"


if sys.argv[1:] == ["limits"]:
    # bench/run's limits section: the same calls with the rate limits on, beside off.
    print("| operation | limits off req/s (p50, p99 ms) | limits on req/s (p50, p99 ms) | on / off |")
    print("| --- | --- | --- | --- |")
    for op in ("signin", "refresh"):
        s, h = by[(op, "sql")], by[(op, "sql+limits")]
        print(f"| {op} | {fmt(s)} | {fmt(h)} | {h['rps'] / s['rps']:.2f}x |")
else:
    print("| operation | SQL req/s (p50, p99 ms) | HTTP shim req/s (p50, p99 ms) | shim / SQL |")
    print("| --- | --- | --- | --- |")
    for op in ("signin", "refresh"):
        s, h = by[(op, "sql")], by[(op, "http")]
        print(f"| {op} | {fmt(s)} | {fmt(h)} | {h['rps'] / s['rps']:.2f}x |")
