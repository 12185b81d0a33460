"""Static checks of an SOP's graph, run at load time."""

from __future__ import annotations

from collections.abc import Sequence

from pelayanan.sop.model import ActionDef, StateDef

__all__ = ["check_graph"]


def check_graph(
    initial: str, states: Sequence[StateDef], actions: Sequence[ActionDef]
) -> list[tuple[str, str]]:
    """Return ``(key path, message)`` for every structural problem of the SOP graph.

    Checks: duplicate action names from one state, unreachable states, non-final states
    with no way out, final states with outgoing actions, and no path to a final state.
    """
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, action in enumerate(actions):
        for source in action.sources:
            key = (action.name, source)
            if key in seen:
                message = (
                    f"action {action.name!r} is already defined from state {source!r} "
                    f"(actions[{seen[key]}]); rename one or merge them"
                )
                problems.append((f"actions[{index}].name", message))
            seen[key] = index
    outgoing: dict[str, list[str]] = {s.id: [] for s in states}
    for action in actions:
        for source in action.sources:
            outgoing.setdefault(source, []).append(action.target)
    reachable = {initial}
    frontier = [initial]
    while frontier:
        for target in outgoing.get(frontier.pop(), []):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    finals = {s.id for s in states if s.final}
    for state in states:
        path = f"states.{state.id}"
        if state.id not in reachable:
            problems.append(
                (path, f"state {state.id!r} is unreachable from {initial!r}; add an action to it")
            )
        if state.final and outgoing.get(state.id):
            problems.append(
                (
                    path,
                    f"final state {state.id!r} has outgoing actions; remove them or unmark final",
                )
            )
        if not state.final and not outgoing.get(state.id):
            problems.append(
                (path, f"state {state.id!r} has no way out; add an action or mark it final")
            )
    if not finals:
        problems.append(("states", "no state is final; mark the end state(s) final: true"))
    elif not reachable & finals:
        problems.append(("states", f"no final state can be reached from {initial!r}"))
    return problems
