"""SLA clocks through the desk: transitions in the log, tick, exactly-once, recompute, blame."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import WorkCalendar, indonesian_government_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    CalendarError,
    CalendarFingerprintError,
    IncompleteRequestError,
    SOPDefinitionError,
)
from pelayanan.sla import (
    ClockDef,
    attribute_breaches,
    clock_defs_from_config,
    recompute_verdicts,
    recorded_verdicts,
)
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.store import SQLiteStore, Store
from pelayanan.store.base import RequestRecord
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")
SUBMISSION = {"subject": "Jalan rusak", "category": "infrastruktur"}

CLOCKS_YAML = """
- name: verification
  start: {on_enter: [received]}
  stop: {on_action: [verify, reject]}
  pause: {on_enter: [waiting_documents]}
  resume: {on_action: [documents_received]}
  target: {working_days: 3}
  warn_at: [50, 75]
  escalation:
    - {after: "100%", notify: supervisor}
    - {after: {working_days: 1}, reassign_to: "unit:inspektorat"}
- name: follow_up
  start: {on_action: [dispatch]}
  stop: {on_action: [follow_up]}
  target: {working_days: 5}
  warn_at: [50]
  escalation:
    - {after: "100%", notify: [supervisor, "unit:inspektorat"]}
- name: closing
  start: {on_action: [follow_up]}
  stop: {on_enter: [closed]}
  target: {working_days: 10}
  escalation:
    - {after: "100%", action: auto_close}
- name: resolution
  start: {on_enter: [received]}
  stop: {on_enter: [closed, rejected]}
  target: {calendar_days: 60}
"""
CLOCKS: tuple[ClockDef, ...] = clock_defs_from_config(yaml.safe_load(CLOCKS_YAML))


@pytest.fixture(scope="module")
def sop() -> SOP:
    """The example complaint SOP plus a wait for documents and an automatic close."""
    data = yaml.safe_load((ROOT / "examples" / "sop" / "pengaduan.yaml").read_text())
    data.pop("clocks", None)
    data["roles"]["system"] = "The system itself (automatic steps)"
    data["states"]["waiting_documents"] = {"label": {"id": "Menunggu berkas", "en": "Waiting"}}
    extra = [
        {"name": "request_documents", "from": "received", "to": "waiting_documents",
         "roles": ["verifier"]},
        {"name": "documents_received", "from": "waiting_documents", "to": "received",
         "roles": ["citizen", "frontdesk"]},
        {"name": "auto_close", "from": "followed_up", "to": "closed", "roles": ["system"]},
    ]  # fmt: skip
    # The example may already have some of them (it has auto_close since the SOP language).
    known = {a["name"] for a in data["actions"]}
    data["actions"] += [a for a in extra if a["name"] not in known]
    return sop_from_dict(data)


@pytest.fixture
def cal() -> WorkCalendar:
    """The Indonesian government calendar on regular hours (the walks below cross Ramadan
    2026; their arithmetic is written for the regular split)."""
    return indonesian_government_calendar(ramadan="none")


@pytest.fixture
def sla_desk(
    store: Store, sop: SOP, ledger_key: SigningKey, clock: FakeClock, cal: WorkCalendar
) -> ServiceDesk:
    """A complaint desk with SLA clocks, over each store."""
    return ServiceDesk(
        store,
        sops=[sop],
        signing_key=ledger_key,
        clock=clock,
        calendars={"default": cal},
        clocks={sop.id: CLOCKS},
    )


def wib(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB)


def entries(store: Store) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in store.entries("default")]


def submit(desk: ServiceDesk, staff: dict[str, Actor]) -> str:
    return desk.submit("pengaduan-umum", actor=staff["citizen"], data=SUBMISSION).request.id


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock on Monday 2 March 2026, 08:00 WIB (before Lebaran)."""
    return FakeClock(wib(2026, 3, 2, 8, 0))


@pytest.fixture
def july(clock: FakeClock) -> FakeClock:
    """The clock moved to Monday 6 July 2026, 08:00 WIB (no holiday that week)."""
    clock.set(wib(2026, 7, 6, 8, 0))
    return clock


