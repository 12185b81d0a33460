"""The SLA report over a large log, as a ratio to verifying the same log alone.

The log is made of what the desk really writes: `pelayanan demo` is run for a few seeds
(three working weeks of a complaint desk each: submissions with sealed personal data and
routing, actions with SLA clock changes, refused attempts, SLA warnings, breaches and
escalations from `tick`, survey responses, reveals and erasures), and those entries are
replicated with renamed requests: 20 copies a week, a minute apart, the next 20 a week
later (at 1,000,000 entries: about four and a half years of a busy agency, a few
thousand requests open at any time), merged in time order and re-chained, with a signed
checkpoint every 1,000 entries (batch signing: a checkpoint per entry would make both
sides signature-bound).

The report does what ``pelayanan report sla --by unit --format json`` does: one verified
pass feeding the flow, survey and clock folds, then the clock verdicts and breach
attribution recomputed on the calendar, then the report and its JSON.  Both sides run
with the garbage-collector thresholds the command line sets (`tune_collector`; verifying
alone frees every entry at once, so the setting does not change its time).  Peak memory
is measured by tracemalloc in a separate, smaller run (tracing slows Python).
Target: at most 3x the time of verification alone.

Second figure: a refresh with a saved state (``report sla --format json --state FILE``).
The state is saved after all but the last 10,000 entries (quick: 1,000), its settled
requests kept as their sums (`pelayanan.reports.settled`, as the command does for JSON
and CSV); the refresh loads it, verifies and folds only the new entries (putting back
the settled requests they name), settles again, computes the verdicts and the report,
and saves the new state.  Timed against the full report over the same log; target at
most 0.05.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.entry import GENESIS_PREV, encode_entry, format_time
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.merkle import CompactRange
from pelayanan.audit.verify import verify_ledger
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.cli._common import tune_collector
from pelayanan.cli._demo import run_demo, sop_path
from pelayanan.reports.clocks import ClockLogFold, clock_outcomes
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.replay import LogBasis, ReportBasis, replay_verified
from pelayanan.reports.settled import SettledRequests
from pelayanan.reports.sla_report import build_sla_report
from pelayanan.reports.state import dump_state, load_state, state_config
from pelayanan.reports.survey import SurveyFold
from pelayanan.sop import load_sop
from pelayanan.store.sqlite import SQLiteStore

SEEDS = (1, 2, 3, 4)
#: Demo runs (three working weeks each) started per week of the benchmark log.
DESKS_PER_WEEK = 20
#: Fields of an entry that the chain sets again when it is re-encoded.
_CHAIN = ("v", "ledger", "seq", "prev")
_templates: list[list[dict[str, object]]] = []


def _demo_logs() -> list[list[dict[str, object]]]:
    """Return the decoded entries of a demo run per seed (computed once per process)."""
    if not _templates:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in SEEDS:
                db = Path(tmp) / f"demo-{seed}.db"
                run_demo(db, seed)
                store = SQLiteStore(db)
                ledger = store.ledgers()[0]
                _templates.append([json.loads(e.data) for e in store.entries(ledger)])
                store.close()
    return _templates


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.UTC)


def _copy(entry: dict[str, object], copy: int, shift: dt.timedelta) -> dict[str, object]:
    body = {k: v for k, v in entry.items() if k not in _CHAIN}
    body["time"] = format_time(_parse(str(entry["time"])) + shift)
    if isinstance(entry.get("request"), str):
        body["request"] = f"{entry['request']}-{copy:05d}"
    if isinstance(entry.get("requests"), list):
        body["requests"] = [f"{r}-{copy:05d}" for r in entry["requests"]]  # type: ignore[union-attr]
    clocks = entry.get("clocks")
    if isinstance(clocks, list):
        body["clocks"] = [{**c, "at": format_time(_parse(c["at"]) + shift)} for c in clocks]
    return body


def build(n_entries: int):  # type: ignore[no-untyped-def]
    """Return (sop, key, entries, notes) of a log of about *n_entries* demo-like entries."""
    sop = load_sop(sop_path("pengaduan"))
    templates = _demo_logs()
    key = generate_key_pair()
    timed: list[tuple[str, int, int, dict[str, object]]] = []
    copy = 0
    while len(timed) < n_entries:
        template = templates[copy % len(templates)]
        # 20 desks' worth of work a week, each a minute apart, the next 20 a week later:
        # a few thousand requests open at any time, as at a busy agency, over years.
        shift = dt.timedelta(weeks=copy // DESKS_PER_WEEK, minutes=copy % DESKS_PER_WEEK)
        for position, entry in enumerate(template):
            body = _copy(entry, copy, shift)
            timed.append((str(body["time"]), copy, position, body))
            if len(timed) >= n_entries:
                break
        copy += 1
    timed.sort(key=lambda item: item[:3])  # the log is in time order, as a desk writes it
    tree = CompactRange()
    prev = GENESIS_PREV
    entries: list[tuple[int, bytes]] = []
    notes: list[str] = []
    for seq, (when, _, _, body) in enumerate(timed):
        data, digest = encode_entry(body, ledger="bench", seq=seq, prev=prev)
        tree.append(digest)
        prev = digest.hex()
        entries.append((seq, data))
        if (seq + 1) % 1000 == 0 or seq + 1 == len(timed):
            checkpoint = Checkpoint("bench", seq + 1, tree.root(), _parse(when))
            notes.append(checkpoint.sign(key).to_text())
    return sop, key, entries, notes


def _folds(sop):  # type: ignore[no-untyped-def]
    calendar = indonesian_government_calendar()
    flow = RequestFlow([sop], calendar, by="unit")
    clock_log = ClockLogFold(default=calendar)
    # As `report sla --format json --state FILE` does: the settled requests' fold first.
    folds = (SettledRequests(flow, clock_log), flow, SurveyFold(rules="2017"), clock_log)
    return calendar, folds


def _render(calendar, log: LogBasis, folds) -> str:  # type: ignore[no-untyped-def]
    settled, flow, _, clock_log = folds
    clocks = clock_outcomes(clock_log, as_of=log.instant)
    basis = ReportBasis.for_log(log, calendar, rules={})
    return build_sla_report(
        flow, basis, verdicts=clocks.verdicts, breaches=clocks.breaches,
        verdict_source=clocks.source, settled=settled.figures,
    ).render_json()  # fmt: skip


def report(sop, key, entries, notes) -> str:  # type: ignore[no-untyped-def]
    """Verify, replay and render the SLA report grouped by unit (as the CLI does)."""
    calendar, folds = _folds(sop)
    log = replay_verified("bench", iter(entries), notes, [key.verifier], list(folds))
    return _render(calendar, log, folds)


_KEY = b"\x07" * 32
_CONFIG = state_config("sla", {"by": "unit"})


def saved_state(sop, key, entries, notes, size: int) -> bytes:  # type: ignore[no-untyped-def]
    """Return the state after the first *size* entries (a checkpoint must end there)."""
    _, folds = _folds(sop)
    covered = [note for note in notes if _size(note) <= size]
    log = replay_verified("bench", iter(entries[:size]), covered, [key.verifier], list(folds))
    folds[0].settle()
    return dump_state(log, folds, config=_CONFIG, key=_KEY)


def refresh(sop, key, entries, notes, state: bytes) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """Load *state*, verify and fold the entries after it, report and save the state."""
    calendar = indonesian_government_calendar()
    saved = load_state(state, config=_CONFIG, key=_KEY, ledger="bench", references=[calendar, sop])
    start = saved.resume.checkpoint.checkpoint.size
    log = replay_verified(
        "bench", iter(entries[start:]), [n for n in notes if _size(n) >= start],
        [key.verifier], list(saved.folds), resume=saved.resume, first_time=saved.first_time,
    )  # fmt: skip
    saved.folds[0].settle()
    new_state = dump_state(log, saved.folds, config=_CONFIG, key=_KEY)
    return _render(calendar, log, saved.folds), new_state


def _size(note: str) -> int:
    return int(note.split("\n", 2)[1])


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and return the rows."""
    previous = gc.get_threshold()
    tune_collector()  # as `pelayanan` does before running a command
    try:
        return _measure(quick)
    finally:
        gc.set_threshold(*previous)  # the other benchmarks run in this process too


