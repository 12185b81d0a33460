"""Static checks of an SOP, run at load time; each message says how to fix the problem.

References: states, actions, roles and fields named anywhere must be defined (with a
"did you mean" when a defined name is close).  Graph: no duplicate action from one state,
no unreachable state, no non-final state without a way out, no final state with outgoing
actions, a final state reachable from the initial state and from every reachable state.
Clocks: unique names, conditions naming real states and actions, a resume for every
pause, ascending warnings, sensible escalation steps.  Migrations: target states exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

from pelayanan.sop._clocks import clock_shape_problems
from pelayanan.sop.model import (
    HOLDING_UNIT,
    SOP,
    ActionDef,
    ClockCondition,
    EscalationStep,
    StateDef,
)

__all__ = ["check_graph", "check_sop"]

SUBMIT = "submit"
SYSTEM_ROLE = "system"


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Out:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def state(self, path: str, name: str, states: Collection[str]) -> None:
        if name and name not in states:
            self.add(path, f"state {name!r} is not defined under states{_hint(name, states)}")

    def action(self, path: str, name: str, actions: Collection[str]) -> None:
        if name and name not in actions:
            self.add(path, f"action {name!r} is not defined under actions{_hint(name, actions)}")

    def role(self, path: str, name: str, roles: Collection[str]) -> None:
        if name.startswith("unit:") or (name == HOLDING_UNIT and path.endswith(".notify")):
            return
        if name not in roles:
            self.add(path, f"role {name!r} is not declared under roles{_hint(name, roles)}")


def _check_condition(  # noqa: PLR0917 (the condition, where it is, and the names it may use)
    out: _Out,
    condition: ClockCondition | None,
    path: str,
    states: set[str],
    actions: set[str],
    inner: set[str],
) -> None:
    if condition is None:
        return
    for name in condition.on_action:
        out.action(f"{path}.on_action", name, actions | {SUBMIT})
    for name in condition.on_enter:
        out.state(f"{path}.on_enter", name, states | inner)
        if name in inner:
            out.add(
                f"{path}.on_enter",
                f"state {name!r} is inside a parallel branch: clocks follow the request's "
                "states; name the parallel state, or the branch's action under on_action",
            )


def check_sop(sop: SOP, *, graph: bool = True) -> list[tuple[str, str]]:
    """Return ``(key path, message)`` for every problem of *sop*.

    Args:
        sop: the structured SOP (its hash not yet computed).
        graph: also run the graph checks (skip them when the states or actions section is
            already known to be broken, so their echoes are not reported).
    """
    out = _Out()
    states = {s.id for s in sop.states}
    actions = {a.name for a in sop.actions}
    roles = set(sop.roles)

    out.state("initial", sop.initial, states)
    for role in sop.submit.roles:
        out.role("submit.roles", role, roles)
    _check_fields(out, sop)
    _check_actions(out, sop, states, actions, roles)
    _check_clocks(out, sop, states, actions, roles)
    _check_migrations(out, sop, states, roles)
    _check_parallel(out, sop, states, roles)
    # A dangling reference would echo as unreachable states: fix references first.
    dangling = any(p == "initial" or p.endswith((".from", ".to")) for p, _ in out.items)
    if graph and not dangling:
        out.items.extend(check_graph(sop))
    return out.items


def _check_fields(out: _Out, sop: SOP) -> None:
    for field in sop.fields:
        path = f"fields.{field.name}"
        if field.type == "choice" and not field.choices:
            out.add(f"{path}.choices", "a choice field needs its choices: list them")
        if field.type != "choice" and field.choices:
            out.add(f"{path}.choices", "only a field of type 'choice' has choices")
    _check_required(out, sop, "submit.requires", sop.submit.requires)


def _check_required(out: _Out, sop: SOP, path: str, names: Iterable[str]) -> None:
    fields = {f.name for f in sop.fields}
    if not fields:
        return  # no fields section: fields are untyped and need no declaration
    for name in names:
        if name not in fields:
            out.add(path, f"field {name!r} is not declared under fields{_hint(name, fields)}")


def _check_actions(
    out: _Out, sop: SOP, states: set[str], actions: set[str], roles: set[str]
) -> None:
    for index, action in enumerate(sop.actions):
        path = f"actions[{index}]"
        for source in action.sources:
            out.state(f"{path}.from", source, states)
        if not action.sources:
            out.add(f"{path}.from", "name the state(s) this action is taken from")
        out.state(f"{path}.to", action.target, states)
        for role in action.roles:
            out.role(f"{path}.roles", role, roles)
        if not action.roles:
            out.add(f"{path}.roles", "name the roles allowed to take this action")
        for other in action.not_by:
            out.action(f"{path}.not_by", other, actions | {SUBMIT})
        if action.name == SUBMIT:
            out.add(f"{path}.name", "'submit' is the submission itself: rename the action")
        _check_required(out, sop, f"{path}.requires", action.required_fields)
        _check_required(out, sop, f"{path}.may_change", action.may_change)
        _check_required(out, sop, f"{path}.writes", action.writes or ())
        if action.route is not None and action.route.startswith("field:"):
            _check_required(out, sop, f"{path}.route.field", [action.route[len("field:") :]])


def _check_parallel(out: _Out, sop: SOP, states: set[str], roles: set[str]) -> None:
    top = {s.id for s in sop.top_states}
    for parallel in sop.parallel:
        path = f"states.{parallel.state}"
        if not parallel.then:
            out.add(f"{path}.then", "a parallel state needs 'then': the state after its branches")
        elif parallel.then not in top:
            out.state(f"{path}.then", parallel.then, top)
            if parallel.then in states:
                out.add(f"{path}.then", f"{parallel.then!r} is a branch state: name a state")
        if sop.state(parallel.state).final:
            out.add(f"{path}.final", "a parallel state is not final: its 'then' state follows")
        for branch in parallel.branches:
            bpath = f"{path}.parallel.{branch.name}"
            if branch.initial and branch.initial not in branch.states:
                out.add(
                    f"{bpath}.initial",
                    f"state {branch.initial!r} is not one of the branch's states"
                    f"{_hint(branch.initial, branch.states)}",
                )
            if not any(sop.state(s).final for s in branch.states):
                out.add(f"{bpath}.states", "mark the state that ends the branch final: true")
            for role in branch.roles:
                out.role(f"{bpath}.roles", role, roles)
    for index, action in enumerate(sop.actions):
        _check_branch_action(out, sop, index, action)


def _check_branch_action(out: _Out, sop: SOP, index: int, action: ActionDef) -> None:
    """An action inside a branch stays in that branch, with the branch's roles."""
    path, target, roles = f"actions[{index}]", action.target, action.roles
    into = sop.branch_of(target)
    for source in action.sources:
        origin = sop.branch_of(source)
        if origin is None and into is not None:
            out.add(
                f"{path}.to",
                f"state {target!r} is inside branch {into[1].name!r}: lead to the parallel "
                f"state {into[0].state!r}, whose branches start on their own",
            )
        if origin is not None and (into is None or into[1] != origin[1]):
            out.add(
                f"{path}.to",
                f"an action from {source!r} stays in branch {origin[1].name!r}: lead to one "
                "of its states (the request leaves when every branch is done)",
            )
        if origin is not None and origin[1].roles:
            extra = [r for r in roles if r not in origin[1].roles]
            if extra:
                out.add(
                    f"{path}.roles",
                    f"role(s) {', '.join(extra)} do not act in branch {origin[1].name!r}: "
                    "add them to the branch's roles or remove them here",
                )


