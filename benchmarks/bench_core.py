"""Core figures: ``act()`` end to end on SQLite, and verification throughput.

* ``act()`` on SQLite (authorize, guard, fire, encode, chain, Merkle append, sign a
  checkpoint, commit) against one bare python-statemachine transition of the same SOP.
* Verification against parsing the same entries as JSON plus SHA-256: of the default
  export of the store (thinned checkpoints), and of the store itself with every
  per-commit checkpoint (``audit verify --db``), which keeps its Ed25519 cost visible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from pathlib import Path

from pelayanan.access import Actor
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.verify import verify_ledger
from pelayanan.desk import ServiceDesk
from pelayanan.sop import compile_sop, load_sop
from pelayanan.store import SQLiteStore
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SOP_FILE = ROOT / "examples" / "sop" / "pengaduan.yaml"


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and return the rows."""
    n = 200 if quick else 2000
    sop = load_sop(SOP_FILE)
    compiled = compile_sop(sop)
    key = generate_key_pair()
    citizen = Actor("w", {"citizen"})
    verifier = Actor("v", {"verifier"})
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        clock = FakeClock(dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC))
        desk = ServiceDesk(store, sops=[sop], signing_key=key, clock=clock)
        ids = [
            desk.submit(
                sop.id, actor=citizen, data={"subject": "s", "category": "lainnya"}
            ).request.id
            for _ in range(n)
        ]

        def acts() -> None:
            for request_id in ids:
                desk.act(request_id, "verify", actor=verifier)

        started = time.perf_counter()
        acts()
        act_seconds = (time.perf_counter() - started) / n

        def bare() -> None:
            for _ in range(n):
                machine = compiled.machine_class(start_value="received")
                machine.send("a_verify")

        bare_seconds = _best(bare, 3) / n
        rows.append(
            {
                "figure": "act() end to end on SQLite",
                "value": act_seconds * 1e6,
                "unit": "us/action",
                "baseline": "bare python-statemachine transition",
                "baseline_value": bare_seconds * 1e6,
                "ratio": act_seconds / bare_seconds,
            }
        )
        entries = [(e.seq, e.data) for e in store.entries("default")]
        notes = store.checkpoints("default")
        public = [key.verifier]
        count = len(entries)

        def raw() -> None:
            for _, data in entries:
                json.loads(data)
                hashlib.sha256(b"\x00" + data).digest()

        export = Path(tmp) / "audit.jsonl"
        with export.open("wb") as out:
            write_export(store, out)
        kept = export.read_bytes().count(b'{"checkpoint":')
        raw_seconds = _best(raw, 3)
        export_seconds = _best(lambda: verify_export(export, public, jobs=1), 3)
        raw_seconds = min(raw_seconds, _best(raw, 3))
        rows.append(
            {
                "figure": f"verify the default export of {count} entries ({kept} checkpoints)",
                "value": count / export_seconds,
                "unit": "entries/s",
                "baseline": "json.loads + SHA-256 of the same entries",
                "baseline_value": count / raw_seconds,
                "ratio": raw_seconds / export_seconds,
                "note": "audit export thins the per-commit checkpoints; one process",
            }
        )
        verify_seconds = _best(lambda: verify_ledger("default", entries, notes, public), 3)
        rows.append(
            {
                "figure": f"--db full checkpoint verification: {count} entries "
                f"(+{len(notes)} checkpoints)",
                "value": count / verify_seconds,
                "unit": "entries/s",
                "baseline": "json.loads + SHA-256 of the same entries",
                "baseline_value": count / raw_seconds,
                "ratio": raw_seconds / verify_seconds,
                "note": "every per-commit checkpoint verified (one Ed25519 check each); "
                "ratio = throughput / baseline throughput (higher is better)",
            }
        )
        store.close()
    return rows