class TestTransitionsInTheLog:
    def test_submit_starts_clocks_and_records_them(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], cal: WorkCalendar, july: FakeClock
    ) -> None:
        """The submit entry lists each clock started with its deadline and calendar."""
        request_id = submit(sla_desk, staff)
        (entry,) = entries(sla_desk.store)
        started = {c["clock"]: c for c in entry["clocks"]}
        assert set(started) == {"verification", "resolution"}
        verification = started["verification"]
        assert verification["change"] == "start"
        assert verification["deadline"] == "2026-07-09T09:00:00.000000Z"  # Thu 16:00 WIB
        assert verification["fingerprint"] == cal.fingerprint
        assert verification["target"] == {"working_days": 3}
        assert verification["holder"] == {"unit": "unit-pengaduan", "assignee": None}
        record = sla_desk.get(request_id)
        assert record.next_due == wib(2026, 7, 8, 7, 45)  # the 50% warning
        assert sla_desk.store.due_requests(wib(2026, 7, 8, 7, 45)) == [record]

    @pytest.mark.parametrize(
        ("target", "stored", "deadline"),
        [
            ({"calendar_hours": 0.5}, {"calendar_minutes": 30}, "2026-07-06T01:30:00.000000Z"),
            ("PT10M", {"calendar_minutes": 10}, "2026-07-06T01:10:00.000000Z"),
            ("1.5 working hours", {"working_minutes": 90}, "2026-07-06T02:30:00.000000Z"),
        ],
    )
    def test_minute_targets_are_logged_exactly(
        self,
        store: Store,
        sop: SOP,
        ledger_key: SigningKey,
        july: FakeClock,
        cal: WorkCalendar,
        staff: dict[str, Actor],
        target: object,
        stored: dict[str, int],
        deadline: str,
    ) -> None:
        """A fractional-hour or ISO target submits and is logged as whole minutes."""
        spec = yaml.safe_load(CLOCKS_YAML)[0]
        spec["target"] = target
        desk = ServiceDesk(
            store,
            sops=[sop],
            signing_key=ledger_key,
            clock=july,
            calendars={"default": cal},
            clocks={sop.id: clock_defs_from_config([spec])},
        )
        submit(desk, staff)
        ((started,),) = [e["clocks"] for e in entries(desk.store)]
        assert started["target"] == stored
        assert started["deadline"] == deadline

    def test_deadline_skips_lebaran_2026(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock
    ) -> None:
        """Submitted Monday 16 March 2026, verification is due Thursday 26 March 16:00."""
        clock.set(wib(2026, 3, 16, 10, 0))
        request_id = submit(sla_desk, staff)
        state = sla_desk.get(request_id).meta["sla"]["verification"]
        assert state["deadline"] == "2026-03-26T09:00:00.000000Z"

    def test_pause_without_reason_is_refused_and_recorded(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], july: FakeClock
    ) -> None:
        """An action that would pause a clock needs a reason; without one it is refused."""
        request_id = submit(sla_desk, staff)
        with pytest.raises(IncompleteRequestError, match="justification"):
            sla_desk.act(request_id, "request_documents", actor=staff["verifier"])
        refused = entries(sla_desk.store)[-1]
        assert refused["kind"] == "refused"
        assert sla_desk.get(request_id).state == "received"

    def test_pause_and_resume_are_in_the_log(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock, july: FakeClock
    ) -> None:
        """The pause records its reason; the resume the deadline moved by the pause."""
        request_id = submit(sla_desk, staff)
        clock.set(wib(2026, 7, 7, 8, 0))
        sla_desk.act(
            request_id,
            "request_documents",
            actor=staff["verifier"],
            justification="Menunggu fotokopi KTP pelapor",
        )
        pause = entries(sla_desk.store)[-1]["clocks"]
        assert pause == [
            {
                "clock": "verification",
                "change": "pause",
                "at": "2026-07-07T01:00:00.000000Z",
                "cycle": 1,
                "status": "paused",
                "calendar": "default",
                "fingerprint": sla_desk.calendars["default"].fingerprint,
                "deadline": "2026-07-09T09:00:00.000000Z",
                "budget_us": 29.5 * 3600 * 10**6,
                "used_us": 7.5 * 3600 * 10**6,
                "paused_us": 0,
                "reason": "Menunggu fotokopi KTP pelapor",
            }
        ]
        clock.set(wib(2026, 7, 13, 8, 0))
        sla_desk.act(request_id, "documents_received", actor=staff["citizen"])
        (resume,) = entries(sla_desk.store)[-1]["clocks"]
        assert resume["change"] == "resume"
        assert resume["deadline"] == "2026-07-15T09:00:00.000000Z"  # Wed 16:00 WIB
        assert resume["paused_us"] == 30 * 3600 * 10**6
        assert sla_desk.get(request_id).next_due is not None


