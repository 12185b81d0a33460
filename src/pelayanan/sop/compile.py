"""Compile an SOP to a python-statemachine class.

States and events get prefixed attribute names (``s_<state>``, ``a_<action>``) so SOP
names can never collide with `StateMachine` attributes.  The compiled class is cached per
SOP (id, version, hash).
"""

from __future__ import annotations

import threading
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from pelayanan.exceptions import TransitionNotAllowedError
from pelayanan.sop.model import SOP

__all__ = ["CompiledSOP", "compile_sop"]


class CompiledSOP:
    """An SOP compiled to a python-statemachine class, with a small API on top."""

    def __init__(self, sop: SOP) -> None:
        self.sop = sop
        attrs_: dict[str, Any] = {}
        states: dict[str, State] = {}
        for state in sop.states:
            states[state.id] = State(
                state.label_en, value=state.id, initial=state.id == sop.initial, final=state.final
            )
            attrs_[f"s_{state.id}"] = states[state.id]
        events: dict[str, Any] = {}
        for action in sop.actions:
            for source in action.sources:
                transition = states[source].to(states[action.target])
                key = f"a_{action.name}"
                events[key] = transition if key not in events else events[key] | transition
        attrs_.update(events)
        name = "SOP_" + "".join(c if c.isalnum() else "_" for c in f"{sop.id}_{sop.version}")
        self.machine_class: type[StateMachine] = type(name, (StateMachine,), attrs_)

    def fire(self, state: str, action: str) -> str:
        """Fire *action* from *state* on a fresh machine; return the new state id.

        Raises:
            TransitionNotAllowedError: the action is not possible from *state*.
        """
        machine = self.machine_class(start_value=state)
        try:
            machine.send(f"a_{action}")
        except TransitionNotAllowed:
            allowed = sorted({a.name for a in self.sop.actions_from(state)})
            raise TransitionNotAllowedError(action, state, allowed) from None
        return str(machine.current_state_value)

    def allowed(self, state: str) -> list[str]:
        """Return the action names the machine allows from *state*."""
        machine = self.machine_class(start_value=state)
        return sorted(str(e.id)[2:] for e in machine.allowed_events)


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
