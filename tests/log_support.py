"""A signed log of realistic entries that the audit tests build and then tamper with."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pelayanan.audit.keys import SigningKey
from pelayanan.store import MemoryStore

#: When the first entry of `build_signed_store` is made.
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def build_signed_store(
    key: SigningKey,
    *,
    ledger: str = "kota",
    size: int = 8,
    every: int = 1,
    seed: int = 3,
    extra_data: Mapping[str, Any] | None = None,
) -> MemoryStore:
    """Append *size* realistic entries to *ledger*, signing a checkpoint after every *every*.

    Entries are seven minutes apart from `T0`; *seed* picks actions and categories, and
    *extra_data* is added to every entry's ``data``.
    """
    rng = random.Random(seed)
    store = MemoryStore()
    for i in range(size):
        when = T0 + dt.timedelta(minutes=7 * i)
        body = {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "kind": "action" if i else "submit",
            "request": f"ADU-{i // 3:03d}",
            "sop": {"id": "pengaduan-umum", "version": "1.0.0", "hash": "ab" * 32},
            "action": rng.choice(["submit", "verify", "dispatch"]),
            "actor": f"1987031220100{i:05d}",
            "role": "verifier",
            "from": "received",
            "to": "verified",
            "data": {
                "category": rng.choice(["kebersihan", "infrastruktur"]),
                "n": i,
                **(extra_data or {}),
            },
        }
        sign = (lambda cp: cp.sign(key)) if (i + 1) % every == 0 or i == size - 1 else None
        store.append(ledger, body, time=when, sign=sign)
    return store


def forge_actor(db: Path, seq: int) -> None:
    """Edit entry *seq*'s actor inside the SQLite file *db*, as someone holding the file would."""
    conn = sqlite3.connect(db)
    try:
        (data,) = conn.execute("SELECT data FROM entries WHERE seq = ?", (seq,)).fetchone()
        forged = bytes(data).replace(b'"actor":"', b'"actor":"X', 1)
        assert forged != bytes(data), f"entry {seq} has no actor to forge"
        conn.execute("UPDATE entries SET data = ? WHERE seq = ?", (forged, seq))
        conn.commit()
    finally:
        conn.close()
