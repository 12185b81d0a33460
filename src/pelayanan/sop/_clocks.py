"""The one reader of the ``clocks`` section (SLA clocks), for SOP files and the SLA engine.

`read_clocks` turns the section into `ClockDef` values through the shared readers of
`pelayanan._config`, collecting every problem; `clock_shape_problems` holds the checks a
list of clocks needs on its own (unique names, pause with resume, ascending warnings,
steps that do something).  The SOP loader and `pelayanan.sla.clock_defs_from_config` both
call these two, so a clock is read the same way wherever it is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pelayanan._config import (
    Problems,
    read_duration,
    read_list,
    read_mapping,
    read_name,
    read_names,
    read_percent,
)
from pelayanan.calendar import Counting, Duration
from pelayanan.sop.model import MEASURES, ClockCondition, ClockDef, EscalationStep, Measures

__all__ = ["clock_shape_problems", "read_clocks"]

CLOCK_KEYS = (
    "name", "label", "start", "stop", "pause", "resume", "reset", "target", "warn_at",
    "escalation", "calendar", "counting", "measures", "notify",
)  # fmt: skip
_CONDITION_KEYS = ("on_action", "on_enter")
_STEP_KEYS = ("after", "notify", "reassign_to", "action")
_CONDITIONS = ("start", "stop", "pause", "resume", "reset")


def _condition(value: object, path: str, out: Problems) -> ClockCondition | None:
    if value is None:
        return None
    spec = read_mapping(value, path, out, known=_CONDITION_KEYS)
    if spec is None:
        return None
    if not (spec.get("on_action") or spec.get("on_enter")):
        out.add(path, "give on_action (action names) or on_enter (state ids)")
    on_action = read_names(spec.get("on_action", []), f"{path}.on_action", out)
    on_enter = read_names(spec.get("on_enter", []), f"{path}.on_enter", out)
    return ClockCondition(on_action or (), on_enter or ())


def _optional_name(value: object, path: str, out: Problems) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    out.add(path, "expected a name")
    return None


def _step(value: object, path: str, out: Problems) -> EscalationStep | None:
    spec = read_mapping(value, path, out, known=_STEP_KEYS)
    if spec is None:
        return None
    after = spec.get("after")
    percent: int | None = None
    duration: Duration | None = None
    if after is None:
        out.add(f"{path}.after", "missing: a percentage of the target ('150%') or a duration")
    elif (isinstance(after, str) and after.strip().endswith("%")) or (
        isinstance(after, Mapping) and "percent" in after
    ):
        percent = read_percent(after, f"{path}.after", out)
    else:
        duration = read_duration(after, f"{path}.after", out)
    notify = read_names(spec.get("notify", []), f"{path}.notify", out) or ()
    reassign = _optional_name(spec.get("reassign_to"), f"{path}.reassign_to", out)
    action = _optional_name(spec.get("action"), f"{path}.action", out)
    # A step whose moment could not be read stays in place (the problem is recorded), so
    # the steps after it keep their index in key paths.
    return EscalationStep(percent, duration, notify, reassign, action)


def _counting(value: object, path: str, out: Problems) -> Counting | None:
    if value is None:
        return None
    for counting in Counting:
        if value == counting.value:
            return counting
    choices = " or ".join(c.value for c in Counting)
    out.add(path, f"expected {choices} (does the day of receipt count?), got {value!r}")
    return None


def _measures(value: object, path: str, out: Problems) -> Measures:
    for measures in MEASURES:
        if value == measures:
            return measures
    out.add(path, f"expected one of {', '.join(MEASURES)} (whose time it measures), got {value!r}")
    return "agency"


def _warn_at(value: object, path: str, out: Problems) -> tuple[int, ...]:
    if isinstance(value, list) and all(type(w) is int and 1 <= w <= 99 for w in value):
        return tuple(value)
    out.add(path, "expected percentages from 1 to 99, once each, ascending")
    return ()


def _target(spec: Mapping[str, object], path: str, out: Problems) -> Duration | None:
    if "target" not in spec:
        out.add(f"{path}.target", "missing target, e.g. {working_days: 3}")
        return None
    target = read_duration(spec["target"], f"{path}.target", out)
    if target is not None and target.amount == 0:
        out.add(f"{path}.target", "a target must be longer than zero")
        return None
    return target


def _clock(value: object, path: str, out: Problems) -> ClockDef | None:
    spec = read_mapping(value, path, out, known=CLOCK_KEYS)
    if spec is None:
        return None
    name = read_name(spec.get("name"), f"{path}.name", out, what="clock name")
    conditions = {key: _condition(spec.get(key), f"{path}.{key}", out) for key in _CONDITIONS}
    for key in ("start", "stop"):
        if key not in spec:
            out.add(f"{path}.{key}", f"a clock needs a {key} condition (on_action or on_enter)")
    target = _target(spec, path, out)
    warn = _warn_at(spec.get("warn_at", []), f"{path}.warn_at", out)
    steps: list[EscalationStep] = []
    for i, item in enumerate(
        read_list(spec.get("escalation", []), f"{path}.escalation", out) or ()
    ):
        step = _step(item, f"{path}.escalation[{i}]", out)
        if step is None:
            break
        steps.append(step)
    calendar = spec.get("calendar")
    if calendar is not None and not (isinstance(calendar, str) and calendar):
        out.add(f"{path}.calendar", "expected the name of a desk calendar")
    label, label_en = _labels(spec.get("label", ""), f"{path}.label", out)
    counting = _counting(spec.get("counting"), f"{path}.counting", out)
    measures = _measures(spec.get("measures", "agency"), f"{path}.measures", out)
    notify = read_names(spec.get("notify", []), f"{path}.notify", out) or ()
    # A clock with problems is still returned (with neutral stand-ins for what could not
    # be read) so that the checks after reading find its other problems too; the
    # problems already recorded keep it from ever being used.
    return ClockDef(
        name=name or "",
        start=conditions["start"] or ClockCondition(),
        stop=conditions["stop"] or ClockCondition(),
        target=target or Duration.working_days(0),
        pause=conditions["pause"],
        resume=conditions["resume"],
        reset=conditions["reset"],
        warn_at=warn,
        escalation=tuple(steps),
        calendar=calendar if isinstance(calendar, str) else None,
        label=label,
        label_en=label_en,
        counting=counting,
        measures=measures,
        notify=notify,
    )


def _labels(value: object, path: str, out: Problems) -> tuple[str, str]:
    """Return a clock's label and its English label (``""`` when the same)."""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, Mapping) and set(value) <= {"id", "en"}:
        label, label_en = value.get("id", ""), value.get("en", "")
        if isinstance(label, str) and isinstance(label_en, str) and label:
            return label, "" if label_en == label else label_en
    out.add(path, "expected text, or {id: Indonesian label, en: English label}")
    return "", ""


