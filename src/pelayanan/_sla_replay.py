"""Replays of the audit log: clock verdicts and breach attribution (private).

Public through `pelayanan.sla`.  Only the log is read: the clock changes recorded in the
entries of submissions and actions (``clocks``) and the SLA events (``kind: "sla"``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from pelayanan._sla_core import Measure, core_pause, core_resume, core_start, core_stop, minute, t
from pelayanan.calendar import Duration, WorkCalendar
from pelayanan.exceptions import CalendarError, CalendarFingerprintError

__all__ = [
    "BreachAttribution",
    "ClockVerdict",
    "Holding",
    "attribute_breaches",
    "recompute_verdicts",
    "recorded_verdicts",
]

Status = Literal["running", "paused", "met", "breached"]


# --- replay of the log --------------------------------------------------------------------


@attrs.frozen
class ClockVerdict:
    """Where one clock of one request stands, as recorded or as recomputed from the log.

    Attributes:
        request: the request id.
        clock: the clock's name.
        cycle: the clock's cycle (1, or more after resets); the latest is reported.
        status: ``met`` or ``breached`` (stopped), ``running`` or ``paused``.
        deadline: the deadline (the last one known while paused).
        finished_at: when it stopped, for met and breached.
        overrun: how far past the target it stopped, in the clock's measure (working
            time for working units); zero unless breached.
        paused: the time it spent paused, in the same measure.
        calendar: the desk calendar's name.
        fingerprint: that calendar's fingerprint, as recorded.
    """

    request: str
    clock: str
    cycle: int
    status: Status
    deadline: dt.datetime
    finished_at: dt.datetime | None
    overrun: dt.timedelta
    paused: dt.timedelta
    calendar: str
    fingerprint: str


def _decode(entry: Mapping[str, Any] | bytes | str) -> Mapping[str, Any]:
    if isinstance(entry, bytes | str):
        decoded: Mapping[str, Any] = json.loads(entry)
        return decoded
    return entry


def _clock_changes(
    entries: Iterable[Mapping[str, Any] | bytes | str],
) -> Iterable[tuple[Mapping[str, Any], str, Mapping[str, Any]]]:
    """Yield ``(entry, clock name, change)`` for every clock change in the log, in order."""
    for raw in entries:
        entry = _decode(raw)
        for change in entry.get("clocks") or ():
            yield entry, change["clock"], change


def _verdict(request: str, clock: str, state: Mapping[str, Any]) -> ClockVerdict:
    status = state["status"]
    finished = state.get("stopped_at")
    return ClockVerdict(
        request=request,
        clock=clock,
        cycle=state["cycle"],
        status=status,
        deadline=t(state["deadline"]),
        finished_at=t(finished) if status in ("met", "breached") and finished else None,
        overrun=dt.timedelta(microseconds=state.get("overrun_us", 0)),
        paused=dt.timedelta(microseconds=state["paused_us"]),
        calendar=state["calendar"],
        fingerprint=state["fingerprint"],
    )


def recorded_verdicts(entries: Iterable[Mapping[str, Any] | bytes | str]) -> list[ClockVerdict]:
    """Return each clock's verdict as the desk recorded it in the log (its latest change).

    Args:
        entries: the log's entries (decoded mappings, or their canonical JSON bytes).

    Returns:
        One verdict per request and clock, ordered by request then clock.
    """
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    for entry, clock, change in _clock_changes(entries):
        last[(entry["request"], clock)] = {**change, "stopped_at": change["at"]}
    return [_verdict(r, c, last[(r, c)]) for r, c in sorted(last)]


def _calendar_for(
    calendars: Mapping[str, WorkCalendar], name: str, recorded: str, where: str
) -> WorkCalendar:
    calendar = calendars.get(name)
    if calendar is None:
        raise CalendarFingerprintError(name, recorded, None, where=where)
    if calendar.fingerprint != recorded:
        raise CalendarFingerprintError(name, recorded, calendar.fingerprint, where=where)
    return calendar


def _replay(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
) -> dict[tuple[str, str], tuple[dict[str, Any], list[tuple[dt.datetime, dt.datetime | None]]]]:
    """Recompute every clock's state from its changes; also return its running windows."""
    states: dict[tuple[str, str], dict[str, Any]] = {}
    windows: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime | None]]] = {}
    measures: dict[tuple[str, str], Measure] = {}
    for entry, clock, change in _clock_changes(entries):
        key = (entry["request"], clock)
        at = minute(t(entry["time"]))
        kind = change["change"]
        where = f"entry {entry.get('seq')}: request {key[0]!r}, clock {clock!r}"
        if kind in ("start", "reset"):
            calendar = _calendar_for(calendars, change["calendar"], change["fingerprint"], where)
            target = Duration.from_config(change["target"])
            measure = Measure(calendar, target)
            state = core_start(measure, target, at)
            state.update(cycle=change["cycle"], calendar=change["calendar"],
                         fingerprint=calendar.fingerprint)  # fmt: skip
            measures[key] = measure
            windows[key] = [(at, None)]
        elif key not in states:
            msg = f"{where}: a {kind!r} change before the clock started; the log is incomplete"
            raise CalendarError(msg)
        else:
            measure = measures[key]
            state = states[key]
            if kind == "pause":
                state = core_pause(state, measure, at)
                windows[key][-1] = (windows[key][-1][0], at)
            elif kind == "resume":
                state = core_resume(state, measure, at)
                windows[key].append((at, None))
            else:
                if state["status"] == "running":
                    windows[key][-1] = (windows[key][-1][0], at)
                state = core_stop(state, measure, at)
        states[key] = state
    return {key: (states[key], windows[key]) for key in states}


