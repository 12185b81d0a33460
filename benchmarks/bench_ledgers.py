"""Appends to different ledgers in parallel: PostgreSQL, one server and two.

* ``act()`` throughput (each writer a `ServiceDesk` process submitting and verifying
  complaints) with 4 writer processes on 4 different ledgers of one PostgreSQL server,
  against 1 writer process on one ledger of the same server: ratio = 4-process
  throughput / 1-process throughput.  Appends to different ledgers lock different head
  rows, so they do not wait on each other; what limits the ratio is the CPU (the writers
  and the server share the machine's cores, noted in the table).
* The same 4 writers with their ledgers spread over two servers by a ledger map (two on
  the server at ``PELAYANAN_BENCH_POSTGRES``, two on a throwaway server started with
  `pelayanan.testing.ThrowawayPostgres`), against the same 1-writer baseline.

Every run verifies each ledger and looks up every acknowledged action: forks and lost
acknowledged actions are counted (both must be 0).  Full run: 150 submit+verify pairs
per writer; ``--quick``: 4.  Without a server the rows report NaN with a note.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pelayanan.audit.keys import generate_key_pair, write_key_pair
from pelayanan.exceptions import StoreError
from pelayanan.store import open_store
from pelayanan.testing import ThrowawayPostgres

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_store  # noqa: E402 - the writer processes and the PostgreSQL helpers

LEDGERS = ["kota-bandung", "kab-garut", "kab-bogor", "kota-depok"]


def _cores() -> str:
    return f"{os.cpu_count()} cores shared by the writers and the server(s)"


def _nan_row(figure: str, note: str) -> dict[str, Any]:
    return {
        "figure": figure,
        "value": math.nan,
        "unit": "actions/s",
        "baseline": "PostgreSQL act() throughput, 1 writer on 1 ledger",
        "baseline_value": math.nan,
        "ratio": math.nan,
        "note": note,
    }


def _two_servers(tmp: Path, here: str, key_path: str, count: int) -> dict[str, float]:
    """Run 4 writers on 4 ledgers, two on *here* and two on a throwaway server."""
    with ThrowawayPostgres() as there:
        mapped = tmp / "ledgers.toml"
        rules = [f'"{name}" = "{here if i < 2 else there}"' for i, name in enumerate(LEDGERS)]
        mapped.write_text("[ledgers]\n" + "\n".join(rules) + "\n", encoding="utf-8")
        open_store(mapped).close()
        return bench_store._run_writers(str(mapped), key_path, 4, count, LEDGERS)


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure 4 writers on 4 ledgers against 1 writer, on one server and on two."""
    count = 4 if quick else 150
    four_figure = "PostgreSQL act() throughput, 4 writers on 4 ledgers"
    two_figure = "PostgreSQL act() throughput, 4 writers on 4 ledgers over 2 servers"
    reason = bench_store._pg_reachable()
    if reason is not None:
        return [_nan_row(four_figure, reason), _nan_row(two_figure, reason)]
    rows: list[dict[str, Any]] = []
    schema = f"pelayanan_bench_{uuid.uuid4().hex[:10]}"
    here = bench_store._pg_schema_url(schema)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        private, _ = write_key_pair(generate_key_pair(), tmp / "keys")
        key_path = str(private)
        try:
            open_store(here).close()
            one = bench_store._run_writers(here, key_path, 1, count, LEDGERS[:1])
            four = bench_store._run_writers(here, key_path, 4, count, LEDGERS)
        finally:
            bench_store._pg_drop(schema)
        base = {
            "unit": "actions/s",
            "baseline": "PostgreSQL act() throughput, 1 writer on 1 ledger",
            "baseline_value": one["rate"],
        }
        rows.append(
            {
                "figure": four_figure,
                "value": four["rate"],
                **base,
                "ratio": four["rate"] / one["rate"],
                "target": ">= 1.4",
                "note": _cores(),
            }
        )
        schema = f"pelayanan_bench_{uuid.uuid4().hex[:10]}"
        here = bench_store._pg_schema_url(schema)
        try:
            two = _two_servers(tmp, here, key_path, count)
        except StoreError as exc:
            rows.append(_nan_row(two_figure, f"no second server: {exc}"))
            two = None
        finally:
            bench_store._pg_drop(schema)
        if two is not None:
            rows.append(
                {
                    "figure": two_figure,
                    "value": two["rate"],
                    **base,
                    "ratio": two["rate"] / one["rate"],
                    "target": ">= 1.4",
                    "note": _cores(),
                }
            )
        runs = [r for r in (one, four, two) if r is not None]
        faults = sum(r["forks"] + r["lost"] for r in runs)
        rows.append(
            {
                "figure": "PostgreSQL forks + lost acknowledged actions (ledger runs)",
                "value": float(faults),
                "unit": "count",
                "baseline": "required",
                "baseline_value": 0.0,
                "ratio": float(faults),
                "target": "0",
                "note": f"{int(sum(r['acked'] for r in runs))} acknowledged actions checked",
            }
        )
    return rows