class TestTick:
    def test_fires_warnings_breach_and_escalation_once(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], cal: WorkCalendar, july: FakeClock
    ) -> None:
        """Each event is one `sla` entry by the system; ticking again fires nothing."""
        request_id = submit(sla_desk, staff)
        fired = sla_desk.tick(wib(2026, 7, 9, 16, 1))
        assert [(e.clock, e.key) for e in fired] == [
            ("verification", "warning:50"),
            ("verification", "warning:75"),
            ("verification", "breach"),
            ("verification", "escalation:1"),
        ]
        assert fired[3].notify == ("supervisor",)
        logged = [e for e in entries(sla_desk.store) if e["kind"] == "sla"]
        assert [e["seq"] for e in logged] == [e.seq for e in fired]
        assert {e["actor"] for e in logged} == {"system"}
        assert logged[0]["threshold"] == 50
        assert logged[3]["threshold"] == "100%"
        assert logged[3]["notify"] == ["supervisor"]
        assert logged[2]["fingerprint"] == cal.fingerprint
        size = sla_desk.store.head("default").size
        assert sla_desk.tick(wib(2026, 7, 9, 16, 1)) == []
        assert sla_desk.store.head("default").size == size
        assert sla_desk.get(request_id).next_due == wib(2026, 7, 13, 16, 0)

    def test_escalation_reassigns_to_a_unit(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], july: FakeClock
    ) -> None:
        """The second rung hands the request to the inspectorate unit, in the same entry."""
        request_id = submit(sla_desk, staff)
        fired = sla_desk.tick(wib(2026, 7, 13, 16, 1))
        assert fired[-1].reassign == {"unit": "inspektorat"}
        record = sla_desk.get(request_id)
        assert record.unit == "inspektorat"
        assert entries(sla_desk.store)[-1]["reassign"] == {"unit": "inspektorat"}

    def test_nothing_due_means_no_entry(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], july: FakeClock
    ) -> None:
        """Before the first threshold, a tick changes nothing."""
        submit(sla_desk, staff)
        assert sla_desk.tick(wib(2026, 7, 8, 7, 44)) == []
        assert sla_desk.store.head("default").size == 1

    def test_a_stale_tick_fires_nothing(
        self,
        sla_desk: ServiceDesk,
        staff: dict[str, Actor],
        sop: SOP,
        ledger_key: SigningKey,
        july: FakeClock,
    ) -> None:
        """A tick working from rows read before another tick committed loses the version
        check and fires nothing a second time."""
        submit(sla_desk, staff)
        at = wib(2026, 7, 9, 16, 1)
        stale_rows = sla_desk.store.due_requests(at)
        assert len(sla_desk.tick(at)) == 4
        stale = ServiceDesk(
            _StaleDue(sla_desk.store, stale_rows),  # type: ignore[arg-type]
            sops=[sop],
            signing_key=ledger_key,
            calendars=sla_desk.calendars,
            clocks={sop.id: CLOCKS},
        )
        size = sla_desk.store.head("default").size
        assert stale.tick(at) == []
        assert sla_desk.store.head("default").size == size

    def test_system_action_on_escalation(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock, july: FakeClock
    ) -> None:
        """Ten working days after the follow-up the system closes the complaint itself.

        The closing is stamped with the tick that fired it, so the clock it stops counts
        as breached (the desk clock, still in July's first week, would call it met).
        """
        request_id = submit(sla_desk, staff)
        sla_desk.act(request_id, "verify", actor=staff["verifier"])
        sla_desk.act(
            request_id, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "dinas-pu"}
        )
        sla_desk.act(
            request_id, "follow_up", actor=staff["officer"], data={"follow_up_note": "diperbaiki"}
        )
        fired = sla_desk.tick(wib(2026, 7, 21, 8, 0))
        assert [(e.clock, e.key, e.action) for e in fired] == [
            ("closing", "breach", None),
            ("closing", "escalation:1", "auto_close"),
        ]
        record = sla_desk.get(request_id)
        assert record.state == "closed"
        closing = entries(sla_desk.store)[-1]
        assert closing["actor"] == "system"
        assert closing["action"] == "auto_close"
        assert closing["time"] == entries(sla_desk.store)[-2]["time"]
        assert {c["clock"]: c["status"] for c in closing["clocks"]} == {
            "closing": "breached",
            "resolution": "met",
        }
        assert record.next_due is None
        assert sla_desk.tick(wib(2026, 9, 1, 8, 0)) == []


