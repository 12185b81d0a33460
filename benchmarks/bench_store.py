"""Storage figures: concurrent writers on SQLite and PostgreSQL; a large SQLite store.

* ``act()`` throughput with 4 writer processes (each a `ServiceDesk` submitting and
  verifying complaints) against 1 process on the same backend: ratio = 4-process
  throughput / 1-process throughput.  After each run the ledger is verified and every
  acknowledged action looked up: forks and lost acknowledged actions are counted (both
  must be 0).  PostgreSQL rows need the server at ``PELAYANAN_BENCH_POSTGRES`` (default
  the local one); without it they report NaN with a note.
* A SQLite store of N entries built with `Store.bulk_append` (one signed checkpoint per
  1,000 entries, 2,000 open requests of which 1 % are due): peak Python memory
  (tracemalloc) of a full verification, 200 inclusion proofs and a ``tick`` at N, against
  the same at a smaller size: ratio ~ 1 means memory stays flat as the store grows.

Full run: N = 1,000,000 against 50,000, 150 submit+verify pairs per writer; ``--quick``:
N = 8,000 against 2,000, 4 pairs per writer (a smoke run: the ratios are noisy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pelayanan.access import Actor
from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.keys import generate_key_pair, load_private_key, write_key_pair
from pelayanan.audit.merkle import CompactRange, inclusion_proof_from_nodes
from pelayanan.audit.verify import verify_ledger
from pelayanan.calendar import Duration, indonesian_government_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import VerificationError
from pelayanan.sla import ClockCondition, ClockDef, ClockEngine, next_due
from pelayanan.sop import load_sop
from pelayanan.store import SQLiteStore, open_store
from pelayanan.store._rows import REQUEST_COLUMNS, REQUEST_PLACEHOLDERS, request_params
from pelayanan.store.base import LedgerNodes, RequestRecord
from pelayanan.testing import FakeClock

HERE = Path(__file__).resolve().parent
SOP_FILE = HERE.parent / "examples" / "sop" / "pengaduan.yaml"
PG_URL = os.environ.get("PELAYANAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
CLOCK = ClockDef(
    name="verification",
    start=ClockCondition(on_enter=("received",)),
    stop=ClockCondition(on_action=("verify", "reject")),
    target=Duration.working_days(3),
    warn_at=(50, 75),
)
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


# -- concurrent writers ------------------------------------------------------------------


def writer(location: str, key_path: str, tag: str, count: int, ledger: str = "default") -> None:
    """Submit and verify *count* complaints; print each ack, then ``TIME start end``."""
    store = open_store(location)
    desk = ServiceDesk(
        store,
        sops=[load_sop(SOP_FILE)],
        signing_key=load_private_key(key_path),
        clock=FakeClock(T0),
        ledger=ledger,
    )
    citizen = Actor("warga-1", {"citizen"})
    verifier = Actor("ver-1", {"verifier"}, "unit-pengaduan")
    out = sys.stdout
    started = time.time()
    for i in range(-1, count):  # -1: a warm-up pair (calendar tables, SOP compile), untimed
        if i == 0:
            started = time.time()
        rid = f"{tag}-{i}"
        data = {"subject": f"jalan rusak {i}", "category": "infrastruktur"}
        sub = desk.submit("pengaduan-umum", actor=citizen, data=data, request_id=rid)
        out.write(f"{sub.seq} {rid} submit\n")
        ver = desk.act(rid, "verify", actor=verifier)
        out.write(f"{ver.seq} {rid} verify\n")
        out.flush()
    out.write(f"TIME {started} {time.time()} {2 * count}\n")
    out.flush()
    store.close()


def _run_writers(
    location: str, key_path: str, processes: int, count: int, ledgers: list[str] | None = None
) -> dict[str, float]:
    """Run *processes* writers (writer ``p`` on ``ledgers[p]``, default all on one ledger)."""
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_store as b; b.writer(*sys.argv[1:3], sys.argv[3], int(sys.argv[4]), sys.argv[5])"  # noqa: E501
    on = ledgers if ledgers is not None else ["default"] * processes
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                location,
                key_path,
                f"P{p}-{uuid.uuid4().hex[:6]}",
                str(count),
                on[p],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    acked: list[tuple[str, int, str, str]] = []
    starts, ends = [], []
    timed = 0
    for ledger, proc in zip(on, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed: {err.strip()[-500:]}")
        for line in out.splitlines():
            parts = line.split()
            if parts[0] == "TIME":
                starts.append(float(parts[1]))
                ends.append(float(parts[2]))
                timed += int(parts[3])
            else:
                acked.append((ledger, int(parts[0]), parts[1], parts[2]))
    elapsed = max(ends) - min(starts)
    store = open_store(location)
    forks = lost = 0
    for ledger in sorted(set(on)):
        try:
            verify_ledger(
                ledger,
                ((e.seq, e.data) for e in store.entries(ledger)),
                store.iter_checkpoints(ledger),
                [load_private_key(key_path).verifier],
                expected_size=store.head(ledger).size,
            )
        except VerificationError:
            forks += 1
        seqs = [seq for at, seq, _, _ in acked if at == ledger]
        forks += len(seqs) - len(set(seqs))  # two writers told they got the same position
        entries = {e.seq: json.loads(e.data) for e in store.entries(ledger)}
        lost += sum(
            1
            for at, seq, rid, action in acked
            if at == ledger
            and (entries.get(seq, {}).get("request") != rid or entries[seq].get("action") != action)
        )
    store.close()
    return {"rate": timed / elapsed, "forks": forks, "lost": lost, "acked": len(acked)}


def _pg_schema_url(schema: str) -> str:
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"


def _pg_drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _writer_rows(backend: str, tmp: Path, key_path: str, count: int) -> list[dict[str, Any]]:
    runs: dict[int, dict[str, float]] = {}
    for processes in (1, 4):
        if backend == "sqlite":
            location = str(tmp / f"writers-{processes}.db")
            SQLiteStore(location).close()
            runs[processes] = _run_writers(location, key_path, processes, count)
        else:
            schema = f"pelayanan_bench_{uuid.uuid4().hex[:10]}"
            try:
                open_store(_pg_schema_url(schema)).close()
                runs[processes] = _run_writers(_pg_schema_url(schema), key_path, processes, count)
            finally:
                _pg_drop(schema)
    one, four = runs[1], runs[4]
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    return [
        {
            "figure": f"{name} act() throughput, 4 writer processes",
            "value": four["rate"],
            "unit": "actions/s",
            "baseline": f"{name} act() throughput, 1 writer process",
            "baseline_value": one["rate"],
            "ratio": four["rate"] / one["rate"],
            "target": ">= 0.8 (appends to one ledger serialize)",
            "note": f"{int(four['acked'])} acknowledged actions checked",
        },
        {
            "figure": f"{name} forks + lost acknowledged actions (1 and 4 writers)",
            "value": float(one["forks"] + four["forks"] + one["lost"] + four["lost"]),
            "unit": "count",
            "baseline": "required",
            "baseline_value": 0.0,
            "ratio": float(one["forks"] + four["forks"] + one["lost"] + four["lost"]),
            "target": "0",
            "note": (
                f"forks {int(one['forks'] + four['forks'])}, lost {int(one['lost'] + four['lost'])}"
            ),
        },
    ]


def _pg_reachable() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        return f"no PostgreSQL at {PG_URL}: {exc}"
    return None


# -- the large store ---------------------------------------------------------------------


def _records(n: int, key: Any) -> Iterator[bytes | str]:
    """Yield N canonical entries (and a signed checkpoint per 1,000) for ledger default.

    Entries are encoded with the C encoder: for ASCII keys and small integers its
    sorted output is the canonical form, and generation stays fast.
    """
    compact = CompactRange()
    prev = "0" * 64
    for seq in range(n):
        entry = {
            "v": 1,
            "ledger": "default",
            "seq": seq,
            "prev": prev,
            "time": "2026-07-06T01:00:00.000000Z",
            "kind": "action",
            "request": f"ADU-{seq // 5:07d}",
            "action": "verify",
            "actor": "199001052015031002",
            "data": {"note": f"tindak lanjut {seq}"},
        }
        data = _DUMPS(entry).encode()
        digest = hashlib.sha256(b"\x00" + data).digest()
        compact.append(digest)
        prev = digest.hex()
        yield data
        if (seq + 1) % 1000 == 0 or seq + 1 == n:
            yield Checkpoint("default", seq + 1, compact.root(), T0).sign(key).to_text()


def _build(path: Path, n: int, key: Any) -> float:
    """Build the store; return the seconds `bulk_append` took (generation included)."""
    store = SQLiteStore(path)
    t0 = time.perf_counter()
    store.bulk_append("default", _records(n, key))
    elapsed = time.perf_counter() - t0
    store.close()
    sop = load_sop(SOP_FILE)
    engine = ClockEngine([CLOCK], calendars={"default": indonesian_government_calendar()})
    rows = []
    # 2,000 open requests; 1 % were submitted a month ago, so their SLA clock is due.
    for i in range(2000):
        at = T0 - dt.timedelta(days=30 if i % 100 == 0 else 0, minutes=i % 60)
        clocks, _ = engine.transition(
            {}, action="submit", source=None, target="received", final=False, at=at
        )
        record = RequestRecord(
            id=f"REQ-{i:05d}",
            ledger="default",
            sop_id=sop.id,
            sop_version=sop.version,
            sop_hash=sop.content_hash,
            state="received",
            version=1,
            data={"subject": "Jalan rusak", "category": "infrastruktur"},
            meta={"actors": {"submit": ["warga"]}, "sla": clocks},
            created_at=at,
            updated_at=at,
            unit=sop.unit,
            next_due=next_due(clocks),
        )
        rows.append(request_params(record))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({REQUEST_PLACEHOLDERS})", rows
        )
    conn.close()
    return elapsed


def _peak(fn: Any) -> tuple[float, float]:
    """Return (seconds, peak MiB of Python allocations) of calling *fn*."""
    tracemalloc.start()
    t0 = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20


def _measure(path: Path, n: int, key: Any) -> dict[str, tuple[float, float]]:
    store = SQLiteStore(path)
    out: dict[str, tuple[float, float]] = {}

    def verify() -> None:
        verify_ledger(
            "default",
            ((e.seq, e.data) for e in store.entries("default")),
            store.iter_checkpoints("default"),
            [key.verifier],
            expected_size=n,
        )

    def prove() -> None:
        rng = random.Random(1)
        nodes = LedgerNodes(store, "default")
        for _ in range(200):
            inclusion_proof_from_nodes(nodes, rng.randrange(n), n)

    sop = load_sop(SOP_FILE)
    desk = ServiceDesk(
        store, sops=[sop], signing_key=key, clock=FakeClock(T0), clocks={sop.id: (CLOCK,)}
    )

    def tick() -> None:
        desk.tick(T0)

    out["verify"] = _peak(verify)
    out["prove"] = _peak(prove)
    out["tick"] = _peak(tick)
    store.close()
    return out


def _large_rows(tmp: Path, n: int, small_n: int) -> list[dict[str, Any]]:
    key = generate_key_pair()
    built = {size: _build(tmp / f"large-{size}.db", size, key) for size in (small_n, n)}
    small = _measure(tmp / f"large-{small_n}.db", small_n, key)
    large = _measure(tmp / f"large-{n}.db", n, key)
    rows: list[dict[str, Any]] = [
        {
            "figure": f"SQLite bulk_append build, {n:,} entries",
            "value": n / built[n],
            "unit": "entries/s",
            "baseline": f"same at {small_n:,} entries",
            "baseline_value": small_n / built[small_n],
            "ratio": (n / built[n]) / (small_n / built[small_n]),
            "note": "entries + Merkle nodes + a signed checkpoint per 1,000, one transaction",
        }
    ]
    labels = {
        "verify": "full verification",
        "prove": "200 inclusion proofs",
        "tick": "desk.tick (20 of 2,000 requests due)",
    }
    for what, label in labels.items():
        rows.append(
            {
                "figure": f"SQLite {label}: peak memory at {n:,} entries",
                "value": large[what][1],
                "unit": "MiB",
                "baseline": f"same at {small_n:,} entries",
                "baseline_value": small[what][1],
                "ratio": large[what][1] / small[what][1] if small[what][1] else math.nan,
                "target": "<= 1.5 (flat)",
                "note": f"{large[what][0]:.2f} s at {n:,}, {small[what][0]:.2f} s at {small_n:,}",
            }
        )
    return rows


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure concurrent writers and the large-store figures."""
    n, small_n = (8_000, 2_000) if quick else (1_000_000, 50_000)
    count = 4 if quick else 150
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        private, _ = write_key_pair(generate_key_pair(), tmp / "keys")
        rows += _writer_rows("sqlite", tmp, str(private), count)
        reason = _pg_reachable()
        if reason is None:
            rows += _writer_rows("postgres", tmp, str(private), count)
        else:
            rows.append(
                {
                    "figure": "PostgreSQL act() throughput, 4 writer processes",
                    "value": math.nan,
                    "unit": "actions/s",
                    "baseline": "PostgreSQL act() throughput, 1 writer process",
                    "baseline_value": math.nan,
                    "ratio": math.nan,
                    "note": reason,
                }
            )
        rows += _large_rows(tmp, n, small_n)
    return rows
