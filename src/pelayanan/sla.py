"""SLA clocks: named clocks per request with targets, warnings and escalation ladders.

An SOP declares clocks (`ClockSpec`): when each starts, pauses, resumes, stops and
resets (on actions or on entering states), its target as a `Duration` on a working
calendar, the warning thresholds (percentages of the target) and an escalation ladder
(steps after the breach that notify or reassign to a role or unit).

This module is pure: it never reads the clock, the store or the desk.

* `ClockEngine.transition` applies an action to a request's clock states (a JSON-ready
  mapping the desk keeps in the request's ``meta["sla"]``) and returns the changes to
  record in the action's audit entry;
* `ClockEngine.due` lists the warnings, breaches and escalations due at an instant, and
  `ClockEngine.fire` marks one fired; `next_due` is the earliest pending instant (the
  indexed ``next_due`` column the desk's ``tick`` queries);
* `recompute_verdicts` replays the audit log alone, on the calendars the log names by
  fingerprint, and `recorded_verdicts` reads what the desk recorded: the two agree;
* `attribute_breaches` says which unit and officer held a breached request, and for how
  much working time.

Clocks count whole minutes: every instant a clock uses is truncated to its minute (an
action within the minute of the deadline is on time).  That keeps every measure an exact
whole number of minutes, so a deadline shifted by a pause is exact and a replay of the
log reproduces every verdict to the microsecond.  See ``docs/sla.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from pelayanan.audit.entry import format_time, parse_time
from pelayanan.calendar import Duration, WorkCalendar
from pelayanan.exceptions import (
    CalendarError,
    CalendarFingerprintError,
    IncompleteRequestError,
    Problem,
    SOPDefinitionError,
)

__all__ = [
    "BreachAttribution",
    "ClockChange",
    "ClockEngine",
    "ClockSpec",
    "ClockVerdict",
    "DueEvent",
    "EscalationStep",
    "FiredEvent",
    "Holding",
    "Trigger",
    "attribute_breaches",
    "check_clock_specs",
    "clock_specs_from_config",
    "event_body",
    "next_due",
    "recompute_verdicts",
    "reassignment",
    "recorded_verdicts",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_US = dt.timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_CLOCK_KEYS = (
    "name", "start", "stop", "pause", "resume", "reset", "target", "warn_at", "escalation",
    "calendar",
)  # fmt: skip
_TRIGGER_KEYS = ("on_action", "on_enter")
_STEP_KEYS = ("after", "notify", "reassign_to")

Status = Literal["running", "paused", "met", "breached"]
EventKind = Literal["warning", "breach", "escalation"]


# --- the definition ---------------------------------------------------------------------


@attrs.frozen
class Trigger:
    """A condition on an action: its name, or the state it enters.

    Attributes:
        on_action: action names (``submit`` names the submission).
        on_enter: state ids; matches an action that moves the request into one of them
            (a submission enters the initial state; a self-loop enters nothing).
    """

    on_action: tuple[str, ...] = ()
    on_enter: tuple[str, ...] = ()

    def matches(self, action: str, source: str | None, target: str) -> bool:
        """Return whether *action* from *source* into *target* meets the condition."""
        if action in self.on_action:
            return True
        return target in self.on_enter and source != target

    def __bool__(self) -> bool:
        return bool(self.on_action or self.on_enter)


@attrs.frozen
class EscalationStep:
    """One rung of an escalation ladder.

    Exactly one of *after_percent* and *after* is set.

    Attributes:
        after_percent: fire when the clock has run this percentage of its target past
            the breach (``0``: at the breach).
        after: fire this duration after the deadline, on the clock's calendar.
        notify: a role or unit to notify.
        reassign_to: a role or unit to hand the request to.
    """

    after_percent: int | None = None
    after: Duration | None = None
    notify: str | None = None
    reassign_to: str | None = None

    def after_config(self) -> int | dict[str, int | float]:
        """Return ``after`` as written in configuration (a percentage or a duration)."""
        if self.after is not None:
            return self.after.to_config()
        return self.after_percent if self.after_percent is not None else 0


@attrs.frozen
class ClockSpec:
    """One SLA clock of an SOP.

    Attributes:
        name: the clock's name (``[a-z][a-z0-9_]*``), unique in its SOP.
        target: the time allowed, e.g. ``Duration.working_days(3)``.
        start: starts the clock (when it is not already running or paused).
        stop: stops it and settles its verdict (met or breached).
        pause: pauses it; the action must give a reason (its justification or a
            ``pause_reason`` data field), which the log records.
        resume: resumes a paused clock; the deadline moves by the time paused.
        reset: restarts it from zero (a new cycle), whatever its state.
        warn_at: warning thresholds, percentages of the target in ``1..99``.
        escalation: the escalation ladder, in order.
        calendar: the name of the desk calendar it counts on (``None``: the calendar of
            the SOP's unit if the desk has one, else ``"default"``).
    """

    name: str
    target: Duration
    start: Trigger
    stop: Trigger
    pause: Trigger = Trigger()
    resume: Trigger = Trigger()
    reset: Trigger = Trigger()
    warn_at: tuple[int, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()
    calendar: str | None = None


class _Problems:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message, self.source))


def _names(value: object, path: str, out: _Problems) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        out.add(path, "expected a list of names, e.g. [verify]")
        return ()
    return tuple(value)


def _trigger(value: object, path: str, out: _Problems) -> Trigger:
    if value is None:
        return Trigger()
    if not isinstance(value, Mapping):
        out.add(path, "expected a mapping like {on_action: [verify]} or {on_enter: [closed]}")
        return Trigger()
    for key in value:
        if key not in _TRIGGER_KEYS:
            out.add(f"{path}.{key}", "unknown key; use on_action or on_enter")
    return Trigger(
        _names(value.get("on_action", []), f"{path}.on_action", out),
        _names(value.get("on_enter", []), f"{path}.on_enter", out),
    )


def _percent(value: object, path: str, out: _Problems, *, low: int, high: int) -> int | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        text = value.strip()[:-1].strip()
        value = int(text) if text.isdigit() else value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        out.add(path, f"expected a whole percentage from {low} to {high}, got {value!r}")
        return None
    return value


def _duration(value: object, path: str, out: _Problems) -> Duration | None:
    try:
        return Duration.from_config(value, path=path)
    except CalendarError as exc:
        out.add(path, str(exc).removeprefix(f"{path}: "))
        return None


def _step(value: object, path: str, out: _Problems) -> EscalationStep | None:
    if not isinstance(value, Mapping):
        out.add(path, "expected a mapping like {after: 0, notify: supervisor}")
        return None
    for key in value:
        if key not in _STEP_KEYS:
            out.add(f"{path}.{key}", f"unknown key; use one of {', '.join(_STEP_KEYS)}")
    after = value.get("after", 0)
    percent: int | None = None
    duration: Duration | None = None
    if isinstance(after, Mapping) or (isinstance(after, str) and not after.strip().endswith("%")):
        duration = _duration(after, f"{path}.after", out)
    else:
        percent = _percent(after, f"{path}.after", out, low=0, high=1000)
    targets = {}
    for key in ("notify", "reassign_to"):
        item = value.get(key)
        if item is not None and not (isinstance(item, str) and item):
            out.add(f"{path}.{key}", "expected a role or unit name")
            item = None
        targets[key] = item
    if targets["notify"] is None and targets["reassign_to"] is None:
        out.add(path, "an escalation step needs notify or reassign_to (or both)")
    if percent is None and duration is None:
        return None
    return EscalationStep(percent, duration, targets["notify"], targets["reassign_to"])


def _clock(value: object, path: str, out: _Problems) -> ClockSpec | None:
    if not isinstance(value, Mapping):
        out.add(path, "expected a mapping with name, start, stop and target")
        return None
    for key in value:
        if key not in _CLOCK_KEYS:
            out.add(f"{path}.{key}", f"unknown key; use one of {', '.join(_CLOCK_KEYS)}")
    name = value.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        out.add(f"{path}.name", "expected a clock name like 'verification' ([a-z][a-z0-9_]*)")
        name = None
    triggers = {k: _trigger(value.get(k), f"{path}.{k}", out) for k in _CLOCK_KEYS[1:6]}
    for key in ("start", "stop"):
        if not triggers[key]:
            out.add(f"{path}.{key}", f"a clock needs a {key} condition (on_action or on_enter)")
    if bool(triggers["pause"]) != bool(triggers["resume"]):
        out.add(path, "pause and resume go together: give both or neither")
    target = None
    if "target" not in value:
        out.add(f"{path}.target", "missing target, e.g. {working_days: 3}")
    else:
        target = _duration(value["target"], f"{path}.target", out)
        if target is not None and target.amount == 0:
            out.add(f"{path}.target", "a target must be longer than zero")
            target = None
    warn_raw = value.get("warn_at", [])
    warn: list[int] = []
    if not isinstance(warn_raw, list):
        out.add(f"{path}.warn_at", "expected a list of percentages, e.g. [50, 75]")
    else:
        for i, item in enumerate(warn_raw):
            pct = _percent(item, f"{path}.warn_at[{i}]", out, low=1, high=99)
            if pct is not None:
                warn.append(pct)
        if len(set(warn)) != len(warn):
            out.add(f"{path}.warn_at", "each warning threshold must appear once")
    steps_raw = value.get("escalation", [])
    steps: list[EscalationStep] = []
    if not isinstance(steps_raw, list):
        out.add(f"{path}.escalation", "expected a list of steps like {after: 0, notify: x}")
    else:
        for i, item in enumerate(steps_raw):
            step = _step(item, f"{path}.escalation[{i}]", out)
            if step is not None:
                steps.append(step)
    calendar = value.get("calendar")
    if calendar is not None and not (isinstance(calendar, str) and calendar):
        out.add(f"{path}.calendar", "expected the name of a desk calendar")
        calendar = None
    if name is None or target is None:
        return None
    return ClockSpec(
        name=name,
        target=target,
        start=triggers["start"],
        stop=triggers["stop"],
        pause=triggers["pause"],
        resume=triggers["resume"],
        reset=triggers["reset"],
        warn_at=tuple(sorted(warn)),
        escalation=tuple(steps),
        calendar=calendar,
    )


def clock_specs_from_config(
    value: object, *, source: str | None = None, path: str = "clocks"
) -> tuple[ClockSpec, ...]:
    """Read the ``clocks`` section of an SOP.

    Args:
        value: a list of clock mappings (``name``, ``start``, ``stop``, ``pause``,
            ``resume``, ``reset``, ``target``, ``warn_at``, ``escalation``,
            ``calendar``), e.g. loaded from YAML.
        source: the file it came from, named in problems.
        path: the key path of the section, named in problems.

    Returns:
        The clocks, in order.

    Raises:
        SOPDefinitionError: every problem found, each with its key path.
    """
    out = _Problems(source)
    specs: list[ClockSpec] = []
    if not isinstance(value, list):
        out.add(path, "expected a list of clocks")
    else:
        for i, item in enumerate(value):
            spec = _clock(item, f"{path}[{i}]", out)
            if spec is not None:
                specs.append(spec)
        seen: set[str] = set()
        for i, spec in enumerate(specs):
            if spec.name in seen:
                out.add(f"{path}[{i}].name", f"clock {spec.name!r} is defined twice")
            seen.add(spec.name)
    if out.items:
        raise SOPDefinitionError(out.items)
    return tuple(specs)


def check_clock_specs(
    specs: Sequence[ClockSpec],
    *,
    states: Iterable[str],
    actions: Iterable[str],
    calendars: Iterable[str] | None = None,
    source: str | None = None,
) -> list[Problem]:
    """Return the problems of *specs* against an SOP's states, actions and calendars.

    Args:
        specs: the clocks.
        states: the SOP's state ids.
        actions: the SOP's action names (``submit`` is always known).
        calendars: the calendar names available, or ``None`` not to check them.
        source: the file to name in problems.

    Returns:
        One problem per unknown action, state or calendar (empty when all is well).
    """
    state_set, action_set = set(states), {*actions, "submit"}
    problems: list[Problem] = []
    for i, spec in enumerate(specs):
        for key in ("start", "stop", "pause", "resume", "reset"):
            trigger: Trigger = getattr(spec, key)
            for name in trigger.on_action:
                if name not in action_set:
                    path = f"clocks[{i}].{key}.on_action"
                    problems.append(Problem(path, f"unknown action {name!r}", source))
            for name in trigger.on_enter:
                if name not in state_set:
                    path = f"clocks[{i}].{key}.on_enter"
                    problems.append(Problem(path, f"unknown state {name!r}", source))
        if calendars is not None and spec.calendar is not None and spec.calendar not in calendars:
            known = ", ".join(sorted(calendars)) or "none"
            msg = f"no desk calendar named {spec.calendar!r} (known: {known})"
            problems.append(Problem(f"clocks[{i}].calendar", msg, source))
    return problems


# --- arithmetic on one clock --------------------------------------------------------------


def _minute(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _t(text: str) -> dt.datetime:
    return parse_time(text)


class _Measure:
    """How a clock measures and advances time: working time, or elapsed wall time."""

    def __init__(self, calendar: WorkCalendar, target: Duration) -> None:
        self.calendar = calendar
        self.working = target.is_working

    def span(self, a: dt.datetime, b: dt.datetime) -> int:
        if self.working:
            return self.calendar.elapsed(a, b) // _US
        return (b - a) // _US

    def advance(self, at: dt.datetime, amount_us: int) -> dt.datetime:
        # Every measure between minute-aligned instants is whole minutes; flooring only
        # matters for percentage thresholds, which the docs define as floored.
        minutes = amount_us // _MINUTE_US
        if minutes <= 0:
            return at
        if self.working:
            deadline = self.calendar.add(at, Duration.working_hours(minutes / 60))
            return deadline.at.astimezone(dt.UTC)
        return at + dt.timedelta(minutes=minutes)


def _core_start(measure: _Measure, target: Duration, at: dt.datetime) -> dict[str, Any]:
    """Return the verdict-relevant state of a clock started at *at*."""
    deadline = measure.calendar.add(at, target).at.astimezone(dt.UTC)
    budget = measure.span(at, deadline)
    return {
        "status": "running",
        "started_at": format_time(at),
        "segment_start": format_time(at),
        "budget_us": budget,
        "used_us": 0,
        "paused_us": 0,
        "deadline": format_time(deadline),
    }


def _core_pause(state: Mapping[str, Any], measure: _Measure, at: dt.datetime) -> dict[str, Any]:
    used = state["used_us"] + measure.span(_t(state["segment_start"]), at)
    return {**state, "status": "paused", "used_us": used, "segment_start": None,
            "paused_at": format_time(at)}  # fmt: skip


def _core_resume(state: Mapping[str, Any], measure: _Measure, at: dt.datetime) -> dict[str, Any]:
    paused = state["paused_us"] + measure.span(_t(state["paused_at"]), at)
    remaining = state["budget_us"] - state["used_us"]
    # Resumed after the breach: the deadline already passed and stays where it was.
    deadline = measure.advance(at, remaining) if remaining > 0 else _t(state["deadline"])
    new = {**state, "status": "running", "paused_us": paused, "segment_start": format_time(at),
           "deadline": format_time(deadline)}  # fmt: skip
    new.pop("paused_at", None)
    new.pop("pause_reason", None)
    return new


def _core_stop(state: Mapping[str, Any], measure: _Measure, at: dt.datetime) -> dict[str, Any]:
    used, paused = state["used_us"], state["paused_us"]
    if state["status"] == "running":
        used += measure.span(_t(state["segment_start"]), at)
    else:
        paused += measure.span(_t(state["paused_at"]), at)
    overrun = max(0, used - state["budget_us"])
    new = {**state, "status": "breached" if overrun else "met", "used_us": used,
           "paused_us": paused, "overrun_us": overrun, "segment_start": None,
           "stopped_at": format_time(at)}  # fmt: skip
    new.pop("paused_at", None)
    new.pop("pause_reason", None)
    return new


# --- the engine the desk drives -----------------------------------------------------------


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
        threshold: the warning percentage, or the step's ``after`` (percentage or
            duration) for an escalation; ``None`` for a breach.
        step: the escalation step, for escalations.
    """

    clock: str
    key: str
    event: EventKind
    due: dt.datetime
    threshold: int | Mapping[str, int | float] | None = None
    step: EscalationStep | None = None


def _order(key: str) -> int:
    return 0 if key.startswith("warning") else 1 if key == "breach" else 2


class ClockEngine:
    """Run the clocks of one SOP on named calendars.

    Args:
        specs: the SOP's clocks.
        calendars: calendar name -> calendar; must hold every name the clocks use and,
            unless every clock names one, ``"default"``.
        unit: the SOP's unit: its calendar, when the desk has one by that name, is the
            default for clocks that name none.

    Raises:
        CalendarError: a clock names a calendar that is not given.
    """

    def __init__(
        self,
        specs: Sequence[ClockSpec],
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

    def __repr__(self) -> str:
        return f"ClockEngine({[s.name for s in self.specs]!r})"

    def _measure(self, spec: ClockSpec) -> _Measure:
        return _Measure(self.calendars[self._calendar_of[spec.name]], spec.target)

    def pauses(self, action: str, source: str | None, target: str) -> list[str]:
        """Return the clocks that *action* would pause (to require a reason first)."""
        return [s.name for s in self.specs if s.pause.matches(action, source, target)]

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

        Per clock, the first matching condition wins, in this order: reset (restart,
        whatever the state), stop (a running or paused clock), pause (running), resume
        (paused), start (not running or paused).  Entering a final state stops every
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
        at = _minute(at)
        new = {name: dict(state) for name, state in clocks.items()}
        changes: list[ClockChange] = []
        for spec in self.specs:
            state = new.get(spec.name)
            status = state["status"] if state is not None else None
            active = status in ("running", "paused")
            if spec.reset.matches(action, source, target) and state is not None and not final:
                change = "reset"
            elif active and (spec.stop.matches(action, source, target) or final):
                change = "stop"
            elif status == "running" and spec.pause.matches(action, source, target):
                change = "pause"
            elif status == "paused" and spec.resume.matches(action, source, target):
                change = "resume"
            elif not active and spec.start.matches(action, source, target) and not final:
                change = "start"
            else:
                continue
            if change == "pause" and not (reason and reason.strip()):
                raise IncompleteRequestError(action, ["justification"])
            updated = self._apply(spec, state, change, at, reason)
            new[spec.name] = updated
            changes.append(ClockChange(spec.name, change, self._record(updated, change, holder)))
        return new, changes

    def _apply(
        self,
        spec: ClockSpec,
        state: Mapping[str, Any] | None,
        change: str,
        at: dt.datetime,
        reason: str | None,
    ) -> dict[str, Any]:
        measure = self._measure(spec)
        if change in ("start", "reset"):
            cycle = (state["cycle"] + 1) if state is not None else 1
            calendar_name = self._calendar_of[spec.name]
            fresh = _core_start(measure, spec.target, at)
            fresh.update(
                cycle=cycle,
                calendar=calendar_name,
                fingerprint=measure.calendar.fingerprint,
                target=spec.target.to_config(),
                schedule=[],
                fired=[],
            )
            fresh["schedule"] = self._schedule(spec, measure, fresh)
            return fresh
        assert state is not None
        if change == "pause":
            paused = _core_pause(state, measure, at)
            paused["pause_reason"] = (reason or "").strip()
            # Thresholds reached before the pause still fire; the rest wait for resume.
            paused["schedule"] = [i for i in state["schedule"] if _t(i[1]) <= at]
            return paused
        if change == "resume":
            resumed = _core_resume(state, measure, at)
            resumed["schedule"] = self._schedule(spec, measure, resumed)
            return resumed
        stopped = _core_stop(state, measure, at)
        stopped["schedule"] = []
        return stopped

    def _schedule(
        self, spec: ClockSpec, measure: _Measure, state: Mapping[str, Any]
    ) -> list[list[str]]:
        """Return the pending events of a running clock: kept ones plus those still ahead."""
        items = [list(i) for i in state["schedule"]]
        known = {i[0] for i in items} | set(state["fired"])
        budget, used = state["budget_us"], state["used_us"]
        segment = _t(state["segment_start"])
        deadline = _t(state["deadline"])
        levels: list[tuple[str, int]] = [(f"warning:{p}", budget * p // 100) for p in spec.warn_at]
        levels.append(("breach", budget))
        for n, step in enumerate(spec.escalation, start=1):
            if step.after is None:
                extra = budget * (step.after_percent or 0) // 100
                levels.append((f"escalation:{n}", budget + extra))
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
            if holder is not None:
                record["holder"] = dict(holder)
        if change == "pause":
            record["reason"] = state["pause_reason"]
        if change == "stop":
            record["overrun_us"] = state["overrun_us"]
        return record

    def due(self, clocks: Mapping[str, Any], now: dt.datetime) -> list[DueEvent]:
        """Return the events due at *now* over all clocks, earliest first."""
        found: list[DueEvent] = []
        for spec in self.specs:
            state = clocks.get(spec.name)
            if state is None:
                continue
            for key, at_text in state.get("schedule", []):
                at = _t(at_text)
                if at > now:
                    break
                found.append(self._event(spec, key, at))
        found.sort(key=lambda e: (e.due, _order(e.key), e.clock, e.key))
        return found

    def _event(self, spec: ClockSpec, key: str, at: dt.datetime) -> DueEvent:
        if key == "breach":
            return DueEvent(spec.name, key, "breach", at)
        kind, _, number = key.partition(":")
        if kind == "warning":
            return DueEvent(spec.name, key, "warning", at, int(number))
        step = spec.escalation[int(number) - 1]
        return DueEvent(spec.name, key, "escalation", at, step.after_config(), step)

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
        request: the request id.
        clock: the clock's name.
        event: ``warning``, ``breach`` or ``escalation``.
        key: the event's key on its clock (``warning:50``, ``breach``, ``escalation:1``).
        due: when it became due.
        seq: the sequence number of the audit entry that records it.
        notify: the role or unit notified (escalations).
        reassign: ``{"unit": ...}`` or ``{"role": ...}`` the request was handed to.
    """

    request: str
    clock: str
    event: EventKind
    key: str
    due: dt.datetime
    seq: int
    notify: str | None = None
    reassign: Mapping[str, str] | None = None


def reassignment(step: EscalationStep | None, roles: Iterable[str]) -> dict[str, str] | None:
    """Return where an escalation step hands the request: ``{"role": r}`` or ``{"unit": u}``.

    A ``reassign_to`` naming one of the SOP's roles is a role; anything else is a unit.
    """
    if step is None or step.reassign_to is None:
        return None
    kind = "role" if step.reassign_to in set(roles) else "unit"
    return {kind: step.reassign_to}


def event_body(
    event: DueEvent,
    clocks: Mapping[str, Any],
    *,
    request: str,
    at: dt.datetime,
    roles: Iterable[str] = (),
) -> dict[str, Any]:
    """Return the audit entry body (``kind: "sla"``) recording *event*, actor ``system``.

    Args:
        event: the due event.
        clocks: the request's clock states before it fires.
        request: the request id.
        at: the tick instant (the entry's time).
        roles: the SOP's roles, to tell a role from a unit in ``reassign_to``.

    Returns:
        The body, JSON-ready; ``sop`` is left for the caller to add.
    """
    state = clocks[event.clock]
    body: dict[str, Any] = {
        "time": format_time(at),
        "kind": "sla",
        "request": request,
        "actor": "system",
        "event": event.event,
        "clock": event.clock,
        "cycle": state["cycle"],
        "key": event.key,
        "due": format_time(event.due),
        "deadline": state["deadline"],
        "calendar": state["calendar"],
        "fingerprint": state["fingerprint"],
    }
    if event.threshold is not None:
        body["threshold"] = (
            dict(event.threshold) if isinstance(event.threshold, Mapping) else event.threshold
        )
    if event.step is not None:
        if event.step.notify is not None:
            body["notify"] = event.step.notify
        moved = reassignment(event.step, roles)
        if moved is not None:
            body["reassign"] = moved
    return body


def next_due(clocks: Mapping[str, Any]) -> dt.datetime | None:
    """Return the earliest pending event instant over a request's clocks, or ``None``."""
    instants = [_t(state["schedule"][0][1]) for state in clocks.values() if state.get("schedule")]
    return min(instants) if instants else None


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
        deadline=_t(state["deadline"]),
        finished_at=_t(finished) if status in ("met", "breached") and finished else None,
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
    measures: dict[tuple[str, str], _Measure] = {}
    for entry, clock, change in _clock_changes(entries):
        key = (entry["request"], clock)
        at = _minute(_t(entry["time"]))
        kind = change["change"]
        where = f"entry {entry.get('seq')}: request {key[0]!r}, clock {clock!r}"
        if kind in ("start", "reset"):
            calendar = _calendar_for(calendars, change["calendar"], change["fingerprint"], where)
            target = Duration.from_config(change["target"])
            measure = _Measure(calendar, target)
            state = _core_start(measure, target, at)
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
                state = _core_pause(state, measure, at)
                windows[key][-1] = (windows[key][-1][0], at)
            elif kind == "resume":
                state = _core_resume(state, measure, at)
                windows[key].append((at, None))
            else:
                if state["status"] == "running":
                    windows[key][-1] = (windows[key][-1][0], at)
                state = _core_stop(state, measure, at)
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
    end = _minute(as_of) if as_of is not None else None
    if end is None and decoded:
        end = _minute(_t(decoded[-1]["time"]))
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
            (_minute(_t(entry["time"])), current["unit"], current["assignee"], actor)
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
