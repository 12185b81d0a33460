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

__all__ = ["Measure", "core_pause", "core_resume", "core_start", "core_stop", "minute", "t"]

_US = dt.timedelta(microseconds=1)
_MINUTE_US = 60_000_000


def minute(instant: dt.datetime) -> dt.datetime:
    """Return *instant* in UTC, truncated to its minute."""
    return instant.astimezone(dt.UTC).replace(second=0, microsecond=0)


def t(text: str) -> dt.datetime:
    """Parse an entry time string."""
    return parse_time(text)


class Measure:
    """How a clock measures and advances time: working time, or elapsed wall time."""

    def __init__(self, calendar: WorkCalendar, target: Duration) -> None:
        self.calendar = calendar
        self.working = target.is_working

    def span(self, a: dt.datetime, b: dt.datetime) -> int:
        """Return the measure from *a* to *b* in microseconds."""
        if self.working:
            return self.calendar.elapsed(a, b) // _US
        return (b - a) // _US

    def advance(self, at: dt.datetime, amount_us: int) -> dt.datetime:
        """Return the instant *amount_us* of measure after *at* (whole minutes, floored)."""
        # Measures between minute-aligned instants are whole minutes already; flooring
        # only matters for percentage thresholds, which the docs define as floored.
        minutes = amount_us // _MINUTE_US
        if minutes <= 0:
            return at
        if self.working:
            deadline = self.calendar.add(at, Duration.working_hours(minutes / 60))
            return deadline.at.astimezone(dt.UTC)
        return at + dt.timedelta(minutes=minutes)


def core_start(measure: Measure, target: Duration, at: dt.datetime) -> dict[str, Any]:
    """Return the state of a clock started at *at*: its deadline and budget."""
    deadline = measure.calendar.add(at, target).at.astimezone(dt.UTC)
    return {
        "status": "running",
        "started_at": format_time(at),
        "segment_start": format_time(at),
        "budget_us": measure.span(at, deadline),
        "used_us": 0,
        "paused_us": 0,
        "deadline": format_time(deadline),
    }


def core_pause(state: Mapping[str, Any], measure: Measure, at: dt.datetime) -> dict[str, Any]:
    """Return *state* paused at *at*: the running time so far is banked."""
    used = state["used_us"] + measure.span(t(state["segment_start"]), at)
    new = dict(state)
    new.update(status="paused", used_us=used, segment_start=None, paused_at=format_time(at))
    return new


def core_resume(state: Mapping[str, Any], measure: Measure, at: dt.datetime) -> dict[str, Any]:
    """Return *state* resumed at *at*: the deadline moves by the time paused."""
    paused = state["paused_us"] + measure.span(t(state["paused_at"]), at)
    remaining = state["budget_us"] - state["used_us"]
    # Resumed after the breach: the deadline already passed and stays where it was.
    deadline = measure.advance(at, remaining) if remaining > 0 else t(state["deadline"])
    new = {k: v for k, v in state.items() if k not in ("paused_at", "pause_reason")}
    new.update(
        status="running",
        paused_us=paused,
        segment_start=format_time(at),
        deadline=format_time(deadline),
    )
    return new


def core_stop(state: Mapping[str, Any], measure: Measure, at: dt.datetime) -> dict[str, Any]:
    """Return *state* stopped at *at*, with its verdict (``met`` or ``breached``)."""
    used, paused = state["used_us"], state["paused_us"]
    if state["status"] == "running":
        used += measure.span(t(state["segment_start"]), at)
    else:
        paused += measure.span(t(state["paused_at"]), at)
    overrun = max(0, used - state["budget_us"])
    new = {k: v for k, v in state.items() if k not in ("paused_at", "pause_reason")}
    new.update(
        status="breached" if overrun else "met",
        used_us=used,
        paused_us=paused,
        overrun_us=overrun,
        segment_start=None,
        stopped_at=format_time(at),
    )
    return new
