"""The clock definitions of an SOP and their configuration syntax (private).

These are the ``clocks`` section of the SOP language (``ClockDef``, ``ClockCondition``,
``EscalationStep``), read by the same reader as SOP files, so the SLA engine runs either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pelayanan._config import Problems
from pelayanan.exceptions import Problem, SOPDefinitionError
from pelayanan.sop._clocks import clock_shape_problems, read_clocks
from pelayanan.sop.model import ClockCondition, ClockDef, EscalationStep

__all__ = [
    "ClockCondition",
    "ClockDef",
    "EscalationStep",
    "check_clock_defs",
    "clock_defs_from_config",
]


# The clock model and its one reader are the SOP language's (`pelayanan.sop.model`,
# `pelayanan.sop._clocks`): the SLA engine reads a bare ``clocks`` section the same way.


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
    out = Problems(source=source)
    clocks = read_clocks(value, path, out)
    for where, message in clock_shape_problems(clocks, path):
        out.add(where, message)
    out.check(SOPDefinitionError)
    return clocks


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