def _check_migrations(out: _Out, sop: SOP, states: set[str], roles: set[str]) -> None:
    for index, migration in enumerate(sop.migrations):
        path = f"migrations[{index}]"
        if migration.from_version == sop.version:
            out.add(f"{path}.from_version", "a migration comes from an earlier version")
        top = {s.id for s in sop.top_states}
        for old, new in migration.states.items():
            out.state(f"{path}.states.{old}", new, states)
            if new in states and new not in top:
                out.add(
                    f"{path}.states.{old}",
                    f"{new!r} is a branch state: map to a state of the request",
                )
        for role in migration.roles:
            out.role(f"{path}.roles", role, roles)


def _check_clocks(
    out: _Out, sop: SOP, states: set[str], actions: set[str], roles: set[str]
) -> None:
    # What a list of clocks needs on its own is checked by the one clock reader's module.
    out.items.extend(clock_shape_problems(sop.clocks))
    top = {s.id for s in sop.top_states}
    for index, clock in enumerate(sop.clocks):
        path = f"clocks[{index}]"
        for key in ("start", "stop", "pause", "resume", "reset"):
            _check_condition(out, getattr(clock, key), f"{path}.{key}", top, actions, states - top)
        for role in clock.notify:
            out.role(f"{path}.notify", role, roles)
        for step_index, step in enumerate(clock.escalation):
            _check_escalation(
                out, sop, f"{path}.escalation[{step_index}]", step, actions=actions, roles=roles
            )


