"""The SOP model: frozen values for states, actions and the SOP itself."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["SOP", "ActionDef", "StateDef", "SubmitDef"]


@attrs.frozen
class StateDef:
    """One state of an SOP.

    Attributes:
        id: the state id (``[a-z][a-z0-9_]*``).
        label_id: the Indonesian label shown to officers.
        label_en: the English label.
        final: whether requests end here.
        public_status: the Open311 status citizens see: ``open`` or ``closed``.
        public_note: a short public description of what is happening in this state.
    """

    id: str
    label_id: str
    label_en: str
    final: bool = False
    public_status: str = "open"
    public_note: str = ""


@attrs.frozen
class ActionDef:
    """One action (transition) of an SOP.

    Attributes:
        name: the action name officers use (``[a-z][a-z0-9_]*``).
        sources: the states it may be taken from.
        target: the state it leads to.
        roles: the roles allowed to take it.
        requires: request fields that must be present and non-empty (kelengkapan berkas).
        not_by: separation of duties: the actor may not be one who took any of these actions
            on the same request (``submit`` names the submitter).
        justification: whether the actor must give a written justification.
        label: a human label.
    """

    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    requires: tuple[str, ...] = ()
    not_by: tuple[str, ...] = ()
    justification: bool = False
    label: str = ""


@attrs.frozen
class SubmitDef:
    """Who may submit a request and which fields a submission needs."""

    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


@attrs.frozen
class SOP:
    """A validated, versioned SOP definition.

    Attributes:
        id: the SOP id.
        version: its version string.
        title: its title.
        unit: the unit responsible.
        legal_basis: the regulations it implements.
        roles: role id -> description.
        initial: the initial state id.
        states: the states, in definition order.
        actions: the actions, in definition order.
        submit: who may submit, and what a submission needs.
        content_hash: hex SHA-256 of the canonical form of the definition.
        source: the file it was loaded from, if any.
    """

    id: str
    version: str
    title: str
    unit: str
    legal_basis: tuple[str, ...]
    roles: Mapping[str, str]
    initial: str
    states: tuple[StateDef, ...]
    actions: tuple[ActionDef, ...]
    submit: SubmitDef
    content_hash: str
    source: str | None = attrs.field(default=None, eq=False)

    def state(self, state_id: str) -> StateDef:
        """Return the state *state_id*.

        Raises:
            KeyError: no such state.
        """
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)

    def actions_from(self, state_id: str) -> tuple[ActionDef, ...]:
        """Return the actions that may be taken from *state_id*."""
        return tuple(a for a in self.actions if state_id in a.sources)

    def action(self, name: str, state_id: str) -> ActionDef | None:
        """Return the action *name* available in *state_id*, or ``None``."""
        for action in self.actions:
            if action.name == name and state_id in action.sources:
                return action
        return None

    @property
    def key(self) -> tuple[str, str]:
        """Return ``(id, version)``."""
        return (self.id, self.version)
