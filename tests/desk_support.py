"""What the desk tests and the routing and privacy tests share besides fixtures.

The fixtures built on these (``routing_config``, ``rdesk``, ``master_key``, ``pdesk``) are
in ``conftest.py``; tests import the data and helpers below by name.
"""

from __future__ import annotations

from typing import Any

from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk

#: A routing configuration: rules by category and region, two units with officers.
ROUTING_CONFIG: dict[str, Any] = {
    "triage": "unit-pengaduan",
    "fields": {"region": "region"},
    "rules": [
        {"name": "pu", "when": {"category": "infrastruktur"}, "unit": "dinas-pu"},
        {
            "name": "sampah-kec-01",
            "when": {"category": "kebersihan", "region": "32.73.01"},
            "unit": "kec-01",
        },
        {
            "name": "sampah-kota",
            "when": {"category": "kebersihan", "region": "32.73"},
            "unit": "dlh",
        },
    ],
    "units": {
        "dinas-pu": {"strategy": "least_loaded", "officers": ["pu-1", "pu-2"]},
        "bidang-jalan": {"strategy": "round_robin", "officers": ["jl-1", "jl-2"]},
    },
    "disposition": {"roles": ["supervisor"]},
}

CITIZEN = Actor("warga-1", {"citizen"})

#: A complaint carrying every personal field of the example SOP.
CITIZEN_DATA = {
    "subject": "Jalan berlubang",
    "category": "infrastruktur",
    "nama": "Siti Nurhaliza Rahmawati",
    "nik": "3273015708910004",
    "telepon": "+6281234567890",
    "alamat": "Jl. Cihampelas No. 12, RT 03/RW 05, Bandung",
}
#: The personal values of `CITIZEN_DATA`, which must never appear in clear.
PLAINTEXTS = [CITIZEN_DATA[k] for k in ("nama", "nik", "telepon", "alamat")]


def submit_routed(
    desk: ServiceDesk, category: str = "infrastruktur", region: str = "32.73.01.1001"
) -> str:
    """Submit a complaint of *category* in *region* as `CITIZEN`; return its id."""
    data = {"subject": "Jalan rusak", "category": category, "region": region}
    return desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