def _check_escalation(
    out: _Out, sop: SOP, path: str, step: EscalationStep, *, actions: set[str], roles: set[str]
) -> None:
    for role in step.notify:
        out.role(f"{path}.notify", role, roles)
    if step.reassign_to is not None:
        out.role(f"{path}.reassign_to", step.reassign_to, roles)
    if step.action is None:
        return
    out.action(f"{path}.action", step.action, actions)
    action = next((a for a in sop.actions if a.name == step.action), None)
    if action is None:
        return
    if SYSTEM_ROLE not in action.roles:
        out.add(
            f"{path}.action",
            f"the system takes action {step.action!r}: add 'system' to its roles",
        )
    if action.justification or action.requires:
        out.add(
            f"{path}.action",
            f"the system cannot give what action {step.action!r} requires "
            "(justification or fields): use an action without them",
        )


def check_graph(sop: SOP) -> list[tuple[str, str]]:
    """Return ``(key path, message)`` for every structural problem of the SOP graph.

    Checks: duplicate action names from one state, unreachable states, non-final states
    with no way out, final states with outgoing actions, no path to a final state, and
    reachable states from which no final state can be reached.
    """
    problems = _duplicate_actions(sop)
    outgoing: dict[str, set[str]] = {s.id: set() for s in sop.states}
    incoming: dict[str, set[str]] = {s.id: set() for s in sop.states}
    edges = [(source, action.target) for action in sop.actions for source in action.sources]
    # A parallel state starts its branches; a branch's final states lead to its 'then'.
    for parallel in sop.parallel:
        for branch in parallel.branches:
            edges.append((parallel.state, branch.initial))
            edges.extend(
                (state, parallel.then) for state in branch.states if sop.state(state).final
            )
    for source, target in edges:
        if source in outgoing and target in incoming:
            outgoing[source].add(target)
            incoming[target].add(source)
    reachable = _closure(sop.initial, outgoing)
    finals = {s.id for s in sop.top_states if s.final}
    can_finish: set[str] = set()
    for final in finals:
        can_finish |= _closure(final, incoming)
    for state in sop.states:
        problems.extend(
            _state_problems(
                sop,
                state,
                outgoing=outgoing[state.id],
                reachable=reachable,
                finals=finals,
                can_finish=can_finish,
            )
        )
    if not finals:
        problems.append(("states", "no state is final; mark the end state(s) final: true"))
    elif not reachable & finals:
        problems.append(
            ("initial", f"no final state can be reached from {sop.initial!r}; add actions to one")
        )
    return problems


def _duplicate_actions(sop: SOP) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, action in enumerate(sop.actions):
        for source in action.sources:
            key = (action.name, source)
            if key in seen:
                message = (
                    f"action {action.name!r} is already defined from state {source!r} "
                    f"(actions[{seen[key]}]); rename one or merge them"
                )
                problems.append((f"actions[{index}].name", message))
            seen.setdefault(key, index)
    return problems


def _state_problems(
    sop: SOP,
    state: StateDef,
    *,
    outgoing: set[str],
    reachable: set[str],
    finals: set[str],
    can_finish: set[str],
) -> list[tuple[str, str]]:
    path = f"states.{state.id}"
    problems: list[tuple[str, str]] = []
    if state.id not in reachable:
        problems.append(
            (
                path,
                (
                    f"state {state.id!r} is unreachable from {sop.initial!r}; "
                    "add an action leading to it, or remove it"
                ),
            )
        )
    if state.final and state.branch is not None:
        outgoing = outgoing - {p.then for p in sop.parallel}
    if state.final and outgoing:
        problems.append(
            (path, f"final state {state.id!r} has outgoing actions; remove them or unmark final")
        )
    if not state.final and not outgoing:
        problems.append(
            (path, f"state {state.id!r} has no way out; add an action from it or mark it final")
        )
    elif (
        not state.final
        and state.id in reachable
        and finals & reachable
        and state.id not in can_finish
    ):
        problems.append(
            (
                path,
                (
                    f"no final state can be reached from state {state.id!r}; "
                    "add an action leading towards a final state"
                ),
            )
        )
    return problems


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    found = {start}
    frontier = [start]
    while frontier:
        for nxt in edges.get(frontier.pop(), ()):
            if nxt not in found:
                found.add(nxt)
                frontier.append(nxt)
    return found