def recompute_verdicts(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
) -> list[ClockVerdict]:
    """Recompute every clock's verdict from the audit log and the calendars it names.

    Only the clock changes recorded in the entries (their times, targets, calendar names
    and fingerprints) are used: nothing the desk stored beside the log.  Each calendar
    given must have the fingerprint the log recorded, so newer holiday data never
    silently changes a past verdict.

    Args:
        entries: the log's entries in order (decoded mappings or canonical JSON bytes).
        calendars: calendar name -> calendar, as the desk was configured.

    Returns:
        One verdict per request and clock, ordered by request then clock.

    Raises:
        CalendarFingerprintError: a calendar the log names is missing or has another
            fingerprint than the one recorded (the error names the recorded one).
        CalendarError: the log's clock changes are incomplete.
    """
    replayed = _replay(entries, calendars)
    return [_verdict(r, c, replayed[(r, c)][0]) for r, c in sorted(replayed)]


@attrs.frozen
class Holding:
    """How long one unit (and officer) held a request while a clock ran.

    Attributes:
        unit: the unit responsible.
        officer: the assigned officer, or when none was assigned, the officer whose
            action ended the stretch (``None`` when neither is known).
        working_time: working time on the clock's calendar, pauses excluded.
    """

    unit: str | None
    officer: str | None
    working_time: dt.timedelta


@attrs.frozen
class BreachAttribution:
    """Who held a breached request, and for how long.

    Attributes:
        request: the request id.
        clock: the clock's name.
        overrun: how far past the target (zero for an open clock whose breach fired and
            that is still running: see ``open``).
        open: the clock has not stopped yet (holdings run up to *as_of*).
        holdings: one per unit and officer, largest share first.
    """

    request: str
    clock: str
    overrun: dt.timedelta
    open: bool
    holdings: tuple[Holding, ...]


_HOLDER_KEYS = ("unit", "assigned_unit")
_ABSENT = object()


def _holder_updates(entry: Mapping[str, Any]) -> dict[str, str | None]:
    """Return the holder fields an entry sets: unit and assignee."""
    found: dict[str, str | None] = {}
    raw = entry.get("data")
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    for source in (data, entry):
        for key in _HOLDER_KEYS:
            if isinstance(source.get(key), str):
                found["unit"] = source[key]
                found["assignee"] = None
        assignee = source.get("assignee", _ABSENT)
        if assignee is None or isinstance(assignee, str):
            found["assignee"] = assignee
    reassign = entry.get("reassign")
    if isinstance(reassign, Mapping) and isinstance(reassign.get("unit"), str):
        found["unit"] = reassign["unit"]
        found["assignee"] = None
    if isinstance(reassign, Mapping) and "role" in reassign:
        found["assignee"] = None
    return found


