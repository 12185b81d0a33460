"""The live SLA engine: clock transitions on actions, due events, and their entries."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from pelayanan.audit.entry import format_time
from pelayanan.audit.kinds import COUNTING, MEASURES, ROLE, UNIT, sla_body
from pelayanan.calendar import WorkCalendar
from pelayanan.exceptions import CalendarError, IncompleteRequestError
from pelayanan.sla._config import (
    ClockCondition,
    ClockDef,
    EscalationStep,
)
from pelayanan.sla._core import (
    Measure,
    core_change,
    core_start,
    minute,
    t,
)
from pelayanan.sop.model import AGENCY, HOLDING_UNIT

__all__ = [
    "ClockChange",
    "ClockEngine",
    "DueEvent",
    "FiredEvent",
    "event_body",
    "next_due",
    "reassignment",
]

EventKind = Literal["warning", "breach", "escalation"]
#: The prefix that marks a unit (not a role) in ``notify`` and ``reassign_to``.
UNIT_PREFIX = "unit:"


@attrs.frozen
class ClockChange:
    """One clock transition caused by an action, as recorded in the action's entry.

    Attributes:
        clock: the clock's name.
        change: ``start``, ``pause``, ``resume``, ``stop`` or ``reset``.
        record: the JSON-ready mapping the entry's ``clocks`` list carries.
    """

    clock: str
    change: str
    record: Mapping[str, Any]


@attrs.frozen
class DueEvent:
    """A warning, breach or escalation due on one request's clock.

    Attributes:
        clock: the clock's name.
        key: ``warning:<pct>``, ``breach`` or ``escalation:<n>`` (1-based step).
        event: ``warning``, ``breach`` or ``escalation``.
        due: the instant it became due.
        threshold: the warning percentage; for an escalation the step's ``after`` as
            configured (``"150%"`` or a duration mapping); ``None`` for a breach.
        step: the escalation step, for escalations.
    """

    clock: str
    key: str
    event: EventKind
    due: dt.datetime
    threshold: int | str | Mapping[str, int | float] | None = None
    step: EscalationStep | None = None


def _order(key: str) -> int:
    return 0 if key.startswith("warning") else 1 if key == "breach" else 2


class ClockEngine:
    """Run the clocks of one SOP on named calendars.

    Args:
        specs: the SOP's clocks (``sop.clocks``).
        calendars: calendar name -> calendar; must hold every name the clocks use and,
            unless every clock names one, ``"default"``.
        unit: the SOP's unit: its calendar, when the desk has one by that name, is the
            default for clocks that name none.

    Raises:
        CalendarError: a clock names a calendar that is not given.
    """

    def __init__(
        self,
        specs: Sequence[ClockDef],
        *,
        calendars: Mapping[str, WorkCalendar],
        unit: str | None = None,
    ) -> None:
        self.specs = tuple(specs)
        self.calendars = dict(calendars)
        fallback = unit if unit is not None and unit in self.calendars else "default"
        self._calendar_of: dict[str, str] = {}
        for spec in self.specs:
            name = spec.calendar or fallback
            if name not in self.calendars:
                known = ", ".join(sorted(self.calendars)) or "none"
                msg = f"clock {spec.name!r} counts on calendar {name!r}, not given (known: {known})"
                raise CalendarError(msg)
            self._calendar_of[spec.name] = name
        self._by_name = {spec.name: spec for spec in self.specs}
        self._counted: dict[str, WorkCalendar] = {
            spec.name: self.calendars[self._calendar_of[spec.name]].with_counting(spec.counting)
            for spec in self.specs
        }

    def __repr__(self) -> str:
        return f"ClockEngine({[s.name for s in self.specs]!r})"

    def spec(self, name: str) -> ClockDef:
        """Return the definition of the clock called *name*.

        Raises:
            KeyError: the SOP has no such clock.
        """
        return self._by_name[name]

    def _measure(self, spec: ClockDef) -> Measure:
        return Measure(self._counted[spec.name], spec.target)

    def transition(
        self,
        clocks: Mapping[str, Any],
        *,
        action: str,
        source: str | None,
        target: str,
        final: bool,
        at: dt.datetime,
        reason: str | None = None,
        holder: Mapping[str, str | None] | None = None,
    ) -> tuple[dict[str, Any], list[ClockChange]]:
        """Apply an action to a request's clock states.

        Per clock, the first matching condition wins, in this order: reset (a running or
        paused clock starts over, as a new cycle), stop (running or paused), pause
        (running), resume (paused), start (not running or paused: never started, or
        stopped earlier, which starts a new cycle).  Entering a final state stops every
        clock still running or paused.

        Args:
            clocks: the current states (``meta["sla"]``), by clock name.
            action: the action taken (``submit`` for a submission).
            source: the state it was taken from (``None`` for a submission).
            target: the state it leads to.
            final: whether *target* is final.
            at: when (truncated to the minute).
            reason: why, for pauses.
            holder: the request's ``unit`` and ``assignee`` after the action, recorded
                with starts for breach attribution.

        Returns:
            The new states and the changes to record in the action's entry.

        Raises:
            IncompleteRequestError: a clock would pause and no reason is given.
        """
        at = minute(at)
        new = {name: dict(state) for name, state in clocks.items()}
        changes: list[ClockChange] = []
        for spec in self.specs:
            state = new.get(spec.name)
            status = state["status"] if state is not None else None
            active = status in ("running", "paused")

            def hit(condition: ClockCondition | None) -> bool:
                return condition is not None and condition.matches(action, target)

            if active and hit(spec.reset) and not final:
                change = "reset"
            elif active and (hit(spec.stop) or final):
                change = "stop"
            elif status == "running" and hit(spec.pause):
                change = "pause"
            elif status == "paused" and hit(spec.resume):
                change = "resume"
            elif not active and hit(spec.start) and not final:
                change = "start"
            else:
                continue
            if change == "pause" and not (reason and reason.strip()):
                raise IncompleteRequestError(action, arguments=["justification"])
            updated = self._apply(spec, state, change, at, reason)
            new[spec.name] = updated
            changes.append(ClockChange(spec.name, change, self._record(updated, change, holder)))
        return new, changes

    def _apply(
        self,
        spec: ClockDef,
        state: Mapping[str, Any] | None,
        change: str,
        at: dt.datetime,
        reason: str | None,
    ) -> dict[str, Any]:
        measure = self._measure(spec)
        if change in ("start", "reset"):
            cycle = (state["cycle"] + 1) if state is not None else 1
            calendar_name = self._calendar_of[spec.name]
            fresh = core_start(measure, spec.target, at)
            fresh.update(
                cycle=cycle,
                calendar=calendar_name,
                fingerprint=measure.calendar.fingerprint,
                target=spec.target.to_config(),
                schedule=[],
                fired=[],
            )
            # Written only when not the default, so existing logs replay unchanged.
            if spec.counting is not None:
                fresh[COUNTING] = spec.counting.value
            if spec.measures != AGENCY:
                fresh[MEASURES] = spec.measures
            fresh["schedule"] = self._schedule(spec, measure, fresh)
            return fresh
        assert state is not None
        changed = core_change(change, state, measure, at)
        if change == "pause":
            changed["pause_reason"] = (reason or "").strip()
            # Thresholds reached before the pause still fire; the rest wait for resume.
            changed["schedule"] = [i for i in state["schedule"] if t(i[1]) <= at]
        elif change == "resume":
            changed["schedule"] = self._schedule(spec, measure, changed)
        else:
            changed["schedule"] = []
        return changed

    def _schedule(
        self, spec: ClockDef, measure: Measure, state: Mapping[str, Any]
    ) -> list[list[str]]:
        """Return the pending events of a running clock: kept ones plus those still ahead."""
        items = [list(i) for i in state["schedule"]]
        known = {i[0] for i in items} | set(state["fired"])
        budget, used = state["budget_us"], state["used_us"]
        segment = t(state["segment_start"])
        deadline = t(state["deadline"])
        levels: list[tuple[str, int]] = [(f"warning:{p}", budget * p // 100) for p in spec.warn_at]
        levels.append(("breach", budget))
        for n, step in enumerate(spec.escalation, start=1):
            if step.after is None:
                levels.append((f"escalation:{n}", budget * (step.after_percent or 100) // 100))
            elif f"escalation:{n}" not in known:
                at = measure.calendar.add(deadline, step.after).at.astimezone(dt.UTC)
                items.append([f"escalation:{n}", format_time(at)])
        for key, level in levels:
            if key in known or level <= used:
                continue
            at = deadline if key == "breach" else measure.advance(segment, level - used)
            items.append([key, format_time(at)])
        items.sort(key=lambda i: (i[1], _order(i[0]), i[0]))
        return items

    def _record(
        self, state: Mapping[str, Any], change: str, holder: Mapping[str, str | None] | None
    ) -> dict[str, Any]:
        at = {"start": "started_at", "reset": "started_at", "pause": "paused_at",
              "resume": "segment_start", "stop": "stopped_at"}[change]  # fmt: skip
        record: dict[str, Any] = {
            "change": change,
            "at": state[at],
            "cycle": state["cycle"],
            "status": state["status"],
            "calendar": state["calendar"],
            "fingerprint": state["fingerprint"],
            "deadline": state["deadline"],
            "budget_us": state["budget_us"],
            "used_us": state["used_us"],
            "paused_us": state["paused_us"],
        }
        if change in ("start", "reset"):
            record["target"] = state["target"]
            for key in (COUNTING, MEASURES):
                if key in state:
                    record[key] = state[key]
            if holder is not None:
                record["holder"] = dict(holder)
        if change == "pause":
            record["reason"] = state["pause_reason"]
        if change == "stop":
            record["overrun_us"] = state["overrun_us"]
        return record

    def due(self, clocks: Mapping[str, Any], now: dt.datetime) -> list[DueEvent]:
        """Return the events due at *now* over all clocks, earliest first.

        Warnings are due from their instant on; a breach (and an escalation due at the
        deadline) only once the deadline has passed, since a stop at the deadline is met.
        """
        found: list[DueEvent] = []
        for spec in self.specs:
            state = clocks.get(spec.name)
            if state is None:
                continue
            deadline = t(state["deadline"])
            for key, at_text in state.get("schedule", []):
                at = t(at_text)
                if at > now:
                    break
                if at == now and at == deadline and not key.startswith("warning"):
                    continue  # on time until the deadline has passed (a stop now is met)
                found.append(self._event(spec, key, at))
        found.sort(key=lambda e: (e.due, _order(e.key), e.clock, e.key))
        return found

    def _event(self, spec: ClockDef, key: str, at: dt.datetime) -> DueEvent:
        if key == "breach":
            return DueEvent(spec.name, key, "breach", at)
        kind, _, number = key.partition(":")
        if kind == "warning":
            return DueEvent(spec.name, key, "warning", at, int(number))
        step = spec.escalation[int(number) - 1]
        after = step.after.to_config() if step.after is not None else f"{step.after_percent}%"
        return DueEvent(spec.name, key, "escalation", at, after, step)

    @staticmethod
    def fire(clocks: Mapping[str, Any], event: DueEvent) -> dict[str, Any]:
        """Return the clock states with *event* marked fired (it never fires again)."""
        new = {name: dict(state) for name, state in clocks.items()}
        state = new[event.clock]
        state["schedule"] = [i for i in state["schedule"] if i[0] != event.key]
        state["fired"] = [*state["fired"], event.key]
        return new


@attrs.frozen
class FiredEvent:
    """A warning, breach or escalation that `ServiceDesk.tick` fired and recorded.

    Attributes:
        request_id: the request's id (``request`` is a deprecated alias).
        clock: the clock's name.
        event: ``warning``, ``breach`` or ``escalation``.
        key: the event's key on its clock (``warning:50``, ``breach``, ``escalation:1``).
        due: when it became due.
        seq: the sequence number of the audit entry that records it.
        notify: the roles and units notified (escalations).
        reassign: ``{"unit": ...}`` or ``{"role": ...}`` the request was handed to.
        action: the action the system took (escalations), if any.
    """

    request_id: str
    clock: str
    event: EventKind
    key: str
    due: dt.datetime
    seq: int
    notify: tuple[str, ...] = ()
    reassign: Mapping[str, str] | None = None
    action: str | None = None

    @property
    def request(self) -> str:
        """Return the request's id (deprecated: read `request_id`).

        Results name a request's id ``request_id`` and its record ``request``
        (`ActionResult.request`); this alias keeps old code working for one release.
        """
        warnings.warn(
            "FiredEvent.request is deprecated; read FiredEvent.request_id",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.request_id


def reassignment(step: EscalationStep | None) -> dict[str, str] | None:
    """Return where an escalation step hands the request: ``{"role": r}`` or ``{"unit": u}``.

    ``reassign_to`` names a role, or a unit written ``unit:<id>``.
    """
    if step is None or step.reassign_to is None:
        return None
    if step.reassign_to.startswith(UNIT_PREFIX):
        return {UNIT: step.reassign_to.removeprefix(UNIT_PREFIX)}
    return {ROLE: step.reassign_to}


def notified(
    clock_notify: Sequence[str], step: EscalationStep | None, unit: str | None
) -> list[str]:
    """Return whom an event names: the clock's ``notify`` then the step's, once each.

    ``unit`` (`HOLDING_UNIT`) becomes ``unit:<id>`` of the unit holding the request, and
    is left out when no unit holds it.
    """
    names: list[str] = []
    for name in (*clock_notify, *(step.notify if step is not None else ())):
        resolved = name
        if name == HOLDING_UNIT:
            if unit is None:
                continue
            resolved = f"{UNIT_PREFIX}{unit}"
        if resolved not in names:
            names.append(resolved)
    return names


def event_body(
    event: DueEvent,
    clocks: Mapping[str, Any],
    *,
    request: str,
    at: dt.datetime,
    notify: Sequence[str] = (),
    unit: str | None = None,
) -> dict[str, Any]:
    """Return the audit entry body (``kind: "sla"``) recording *event*, actor ``system``.

    Args:
        event: the due event.
        clocks: the request's clock states before it fires.
        request: the request id.
        at: the tick instant (the entry's time).
        notify: the clock's own ``notify`` (named in every event of the clock).
        unit: the unit holding the request (for ``notify: [unit]``).

    Returns:
        The body, JSON-ready; ``sop`` is left for the caller to add.
    """
    state = clocks[event.clock]
    step = event.step
    return sla_body(
        at=at,
        request=request,
        event=event.event,
        clock=event.clock,
        cycle=state["cycle"],
        key=event.key,
        due=event.due,
        deadline=state["deadline"],
        calendar=state["calendar"],
        fingerprint=state["fingerprint"],
        threshold=event.threshold,
        notify=notified(notify, step, unit),
        reassign=reassignment(step),
        action=step.action if step is not None else None,
    )


def next_due(clocks: Mapping[str, Any]) -> dt.datetime | None:
    """Return the earliest pending event instant over a request's clocks, or ``None``."""
    instants = [t(state["schedule"][0][1]) for state in clocks.values() if state.get("schedule")]
    return min(instants) if instants else None
