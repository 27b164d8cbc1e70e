"""Draws bench/results/growth.json as bench/results/scaling.svg: sign-in p50 latency and refresh
throughput at each population size, relative to a 1,000-user database measured alternately with it
(x: users, log scale). Standard library only; the SVG is written by hand.

  python3 bench/plot.py [growth.json] [scaling.svg]
"""
import json
import math
import os
import re
import sys

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "growth.json")
dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "scaling.svg")
data = json.load(open(src))
sizes = data["sizes"]
series = [
    ("sign-in p50 latency", "#c0392b", [s["signin_vs_base"] for s in sizes]),
    ("refresh throughput (tps)", "#2471a3", [s["refresh_tps_vs_base"] for s in sizes]),
]
bounds = [(1.2, "latency bound 1.2x", "#c0392b"), (1 / 1.2, "throughput bound 1/1.2x", "#2471a3")]

W, H, L, R, T, B = 720, 420, 70, 200, 76, 60
xs = [math.log10(s["users"]) for s in sizes]
x0, x1 = math.floor(min(xs)), max(math.ceil(max(xs)), math.floor(min(xs)) + 1)
values = [v for _, _, vs in series for v in vs] + [b for b, _, _ in bounds]
y0 = math.floor(min(values + [0.5]) * 4) / 4
y1 = math.ceil(max(values + [1.5]) * 4) / 4


def px(x):
    return L + (x - x0) / (x1 - x0) * (W - L - R)


def py(y):
    return H - B - (y - y0) / (y1 - y0) * (H - T - B)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
       f'font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="15" font-weight="bold">auth_ext as the user table grows '
       f'(relative to 1,000 users)</text>',
       f'<text x="{L}" y="40" fill="#555">bench/run {esc(data.get("date", ""))}, '
       f'{esc(re.sub(r" [(].*?[)]", "", data.get("machine", "")))}</text>',
       f'<text x="{L}" y="56" fill="#555">10 refresh tokens per user; refresh signs '
       f'{esc(data.get("signing_algorithm", ""))}; medians; each size run alternately with a 1k-user database</text>']
# grid and axes
y = y0
while y <= y1 + 1e-9:
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#e5e5e5"/>')
    out.append(f'<text x="{L - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.2f}x</text>')
    y += 0.25
for e in range(x0, x1 + 1):
    label = {3: "1k", 4: "10k", 5: "100k", 6: "1M", 7: "10M"}.get(e, f"1e{e}")
    out.append(f'<line x1="{px(e):.1f}" x2="{px(e):.1f}" y1="{T}" y2="{H - B}" stroke="#e5e5e5"/>')
    out.append(f'<text x="{px(e):.1f}" y="{H - B + 18}" text-anchor="middle">{label}</text>')
out.append(f'<text x="{(L + W - R) / 2:.1f}" y="{H - 15}" text-anchor="middle">users (log scale)</text>')
out.append(f'<text transform="translate(18 {(T + H - B) / 2:.1f}) rotate(-90)" text-anchor="middle">'
           f'relative to 1,000 users</text>')
out.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
for b, label, colour in bounds:
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(b):.1f}" y2="{py(b):.1f}" stroke="{colour}" '
               f'stroke-dasharray="5 4" stroke-opacity="0.6"/>')
    out.append(f'<text x="{W - R + 6}" y="{py(b) + 4:.1f}" fill="{colour}" font-size="11">{label}</text>')
# the series, and a legend under the bounds' labels
for i, (name, colour, vs) in enumerate(series):
    pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vs))
    out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for x, v in zip(xs, vs):
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}"/>')
        out.append(f'<text x="{px(x):.1f}" y="{py(v) + (-9 if i == 0 else 17):.1f}" text-anchor="middle" '
                   f'fill="{colour}" font-size="11">{v:.2f}</text>')
    ly = H - B - 40 + i * 20
    out.append(f'<line x1="{W - R + 6}" x2="{W - R + 30}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
    out.append(f'<text x="{W - R + 36}" y="{ly + 4}">{esc(name)}</text>')
out.append("</svg>")
with open(dst, "w") as f:
    f.write("\n".join(out) + "\n")
print(f"wrote {os.path.relpath(dst)}")
