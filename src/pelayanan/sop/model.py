"""The SOP model: frozen values for states, actions, fields, clocks, migrations and the SOP.

Every value here is built by the loader (`pelayanan.sop.loader`) from a document that has
passed the JSON Schema of the language (`pelayanan.sop.schema`) and the static checks
(`pelayanan.sop.checks`); constructing them by hand skips those checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar

import attrs

from pelayanan.calendar import Counting, Duration
from pelayanan.exceptions import TransitionNotAllowedError, UnknownNameError
from pelayanan.sop.personal import PrivacyPolicy

__all__ = [
    "FIELD_TYPES",
    "GUARDS",
    "SOP",
    "ActionDef",
    "BranchDef",
    "ClockCondition",
    "ClockDef",
    "EscalationStep",
    "FieldDef",
    "LegalBasis",
    "Migration",
    "MigrationDef",
    "PAUSE_REASON",
    "ParallelDef",
    "StateDef",
    "SubmitDef",
]

#: The value types a declared field may have (``document`` is a reference to a filed
#: document, the unit of kelengkapan berkas).
FIELD_TYPES = (
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "choice",
    "money",
    "document",
)


#: Conditions an action may list under ``requires`` beside fields: ``disposisi_answered``
#: holds when no disposisi issued on the request is still open.
GUARDS = ("disposisi_answered",)

#: The data key that gives the reason of a clock pause; every action may write it.
PAUSE_REASON = "pause_reason"

_Item = TypeVar("_Item")


def _named(what: str, items: Iterable[_Item], wanted: str, name: Callable[[_Item], str]) -> _Item:
    """Return the first of *items* whose *name* is *wanted*.

    Args:
        what: what the items are, for the error (``"state"``, ``"clock"``).
        items: the declarations to search, in order.
        wanted: the name looked for.
        name: reads an item's name.

    Returns:
        The first matching item.

    Raises:
        UnknownNameError: no item has that name (a `KeyError`).
    """
    for item in items:
        if name(item) == wanted:
            return item
    raise UnknownNameError(what, wanted)


@attrs.frozen
class LegalBasis:
    """A regulation the SOP implements.

    Attributes:
        title: the regulation, e.g. ``Perpres 76/2013 tentang Pengelolaan Pengaduan``.
        source: where to read it (a URL, a gazette reference or an article).
    """

    title: str
    source: str = ""


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
        branch: the parallel branch the state belongs to (``None``: a top-level state).
            A branch's final state ends the branch, not the request.
    """

    id: str
    label_id: str
    label_en: str
    final: bool = False
    public_status: str = "open"
    public_note: str = ""
    branch: str | None = None

    def label_in(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``)."""
        return self.label_en if lang == "en" else self.label_id


@attrs.frozen
class BranchDef:
    """One branch of a parallel state: work one unit does beside the others.

    Attributes:
        name: the branch name, unique in the SOP.
        label: a human label.
        unit: the unit that does the branch's work (``None``: the request's holder).
        roles: the roles that act in the branch (its actions take no other role).
        initial: the branch state entered with the parallel state.
        states: the branch's state ids, in definition order.
    """

    name: str
    label: str
    initial: str
    states: tuple[str, ...]
    unit: str | None = None
    roles: tuple[str, ...] = ()


@attrs.frozen
class ParallelDef:
    """A parallel state: branches that all run, and must all end, before the request moves on.

    Attributes:
        state: the parallel state's id (a top-level state).
        branches: the branches, in definition order.
        then: the state the request enters when every branch has reached a final state.
    """

    state: str
    branches: tuple[BranchDef, ...]
    then: str


@attrs.frozen
class FieldDef:
    """A request field or document the SOP uses, with its type.

    Attributes:
        name: the field name (``[a-z][a-z0-9_]*``), the key in a request's data.
        type: one of `FIELD_TYPES`.
        label_id: the Indonesian label.
        label_en: the English label.
        choices: the allowed values of a ``choice`` field.
        description: what the field holds.
    """

    name: str
    type: str = "text"
    label_id: str = ""
    label_en: str = ""
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_document(self) -> bool:
        """Return whether the field is a document of the checklist (kelengkapan berkas)."""
        return self.type == "document"


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
        label: a human label (Indonesian when the SOP gives both languages).
        label_en: the English label, when it differs from ``label``.
        may_change: fields that identify the request's subject (the access policy's
            subject fields, personal fields of kind ``nik``) which this action may change
            after submission; every other action is refused when it tries.
        writes: the fields this action may write (``None``: any declared field); a field
            outside it is refused.
        route: where the action sends the request: ``"rules"`` (the routing rules, on the
            request's data), ``"field:<name>"`` (the unit a field names), or ``None``
            (the holder does not change).
    """

    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    requires: tuple[str, ...] = ()
    not_by: tuple[str, ...] = ()
    justification: bool = False
    label: str = ""
    may_change: tuple[str, ...] = ()
    writes: tuple[str, ...] | None = None
    route: str | None = None
    label_en: str = ""

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Return the fields of ``requires`` (the names that are not `GUARDS`)."""
        return tuple(name for name in self.requires if name not in GUARDS)

    @property
    def guards(self) -> tuple[str, ...]:
        """Return the `GUARDS` the action lists under ``requires``."""
        return tuple(name for name in self.requires if name in GUARDS)

    def may_write(self, name: str) -> bool:
        """Return whether the action may write field *name* (its ``writes``, if declared)."""
        return self.writes is None or name in self.writes or name == PAUSE_REASON

    def label_in(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``), else the action name."""
        return (self.label_en if lang == "en" and self.label_en else self.label) or self.name


