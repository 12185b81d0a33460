"""Disposisi: a complaint routed by region and category, then a chain of dispositions.

The complaint is routed to Dinas PU by `examples/routing/pemkot.yaml` (category and
region); the head of Dinas PU sends it in parallel to two divisions with their own due
dates; the road division passes it down to an officer (a chain) and answers; the water
division says "bukan wewenang"; the parallel pair joins back at Dinas PU.  A second
report no rule matches lands at the triage unit.  The whole "why is this on my desk"
story is then read back from the audit log alone.

Run: ``python examples/disposisi.py``
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from pelayanan import Actor, MemoryStore, ServiceDesk, generate_key_pair, load_sop
from pelayanan.routing import DispositionTarget, load_routing_config, routing_trail
from pelayanan.testing import FakeClock

HERE = Path(__file__).resolve().parent
WIB = ZoneInfo("Asia/Jakarta")


def main() -> None:
    """Run one complaint through a disposition chain and print its trail."""
    sop = load_sop(HERE / "sop" / "pengaduan.yaml")
    routing = load_routing_config(HERE / "routing" / "pemkot.yaml")
    store = MemoryStore()
    clock = FakeClock(dt.datetime(2026, 7, 6, 8, 0, tzinfo=WIB))
    desk = ServiceDesk(
        store, sops=[sop], signing_key=generate_key_pair(), clock=clock, routing=routing
    )
    kepala = Actor("197504081998031004", {"supervisor"}, "unit-pengaduan")
    kadis_pu = Actor("197002021995031001", {"supervisor"}, "dinas-pu")
    kabid_jalan = Actor("198001012005011002", {"supervisor"}, "bidang-jalan")
    kabid_sda = Actor("198202022006041003", {"supervisor"}, "bidang-sda")

    petugas_jalan = Actor("199301012019031011", {"officer"}, "bidang-jalan")

    # 1. A citizen reports a sunken road with a clogged drain in a kelurahan of kecamatan
    #    32.73.01: rule 'jalan-drainase-kota' (category + region) sends it to Dinas PU.
    request = desk.submit(
        sop.id,
        actor=Actor("warga-77", {"citizen"}),
        data={
            "subject": "Jalan amblas dan saluran tersumbat",
            "category": "infrastruktur",
            "region": "32.73.01.1001",
        },
    ).request
    print(f"{request.id}: routed to {request.unit}, assigned to {request.assignee}")

    # 2. Dinas PU's head sends it to two divisions at once, each with its own due date.
    clock.advance(hours=2)
    desk.dispose(
        request.id,
        actor=kadis_pu,
        to=[
            DispositionTarget(unit="bidang-jalan", due=clock.now() + dt.timedelta(days=2)),
            DispositionTarget(unit="bidang-sda", due=clock.now() + dt.timedelta(days=3)),
        ],
        instruction="Cek lapangan dan laporkan",
    )
    # 3. The road division passes its part down to an officer (a chain) ...
    clock.advance(hours=1)
    desk.dispose(
        request.id,
        actor=kabid_jalan,
        to=DispositionTarget(officer=petugas_jalan.id, unit="bidang-jalan"),
        instruction="Survei dan urug jalan amblas",
        due=clock.now() + dt.timedelta(days=1),
    )
    clock.advance(hours=20)
    desk.answer_disposition(request.id, actor=petugas_jalan, answer="Jalan sudah diurug")
    desk.answer_disposition(request.id, actor=kabid_jalan, answer="Jalan selesai diperbaiki")
    # 4. ... while the water division says the drain is not the city's to fix.
    clock.advance(hours=2)
    after = desk.bukan_wewenang(
        request.id, actor=kabid_sda, reason="Saluran primer dikelola BBWS, bukan wewenang kota"
    ).request
    print(f"{request.id}: parallel pair joined, back with {after.assignee} in {after.unit}")

    # 5. A report no rule matches is not lost: it lands at the triage unit.
    other = desk.submit(
        sop.id,
        actor=Actor("warga-78", {"citizen"}),
        data={"subject": "Bau menyengat dari pabrik", "category": "lainnya"},
    ).request
    print(f"{other.id}: no rule matched, triage unit {other.unit}")
    desk.dispose(
        other.id,
        actor=kepala,
        to="dinas-lh",
        instruction="Mohon ditindaklanjuti",
        due=clock.now() + dt.timedelta(days=5),
    )

    # 6. "Why is this on my desk?" from the audit log alone (as an auditor would read it).
    entries = [json.loads(e.data) for e in store.entries(desk.ledger)]
    for rid in (request.id, other.id):
        print(f"why {rid}:")
        for step in routing_trail(entries, rid):
            print("  " + step.render())


if __name__ == "__main__":
    main()