class _StaleDue:
    """A store whose due query returns rows read earlier (a tick that raced another)."""

    def __init__(self, store: Store, rows: list[RequestRecord]) -> None:
        self._store = store
        self._rows = rows

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        return list(self._rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class TestConcurrentTicks:
    def test_two_processes_fire_each_event_once(
        self, tmp_path: Path, sop: SOP, ledger_key: SigningKey, staff: dict[str, Actor]
    ) -> None:
        """Two desks on separate connections to one SQLite file tick at once: each event
        is recorded exactly once."""
        path = tmp_path / "shared.db"
        clock = FakeClock(wib(2026, 7, 6, 8, 0))
        stores = [SQLiteStore(path), SQLiteStore(path)]
        desks = [
            ServiceDesk(s, sops=[sop], signing_key=ledger_key, clock=clock, clocks={sop.id: CLOCKS})
            for s in stores
        ]
        for _ in range(20):
            submit(desks[0], staff)
        results: list[list[Any]] = [[], []]
        barrier = threading.Barrier(2)

        def run(i: int) -> None:
            barrier.wait()
            results[i] = desks[i].tick(wib(2026, 7, 9, 16, 1))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        keys = [(e.request_id, e.key) for e in results[0] + results[1]]
        assert len(keys) == len(set(keys)) == 20 * 4
        logged = [e for e in entries(stores[0]) if e["kind"] == "sla"]
        assert len(logged) == 80
        for store in stores:
            store.close()


def _walk(desk: ServiceDesk, clock: FakeClock, staff: dict[str, Actor]) -> str:
    """Lebaran 2026: received 16 March, paused for documents, verified, dispatched, late."""
    clock.set(wib(2026, 3, 16, 10, 0))
    request_id = submit(desk, staff)
    clock.set(wib(2026, 3, 17, 9, 0))
    desk.act(request_id, "request_documents", actor=staff["verifier"], justification="KTP")
    clock.set(wib(2026, 3, 25, 10, 0))
    desk.act(request_id, "documents_received", actor=staff["citizen"])
    for day in (25, 26, 27):
        desk.tick(wib(2026, 3, day, 16, 30))
    clock.set(wib(2026, 3, 30, 8, 0))
    desk.act(request_id, "verify", actor=staff["verifier"])
    clock.set(wib(2026, 3, 30, 10, 0))
    desk.act(request_id, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "dinas-pu"})
    for day in (1, 2, 6, 7, 8, 9, 10):
        desk.tick(wib(2026, 4, day, 16, 30))
    clock.set(wib(2026, 4, 10, 9, 0))
    desk.act(request_id, "follow_up", actor=staff["officer"], data={"follow_up_note": "ok"})
    return request_id


