"""The arithmetic of one SLA clock, shared by the engine and the log replay (private).

A clock's state is a JSON-ready mapping.  Every instant is truncated to its minute, so
every measure between two instants is an exact whole number of minutes and a deadline
moved by a pause is exact: the desk (live) and `recompute_verdicts` (from the log) run
these same functions on the same minute-aligned instants and agree to the microsecond.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pelayanan.audit.entry import format_time, parse_time
from pelayanan.calendar import Duration, WorkCalendar

__all__ = [
    "Measure",
    "as_time",
    "core_change",
    "core_pause",
    "core_resume",
    "core_start",
    "core_stop",
    "minute",
    "t",
]

_US = dt.timedelta(microseconds=1)
_MINUTE_US = 60_000_000
#: How many working positions a replay's `Measure` keeps before it starts afresh.
_MAX_POSITIONS = 1 << 16


def minute(instant: dt.datetime) -> dt.datetime:
    """Return *instant* in UTC, truncated to its minute."""
    return instant.astimezone(dt.UTC).replace(second=0, microsecond=0)


def t(text: str) -> dt.datetime:
    """Parse an entry time string."""
    return parse_time(text)


class Measure:
    """How a clock measures and advances time: working time, or elapsed wall time.

    Args:
        calendar: the clock's calendar.
        target: the clock's target (working or calendar units).
        warn_estimated: warn when a span crosses an estimated holiday date (the live
            engine does; a replay of the log states estimated dates once, in its report
            basis).  Strict calendars refuse such spans either way.
    """

    def __init__(
        self, calendar: WorkCalendar, target: Duration, *, warn_estimated: bool = True
    ) -> None:
        self.calendar = calendar
        self.working = target.is_working
        self.warn_estimated = warn_estimated
        # A replay measures the same instants again and again (an entry's instant ends one
        # clock's segment and starts another's): it keeps their working positions.
        self._positions: dict[dt.datetime, tuple[int, int]] | None = (
            {} if not warn_estimated and not calendar.strict else None
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the measure without its remembered positions (a cache, rebuilt on use)."""
        state = dict(self.__dict__)
        # Saved with a report state, the cache made reading it 2.5x slower (0.70 s
        # against 0.28 s at 100,000 entries; docs/performance.md).
        if self._positions is not None:
            state["_positions"] = {}
        return state

    def _position(self, instant: dt.datetime) -> tuple[int, int]:
        positions = self._positions
        assert positions is not None  # only called when positions are kept
        found = positions.get(instant)
        if found is None:
            if len(positions) >= _MAX_POSITIONS:
                positions.clear()
            found = positions[instant] = self.calendar.working_position(instant)
        return found

    def span(self, a: dt.datetime, b: dt.datetime) -> int:
        """Return the measure from *a* to *b* in microseconds."""
        if not self.working:
            return (b - a) // _US
        if self._positions is None:
            return self.calendar.elapsed(a, b) // _US
        return self.calendar.working_us_between(self._position(a), self._position(b))

    def deadline(self, at: dt.datetime, target: Duration) -> dt.datetime:
        """Return the UTC instant *target* after *at* on the calendar."""
        return self.calendar.deadline_at(at, target, warn_estimated=self.warn_estimated).astimezone(
            dt.UTC
        )

    def advance(self, at: dt.datetime, amount_us: int) -> dt.datetime:
        """Return the instant *amount_us* of measure after *at* (whole minutes, floored)."""
        # Measures between minute-aligned instants are whole minutes already; flooring
        # only matters for percentage thresholds, which the docs define as floored.
        minutes = amount_us // _MINUTE_US
        if minutes <= 0:
            return at
        if self.working:
            return self.deadline(at, Duration.working_hours(minutes / 60))
        return at + dt.timedelta(minutes=minutes)


def _put(at: dt.datetime, native: bool) -> Any:
    return at if native else format_time(at)


def as_time(value: Any) -> dt.datetime:
    """Return a state instant as a datetime (states keep text, or datetimes when native)."""
    return value if type(value) is dt.datetime else t(value)


def _without_pause(state: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of *state* without the fields of a pause."""
    new = dict(state)
    new.pop("paused_at", None)
    new.pop("pause_reason", None)
    return new


def core_start(
    measure: Measure, target: Duration, at: dt.datetime, *, native: bool = False
) -> dict[str, Any]:
    """Return the state of a clock started at *at*: its deadline and budget.

    A state's instants are entry time strings (the JSON the desk stores); with *native*
    they are the datetimes themselves (a replay of the log, which stores nothing, skips
    the round trips).  The arithmetic is the same either way.
    """
    deadline = measure.deadline(at, target)
    started = _put(at, native)
    return {
        "status": "running",
        "started_at": started,
        "segment_start": started,
        "budget_us": measure.span(at, deadline),
        "used_us": 0,
        "paused_us": 0,
        "deadline": _put(deadline, native),
    }


def core_pause(
    state: Mapping[str, Any], measure: Measure, at: dt.datetime, *, native: bool = False
) -> dict[str, Any]:
    """Return *state* paused at *at*: the running time so far is banked."""
    used = state["used_us"] + measure.span(as_time(state["segment_start"]), at)
    new = dict(state)
    new.update(status="paused", used_us=used, segment_start=None, paused_at=_put(at, native))
    return new


def core_resume(
    state: Mapping[str, Any], measure: Measure, at: dt.datetime, *, native: bool = False
) -> dict[str, Any]:
    """Return *state* resumed at *at*: the deadline moves by the time paused."""
    paused = state["paused_us"] + measure.span(as_time(state["paused_at"]), at)
    remaining = state["budget_us"] - state["used_us"]
    # Resumed after the breach: the deadline already passed and stays where it was.
    deadline = measure.advance(at, remaining) if remaining > 0 else as_time(state["deadline"])
    new = _without_pause(state)
    new.update(
        status="running",
        paused_us=paused,
        segment_start=_put(at, native),
        deadline=_put(deadline, native),
    )
    return new


def core_stop(
    state: Mapping[str, Any], measure: Measure, at: dt.datetime, *, native: bool = False
) -> dict[str, Any]:
    """Return *state* stopped at *at*, with its verdict (``met`` or ``breached``)."""
    used, paused = state["used_us"], state["paused_us"]
    if state["status"] == "running":
        used += measure.span(as_time(state["segment_start"]), at)
    else:
        paused += measure.span(as_time(state["paused_at"]), at)
    overrun = max(0, used - state["budget_us"])
    new = _without_pause(state)
    new.update(
        status="breached" if overrun else "met",
        used_us=used,
        paused_us=paused,
        overrun_us=overrun,
        segment_start=None,
        stopped_at=_put(at, native),
    )
    return new


def core_change(
    kind: str, state: Mapping[str, Any], measure: Measure, at: dt.datetime, *, native: bool = False
) -> dict[str, Any]:
    """Return *state* after the change *kind* at *at*: `core_pause` for ``pause``,
    `core_resume` for ``resume``, `core_stop` for ``stop``."""
    if kind == "pause":
        return core_pause(state, measure, at, native=native)
    if kind == "resume":
        return core_resume(state, measure, at, native=native)
    return core_stop(state, measure, at, native=native)