@attrs.frozen
class SubmitDef:
    """Who may submit a request, which fields a submission needs, and whether it routes.

    Attributes:
        roles: the roles allowed to submit (empty: anyone).
        requires: the fields a submission must contain.
        route: whether the desk's routing rules place a new request (``False``: it stays
            with the SOP's unit until an action with ``route`` dispatches it).
    """

    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    route: bool = True


@attrs.frozen
class ClockCondition:
    """When a clock event happens: any of the actions is taken, or any of the states entered.

    Attributes:
        on_action: action names (``submit`` is the submission).
        on_enter: state ids.
    """

    on_action: tuple[str, ...] = ()
    on_enter: tuple[str, ...] = ()

    def matches(self, action: str, entered: str) -> bool:
        """Return whether taking *action* into state *entered* meets the condition."""
        return action in self.on_action or entered in self.on_enter


@attrs.frozen
class EscalationStep:
    """One step of a clock's escalation ladder.

    Exactly one of *after_percent* and *after* is set.

    Attributes:
        after_percent: the step is due when this percentage of the target has elapsed
            (100 is the breach; 150 is half the target past it).
        after: the step is due this long after the breach.
        notify: roles (or ``unit:<id>`` units) to notify.
        reassign_to: a role (or ``unit:<id>``) to reassign the request to.
        action: an action the system takes (actor ``system``), e.g. automatic closing.
    """

    after_percent: int | None = None
    after: Duration | None = None
    notify: tuple[str, ...] = ()
    reassign_to: str | None = None
    action: str | None = None


Measures = Literal["agency", "applicant", "third_party"]
"""Whose time a clock measures (`ClockDef.measures`)."""
MEASURES: tuple[Measures, ...] = ("agency", "applicant", "third_party")
#: The default of `ClockDef.measures`: the clocks that count in compliance.
AGENCY: Measures = "agency"
#: In a clock's ``notify``: the unit holding the request when the event fires.
HOLDING_UNIT = "unit"