class TestRecompute:
    def test_recomputed_verdicts_equal_the_recorded_ones(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock
    ) -> None:
        """Across a pause and Lebaran 2026 cuti bersama, the log alone gives the verdicts
        the desk recorded, and they match the request's stored clock state."""
        request_id = _walk(sla_desk, clock, staff)
        log = entries(sla_desk.store)
        recomputed = recompute_verdicts(log, sla_desk.calendars)
        assert recomputed == recorded_verdicts(log)
        verdicts = {v.clock: v for v in recomputed}
        assert {c: v.status for c, v in verdicts.items()} == {
            "closing": "running",
            "follow_up": "breached",
            "resolution": "running",
            "verification": "met",
        }
        stored = sla_desk.get(request_id).meta["sla"]
        for name, verdict in verdicts.items():
            assert verdict.status == stored[name]["status"]
            assert (
                verdict.deadline.isoformat()
                == dt.datetime.fromisoformat(stored[name]["deadline"]).isoformat()
            )
        # Verification: 27 h 30 min budget (deadline Thu 26 March 16:00 over Nyepi and
        # Lebaran); 6 h 30 min used when paused Tue 17 March 09:00; paused until Wed 25
        # March 10:00 (6 h that Tuesday + 2 h 30 that Wednesday), so the 21 h left run
        # to Monday 30 March 08:30; verified 08:00 that day.
        verification = verdicts["verification"]
        assert verification.paused == dt.timedelta(hours=8, minutes=30)
        assert verification.deadline == wib(2026, 3, 30, 8, 30)
        assert verification.finished_at == wib(2026, 3, 30, 8, 0)
        # Follow-up: 5 working days from Monday 30 March 10:00 end Tuesday 7 April
        # (Good Friday 3 April off); follow-up Friday 10 April 09:00.
        follow_up = verdicts["follow_up"]
        assert follow_up.deadline == wib(2026, 4, 7, 16, 0)
        assert follow_up.overrun == dt.timedelta(hours=16, minutes=30)

    def test_sqlite_log_replays_from_bytes(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock
    ) -> None:
        """The replay reads the stored entry bytes as they are."""
        _walk(sla_desk, clock, staff)
        raw = [e.data for e in sla_desk.store.entries("default")]
        assert recompute_verdicts(raw, sla_desk.calendars) == recorded_verdicts(raw)

    def test_another_calendar_is_refused(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock, cal: WorkCalendar
    ) -> None:
        """A calendar counting cuti bersama as working days is not the one recorded."""
        _walk(sla_desk, clock, staff)
        other = indonesian_government_calendar(cuti_bersama_working=True)
        with pytest.raises(CalendarFingerprintError) as caught:
            recompute_verdicts(entries(sla_desk.store), {"default": other})
        assert caught.value.recorded == cal.fingerprint
        assert cal.fingerprint in str(caught.value)


