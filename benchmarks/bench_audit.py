"""Audit ledger figures: export verification, SQLite appends, proofs from stored nodes.

* Verification of an N-entry export (a checkpoint per 1,000 entries) against reading the
  same lines, ``json.loads`` and SHA-256 of each (target: ratio >= 0.5, ratio = verify
  throughput / baseline throughput).
* ``SQLiteStore.append`` (encode, chain, Merkle nodes, head, signed checkpoint, one
  transaction each) against raw ``INSERT``s of the same entry rows, one transaction each.
* Inclusion proofs at N entries read from the SQLite ``merkle_nodes`` table against one
  primary-key lookup in the same table.

Full run: N = 1,000,000; ``--quick``: N = 20,000.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.export import verify_export
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.merkle import CompactRange, inclusion_proof_from_nodes, leaf_hash
from pelayanan.store import SQLiteStore
from pelayanan.store.base import LedgerNodes

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def _body(i: int) -> dict[str, object]:
    when = T0 + dt.timedelta(seconds=i)
    return {
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "kind": "action",
        "request": f"ADU-2026-{i // 5:07d}",
        "sop": {"id": "pengaduan-umum", "version": "1.0.0", "hash": "ab" * 32},
        "action": "verify",
        "actor": "199001052015031002",
        "role": "verifier",
        "from": "received",
        "to": "verified",
        "data": {"category": "kebersihan", "note": f"tindak lanjut {i}"},
    }


def _write_export(path: Path, n: int, every: int) -> None:
    """Write an N-entry export the way ``write_export`` lays it out.

    Entries are encoded with the C encoder: for ASCII keys and integers far below 2**53
    its sorted output is the canonical form, and generation stays fast.
    """
    key = generate_key_pair()
    compact = CompactRange()
    prev = "0" * 64
    with path.open("wb") as out:
        out.write(
            _DUMPS(
                {"format": "pelayanan-audit-export", "ledger": "kota", "size": n, "version": 1}
            ).encode()
            + b"\n"
        )
        for i in range(n):
            entry = _body(i)
            entry.update(v=1, ledger="kota", seq=i, prev=prev)
            data = _DUMPS(entry).encode()
            digest = leaf_hash(data)
            compact.append(digest)
            prev = digest.hex()
            out.write(data + b"\n")
            if (i + 1) % every == 0 or i == n - 1:
                cp = Checkpoint("kota", i + 1, compact.root(), T0 + dt.timedelta(seconds=i))
                note = cp.sign(key).to_text()
                out.write(json.dumps({"checkpoint": note}, separators=(",", ":")).encode() + b"\n")
    path.with_suffix(".pub").write_bytes(key.verifier.public_pem())


def _baseline(path: Path) -> None:
    with path.open("rb") as fh:
        for line in fh:
            json.loads(line)
            hashlib.sha256(b"\x00" + line.rstrip(b"\n")).digest()


def _verify_rows(tmp: Path, n: int) -> list[dict[str, object]]:
    from pelayanan.audit.keys import load_public_key

    path = tmp / "export.jsonl"
    _write_export(path, n, 1000)
    key = load_public_key(path.with_suffix(".pub"))
    started = time.perf_counter()
    _baseline(path)
    base = time.perf_counter() - started
    started = time.perf_counter()
    (report,) = verify_export(path, [key])
    took = time.perf_counter() - started
    assert report.size == n
    return [
        {
            "figure": f"verify a {n:,}-entry export (checkpoint per 1,000)",
            "value": n / took,
            "unit": "entries/s",
            "baseline": "read lines + json.loads + SHA-256 of the same lines",
            "baseline_value": n / base,
            "ratio": base / took,
            "target": ">= 0.5",
            "note": "ratio = throughput / baseline throughput (higher is better)",
        }
    ]


def _append_rows(tmp: Path, n: int) -> list[dict[str, object]]:
    key = generate_key_pair()
    store = SQLiteStore(tmp / "append.db")
    started = time.perf_counter()
    for i in range(n):
        store.append(
            "kota", _body(i), time=T0 + dt.timedelta(seconds=i), sign=lambda c: c.sign(key)
        )
    took = time.perf_counter() - started
    rows = [(e.ledger, e.seq, e.data) for e in store.entries("kota")]
    store.close()
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE entries (ledger TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, "
        "PRIMARY KEY (ledger, seq)) WITHOUT ROWID"
    )
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO entries (ledger, seq, data) VALUES (?, ?, ?)", row)
        conn.execute("COMMIT")
    raw = time.perf_counter() - started
    conn.close()
    return [
        {
            "figure": f"SQLiteStore.append x{n:,} (signed checkpoint each)",
            "value": n / took,
            "unit": "appends/s",
            "baseline": "raw INSERT of the same entry rows, one transaction each",
            "baseline_value": n / raw,
            "ratio": raw / took,
            "note": "ratio = throughput / baseline throughput (higher is better)",
        }
    ]


def _proof_rows(tmp: Path, n: int) -> list[dict[str, object]]:
    store = SQLiteStore(tmp / "proofs.db")
    store.close()
    # Load the nodes appends would have written, in one transaction (1M appends one by
    # one would take most of an hour and measure nothing about proofs).
    conn = sqlite3.connect(tmp / "proofs.db", isolation_level=None)
    compact = CompactRange()
    conn.execute("BEGIN")
    batch: list[tuple[str, int, int, bytes]] = []
    for i in range(n):
        nodes = compact.append(hashlib.sha256(b"\x00%d" % i).digest())
        batch.extend(("kota", node.level, node.index, node.hash) for node in nodes)
        if len(batch) > 50_000:
            conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?, ?)", batch)
    conn.execute("COMMIT")
    conn.close()
    store = SQLiteStore(tmp / "proofs.db")
    reader = LedgerNodes(store, "kota")
    rng = random.Random(7)
    picks = [rng.randrange(n) for _ in range(200 if n < 100_000 else 2000)]
    started = time.perf_counter()
    for index in picks:
        inclusion_proof_from_nodes(reader, index, n)
    took = (time.perf_counter() - started) / len(picks)
    started = time.perf_counter()
    for index in picks:
        store.get_nodes("kota", [(0, index)])
    lookup = (time.perf_counter() - started) / len(picks)
    store.close()
    return [
        {
            "figure": f"inclusion proof at {n:,} entries (SQLite nodes)",
            "value": took * 1e6,
            "unit": "us/proof",
            "baseline": "one stored-node lookup (get_nodes of one node)",
            "baseline_value": lookup * 1e6,
            "ratio": took / lookup,
            "note": f"about {2 * n.bit_length()} nodes read in one query per proof",
        }
    ]


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and return the rows."""
    n = 20_000 if quick else 1_000_000
    appends = 200 if quick else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = _verify_rows(folder, n)
        rows += _append_rows(folder, appends)
        rows += _proof_rows(folder, n)
    return rows
