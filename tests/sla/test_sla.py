"""SLA clocks, pure: the clocks syntax, the engine's transitions and schedule, the replay."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.audit.entry import format_time
from pelayanan.calendar import Duration, WorkCalendar, indonesian_government_calendar
from pelayanan.exceptions import (
    CalendarError,
    CalendarFingerprintError,
    IncompleteRequestError,
    SOPDefinitionError,
)
from pelayanan.sla import (
    ClockCondition,
    ClockDef,
    ClockEngine,
    EscalationStep,
    attribute_breaches,
    check_clock_defs,
    clock_defs_from_config,
    next_due,
    recompute_verdicts,
    recorded_verdicts,
)

WIB = ZoneInfo("Asia/Jakarta")
CAL = indonesian_government_calendar()
CALENDARS: dict[str, WorkCalendar] = {"default": CAL}

VERIFICATION = ClockDef(
    name="verification",
    start=ClockCondition(on_enter=("received",)),
    stop=ClockCondition(on_action=("verify",)),
    target=Duration.working_days(3),
    pause=ClockCondition(on_enter=("waiting",)),
    resume=ClockCondition(on_action=("documents_received",)),
    reset=ClockCondition(on_action=("reopen",)),
    warn_at=(50, 75),
    escalation=(
        EscalationStep(after_percent=100, notify=("supervisor",)),
        EscalationStep(after=Duration.working_days(1), reassign_to="unit:inspektorat"),
    ),
)


def wib(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB)


def _engine(*specs: ClockDef) -> ClockEngine:
    return ClockEngine(specs or (VERIFICATION,), calendars=CALENDARS)


def _step(
    engine: ClockEngine,
    clocks: dict[str, Any],
    action: str,
    target: str,
    at: dt.datetime,
    *,
    source: str | None = "received",
    final: bool = False,
    reason: str | None = None,
    log: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    new, changes = engine.transition(
        clocks, action=action, source=source, target=target, final=final, at=at, reason=reason
    )
    if log is not None and changes:
        log.append(
            {
                "request": "R-1",
                "time": format_time(at),
                "clocks": [{"clock": c.clock, **c.record} for c in changes],
            }
        )
    return new


class TestConfig:
    def test_reads_the_sop_syntax(self) -> None:
        """A clocks section in the SOP language's syntax becomes frozen clock definitions."""
        (clock,) = clock_defs_from_config(
            [
                {
                    "name": "verification",
                    "start": {"on_enter": ["received"]},
                    "stop": {"on_action": ["verify", "reject"]},
                    "pause": {"on_enter": ["waiting"]},
                    "resume": {"on_action": ["documents_received"]},
                    "target": {"working_days": 3},
                    "warn_at": [50, 75],
                    "escalation": [
                        {"after": "100%", "notify": "supervisor"},
                        {"after": {"percent": 150}, "reassign_to": "unit:inspektorat"},
                        {"after": {"working_days": 2}, "notify": ["kepala", "unit:x"]},
                    ],
                    "calendar": "wita",
                }
            ]
        )
        assert clock.target == Duration.working_days(3)
        assert clock.stop.on_action == ("verify", "reject")
        assert clock.warn_at == (50, 75)
        assert clock.escalation[0] == EscalationStep(after_percent=100, notify=("supervisor",))
        assert clock.escalation[1].after_percent == 150
        assert clock.escalation[2].after == Duration.working_days(2)
        assert clock.escalation[2].notify == ("kepala", "unit:x")
        assert clock.calendar == "wita"
        assert clock.reset is None

    def test_collects_every_problem_with_its_path(self) -> None:
        """Each mistake is reported with its key path, all at once."""
        with pytest.raises(SOPDefinitionError) as caught:
            clock_defs_from_config(
                [
                    {
                        "name": "Bad Name",
                        "start": {"on_action": ["a"]},
                        "stop": {"on_enter": ["b"]},
                        "pause": {"on_enter": ["c"]},
                        "target": {"working_weeks": 1},
                        "warn_at": [75, 50],
                        "escalation": [{"after": "0%", "notify": "x"}, {"after": "100%"}],
                        "colour": "red",
                    }
                ]
            )
        paths = {p.path for p in caught.value.problems}
        assert {
            "clocks[0].name",
            "clocks[0].resume",
            "clocks[0].target.working_weeks",
            "clocks[0].warn_at",
            "clocks[0].escalation[0].after",
            "clocks[0].escalation[1]",
            "clocks[0].colour",
        } <= paths

    def test_refuses_a_missing_target_and_duplicate_names(self) -> None:
        """A clock needs a target and a unique name."""
        clock = {"name": "x", "start": {"on_action": ["a"]}, "stop": {"on_action": ["b"]}}
        with pytest.raises(SOPDefinitionError, match=r"clocks\[0\]\.target: missing target"):
            clock_defs_from_config([clock])
        with pytest.raises(SOPDefinitionError, match=r"clocks\[1\]\.name: clock 'x' is already"):
            clock_defs_from_config([{**clock, "target": "3 working days"}] * 2)

    def test_checks_names_against_the_sop(self) -> None:
        """Unknown actions and states a clock names are problems; ``submit`` is known."""
        clock = ClockDef(
            name="x",
            start=ClockCondition(on_action=("submit",)),
            stop=ClockCondition(on_action=("nope",), on_enter=("gone",)),
            target=Duration.working_days(1),
        )
        problems = check_clock_defs([clock], states=["received"], actions=["verify"])
        assert [p.path for p in problems] == ["clocks[0].stop.on_action", "clocks[0].stop.on_enter"]

    def test_engine_refuses_an_unknown_calendar(self) -> None:
        """A clock naming a calendar the desk lacks is refused when the engine is built."""
        clock = ClockDef(
            name="x",
            start=ClockCondition(on_action=("submit",)),
            stop=ClockCondition(on_action=("verify",)),
            target=Duration.working_days(1),
            calendar="wita",
        )
        with pytest.raises(CalendarError, match="'wita'"):
            ClockEngine([clock], calendars=CALENDARS)


