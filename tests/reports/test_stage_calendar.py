"""Stage times on the calendar of the SOP's main clock; self-loops continue a stay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import indonesian_government_calendar, round_the_clock_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.reports.flow import RequestFlow
from pelayanan.sop import SOP, load_sop, sop_from_dict
from pelayanan.store import Store
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
GOV = indonesian_government_calendar()


def wib(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=WIB)


def _flow(desk: ServiceDesk, sop: SOP) -> RequestFlow:
    flow = RequestFlow([sop], GOV)
    for stored in desk.store.entries("default"):
        flow.feed(json.loads(stored.data))
    return flow


class TestMainClockCalendar:
    def test_round_the_clock_service_shows_real_minutes(
        self, store: Store, ledger_key: SigningKey
    ) -> None:
        """A 112 call on Idul Fitri spends 2 real minutes in 'diterima', not 0."""
        sop = load_sop(ROOT / "examples" / "sop" / "panggilan-darurat-112.yaml")
        clock = FakeClock(wib(2026, 3, 21, 6, 40))
        calendars = {"default": GOV, "round-the-clock": round_the_clock_calendar()}
        desk = ServiceDesk(
            store, sops=[sop], signing_key=ledger_key, clock=clock, calendars=calendars
        )
        operator = Actor("op-1", {"operator"}, units={"call-center-112"})
        data = {"kategori": "medis", "lokasi": "Alun-alun"}
        rid = desk.submit(sop.id, actor=operator, data=data).request.id
        clock.set(wib(2026, 3, 21, 6, 42))
        desk.act(rid, "verify", actor=operator)
        clock.set(wib(2026, 3, 21, 6, 46, 30))
        desk.act(rid, "dispatch", actor=Actor("d-1", {"dispatcher"}), data={"unit_tujuan": "x"})
        flow = _flow(desk, sop)
        assert flow.total.durations["diterima"] == [120]
        assert flow.total.durations["terverifikasi"] == [270]
        assert flow.stay_calendar(sop).name == "round-the-clock"


LOOP_SOP: dict[str, Any] = {
    "id": "catatan",
    "version": "1.0.0",
    "title": "A state with a self-loop",
    "unit": "u",
    "roles": {"staff": "Staf"},
    "fields": {"catatan": {"type": "text"}},
    "submit": {"roles": ["staff"]},
    "initial": "proses",
    "states": {"proses": {}, "selesai": {"final": True}},
    "actions": [
        {"name": "catat", "from": "proses", "to": "proses", "roles": ["staff"]},
        {"name": "selesaikan", "from": "proses", "to": "selesai", "roles": ["staff"]},
    ],
}


class TestSelfLoops:
    def test_self_loop_is_not_a_new_stay(self, store: Store, ledger_key: SigningKey) -> None:
        """Two notes taken in 'proses' leave one stay of the whole time there."""
        sop = sop_from_dict(LOOP_SOP)
        clock = FakeClock(wib(2026, 7, 6, 8))
        desk = ServiceDesk(store, sops=[sop], signing_key=ledger_key, clock=clock)
        staff = Actor("s-1", {"staff"})
        rid = desk.submit(sop.id, actor=staff).request.id
        for hour in (9, 10):
            clock.set(wib(2026, 7, 6, hour))
            desk.act(rid, "catat", actor=staff, data={"catatan": f"jam {hour}"})
        clock.set(wib(2026, 7, 6, 11))
        desk.act(rid, "selesaikan", actor=staff)
        assert _flow(desk, sop).total.durations["proses"] == [3 * 3600]
