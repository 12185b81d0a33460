"""Whose clock it is, whom its events notify, and its own counting convention."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import indonesian_government_calendar, round_the_clock_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.sla import attribute_breaches, recompute_verdicts, recorded_verdicts
from pelayanan.sla._replay import _answerable
from pelayanan.sop import load_sop, sop_from_dict
from pelayanan.store import Store
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
GOV = indonesian_government_calendar()
CALENDARS = {"default": GOV, "round-the-clock": round_the_clock_calendar()}


def wib(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=WIB)


def _entries(desk: ServiceDesk) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in desk.store.entries("default")]


class TestNotify:
    @pytest.fixture
    def desk(self, store: Store, ledger_key: SigningKey) -> ServiceDesk:
        sop = load_sop(ROOT / "examples" / "sop" / "panggilan-darurat-112.yaml")
        clock = FakeClock(wib(2026, 3, 21, 6, 40))
        return ServiceDesk(
            store, sops=[sop], signing_key=ledger_key, clock=clock, calendars=CALENDARS
        )

    def test_idul_fitri_call_warns_and_breaches_in_minutes(self, desk: ServiceDesk) -> None:
        """A 112 call on Idul Fitri warns at 5 minutes and breaches at 10, naming whom to tell."""
        operator = Actor("op-1", {"operator"}, units={"call-center-112"})
        data = {"kategori": "medis", "lokasi": "Alun-alun"}
        request = desk.submit("panggilan-darurat-112", actor=operator, data=data).request
        assert desk.tick(wib(2026, 3, 21, 6, 44)) == []
        (warning,) = desk.tick(wib(2026, 3, 21, 6, 45))
        assert (warning.event, warning.key) == ("warning", "warning:50")
        assert warning.notify == ("supervisor", f"unit:{request.unit}")
        fired = desk.tick(wib(2026, 3, 21, 6, 51))
        assert [(f.event, f.notify) for f in fired] == [
            ("breach", ("supervisor", f"unit:{request.unit}")),
            ("escalation", ("supervisor", f"unit:{request.unit}")),
        ]
        logged = [e for e in _entries(desk) if e["kind"] == "sla"]
        assert [e["notify"] for e in logged] == [list(f.notify) for f in (warning, *fired)]


APPLICANT_SOP: dict[str, Any] = {
    "id": "izin-sederhana",
    "version": "1.0.0",
    "title": "A permit with a correction window",
    "unit": "dpmptsp",
    "roles": {"applicant": "Pemohon", "verifier": "Verifikator"},
    "fields": {"perihal": {"type": "text"}},
    "submit": {"roles": ["applicant"]},
    "initial": "diterima",
    "states": {
        "diterima": {},
        "perbaikan": {},
        "selesai": {"final": True},
    },
    "actions": [
        {"name": "minta_perbaikan", "from": "diterima", "to": "perbaikan",
         "roles": ["verifier"], "justification": True},
        {"name": "perbaiki", "from": "perbaikan", "to": "diterima", "roles": ["applicant"]},
        {"name": "setujui", "from": "diterima", "to": "selesai", "roles": ["verifier"]},
    ],
    "clocks": [
        {"name": "layanan", "start": {"on_action": ["submit"]}, "stop": {"on_enter": ["selesai"]},
         "pause": {"on_enter": ["perbaikan"]}, "resume": {"on_action": ["perbaiki"]},
         "target": {"working_days": 3}},
        {"name": "perbaikan", "measures": "applicant", "counting": "receipt-day-one",
         "start": {"on_enter": ["perbaikan"]}, "stop": {"on_action": ["perbaiki"]},
         "target": {"working_days": 1}},
    ],
}  # fmt: skip


class TestMeasures:
    @pytest.fixture
    def desk(self, store: Store, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
        sop = sop_from_dict(APPLICANT_SOP)
        return ServiceDesk(
            store, sops=[sop], signing_key=ledger_key, clock=clock, calendars=CALENDARS
        )

    def test_applicant_window_is_not_the_agencys(self, desk: ServiceDesk, clock: FakeClock) -> None:
        """An applicant's late correction is no agency breach, nor blamed on `system`."""
        applicant = Actor("warga-1", {"applicant"})
        verifier = Actor("ver-1", {"verifier"})
        rid = desk.submit("izin-sederhana", actor=applicant, data={"perihal": "x"}).request.id
        clock.set(wib(2026, 7, 6, 10))
        desk.act(rid, "minta_perbaikan", actor=verifier, justification="berkas kurang")
        started = desk.get(rid).meta["sla"]["perbaikan"]
        # Day 1 is the day of receipt: one working day ends at that day's close.
        assert dt.datetime.fromisoformat(started["deadline"]) == wib(2026, 7, 6, 16)
        desk.tick(wib(2026, 7, 8, 9))
        clock.set(wib(2026, 7, 8, 10))
        desk.act(rid, "perbaiki", actor=applicant)
        clock.set(wib(2026, 7, 8, 11))
        desk.act(rid, "setujui", actor=verifier)
        log = [e.data for e in desk.store.entries("default")]
        verdicts = {v.clock: v for v in recompute_verdicts(log, CALENDARS)}
        assert verdicts["perbaikan"].status == "breached"
        assert verdicts["perbaikan"].measures == "applicant"
        assert verdicts["layanan"].status == "met"
        assert attribute_breaches(log, CALENDARS) == []
        recorded = {v.clock: v.measures for v in recorded_verdicts(log)}
        assert recorded == {"layanan": "agency", "perbaikan": "applicant"}
        starts = [c for e in _entries(desk) for c in e.get("clocks", []) if c["change"] == "start"]
        assert {c["clock"]: c.get("measures") for c in starts} == {
            "layanan": None,
            "perbaikan": "applicant",
        }


class TestActingOfficials:
    def test_time_before_delegation_is_the_principals(self) -> None:
        """An acting official answers only for the stretch after their delegation began."""
        a, since, b = wib(2026, 7, 6, 8), wib(2026, 7, 7, 8), wib(2026, 7, 8, 8)
        later = [(b, "u", None, "plh-1", ("kepala", since))]
        assert _answerable(None, later, a, b) == [("kepala", a, since), ("plh-1", since, b)]
        assert _answerable(None, later, since, b) == [("plh-1", since, b)]
        assert _answerable("officer-9", later, a, b) == [("officer-9", a, b)]
        early = [(b, "u", None, "plh-1", ("kepala", b))]
        assert _answerable(None, early, a, b) == [("kepala", a, b)]
