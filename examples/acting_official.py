"""A staff request with separation of duties and an acting official (Plt).

A leave request (permohonan cuti) is verified by the personnel section and approved by
the head of unit.  Separation of duties: the verifier may not approve (the SOP's
``not_by``), and nobody approves a request about themself (an access rule on the field
naming the employee).  While the head is away, a Plt approves with the head's authority;
the entry records both the Plt and the authority used, and the delegation ends on time.

Run: ``python examples/acting_official.py``
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from pelayanan import Actor, MemoryStore, PermissionDeniedError, ServiceDesk, generate_key_pair
from pelayanan.access import AccessPolicy, Delegation, DelegationRegistry, SubjectRule
from pelayanan.sop import sop_from_dict
from pelayanan.testing import FakeClock

WIB = ZoneInfo("Asia/Jakarta")

LEAVE: dict[str, Any] = {
    "id": "cuti-pegawai",
    "version": "1.0.0",
    "title": "Permohonan cuti pegawai (staff leave request)",
    "unit": "bagian-kepegawaian",
    "roles": {
        "pegawai": "Pegawai (staff member)",
        "verifier": "Petugas kepegawaian (personnel officer)",
        "atasan": "Kepala unit (head of unit)",
    },
    "submit": {"roles": ["pegawai"], "requires": ["employee_id", "days"]},
    "initial": "diajukan",
    "states": {
        "diajukan": {"label": {"id": "Diajukan", "en": "Submitted"}},
        "diverifikasi": {"label": {"id": "Diverifikasi", "en": "Verified"}},
        "disetujui": {"label": {"id": "Disetujui", "en": "Approved"}, "final": True},
    },
    "actions": [
        {"name": "verify", "from": "diajukan", "to": "diverifikasi", "roles": ["verifier"]},
        {
            "name": "approve",
            "from": "diverifikasi",
            "to": "disetujui",
            "roles": ["atasan"],
            "not_by": ["verify"],
        },
    ],
}


def main() -> None:
    """Run leave requests past the separation rules and an acting official."""
    clock = FakeClock(dt.datetime(2026, 7, 13, 8, 0, tzinfo=WIB))
    head = Actor("197504081998031004", {"atasan", "pegawai"}, "bagian-umum")
    plt = Actor("198811202012122003", {"pegawai"}, "bagian-umum")
    personnel = Actor("199001052015031002", {"verifier", "atasan", "pegawai"}, "kepegawaian")
    staff = Actor("199203302019031005", {"pegawai"}, "bagian-umum")
    delegation = Delegation(
        id="800/112/SPRIN/2026",
        principal=head.id,
        delegate=plt.id,
        kind="plt",
        roles={"atasan"},
        actions={"approve"},
        valid_from=dt.datetime(2026, 7, 13, tzinfo=WIB),
        valid_until=dt.datetime(2026, 7, 18, tzinfo=WIB),
    )
    store = MemoryStore()
    desk = ServiceDesk(
        store,
        sops=[sop_from_dict(LEAVE)],
        signing_key=generate_key_pair(),
        clock=clock,
        access_policy=AccessPolicy((SubjectRule(action="approve", field="employee_id"),)),
        delegations=DelegationRegistry([delegation]),
    )

    def leave(employee: Actor) -> str:
        data = {"employee_id": employee.id, "days": 3}
        request_id = desk.submit("cuti-pegawai", actor=employee, data=data).request.id
        desk.act(request_id, "verify", actor=personnel)
        return request_id

    def attempt(request_id: str, actor: Actor, **kwargs: Any) -> None:
        try:
            desk.act(request_id, "approve", actor=actor, **kwargs)
            print(f"  approved by {actor.id}" + (" as Plt" if kwargs else ""))
        except PermissionDeniedError as exc:
            print(f"  refused ({exc.rule}): {exc}")

    print("the head's own leave:")
    own = leave(head)
    attempt(own, head)  # nobody approves their own request
    print("a staff member's leave:")
    request_id = leave(staff)
    attempt(request_id, personnel)  # the verifier may not also approve
    attempt(request_id, plt, on_behalf_of=head.id)  # the Plt, with the head's authority
    entry = json.loads(list(store.entries(desk.ledger))[-1].data)
    print(f"  entry #{entry['seq']}: actor {entry['actor']}, authority {entry['authority']}")
    print("the Plt on the head's own leave, and after the delegation ended:")
    attempt(own, plt, on_behalf_of=head.id)
    clock.set(dt.datetime(2026, 7, 20, 8, 0, tzinfo=WIB))
    attempt(leave(staff), plt, on_behalf_of=head.id)
    refused = [json.loads(e.data) for e in store.entries(desk.ledger)]
    refused = [e for e in refused if e["kind"] == "refused"]
    print(f"refused attempts in the audit log: {len(refused)}")
    for e in refused:
        print(f"  #{e['seq']} {e['actor']}: {e['reason']['rule']}")


if __name__ == "__main__":
    main()
