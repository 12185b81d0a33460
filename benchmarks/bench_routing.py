"""Benchmark: one routing decision against 1,000 rules, as a ratio to 10 rules.

Rules are indexed by the attribute values they match (bit masks per value), so the cost
of a decision should hardly grow with the number of rules (target: at most 5x).  Each
table is built the same way: rules on category x region pairs at kecamatan level with a
city-wide catch-all per category, and the requests cycle over villages so that both
early and late rules win.  A plain first-match scan over the same 1,000 rules is shown
as a second figure, against the same 10-rule baseline, to show what the index saves.
"""

from __future__ import annotations

import time

from pelayanan.routing import RoutingTable, Rule

CATEGORIES = [f"cat-{i:02d}" for i in range(20)]


def _table(size: int) -> RoutingTable:
    rules: list[Rule] = []
    kecamatan = 0
    while len(rules) < size - len(CATEGORIES):
        category = CATEGORIES[len(rules) % len(CATEGORIES)]
        code = f"32.{73 + kecamatan // 99:02d}.{kecamatan % 99 + 1:02d}"
        rules.append(
            Rule(
                f"r{len(rules)}",
                f"unit-{len(rules) % 37}",
                {"category": [category], "region": [code]},
            )
        )
        kecamatan += 1
    rules.extend(Rule(f"city-{c}", "dinas", {"category": [c]}) for c in CATEGORIES)
    return RoutingTable(rules[:size], triage="triage")


def _requests(count: int) -> list[dict[str, str]]:
    out = []
    for i in range(count):
        kecamatan = (i * 7) % 60
        code = f"32.{73 + kecamatan // 99:02d}.{kecamatan % 99 + 1:02d}.{1001 + i % 9}"
        out.append(
            {
                "service": "pengaduan-umum",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "region": code,
            }
        )
    return out


def _time(fn, requests: list[dict[str, str]], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for request in requests:
            fn(request)
        best = min(best, (time.perf_counter() - t0) / len(requests))
    return best * 1e6


def run(quick: bool = False) -> list[dict[str, object]]:
    """Time routing decisions on 10 and 1,000 rules; return rows as ratios to 10 rules."""
    requests = _requests(500 if quick else 5000)
    repeats = 3 if quick else 7
    small, large = _table(10), _table(1000)
    for request in requests[:50]:  # warm
        small.route(request)
        large.route(request)
    base = _time(small.route, requests, repeats)
    indexed = _time(large.route, requests, repeats)

    def scan(request: dict[str, str]) -> str:
        return next((r.unit for r in large.rules if r.matches(request)), "triage")

    scanned = _time(scan, requests[: max(50, len(requests) // 20)], repeats)
    return [
        {
            "figure": "routing decision, 1,000 rules (indexed)",
            "value": indexed,
            "unit": "us",
            "baseline": "routing decision, 10 rules",
            "baseline_value": base,
            "ratio": indexed / base,
            "target": "<= 5x",
        },
        {
            "figure": "routing decision, 1,000 rules (plain scan, for comparison)",
            "value": scanned,
            "unit": "us",
            "baseline": "routing decision, 10 rules",
            "baseline_value": base,
            "ratio": scanned / base,
            "note": "first-match scan with Rule.matches; not used by the library",
        },
    ]
