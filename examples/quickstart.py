"""Quick start: load an SOP, run one complaint through it, verify the audit log.

Run: ``python examples/quickstart.py``
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from pelayanan import (
    Actor,
    PermissionDeniedError,
    ServiceDesk,
    SQLiteStore,
    generate_key_pair,
    load_sop,
    verify_ledger,
)
from pelayanan.testing import FakeClock

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run the quick start."""
    # 1. An SOP written as configuration, validated when it is loaded.
    sop = load_sop(HERE / "sop" / "pengaduan.yaml")
    print(f"loaded SOP {sop.id} {sop.version} (hash {sop.content_hash[:12]})")

    with tempfile.TemporaryDirectory() as tmp:
        # 2. A desk over a SQLite store, a ledger key, and a clock (fake here).
        store = SQLiteStore(Path(tmp) / "quickstart.db")
        key = generate_key_pair()
        clock = FakeClock(dt.datetime(2026, 7, 6, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
        desk = ServiceDesk(store, sops=[sop], signing_key=key, clock=clock)

        citizen = Actor("warga-42", {"citizen"})
        verifier = Actor("199001052015031002", {"verifier"})
        supervisor = Actor("197504081998031004", {"supervisor"})
        officer = Actor("199203302019031005", {"officer"})

        # 3. Submit and act; every step is an audit entry committed with the new state.
        request = desk.submit(
            sop.id, actor=citizen, data={"subject": "Lampu jalan mati", "category": "infrastruktur"}
        ).request
        clock.advance(hours=1)
        desk.act(request.id, "verify", actor=verifier)
        try:
            desk.act(request.id, "dispatch", actor=officer, data={"assigned_unit": "dinas-pu"})
        except PermissionDeniedError as exc:
            print(f"refused and recorded: {exc}")
        desk.act(request.id, "dispatch", actor=supervisor, data={"assigned_unit": "dinas-pu"})
        clock.advance(hours=20)
        desk.act(request.id, "follow_up", actor=officer, data={"follow_up_note": "Lampu diganti"})
        desk.act(request.id, "close", actor=supervisor)
        print(f"request {request.id} is now {desk.get(request.id).state}")

        # 4. Verify the log the way an auditor does: chain, Merkle roots, signatures.
        report = verify_ledger(
            "default",
            ((e.seq, e.data) for e in store.entries("default")),
            store.checkpoints("default"),
            [key.verifier],
        )
        print(report.summary())
        store.close()


if __name__ == "__main__":
    main()
