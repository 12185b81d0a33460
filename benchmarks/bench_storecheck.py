"""Benchmark: checking the working tables against the log, against log verification alone.

A SQLite store of N desk-like entries (a submit and a verify action per request, so
N / 2 request rows, a signed checkpoint per 1,000 entries) is built once with
`bulk_append`; its request rows are what those entries produce.  Then
`verify_store(check_tables=True)` (log, heads, nodes, checkpoint rows and the replay of
every request row) is timed against `verify_store(check_tables=False)` (the same
without the request replay) on the same store, best of 3 each, both in one process.
Target: at most 1.5x.

Second figure: the same N entries in a store with a signed checkpoint per entry (as a desk
writes them, one per commit).  ``verify_store`` as the CLI runs it by default (thinned
signatures: every root checked, the signatures of the set an export keeps) is timed
against the floor of any verification: reading the same entries from the store, parsing
each (``json.loads``) and hashing it (SHA-256 leaf hash).  The ratio is floor /
verification (the share of the floor's speed kept); target at least 0.3.  The CLI picks
the processes (``jobs=None``: 2 on two cores from `PARALLEL_MIN_ENTRIES` entries, so 1
for the quick store); ``jobs=1`` and ``--all-checkpoints`` (every signature) are
reported beside it.

Full run: N = 100,000; ``--quick``: N = 6,000.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.entry import GENESIS_PREV, encode_entry, format_time
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.merkle import CompactRange
from pelayanan.cli._common import tune_collector
from pelayanan.store import RequestRecord, SQLiteStore, open_store, verify_store
from pelayanan.store._rows import REQUEST_COLUMNS, REQUEST_PLACEHOLDERS, request_params

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
SOP = {"id": "pengaduan-umum", "version": "1.0.0", "hash": "ab" * 32}


def _bodies(i: int) -> list[dict[str, Any]]:
    """Return the submit and verify bodies of request number *i*."""
    at = format_time(T0 + dt.timedelta(seconds=i))
    request = f"ADU-{i:07d}"
    common = {"time": at, "request": request, "sop": SOP, "role": "x"}
    return [
        {**common, "kind": "submit", "action": "submit", "actor": "warga", "from": None,
         "to": "received", "data": {"subject": f"jalan {i}"}},
        {**common, "kind": "action", "action": "verify", "actor": "ver-1", "from": "received",
         "to": "verified", "data": {}},
    ]  # fmt: skip


def _records(
    n: int, key: Any, rows: list[tuple[Any, ...]], every: int = 1000
) -> Iterator[bytes | str]:
    """Yield N entries and a checkpoint per *every*; collect the request rows they make."""
    compact = CompactRange()
    prev = GENESIS_PREV
    seq = 0
    for i in range(n // 2):
        for body in _bodies(i):
            data, digest = encode_entry(body, ledger="default", seq=seq, prev=prev)
            compact.append(digest)
            prev = digest.hex()
            seq += 1
            yield data
            if seq % every == 0 or seq == n:
                # Dated at the last entry it covers, never before it.
                signed_at = T0 + dt.timedelta(seconds=i)
                yield Checkpoint("default", seq, compact.root(), signed_at).sign(key).to_text()
        at = T0 + dt.timedelta(seconds=i)
        record = RequestRecord(
            id=f"ADU-{i:07d}",
            ledger="default",
            sop_id=SOP["id"],
            sop_version=SOP["version"],
            sop_hash=SOP["hash"],
            state="verified",
            version=2,
            data={"subject": f"jalan {i}"},
            meta={"actors": {"submit": ["warga"], "verify": ["ver-1"]}},
            created_at=at,
            updated_at=at,
            last_seq=seq - 1,
            last_hash=prev,
        )
        rows.append(request_params(record))


def _build(path: Path, n: int, key: Any, every: int = 1000) -> None:
    store = SQLiteStore(path)
    rows: list[tuple[Any, ...]] = []
    store.bulk_append("default", _records(n, key, rows, every))
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({REQUEST_PLACEHOLDERS})", rows
        )
    conn.close()


def _best(fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> list[dict[str, object]]:
    """Return the figure: verification with the table check against without it."""
    previous = gc.get_threshold()
    tune_collector()  # as `pelayanan audit verify` does before it runs
    try:
        return _measure(quick)
    finally:
        gc.set_threshold(*previous)  # the other benchmarks run in this process too


def _measure(quick: bool) -> list[dict[str, object]]:
    n = 6_000 if quick else 100_000
    key = generate_key_pair()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.db"
        _build(path, n, key)
        store = open_store(path, read_only=True)
        try:
            report = verify_store(store, [key.verifier])
            assert report.ok, [p.render() for p in report.problems]
            with_check = _best(lambda: verify_store(store, [key.verifier], jobs=1))
            without = _best(lambda: verify_store(store, [key.verifier], check_tables=False, jobs=1))
        finally:
            store.close()
    return [
        {
            "figure": f"verify --db with the working-table check, {n:,} entries",
            "value": with_check,
            "unit": "s",
            "baseline": "the same verification without the working-table check",
            "baseline_value": without,
            "ratio": with_check / without,
            "target": "<= 1.5",
        },
        _thinned(n, key),
    ]


def _floor(store: Any) -> None:
    """Read, parse and hash every entry: what any verification must do at least."""
    sha256, loads = hashlib.sha256, json.loads
    for entry in store.entries("default"):
        loads(entry.data)
        sha256(b"\x00" + entry.data).digest()


def _thinned(n: int, key: Any) -> dict[str, object]:
    """Verify a store with a checkpoint per entry (thinned signatures) against the floor."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "percommit.db"
        _build(path, n, key, every=1)
        store = open_store(path, read_only=True)
        try:
            report = verify_store(store, [key.verifier])
            assert report.ok, [p.render() for p in report.problems]
            jobs = verify_store(store, [key.verifier], jobs=None).jobs
            thinned = _best(lambda: verify_store(store, [key.verifier], jobs=None))
            alone = _best(lambda: verify_store(store, [key.verifier], jobs=1))
            every = _best(lambda: verify_store(store, [key.verifier], all_checkpoints=True), 1)
            floor = _best(lambda: _floor(store))
            (ledger,) = report.ledgers
        finally:
            store.close()
    return {
        "figure": f"verify --db, a checkpoint per entry, thinned signatures, {n:,} entries",
        "value": thinned,
        "unit": "s",
        "baseline": "reading, parsing (json.loads) and hashing the same entries",
        "baseline_value": floor,
        "ratio": floor / thinned,
        "target": ">= 0.3 (floor / verification)",
        "note": f"{jobs} process(es); {ledger.signatures:,} of {ledger.checkpoints:,} "
        f"signatures checked; jobs=1 {alone:.2f} s ({floor / alone:.3f} of the floor); "
        f"--all-checkpoints {every:.2f} s ({floor / every:.3f} of the floor)",
    }