def _measure(quick: bool) -> list[dict[str, object]]:
    n = 5_000 if quick else 1_000_000
    new = 1_000 if quick else 10_000
    sop, key, entries, notes = build(n)
    size = sum(len(data) for _, data in entries) / len(entries)
    started = time.perf_counter()
    verify_ledger("bench", iter(entries), notes, [key.verifier])
    verify_s = time.perf_counter() - started
    started = time.perf_counter()
    text = report(sop, key, entries, notes)
    report_s = time.perf_counter() - started
    state = saved_state(sop, key, entries, notes, n - new)
    started = time.perf_counter()
    refreshed, new_state = refresh(sop, key, entries, notes, state)
    refresh_s = time.perf_counter() - started
    assert refreshed == text, "the refresh must give the full report's bytes"
    figures = json.loads(text)
    clocks = figures["total"]["clocks"]
    verdicts = sum(c["met"] + c["breached"] + c["running"] + c["paused"] for c in clocks)
    breached = sum(c["breached"] for c in clocks)
    del entries, notes, text
    small = build(5_000 if quick else 50_000)
    tracemalloc.start()
    report(*small)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [
        {
            "figure": f"SLA report (verify + replay + clock verdicts + JSON) over {n:,} entries",
            "value": report_s,
            "unit": "s",
            "baseline": "verify_ledger over the same entries",
            "baseline_value": verify_s,
            "ratio": report_s / verify_s,
            "target": "<= 3x",
            "note": f"demo-like entries ({size:.0f} bytes on average; {verdicts:,} clock "
            f"verdicts recomputed, {breached:,} breached); peak traced memory "
            f"{peak / 2**20:.1f} MiB for {len(small[2]):,} entries (tracemalloc run)",
        },
        {
            "figure": f"SLA report refreshed from a saved state after {new:,} new entries "
            f"({n:,} in all)",
            "value": refresh_s,
            "unit": "s",
            "baseline": "the full SLA report over the same log",
            "baseline_value": report_s,
            "ratio": refresh_s / report_s,
            "target": "<= 0.05",
            "note": f"state file {len(state) / 2**20:.1f} MiB before, "
            f"{len(new_state) / 2**20:.1f} MiB after (load, verify and fold, report, save); "
            "same bytes as the full report",
        },
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