class TestEngine:
    def test_start_schedules_warnings_breach_and_escalations(self) -> None:
        """Starting computes the deadline on the calendar and every pending event in order."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        state = clocks["verification"]
        assert state["deadline"] == format_time(wib(2026, 7, 9, 16, 0))
        assert state["budget_us"] == 29.5 * 3600 * 10**6
        keys = [key for key, _ in state["schedule"]]
        assert keys == ["warning:50", "warning:75", "breach", "escalation:1", "escalation:2"]
        schedule = dict(state["schedule"])
        # 50% of 29.5 h is 14 h 45 min of working time: Monday 7 h, Tuesday 7 h 30, 15 min.
        assert schedule["warning:50"] == format_time(wib(2026, 7, 8, 7, 45))
        # One working day past Thursday's close counts Friday as day 0: Monday's close.
        assert schedule["escalation:2"] == format_time(wib(2026, 7, 13, 16, 0))
        assert next_due(clocks) == wib(2026, 7, 8, 7, 45)

    def test_instants_count_whole_minutes(self) -> None:
        """Seconds are dropped, so an action within the deadline's minute is on time."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0, 59), source=None)
        assert clocks["verification"]["started_at"] == format_time(wib(2026, 7, 6, 8, 0))
        clocks = _step(engine, clocks, "verify", "verified", wib(2026, 7, 9, 16, 0, 30))
        assert clocks["verification"]["status"] == "met"

    def test_pause_needs_a_reason(self) -> None:
        """A pause without a reason is refused before anything changes."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        with pytest.raises(IncompleteRequestError, match="justification"):
            _step(engine, clocks, "ask", "waiting", wib(2026, 7, 7, 8, 0))

    def test_pause_moves_the_deadline_by_the_working_time_paused(self) -> None:
        """Paused Tuesday 08:00 to the next Monday 08:00, the deadline moves 4 working days."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        clocks = _step(engine, clocks, "ask", "waiting", wib(2026, 7, 7, 8, 0), reason="KTP")
        paused = clocks["verification"]
        assert paused["status"] == "paused"
        assert paused["used_us"] == 7.5 * 3600 * 10**6
        assert next_due(clocks) is None
        back = wib(2026, 7, 13, 8, 0)
        clocks = _step(engine, clocks, "documents_received", "received", back, source="waiting")
        resumed = clocks["verification"]
        assert resumed["deadline"] == format_time(wib(2026, 7, 15, 16, 0))
        assert resumed["paused_us"] == 30 * 3600 * 10**6
        clocks = _step(engine, clocks, "verify", "verified", wib(2026, 7, 15, 16, 0))
        assert clocks["verification"]["status"] == "met"

    def test_events_reached_before_a_pause_still_fire(self) -> None:
        """A warning due before the pause stays scheduled; later ones wait for the resume."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        clocks = _step(engine, clocks, "ask", "waiting", wib(2026, 7, 8, 9, 0), reason="KTP")
        assert [key for key, _ in clocks["verification"]["schedule"]] == ["warning:50"]
        (event,) = engine.due(clocks, wib(2026, 7, 20, 8, 0))
        assert event.key == "warning:50"
        fired = ClockEngine.fire(clocks, event)
        assert engine.due(fired, wib(2026, 7, 20, 8, 0)) == []

    def test_fired_events_never_fire_again(self) -> None:
        """After firing, an event is gone from the schedule and recorded as fired."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        deadline = wib(2026, 7, 9, 16, 0)
        assert [e.key for e in engine.due(clocks, deadline)] == ["warning:50", "warning:75"]
        due = engine.due(clocks, deadline + dt.timedelta(minutes=1))
        assert [e.key for e in due] == ["warning:50", "warning:75", "breach", "escalation:1"]
        for event in due:
            clocks = ClockEngine.fire(clocks, event)
        assert engine.due(clocks, wib(2026, 7, 10, 8, 0)) == []
        assert clocks["verification"]["fired"] == [e.key for e in due]
        assert next_due(clocks) == wib(2026, 7, 13, 16, 0)

    def test_a_final_state_stops_every_clock(self) -> None:
        """Entering a final state stops a clock whose own stop condition did not match."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        clocks = _step(engine, clocks, "reject", "rejected", wib(2026, 7, 13, 8, 0), final=True)
        state = clocks["verification"]
        assert state["status"] == "breached"
        assert state["overrun_us"] == 8 * 3600 * 10**6  # Friday 7 h 30, Monday 30 min
        assert state["schedule"] == []

    def test_reset_starts_a_new_cycle(self) -> None:
        """A reset restarts the clock from zero with a new deadline and a new cycle."""
        engine = _engine()
        clocks = _step(engine, {}, "submit", "received", wib(2026, 7, 6, 8, 0), source=None)
        fired = ClockEngine.fire(clocks, engine.due(clocks, wib(2026, 7, 8, 8, 0))[0])
        clocks = _step(engine, fired, "reopen", "received", wib(2026, 7, 8, 10, 0))
        state = clocks["verification"]
        assert state["cycle"] == 2
        assert state["fired"] == []
        assert state["deadline"] == format_time(wib(2026, 7, 13, 16, 0))

    def test_calendar_hours_clocks_count_wall_time(self) -> None:
        """A calendar-hours clock pauses and resumes on elapsed time, holidays or not."""
        clock = ClockDef(
            name="hotline",
            start=ClockCondition(on_action=("submit",)),
            stop=ClockCondition(on_action=("verify",)),
            target=Duration.calendar_hours(24),
            pause=ClockCondition(on_enter=("waiting",)),
            resume=ClockCondition(on_action=("documents_received",)),
        )
        engine = _engine(clock)
        clocks = _step(engine, {}, "submit", "received", wib(2026, 3, 20, 20, 0), source=None)
        clocks = _step(engine, clocks, "ask", "waiting", wib(2026, 3, 21, 2, 0), reason="x")
        clocks = _step(
            engine, clocks, "documents_received", "received", wib(2026, 3, 21, 5, 0), source="w"
        )
        assert clocks["hotline"]["deadline"] == format_time(wib(2026, 3, 21, 23, 0))


_OFFSETS = st.lists(st.integers(min_value=1, max_value=5 * 24 * 60), min_size=1, max_size=8)


class TestReplay:
    @settings(max_examples=40)
    @given(offsets=_OFFSETS, stop_last=st.booleans())
    def test_recompute_equals_recorded_and_paused_time_is_excluded(
        self, offsets: list[int], stop_last: bool
    ) -> None:
        """Random pauses and resumes: the replay agrees with the engine, and the working
        time used is the working time elapsed minus the working time paused."""
        engine = _engine()
        log: list[dict[str, Any]] = []
        start = wib(2026, 3, 16, 9, 17)
        clocks = _step(engine, {}, "submit", "received", start, source=None, log=log)
        at = start
        actions = [("ask", "waiting", "received"), ("documents_received", "received", "waiting")]
        for i, minutes in enumerate(offsets):
            at += dt.timedelta(minutes=minutes)
            action, target, source = actions[i % 2]
            clocks = _step(
                engine, clocks, action, target, at, source=source, reason="dokumen", log=log
            )
        if stop_last:
            at += dt.timedelta(minutes=7)
            clocks = _step(engine, clocks, "verify", "verified", at, log=log)
        assert recompute_verdicts(log, CALENDARS) == recorded_verdicts(log)
        state = clocks["verification"]
        if state["status"] in ("met", "breached"):
            total = CAL.elapsed(start, at) // dt.timedelta(microseconds=1)
            assert state["used_us"] + state["paused_us"] == total
            assert state["overrun_us"] == max(0, state["used_us"] - state["budget_us"])

    def test_a_calendar_with_another_fingerprint_is_refused(self) -> None:
        """Recomputing on other holiday rules names the fingerprint the log recorded."""
        engine = _engine()
        log: list[dict[str, Any]] = []
        _step(engine, {}, "submit", "received", wib(2026, 3, 16, 10, 0), source=None, log=log)
        other = indonesian_government_calendar(cuti_bersama_working=True)
        with pytest.raises(CalendarFingerprintError) as caught:
            recompute_verdicts(log, {"default": other})
        assert caught.value.recorded == CAL.fingerprint
        assert caught.value.found == other.fingerprint
        assert CAL.fingerprint in str(caught.value)

    @pytest.mark.parametrize(
        "damage",
        [
            {"time": "yesterday"},
            {"time": None},
            {"clocks": [{"clock": "verification", "change": "start"}]},
            {"clocks": [{"clock": "verification", "change": "stop"}]},
            {"clocks": "start"},
        ],
    )
    def test_a_malformed_entry_is_a_calendar_error(self, damage: dict[str, Any]) -> None:
        """Entries the replay cannot read give a CalendarError naming the entry."""
        engine = _engine()
        log: list[dict[str, Any]] = []
        _step(engine, {}, "submit", "received", wib(2026, 3, 16, 10, 0), source=None, log=log)
        log[0] = {**log[0], "seq": 0, **damage}
        with pytest.raises(CalendarError, match=r"^entry 0: "):
            recompute_verdicts(log, CALENDARS)
        with pytest.raises(CalendarError, match=r"^entry 0: "):
            attribute_breaches(log, CALENDARS)

    def test_a_missing_calendar_is_refused(self) -> None:
        """Recomputing without the calendar the log names is refused, naming it."""
        engine = _engine()
        log: list[dict[str, Any]] = []
        _step(engine, {}, "submit", "received", wib(2026, 3, 16, 10, 0), source=None, log=log)
        with pytest.raises(CalendarFingerprintError, match="no calendar named 'default'"):
            recompute_verdicts(log, {})


class TestFiredEvent:
    """A fired event names its request by id, as results do."""

    def test_request_id_and_its_deprecated_alias(self) -> None:
        """`request_id` holds the id; `request` still reads it, with a DeprecationWarning."""
        from pelayanan.sla import FiredEvent

        event = FiredEvent(
            "ADU-1", "verification", "breach", "breach", dt.datetime(2026, 7, 6, tzinfo=dt.UTC), 7
        )
        assert event.request_id == "ADU-1"
        with pytest.warns(DeprecationWarning, match="request_id"):
            assert event.request == "ADU-1"


class TestMeasurePickling:
    """A pickled measure (in a saved report state) leaves its position cache behind."""

    def test_the_cache_is_not_saved_and_spans_are_unchanged(self) -> None:
        """The unpickled measure starts with no positions and measures the same spans."""
        import pickle

        from pelayanan.sla._core import Measure

        measure = Measure(CAL, Duration.working_days(3), warn_estimated=False)
        a, b = wib(2026, 3, 16, 10, 0), wib(2026, 3, 20, 15, 30)
        span = measure.span(a, b)
        assert measure._positions
        copy = pickle.loads(pickle.dumps(measure))
        assert copy._positions == {}
        assert copy.span(a, b) == span
        assert copy._positions
        plain = Measure(CAL, Duration.working_days(3))
        assert pickle.loads(pickle.dumps(plain))._positions is None
