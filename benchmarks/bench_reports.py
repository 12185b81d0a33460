"""The SLA report over a large log, as a ratio to verifying the same log alone.

The log is built by hand (no desk): requests going received -> verified -> dispatched ->
followed up -> closed across four units, five entries each, with a signed checkpoint
every 1,000 entries (batch signing; a checkpoint per entry would make both sides
signature-bound).  The report verifies while it replays (`replay_verified` with a
`RequestFlow` grouped by unit), then builds the report and renders its JSON.  Peak
memory is measured by tracemalloc in a separate, smaller run (tracing slows Python).
Target: at most 2x the time of verification alone.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from pathlib import Path

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.entry import GENESIS_PREV, encode_entry, format_time
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.merkle import CompactRange
from pelayanan.audit.verify import verify_ledger
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.replay import ReportBasis, replay_verified
from pelayanan.reports.sla_report import build_sla_report
from pelayanan.sop import load_sop

ROOT = Path(__file__).resolve().parent.parent
SOP_FILE = ROOT / "examples" / "sop" / "pengaduan.yaml"
STEPS = (
    ("verify", "received", "verified", {}),
    ("dispatch", "verified", "dispatched", {"assigned_unit": "dinas-{u}"}),
    ("follow_up", "dispatched", "followed_up", {"follow_up_note": "ok"}),
    ("close", "followed_up", "closed", {}),
)


def build(n_entries: int):  # type: ignore[no-untyped-def]
    """Return (sop, key, entries, notes) of a hand-built log of about *n_entries*."""
    sop = load_sop(SOP_FILE)
    key = generate_key_pair()
    ref = {"id": sop.id, "version": sop.version, "hash": sop.content_hash}
    start = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
    tree = CompactRange()
    prev = GENESIS_PREV
    entries: list[tuple[int, bytes]] = []
    notes: list[str] = []
    when = start
    for i in range(n_entries // 5):
        rid = f"R{i:07d}"
        # Interleave requests a little, like a desk does: one new request per 7 minutes,
        # each step some minutes after the last, on the same wall-clock stretch.
        base = start + dt.timedelta(minutes=7 * i)
        bodies = [
            {"time": format_time(base), "kind": "submit", "request": rid, "sop": ref,
             "action": "submit", "actor": "w", "role": "citizen", "from": None,
             "to": "received", "data": {"subject": "s", "category": "lainnya",
                                        "region": f"32.73.{i % 12:02d}"}},
        ]  # fmt: skip
        for step, (action, source, target, data) in enumerate(STEPS, start=1):
            bodies.append(
                {"time": format_time(base + dt.timedelta(minutes=90 * step + i % 50)),
                 "kind": "action", "request": rid, "sop": ref, "action": action,
                 "actor": f"o{i % 9}", "role": "x", "from": source, "to": target,
                 "data": {k: v.format(u=i % 4) for k, v in data.items()}}
            )  # fmt: skip
        for body in bodies:
            when = max(when, dt.datetime.fromisoformat(body["time"].replace("Z", "+00:00")))
            body["time"] = format_time(when)  # log order is time order
            seq = len(entries)
            data_bytes, digest = encode_entry(body, ledger="bench", seq=seq, prev=prev)
            tree.append(digest)
            prev = digest.hex()
            entries.append((seq, data_bytes))
            if (seq + 1) % 1000 == 0:
                notes.append(Checkpoint("bench", seq + 1, tree.root(), when).sign(key).to_text())
    if len(entries) % 1000:
        notes.append(Checkpoint("bench", len(entries), tree.root(), when).sign(key).to_text())
    return sop, key, entries, notes


def report(sop, key, entries, notes) -> str:  # type: ignore[no-untyped-def]
    """Verify, replay and render the SLA report grouped by unit; return its JSON."""
    calendar = indonesian_government_calendar()
    flow = RequestFlow([sop], calendar, by="unit")
    log = replay_verified("bench", iter(entries), notes, [key.verifier], [flow])
    basis = ReportBasis.for_log(log, calendar, rules={})
    return build_sla_report(flow, basis).render_json()


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and return the rows."""
    n = 5_000 if quick else 1_000_000
    sop, key, entries, notes = build(n)
    started = time.perf_counter()
    verify_ledger("bench", iter(entries), notes, [key.verifier])
    verify_s = time.perf_counter() - started
    started = time.perf_counter()
    report(sop, key, entries, notes)
    report_s = time.perf_counter() - started
    small = build(5_000 if quick else 50_000)
    tracemalloc.start()
    report(*small)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [
        {
            "figure": f"SLA report (verify + replay + JSON) over {len(entries):,} entries",
            "value": report_s,
            "unit": "s",
            "baseline": "verify_ledger over the same entries",
            "baseline_value": verify_s,
            "ratio": report_s / verify_s,
            "target": "<= 2x",
            "note": f"peak traced memory {peak / 2**20:.1f} MiB for {len(small[2]):,} entries "
            "(tracemalloc run)",
        }
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
