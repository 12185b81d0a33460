"""The clock definitions of an SOP and their configuration syntax (private).

These mirror the ``clocks`` section of the SOP language (``ClockDef``,
``ClockCondition``, ``EscalationStep``) field for field, so the SLA engine runs either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pelayanan.calendar import Duration
from pelayanan.exceptions import CalendarError, Problem, SOPDefinitionError
from pelayanan.sop.model import ClockCondition, ClockDef, EscalationStep

__all__ = [
    "ClockCondition",
    "ClockDef",
    "EscalationStep",
    "check_clock_defs",
    "clock_defs_from_config",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")
_CLOCK_KEYS = (
    "name", "label", "start", "stop", "pause", "resume", "reset", "target", "warn_at",
    "escalation", "calendar",
)  # fmt: skip
_CONDITION_KEYS = ("on_action", "on_enter")
_STEP_KEYS = ("after", "notify", "reassign_to", "action")


# The clock model is the SOP language's (`pelayanan.sop.model`): one class per concept.
# Here the SLA engine only reads the same syntax from plain configuration.


class _Problems:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message, self.source))

    def unknown(self, mapping: Mapping[str, object], allowed: Sequence[str], path: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(f"{path}.{key}", f"unknown key; use one of {', '.join(allowed)}")


def _names(value: object, path: str, out: _Problems) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        out.add(path, "expected a name or a list of names")
        return ()
    return tuple(value)


def _condition(value: object, path: str, out: _Problems) -> ClockCondition | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        out.add(path, "expected a mapping like {on_action: [verify]} or {on_enter: [closed]}")
        return None
    out.unknown(value, _CONDITION_KEYS, path)
    return ClockCondition(
        _names(value.get("on_action", []), f"{path}.on_action", out),
        _names(value.get("on_enter", []), f"{path}.on_enter", out),
    )


def _duration(value: object, path: str, out: _Problems) -> Duration | None:
    try:
        return Duration.from_config(value, path=path)
    except CalendarError as exc:
        out.add(path, str(exc).removeprefix(f"{path}: "))
        return None


def _step(value: object, path: str, out: _Problems) -> EscalationStep | None:
    if not isinstance(value, Mapping):
        out.add(path, "expected a mapping like {after: '100%', notify: supervisor}")
        return None
    out.unknown(value, _STEP_KEYS, path)
    after = value.get("after")
    percent: int | None = None
    duration: Duration | None = None
    match = _PERCENT.match(after) if isinstance(after, str) else None
    if after is None:
        out.add(f"{path}.after", "missing: a percentage of the target ('150%') or a duration")
    elif match is not None:
        percent = int(match.group(1))
    elif isinstance(after, Mapping) and "percent" in after:
        percent = after["percent"] if type(after["percent"]) is int else None
    else:
        duration = _duration(after, f"{path}.after", out)
    if (match is not None or (isinstance(after, Mapping) and "percent" in after)) and (
        percent is None or percent < 1
    ):
        out.add(f"{path}.after", "a percentage must be a whole number of at least 1")
        percent = None
    notify = _names(value.get("notify", []), f"{path}.notify", out)
    reassign, action = value.get("reassign_to"), value.get("action")
    for key, item in (("reassign_to", reassign), ("action", action)):
        if item is not None and not (isinstance(item, str) and item):
            out.add(f"{path}.{key}", "expected a name")
    if not (notify or reassign or action):
        out.add(path, "say what happens: notify, reassign_to or action")
    if percent is None and duration is None:
        return None
    return EscalationStep(
        percent,
        duration,
        notify,
        reassign if isinstance(reassign, str) else None,
        action if isinstance(action, str) else None,
    )


def _clock(value: object, path: str, out: _Problems) -> ClockDef | None:
    if not isinstance(value, Mapping):
        out.add(path, "expected a mapping with name, start, stop and target")
        return None
    out.unknown(value, _CLOCK_KEYS, path)
    name = value.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        out.add(f"{path}.name", "expected a clock name like 'verification' ([a-z][a-z0-9_]*)")
        name = None
    conditions = {
        key: _condition(value.get(key), f"{path}.{key}", out)
        for key in ("start", "stop", "pause", "resume", "reset")
    }
    for key in ("start", "stop"):
        if key not in value:
            out.add(f"{path}.{key}", f"a clock needs a {key} condition (on_action or on_enter)")
    if (conditions["pause"] is None) != (conditions["resume"] is None):
        out.add(path, "pause and resume go together: give both or neither")
    target = None
    if "target" not in value:
        out.add(f"{path}.target", "missing target, e.g. {working_days: 3}")
    else:
        target = _duration(value["target"], f"{path}.target", out)
        if target is not None and target.amount == 0:
            out.add(f"{path}.target", "a target must be longer than zero")
            target = None
    warn = value.get("warn_at", [])
    if not (
        isinstance(warn, list)
        and all(type(w) is int and 1 <= w <= 99 for w in warn)
        and warn == sorted(set(warn))
    ):
        out.add(f"{path}.warn_at", "expected percentages from 1 to 99, once each, ascending")
        warn = []
    steps_raw = value.get("escalation", [])
    steps: list[EscalationStep] = []
    if not isinstance(steps_raw, list):
        out.add(f"{path}.escalation", "expected a list of steps")
    else:
        for i, item in enumerate(steps_raw):
            step = _step(item, f"{path}.escalation[{i}]", out)
            if step is not None:
                steps.append(step)
    calendar = value.get("calendar")
    if calendar is not None and not (isinstance(calendar, str) and calendar):
        out.add(f"{path}.calendar", "expected the name of a desk calendar")
    start, stop = conditions["start"], conditions["stop"]
    if name is None or target is None or start is None or stop is None:
        return None
    return ClockDef(
        name=name,
        start=start,
        stop=stop,
        target=target,
        pause=conditions["pause"],
        resume=conditions["resume"],
        reset=conditions["reset"],
        warn_at=tuple(warn),
        escalation=tuple(steps),
        calendar=calendar if isinstance(calendar, str) else None,
        label=str(value.get("label", "")),
    )


def clock_defs_from_config(
    value: object, *, source: str | None = None, path: str = "clocks"
) -> tuple[ClockDef, ...]:
    """Read a ``clocks`` section (the SOP language's syntax).

    Args:
        value: a list of clock mappings, e.g. loaded from YAML.
        source: the file it came from, named in problems.
        path: the key path of the section, named in problems.

    Returns:
        The clocks, in order.

    Raises:
        SOPDefinitionError: every problem found, each with its key path.
    """
    out = _Problems(source)
    clocks: list[ClockDef] = []
    if not isinstance(value, list):
        out.add(path, "expected a list of clocks")
    else:
        for i, item in enumerate(value):
            clock = _clock(item, f"{path}[{i}]", out)
            if clock is not None:
                clocks.append(clock)
        seen: set[str] = set()
        for clock in clocks:
            if clock.name in seen:
                out.add(path, f"clock {clock.name!r} is defined twice; rename one")
            seen.add(clock.name)
    if out.items:
        raise SOPDefinitionError(out.items)
    return tuple(clocks)


def check_clock_defs(
    clocks: Sequence[ClockDef],
    *,
    states: Iterable[str],
    actions: Iterable[str],
    source: str | None = None,
) -> list[Problem]:
    """Return the problems of *clocks* against an SOP's states and actions.

    Args:
        clocks: the clocks.
        states: the SOP's state ids.
        actions: the SOP's action names (``submit`` is always known).
        source: the file to name in problems.

    Returns:
        One problem per unknown action or state (empty when all is well).
    """
    state_set, action_set = set(states), {*actions, "submit"}
    problems: list[Problem] = []
    for i, clock in enumerate(clocks):
        for key in ("start", "stop", "pause", "resume", "reset"):
            condition: ClockCondition | None = getattr(clock, key)
            if condition is None:
                continue
            for name in condition.on_action:
                if name not in action_set:
                    path = f"clocks[{i}].{key}.on_action"
                    problems.append(Problem(path, f"unknown action {name!r}", source))
            for name in condition.on_enter:
                if name not in state_set:
                    path = f"clocks[{i}].{key}.on_enter"
                    problems.append(Problem(path, f"unknown state {name!r}", source))
        for j, step in enumerate(clock.escalation):
            if step.action is not None and step.action not in action_set:
                path = f"clocks[{i}].escalation[{j}].action"
                problems.append(Problem(path, f"unknown action {step.action!r}", source))
    return problems
