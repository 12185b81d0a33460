"""The demo's other services: a 112 emergency call on Idul Fitri (round-the-clock clocks
and the notifications `ServiceDesk.tick` returns), a building approval (PBG) with three
parallel technical reviews, and a request received after the Ramadan working hours.

Each runs on its own desk, key and ledger in an in-memory store: the emergency call happens in
March, before the complaint desk's July log starts, and the demo database keeps the one
ledger its report commands read without ``--ledger``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from pelayanan.access import Actor
from pelayanan.audit.keys import generate_key_pair
from pelayanan.calendar import (
    WorkCalendar,
    indonesian_government_calendar,
    round_the_clock_calendar,
)
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import RequestError
from pelayanan.privacy import PrivacySettings, Vault
from pelayanan.sla import FiredEvent
from pelayanan.sop import load_sop
from pelayanan.store import MemoryStore
from pelayanan.testing import FakeClock

__all__ = ["emergency_call_lines", "pbg_lines", "ramadan_line"]

WIB = ZoneInfo("Asia/Jakarta")
#: Idul Fitri 1447 H (1 Syawal), a public holiday: the 112 call centre works through it.
IDUL_FITRI = dt.datetime(2026, 3, 21, 9, 0, tzinfo=WIB)
#: A Friday in Ramadan 1447 H, a quarter of an hour after the Ramadan Friday hours end.
RAMADAN_FRIDAY = dt.datetime(2026, 3, 6, 15, 45, tzinfo=WIB)
#: The same time on an ordinary Friday, inside the normal Friday hours.
ORDINARY_FRIDAY = dt.datetime(2026, 7, 10, 15, 45, tzinfo=WIB)


def _shown(instant: dt.datetime) -> str:
    """Return *instant* as a local day and time: ``Fri 2026-03-20 09:00``."""
    return instant.astimezone(WIB).strftime("%a %Y-%m-%d %H:%M")


def _notified(event: FiredEvent) -> str:
    """Return what one fired event asks the host to do: whom to notify, or the hand-over."""
    whom = ", ".join(event.notify) or "-"
    if event.reassign:
        handed = ", ".join(f"{kind} {value}" for kind, value in event.reassign.items())
        return f"notify {whom}; reassigned to {handed}"
    return f"notify {whom}"


def emergency_call_lines(sop_file: Path) -> list[str]:
    """Take one 112 call on Idul Fitri 2026, tick past its warning and breach.

    Args:
        sop_file: the 112 call centre's SOP.

    Returns:
        The lines the demo prints.
    """
    sop = load_sop(sop_file)
    clock = FakeClock(IDUL_FITRI)
    always = round_the_clock_calendar()
    desk = ServiceDesk(
        MemoryStore(),
        sops=[sop],
        signing_key=generate_key_pair(),  # the service's own key
        ledger="call-center-112",
        clock=clock,
        calendars={always.name: always},
        id_factory=lambda: "112-2026-00001",
    )
    operator = Actor("198905142015032001", {"operator"}, "call-center-112")
    call = desk.submit(
        sop.id, actor=operator, data={"kategori": "medis", "lokasi": "Jl. Asia Afrika 8"}
    )
    request_id = call.request.id
    desk.act(request_id, "verify", actor=operator)
    government = indonesian_government_calendar()
    holiday = next(
        day.name
        for day in government.non_working_days(IDUL_FITRI.year, weekends=False)
        if day.date == IDUL_FITRI.date()
    )
    lines = [
        (
            f"emergency line 112 ({sop.id}, calendar {always.name}): call {request_id} "
            f"taken {_shown(IDUL_FITRI)} ({holiday})"
        )
    ]
    last = IDUL_FITRI
    for minutes in (6, 16):
        last = IDUL_FITRI + dt.timedelta(minutes=minutes)
        lines.extend(
            f"  tick {last:%H:%M}: {event.clock} {event.key:<13} {_notified(event)}"
            for event in desk.tick(last)
        )
    counted = always.elapsed(IDUL_FITRI, last) // dt.timedelta(minutes=1)
    official = government.elapsed(IDUL_FITRI, last) // dt.timedelta(minutes=1)
    lines.append(
        f"  {counted} minutes counted on the holiday (the government calendar would count "
        f"{official})"
    )
    return lines


def pbg_lines(sop_file: Path, vault: Vault, start: dt.datetime) -> list[str]:
    """Run one PBG through its three parallel technical reviews.

    Args:
        sop_file: the PBG SOP.
        vault: the vault that seals the applicant's personal data.
        start: when the application is submitted (a working morning).

    Returns:
        The lines the demo prints.
    """
    sop = load_sop(sop_file)
    store = MemoryStore()
    vault.bind(store)
    clock = FakeClock(start)
    desk = ServiceDesk(
        store,
        sops=[sop],
        signing_key=generate_key_pair(),  # the service's own key
        ledger="dpmptsp-pbg",
        clock=clock,
        id_factory=lambda: "PBG-2026-00001",
        privacy=PrivacySettings(vault=vault),
    )
    admin = Actor("198601202010011001", {"admin"}, "dpmptsp")
    data: dict[str, object] = {
        "nama_pemohon": "Budi Santoso",
        "nik": "3273011203800002",
        "lokasi": "Jl. Cihampelas 120",
        "fungsi_bangunan": "usaha",
        "luas_m2": 240,
        "dokumen_arsitektur": "SIMBG-A-01",
        "dokumen_struktur": "SIMBG-S-01",
        "dokumen_mep": "SIMBG-M-01",
    }
    request_id = desk.submit(sop.id, actor=admin, data=data).request.id
    clock.advance(hours=1)
    desk.act(request_id, "nyatakan_lengkap", actor=admin)

    def branches() -> str:
        record = desk.get(request_id)
        shown = record.meta.get("branches") or {}
        return ", ".join(f"{name} {state}" for name, state in shown.items()) or record.state

    lines = [f"building approval ({sop.id}): {request_id} in konsultasi, three TPA reviews"]
    lines.append(f"  branches: {branches()}")
    reviewers = (
        ("struktur", Actor("199002022016031002", {"structural"}, "tpa-struktur")),
        ("arsitektur", Actor("198807072014032003", {"architect"}, "tpa-arsitektur")),
        ("mep", Actor("199109092017031004", {"mep"}, "tpa-mep")),
    )
    clock.advance(days=1)
    logged = store.head("dpmptsp-pbg").size
    try:
        desk.act(
            request_id,
            "setujui_struktur",
            actor=reviewers[0][1],
            data={"ba_struktur": "BA-S-01", "ba_arsitektur": "BA-S-01"},
        )
    except RequestError as exc:
        rule = getattr(exc, "rule", None) or type(exc).__name__
        kept = "recorded" if store.head("dpmptsp-pbg").size > logged else "NOT recorded"
        lines.append(f"  refused, {kept} ({rule}): tpa-struktur writing ba_arsitektur")
    for branch, reviewer in reviewers:
        clock.advance(hours=3)
        desk.act(
            request_id,
            f"setujui_{branch}",
            actor=reviewer,
            data={f"ba_{branch}": f"BA-{branch[0].upper()}-01"},
        )
        record = desk.get(request_id)
        moved = record.state != "konsultasi"
        lines.append(
            f"  setujui_{branch:<11} by {reviewer.unit}: "
            + (f"last branch done, moved to {record.state}" if moved else branches())
        )
    return lines


def ramadan_line(calendar: WorkCalendar) -> str:
    """Return when a request received after the Ramadan Friday hours starts counting.

    Args:
        calendar: the default (government) calendar.

    Returns:
        The line the demo prints.
    """
    counted_from = calendar.next_working_instant(RAMADAN_FRIDAY)
    ordinary = calendar.next_working_instant(ORDINARY_FRIDAY)
    same = "from 15:45" if ordinary == ORDINARY_FRIDAY else f"from {_shown(ordinary)}"
    return (
        f"Ramadan hours (default calendar): received {_shown(RAMADAN_FRIDAY)}, counted from "
        f"{_shown(counted_from)} (an ordinary Friday counts {same})"
    )
