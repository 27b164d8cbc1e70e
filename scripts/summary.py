"""Prints the reliability summary that ./test collects: one row per suite and area, then totals.
Exits non-zero when any case failed or a suite recorded nothing."""
import sys

rows = []
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 5:
        suite, area, tried, passed, failed = parts
        rows.append((suite, area, int(tried), int(passed), int(failed)))
width = max([len(f"{s}: {a}") for s, a, *_ in rows] + [10])
print(f"{'suite: area':<{width}}  {'tried':>7} {'passed':>7} {'failed':>7}")
for s, a, t, p, f in rows:
    print(f"{s + ': ' + a:<{width}}  {t:>7} {p:>7} {f:>7}")
tt, tp, tf = (sum(r[i] for r in rows) for i in (2, 3, 4))
print(f"{'total':<{width}}  {tt:>7} {tp:>7} {tf:>7}")
sys.exit(1 if tf or not rows or any(t == 0 for _, _, t, _, _ in rows) else 0)
