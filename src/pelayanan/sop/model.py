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
from pelayanan.exceptions import UnknownNameError
from pelayanan.sop.personal import PrivacyPolicy

__all__ = [
    "FIELD_TYPES",
    "SOP",
    "ActionDef",
    "ClockCondition",
    "ClockDef",
    "EscalationStep",
    "FieldDef",
    "LegalBasis",
    "Migration",
    "MigrationDef",
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
    """

    id: str
    label_id: str
    label_en: str
    final: bool = False
    public_status: str = "open"
    public_note: str = ""

    def label_in(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``)."""
        return self.label_en if lang == "en" else self.label_id


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
    label_en: str = ""

    def label_in(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``), else the action name."""
        return (self.label_en if lang == "en" and self.label_en else self.label) or self.name


@attrs.frozen
class SubmitDef:
    """Who may submit a request and which fields a submission needs."""

    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


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