class TestAttribution:
    def test_breach_is_attributed_to_the_holding_unit_and_officer(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock
    ) -> None:
        """The late follow-up was held by dinas-pu, whose officer acted, for its whole
        running time in working time."""
        _walk(sla_desk, clock, staff)
        log = entries(sla_desk.store)
        (blame,) = attribute_breaches(log, sla_desk.calendars)
        assert blame.clock == "follow_up"
        assert not blame.open
        (holding,) = blame.holdings
        assert holding.unit == "dinas-pu"
        assert holding.officer == "petugas-1"
        # 30 Mar 10:00 to 10 Apr 09:00: 42.5 h budget + 16.5 h overrun.
        assert holding.working_time == dt.timedelta(hours=59)

    def test_open_breach_splits_between_holders_and_skips_pauses(
        self, sla_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock, july: FakeClock
    ) -> None:
        """An open breached clock reassigned by escalation is split between both units;
        time paused is attributed to no one."""
        request_id = submit(sla_desk, staff)  # Monday 6 July 08:00
        clock.set(wib(2026, 7, 7, 8, 0))
        sla_desk.act(request_id, "request_documents", actor=staff["verifier"], justification="x")
        clock.set(wib(2026, 7, 8, 8, 0))
        sla_desk.act(request_id, "documents_received", actor=staff["citizen"])
        sla_desk.tick(wib(2026, 7, 14, 16, 0))  # breach Fri 10 July, reassigned Tue 14 July
        assert sla_desk.get(request_id).unit == "inspektorat"
        log = entries(sla_desk.store)
        (blame,) = attribute_breaches(log, sla_desk.calendars, as_of=wib(2026, 7, 15, 16, 0))
        assert blame.open
        shares = {(h.unit, h.officer): h.working_time for h in blame.holdings}
        total = sum(shares.values(), dt.timedelta())
        paused = dt.timedelta(hours=7, minutes=30)  # Tue 08:00 to Wed 08:00
        elapsed = sla_desk.calendars["default"].elapsed(wib(2026, 7, 6, 8), wib(2026, 7, 15, 16))
        assert total == elapsed - paused
        assert shares[("inspektorat", None)] == dt.timedelta(hours=7, minutes=30)


class TestDeskConfiguration:
    def test_unknown_action_in_a_clock_is_refused(
        self, store: Store, sop: SOP, ledger_key: SigningKey
    ) -> None:
        """A clock naming an action the SOP lacks is refused when the desk is built."""
        bad = clock_defs_from_config(
            [{"name": "x", "start": {"on_action": ["submit"]}, "stop": {"on_action": ["nope"]},
              "target": "1 working day"}]
        )  # fmt: skip
        with pytest.raises(SOPDefinitionError, match="unknown action 'nope'"):
            ServiceDesk(store, sops=[sop], signing_key=ledger_key, clocks={sop.id: bad})

    def test_unknown_calendar_is_refused(
        self, store: Store, sop: SOP, ledger_key: SigningKey
    ) -> None:
        """A clock naming a calendar the desk lacks is refused when the desk is built."""
        bad = clock_defs_from_config(
            [{"name": "x", "start": {"on_action": ["submit"]}, "stop": {"on_action": ["verify"]},
              "target": "1 working day", "calendar": "wita"}]
        )  # fmt: skip
        with pytest.raises(CalendarError, match="'wita'"):
            ServiceDesk(store, sops=[sop], signing_key=ledger_key, clocks={sop.id: bad})

    def test_unit_calendar_is_the_default(
        self, store: Store, sop: SOP, ledger_key: SigningKey, staff: dict[str, Actor]
    ) -> None:
        """A clock naming no calendar counts on the calendar named after the SOP's unit."""
        wita = indonesian_government_calendar("Asia/Makassar")
        desk = ServiceDesk(
            store,
            sops=[sop],
            signing_key=ledger_key,
            clock=FakeClock(wib(2026, 7, 6, 8, 0)),
            calendars={"default": indonesian_government_calendar(), "unit-pengaduan": wita},
            clocks={sop.id: CLOCKS},
        )
        request_id = submit(desk, staff)
        state = desk.get(request_id).meta["sla"]["verification"]
        assert state["calendar"] == "unit-pengaduan"
        assert state["deadline"] == "2026-07-09T08:00:00.000000Z"  # Thu 16:00 WITA


class TestMissingCalendarAtConstruction:
    def test_desk_refuses_a_clock_on_an_unknown_calendar(
        self, store: Store, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """Building the desk names the SOP, the clock and the missing calendar."""
        data = yaml.safe_load((ROOT / "examples" / "sop" / "pengaduan.yaml").read_text())
        data["clocks"][0]["calendar"] = "darurat"
        sop = sop_from_dict(data)
        with pytest.raises(CalendarError) as info:
            ServiceDesk(store, sops=[sop], signing_key=ledger_key, clock=clock)
        message = str(info.value)
        assert f"SOP {sop.id!r}" in message
        assert "'verification'" in message
        assert "'darurat'" in message