def read_clocks(value: object, path: str, problems: Problems) -> tuple[ClockDef, ...]:
    """Read a ``clocks`` section: a list of clock mappings, in the SOP language's syntax.

    Args:
        value: the section.
        path: its key path (``clocks``).
        problems: the collector every problem goes to.

    Returns:
        The clocks in order, up to the first item that is not a mapping (so that the
        position of each is its index in the section, for later checks' key paths).
    """
    clocks: list[ClockDef] = []
    for i, item in enumerate(read_list(value, path, problems) or ()):
        clock = _clock(item, f"{path}[{i}]", problems)
        if clock is None:
            # Later clocks would take this one's index in their key paths: stop here.
            break
        clocks.append(clock)
    return tuple(clocks)


def clock_shape_problems(clocks: Sequence[ClockDef], path: str = "clocks") -> list[tuple[str, str]]:
    """Return ``(key path, message)`` for what a list of clocks needs on its own.

    Unique names, a resume for every pause (and the reverse), warnings once each and
    ascending, and escalation steps that do something.  The paths assume *clocks* are
    the section's items in order.
    """
    out: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for index, clock in enumerate(clocks):
        where = f"{path}[{index}]"
        if clock.name and clock.name in seen:
            message = f"clock {clock.name!r} is already defined ({path}[{seen[clock.name]}])"
            out.append((f"{where}.name", message + "; rename one"))
        seen.setdefault(clock.name, index)
        if clock.pause is not None and clock.resume is None:
            out.append((f"{where}.resume", "a clock that pauses needs a resume condition"))
        if clock.resume is not None and clock.pause is None:
            out.append((f"{where}.pause", "a clock that resumes needs a pause condition"))
        if list(clock.warn_at) != sorted(set(clock.warn_at)):
            out.append((f"{where}.warn_at", "list the warning percentages once each, ascending"))
        for step_index, step in enumerate(clock.escalation):
            if not (step.notify or step.reassign_to or step.action):
                out.append(
                    (
                        f"{where}.escalation[{step_index}]",
                        "say what happens: notify, reassign_to or action",
                    )
                )
    return out
