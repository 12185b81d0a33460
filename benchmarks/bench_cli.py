"""Benchmark: cold start of the command line, as a ratio to ``python -c pass``.

Each figure is the best wall time of several fresh interpreter runs (the best, because the
machine is shared: slower runs measure the neighbours), against the best of
``python -c pass`` measured in the same run.  Targets: ``pelayanan --help`` and
``pelayanan calendar deadline`` within 8x of a bare interpreter.  The verify row times
``pelayanan audit verify FILE --trusted-key PEM`` on an export of about 100 entries:
start-up plus a small verification (no target; it shows what a first-time auditor waits).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pelayanan import (
    Actor,
    ServiceDesk,
    SQLiteStore,
    generate_key_pair,
    load_sop,
    write_key_pair,
)
from pelayanan.audit.export import write_export
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
CLI = [sys.executable, "-m", "pelayanan"]


def _best(command: list[str], repeat: int) -> float:
    """Return the best wall time of *repeat* runs of *command* (which must succeed)."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def _export(folder: Path, entries: int) -> tuple[Path, Path, int]:
    """Write an export of at least *entries* entries; return it, its public key, its size."""
    key = generate_key_pair()
    _, public = write_key_pair(key, folder / "keys")
    store = SQLiteStore(folder / "office.db")
    clock = FakeClock(dt.datetime(2026, 7, 6, 8, 0, tzinfo=dt.UTC))
    desk = ServiceDesk(
        store,
        sops=[load_sop(ROOT / "examples" / "sop" / "pengaduan.yaml")],
        signing_key=key,
        clock=clock,
    )
    citizen = Actor("warga-42", {"citizen"})
    verifier = Actor("199001052015031002", {"verifier"})
    while store.head("default").size < entries:
        request = desk.submit(
            "pengaduan-umum", actor=citizen, data={"subject": "Lampu", "category": "infrastruktur"}
        ).request
        clock.advance(minutes=5)
        desk.act(request.id, "verify", actor=verifier)
        clock.advance(minutes=5)
    path = folder / "audit.jsonl"
    with path.open("wb") as out:
        write_export(store, out)
    size = store.head("default").size
    store.close()
    return path, public, size


def run(quick: bool = False) -> list[dict[str, object]]:
    """Time the cold starts; return rows as ratios to ``python -c pass``."""
    repeat = 3 if quick else 10
    baseline = _best([sys.executable, "-c", "pass"], repeat)
    with tempfile.TemporaryDirectory() as tmp:
        export, public, size = _export(Path(tmp), 100)
        figures = [
            ("CLI cold start: pelayanan --help", [*CLI, "--help"], "<= 8x"),
            (
                "CLI cold start: pelayanan calendar deadline",
                [
                    *CLI,
                    "calendar",
                    "deadline",
                    "--start",
                    "2026-03-17T10:00:00+07:00",
                    "--working-days",
                    "3",
                ],
                "<= 8x",
            ),
            (
                f"CLI cold start: pelayanan audit verify ({size}-entry export)",
                [*CLI, "audit", "verify", str(export), "--trusted-key", str(public)],
                None,
            ),
        ]
        rows: list[dict[str, object]] = []
        for figure, command, target in figures:
            value = _best(command, repeat)
            row: dict[str, object] = {
                "figure": figure,
                "value": value,
                "unit": "s",
                "baseline": "python -c pass",
                "baseline_value": baseline,
                "ratio": value / baseline,
            }
            if target:
                row["target"] = target
            rows.append(row)
    return rows