def attribute_breaches(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
    *,
    as_of: dt.datetime | None = None,
) -> list[BreachAttribution]:
    """Attribute each breached clock's running time to the units and officers holding it.

    The holder of a request is read from the log: the ``holder`` recorded when the clock
    started, then every ``unit`` / ``assigned_unit`` / ``assignee`` an entry or its data
    sets (disposisi, routing, assignment, an escalation's reassignment).  The officer of a
    stretch is the assignee, or when none is assigned, the actor of the committed action
    that ended the stretch.  Stretches are measured in working time on the clock's
    calendar, over the clock's running windows only (pauses count against no one).

    Args:
        entries: the log's entries in order.
        calendars: calendar name -> calendar, checked by fingerprint as in
            `recompute_verdicts`.
        as_of: where open clocks whose breach already fired are measured up to
            (default: the last entry's time).

    Returns:
        One attribution per breached clock (stopped breached, or open with a fired
        breach), ordered by request then clock.

    Raises:
        CalendarFingerprintError: a calendar is missing or has another fingerprint.
    """
    decoded = [_decode(e) for e in entries]
    replayed = _replay(decoded, calendars)
    breach_fired = {
        (e["request"], e["clock"])
        for e in decoded
        if e.get("kind") == "sla" and e.get("event") == "breach"
    }
    end = minute(as_of) if as_of is not None else None
    if end is None and decoded:
        end = minute(t(decoded[-1]["time"]))
    # Per request, at each entry: (instant, unit, assignee from then on, human actor).
    timeline: dict[str, list[tuple[dt.datetime, str | None, str | None, str | None]]] = {}
    holders: dict[str, dict[str, str | None]] = {}
    for entry in decoded:
        request = entry.get("request")
        if not isinstance(request, str) or entry.get("kind") == "refused":
            continue
        current = holders.setdefault(request, {"unit": None, "assignee": None})
        for change in entry.get("clocks") or ():
            if isinstance(change.get("holder"), Mapping) and current["unit"] is None:
                current.update(change["holder"])
        current.update(_holder_updates(entry))
        actor = entry.get("actor") if entry.get("kind") in ("submit", "action") else None
        timeline.setdefault(request, []).append(
            (minute(t(entry["time"])), current["unit"], current["assignee"], actor)
        )
    out: list[BreachAttribution] = []
    for (request, clock), (state, windows) in sorted(replayed.items()):
        opened = state["status"] in ("running", "paused")
        if state["status"] != "breached" and not (opened and (request, clock) in breach_fired):
            continue
        calendar = calendars[state["calendar"]]
        shares: dict[tuple[str | None, str | None], dt.timedelta] = {}
        points = timeline.get(request, [])
        for start, closed in windows:
            stop = closed if closed is not None else end
            if stop is None or stop <= start:
                continue
            for i, (at, unit, assignee, _) in enumerate(points):
                if at >= stop:
                    break
                nxt = points[i + 1][0] if i + 1 < len(points) else stop
                a, b = max(at, start), min(nxt, stop)
                if b <= a:
                    continue
                officer = assignee
                if officer is None:
                    officer = next((p[3] for p in points[i + 1 :] if p[3] is not None), None)
                share = calendar.elapsed(a, b)
                if share:
                    shares[(unit, officer)] = shares.get((unit, officer), dt.timedelta()) + share
        holdings = tuple(
            Holding(unit, officer, time)
            for (unit, officer), time in sorted(
                shares.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1] or "")
            )
        )
        overrun = dt.timedelta(microseconds=state.get("overrun_us", 0))
        out.append(BreachAttribution(request, clock, overrun, opened, holdings))
    return out
