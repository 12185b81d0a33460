"""Compile an SOP to a python-statemachine class.

States and events get prefixed attribute names (``s_<state>``, ``a_<action>``) so SOP
names can never collide with `StateMachine` attributes.  The compiled class is cached per
SOP (id, version, hash).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed
from statemachine.orderedset import OrderedSet

from pelayanan.exceptions import TransitionNotAllowedError
from pelayanan.sop.model import SOP

__all__ = ["CompiledSOP", "compile_sop"]


class CompiledSOP:
    """An SOP compiled to a python-statemachine class, with a small API on top."""

    def __init__(self, sop: SOP) -> None:
        self.sop = sop
        attrs_: dict[str, Any] = {}
        states: dict[str, Any] = {}
        for state in sop.states:
            states[state.id] = State(
                state.label_en,
                value=state.id,
                initial=state.id == sop.initial,
                final=state.final and state.branch is None,
            )
        # A branch is a compound state holding its states and the actions between them;
        # a parallel state holds its branches (python-statemachine statecharts).
        inner: set[str] = set()
        for parallel in sop.parallel:
            regions: dict[str, Any] = {}
            for branch in parallel.branches:
                body: dict[str, Any] = {}
                for state_id in branch.states:
                    inner_def = sop.state(state_id)
                    states[state_id] = State(
                        inner_def.label_en,
                        value=state_id,
                        initial=state_id == branch.initial,
                        final=inner_def.final,
                    )
                    body[f"s_{state_id}"] = states[state_id]
                    inner.add(state_id)
                _add_events(body, sop, states, set(branch.states))
                regions[f"b_{branch.name}"] = type(branch.label, (State.Compound,), body)
            label = sop.state(parallel.state).label_en
            compound = type(label, (State.Parallel,), regions)
            states[parallel.state] = compound
        for state_id, node in states.items():
            if state_id not in inner:
                attrs_[f"s_{state_id}"] = node
        for parallel in sop.parallel:
            # Every branch done: python-statemachine sends ``done.state.<id>``.
            attrs_[f"done_state_s_{parallel.state}"] = states[parallel.state].to(
                states[parallel.then]
            )
        _add_events(attrs_, sop, states, set(states) - inner)
        name = "SOP_" + "".join(c if c.isalnum() else "_" for c in f"{sop.id}_{sop.version}")
        self.machine_class: type[StateMachine] = type(name, (StateMachine,), attrs_)
        self._parallel = {p.state for p in sop.parallel}
        self._top = {s.id for s in sop.top_states} - self._parallel
        self._inner = inner

    def _machine(self, active: Sequence[str]) -> StateMachine:
        """Return a machine in the configuration whose innermost states are *active*."""
        if active[0] not in self._parallel:
            return self.machine_class(start_value=active[0])
        if len(active) == 1:
            active = self.sop.active(active[0])
        machine = self.machine_class(start_value=self.sop.initial)
        states_map = self.machine_class.states_map
        config = [states_map[f"s_{active[0]}"]]
        for state_id in active[1:]:
            found = self.sop.branch_of(state_id)
            if found is not None:
                config += [states_map[f"b_{found[1].name}"], states_map[state_id]]
        machine.configuration = OrderedSet(config)
        return machine

    def fire_active(self, active: Sequence[str], action: str) -> list[str]:
        """Fire *action* in the configuration *active*; return the new one.

        Args:
            active: the request's state, then (in a parallel state) each branch's state,
                as `SOP.active` returns them.
            action: the action.

        Returns:
            The new configuration in the same shape: ``[state]`` or ``[parallel state,
            branch states...]``.

        Raises:
            TransitionNotAllowedError: the action is not possible there.
        """
        machine = self._machine(active)
        try:
            machine.send(f"a_{action}")
        except TransitionNotAllowed:
            allowed = sorted({a.name for s in active for a in self.sop.actions_from(s)})
            raise TransitionNotAllowedError(action, active[0], allowed) from None
        # Parallel and branch states are classes: their values are their attribute names.
        values = [str(v) for v in machine.configuration_values]
        top = [v for v in values if v in self._top] + [
            v[2:] for v in values if v.startswith("s_") and v[2:] in self._parallel
        ]
        return top + [v for v in values if v in self._inner]

    def fire(self, state: str, action: str) -> str:
        """Fire *action* from *state* on a fresh machine; return the new state id.

        Raises:
            TransitionNotAllowedError: the action is not possible from *state*.
        """
        return self.fire_active([state], action)[0]

    def allowed(self, state: str) -> list[str]:
        """Return the action names the machine allows from *state*."""
        machine = self._machine([state])
        return sorted(str(e.id)[2:] for e in machine.allowed_events if str(e.id).startswith("a_"))


def _add_events(body: dict[str, Any], sop: SOP, states: dict[str, Any], among: set[str]) -> None:
    """Add to *body* the events of the actions whose source is one of *among*."""
    for action in sop.actions:
        for source in action.sources:
            if source not in among:
                continue
            transition = states[source].to(states[action.target])
            key = f"a_{action.name}"
            body[key] = transition if key not in body else body[key] | transition


_CACHE: dict[tuple[str, str, str], CompiledSOP] = {}
_CACHE_LOCK = threading.Lock()


def compile_sop(sop: SOP) -> CompiledSOP:
    """Return the compiled state machine of *sop* (cached by id, version and hash)."""
    key = (sop.id, sop.version, sop.content_hash)
    compiled = _CACHE.get(key)
    if compiled is None:
        compiled = CompiledSOP(sop)
        with _CACHE_LOCK:
            _CACHE.setdefault(key, compiled)
    return compiled
