"""Privacy figures: the cost of sealing personal fields in ``act()``.

``act()`` on SQLite carrying three personal fields (name, phone, address: sealed with
AES-256-GCM under the subject's key, which is read from the vault and unwrapped, plus a
keyed commitment each) against the same action carrying the same three values in
non-personal fields.  Target: at most 1.5x.  Both run on the same desk, interleaved in
chunks, so machine noise hits both alike.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from pelayanan.access import Actor
from pelayanan.audit.keys import generate_key_pair
from pelayanan.desk import ServiceDesk
from pelayanan.privacy import PrivacySettings, Vault, generate_master_key
from pelayanan.sop import load_sop
from pelayanan.store import SQLiteStore
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SOP_FILE = ROOT / "examples" / "sop" / "pengaduan.yaml"

VALUES = {
    "nama": "Siti Nurhaliza Rahmawati",
    "telepon": "+6281234567890",
    "alamat": "Jl. Cihampelas No. 12, RT 003/RW 005, Kel. Cipaganti, Kota Bandung",
}


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and return the rows."""
    n = 60 if quick else 600
    chunk = 20
    citizen = Actor("w", {"citizen"})
    verifier = Actor("v", {"verifier"})
    plain = {f"catatan_{name}": value for name, value in VALUES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        # The same SOP with the three plain fields declared (undeclared fields are refused).
        declared = "".join(f"  {name}: {{type: text}}\n" for name in plain)
        text = SOP_FILE.read_text(encoding="utf-8").replace("fields:\n", "fields:\n" + declared, 1)
        (Path(tmp) / SOP_FILE.name).write_text(text, encoding="utf-8")
        sop = load_sop(Path(tmp) / SOP_FILE.name)
        store = SQLiteStore(Path(tmp) / "bench.db")
        clock = FakeClock(dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC))
        desk = ServiceDesk(
            store,
            sops=[sop],
            signing_key=generate_key_pair(),
            clock=clock,
            privacy=PrivacySettings(vault=Vault(generate_master_key())),
        )
        base = {"subject": "s", "category": "lainnya", "nik": "3273015708910004"}
        ids = [desk.submit(sop.id, actor=citizen, data=base).request.id for _ in range(2 * n)]
        personal_ids, plain_ids = ids[:n], ids[n:]
        personal_times: list[float] = []
        plain_times: list[float] = []
        for start in range(0, n, chunk):
            started = time.perf_counter()
            for request_id in personal_ids[start : start + chunk]:
                desk.act(request_id, "verify", actor=verifier, data=VALUES)
            personal_times.append((time.perf_counter() - started) / chunk)
            started = time.perf_counter()
            for request_id in plain_ids[start : start + chunk]:
                desk.act(request_id, "verify", actor=verifier, data=plain)
            plain_times.append((time.perf_counter() - started) / chunk)
        store.close()
    personal = statistics.median(personal_times)
    baseline = statistics.median(plain_times)
    return [
        {
            "figure": "act() with three personal fields (sealed) on SQLite",
            "value": personal * 1e6,
            "unit": "us/action",
            "baseline": "the same act() with the values in non-personal fields",
            "baseline_value": baseline * 1e6,
            "ratio": personal / baseline,
            "target": "<= 1.5x",
            "note": "median of interleaved chunks of 20 actions",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