@attrs.frozen
class ClockDef:
    """An SLA clock: when it starts, stops, pauses, resumes, resets, and its target.

    The SLA engine (``pelayanan.sla``) gives these their run-time meaning; the SOP only
    declares them, and the loader checks every state and action they name.

    Attributes:
        name: the clock name, unique in the SOP.
        start: when the clock starts.
        stop: when it stops for good.
        target: how long it may run (working or calendar days or hours).
        pause: when it pauses (e.g. waiting for the citizen), if ever.
        resume: when a paused clock resumes.
        reset: when a running clock starts over.
        warn_at: percentages of the target at which to warn, ascending.
        escalation: the escalation ladder.
        calendar: the name of the working calendar it counts on (``None``: the desk's
            default).
        label: a human label (Indonesian when the SOP gives both languages).
        label_en: the English label, when it differs from ``label``.
        counting: whether the day of receipt counts as day 0 or day 1 for working-day
            targets (``None``: the calendar's convention).
        measures: whose time it measures: ``agency`` (the default; the only clocks
            compliance and breach attribution count), ``applicant`` (e.g. a window to
            correct documents) or ``third_party``.
        notify: roles (or ``unit:<id>`` units, or ``unit`` for the unit holding the
            request) named in every warning, breach and escalation entry of the clock.
    """

    name: str
    start: ClockCondition
    stop: ClockCondition
    target: Duration
    pause: ClockCondition | None = None
    resume: ClockCondition | None = None
    reset: ClockCondition | None = None
    warn_at: tuple[int, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()
    calendar: str | None = None
    label: str = ""
    counting: Counting | None = None
    measures: Measures = "agency"
    notify: tuple[str, ...] = ()
    label_en: str = ""

    def label_in(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``), else the clock name."""
        return (self.label_en if lang == "en" and self.label_en else self.label) or self.name


@attrs.frozen
class MigrationDef:
    """A migration declared in an SOP: how requests of an earlier version move into it.

    Attributes:
        from_version: the earlier version of the same SOP.
        states: earlier state id -> state id in this version; a request in an unmapped
            state cannot be moved.
        roles: the roles allowed to move requests (empty: any actor).
        note: why the migration exists, for the audit log.
    """

    from_version: str
    states: Mapping[str, str]
    roles: tuple[str, ...] = ()
    note: str = ""


@attrs.frozen
class Migration:
    """A resolved migration between two registered versions of one SOP.

    Obtain it from `SOPRegistry.migration`, which checks both ends.

    Attributes:
        sop_id: the SOP.
        from_version: the version requests leave.
        to_version: the version requests are pinned to afterwards.
        states: earlier state id -> new state id.
        roles: roles allowed to move requests (empty: any actor).
        note: why the migration exists.
    """

    sop_id: str
    from_version: str
    to_version: str
    states: Mapping[str, str]
    roles: tuple[str, ...] = ()
    note: str = ""


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
        fields: the declared request fields and documents (empty: fields are untyped).
        clocks: the SLA clocks.
        migrations: how requests of earlier versions move into this one.
        routing: the reserved ``routing`` section, passed through for the routing
            configuration (not interpreted by the SOP).
        source: the file it was loaded from, if any.
        privacy: the personal fields and who may reveal them (``privacy`` section).
        strict_fields: refuse a field the SOP does not declare (only when ``fields`` is
            declared; ``strict_fields: false`` stores undeclared fields untyped).
    """

    id: str
    version: str
    title: str
    unit: str
    legal_basis: tuple[LegalBasis, ...]
    roles: Mapping[str, str]
    initial: str
    states: tuple[StateDef, ...]
    actions: tuple[ActionDef, ...]
    submit: SubmitDef
    content_hash: str
    fields: tuple[FieldDef, ...] = ()
    clocks: tuple[ClockDef, ...] = ()
    migrations: tuple[MigrationDef, ...] = ()
    routing: Mapping[str, object] = attrs.field(factory=dict)
    source: str | None = attrs.field(default=None, eq=False)
    # --- privacy: personal fields, reveal roles, retention class ---
    privacy: PrivacyPolicy = attrs.field(factory=PrivacyPolicy)
    strict_fields: bool = True
    parallel: tuple[ParallelDef, ...] = ()

    @property
    def top_states(self) -> tuple[StateDef, ...]:
        """Return the states outside every parallel branch (the request's own states)."""
        return tuple(s for s in self.states if s.branch is None)

    def parallel_state(self, state_id: str) -> ParallelDef | None:
        """Return the parallel declaration of *state_id*, or ``None`` for a simple state."""
        return next((p for p in self.parallel if p.state == state_id), None)

    def branch_of(self, state_id: str) -> tuple[ParallelDef, BranchDef] | None:
        """Return the parallel state and branch *state_id* belongs to, or ``None``."""
        for parallel in self.parallel:
            for branch in parallel.branches:
                if state_id in branch.states:
                    return parallel, branch
        return None

    def active(self, state_id: str, branches: Mapping[str, str] | None = None) -> list[str]:
        """Return the active states: *state_id* and, in a parallel state, each branch's.

        Args:
            state_id: the request's (top-level) state.
            branches: branch name -> the branch's current state (a request's
                ``meta["branches"]``).
        """
        parallel = self.parallel_state(state_id)
        if parallel is None:
            return [state_id]
        current = branches or {}
        return [state_id, *(current.get(b.name, b.initial) for b in parallel.branches)]

    def action_in(self, name: str, active: Iterable[str]) -> ActionDef | None:
        """Return the action *name* available in one of the *active* states, or ``None``."""
        for state_id in active:
            found = self.action(name, state_id)
            if found is not None:
                return found
        return None

    def taking(self, name: str, active: list[str]) -> tuple[ActionDef, str]:
        """Return the action *name* and the active state it is taken from.

        Args:
            name: the action.
            active: the active states (`active`): the request's state first.

        Raises:
            TransitionNotAllowedError: no active state offers the action (the error lists
                the actions that are possible).
        """
        for state_id in active:
            found = self.action(name, state_id)
            if found is not None:
                return found, state_id
        allowed = sorted({a.name for state_id in active for a in self.actions_from(state_id)})
        raise TransitionNotAllowedError(name, active[0], allowed)

    def undeclared(self, names: Iterable[str]) -> list[str]:
        """Return the names among *names* that strict mode refuses, sorted.

        Without a ``fields`` section, or with ``strict_fields: false``, nothing is refused;
        the pause reason is always accepted.
        """
        if not self.fields or not self.strict_fields:
            return []
        declared = {f.name for f in self.fields}
        return sorted({n for n in names if n not in declared and n != PAUSE_REASON})

    def state(self, state_id: str) -> StateDef:
        """Return the state *state_id*.

        Raises:
            UnknownNameError: no such state (a `KeyError`).
        """
        return _named("state", self.states, state_id, lambda state: state.id)

    def actions_from(self, state_id: str) -> tuple[ActionDef, ...]:
        """Return the actions that may be taken from *state_id*."""
        return tuple(a for a in self.actions if state_id in a.sources)

    def action(self, name: str, state_id: str) -> ActionDef | None:
        """Return the action *name* available in *state_id*, or ``None``."""
        return next((a for a in self.actions if a.name == name and state_id in a.sources), None)

    def field(self, name: str) -> FieldDef | None:
        """Return the declared field *name*, or ``None``."""
        return next((f for f in self.fields if f.name == name), None)

    def clock(self, name: str) -> ClockDef:
        """Return the clock *name*.

        Raises:
            UnknownNameError: no such clock (a `KeyError`).
        """
        return _named("clock", self.clocks, name, lambda clock: clock.name)

    @property
    def key(self) -> tuple[str, str]:
        """Return ``(id, version)``."""
        return (self.id, self.version)
