"""The vocabulary of the audit log: every entry kind, its fields, and one builder per kind.

Writers build entry bodies with the ``*_body`` functions here; readers (reports, the SLA
replay, the routing trail, the demo) compare kinds and look fields up with the constants
here, so a kind or a field name is spelled in this module only.  A body is the entry
without the chain fields the store adds (``v``, ``ledger``, ``seq``, ``prev``); builders
return it JSON-ready, exactly as it is encoded.

`KINDS` describes every kind the library writes (name, fields always present, fields
present only sometimes, one-line meaning); ``docs/audit-format.md`` renders it
(`render_kinds_table`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from pelayanan.audit.entry import format_time

__all__ = [
    "ACTION",
    "ACTOR",
    "ANSWER",
    "ANSWERS",
    "ASSIGNED_UNIT",
    "ASSIGNEE",
    "ASSIGNMENT",
    "ATTRIBUTES",
    "AUTHORITY",
    "BRANCH",
    "CALENDAR",
    "CHANGED",
    "CHAIN_FIELDS",
    "CLOCK",
    "CLOCKS",
    "COMMON_FIELDS",
    "CYCLE",
    "DATA",
    "DEADLINE",
    "DELEGATION",
    "DISPOSITION",
    "DISPOSITIONS",
    "DUE",
    "ERROR",
    "EVENT",
    "FIELD",
    "FIELDS",
    "FINGERPRINT",
    "FROM",
    "FROM_SOP",
    "FROM_UNIT",
    "GROUP",
    "HOLD",
    "HOLDER",
    "ID",
    "INSTRUCTION",
    "JOINED",
    "JUSTIFICATION",
    "KEY",
    "KID",
    "KIND",
    "KINDS",
    "KIND_ACTION",
    "KIND_ASSIGNMENT",
    "KIND_BUKAN_WEWENANG",
    "KIND_DISPOSITION",
    "KIND_DISPOSITION_ANSWER",
    "KIND_ERASURE",
    "KIND_ERASURE_REFUSED",
    "KIND_LEGAL_HOLD",
    "KIND_LEGAL_HOLD_REFUSED",
    "KIND_LEGAL_HOLD_RELEASED",
    "KIND_MIGRATION",
    "KIND_REFUSED",
    "KIND_REVEAL",
    "KIND_REVEAL_REFUSED",
    "KIND_ROUTING",
    "KIND_SLA",
    "KIND_SUBMIT",
    "KIND_SURVEY",
    "LEDGER",
    "LOAD",
    "MESSAGE",
    "MIGRATE_ACTION",
    "NEW",
    "NOTE",
    "NOTIFY",
    "OFFICER",
    "OLD",
    "ON_BEHALF_OF",
    "PARENT",
    "PERSONAL",
    "POSITION",
    "PREV",
    "PRINCIPAL",
    "PURPOSE",
    "REASON",
    "REASSIGN",
    "REFUSAL",
    "REGION",
    "REQUEST",
    "REQUESTS",
    "RETURNED_TO",
    "ROLE",
    "ROUTING",
    "RULE",
    "RULES",
    "SCOPE",
    "SCOPE_SUBJECT",
    "SEQ",
    "SOP",
    "SOP_HASH",
    "SOP_ID",
    "SOP_VERSION",
    "STATE",
    "STRATEGY",
    "SUBJECT",
    "SUBMIT_ACTION",
    "SYSTEM_ACTOR",
    "THRESHOLD",
    "TIME",
    "TO",
    "TRIAGE_RULE",
    "V",
    "EntryKind",
    "action_body",
    "assignment_body",
    "bukan_wewenang_body",
    "disposition_answer_body",
    "disposition_body",
    "erasure_body",
    "erasure_refused_body",
    "legal_hold_body",
    "legal_hold_refused_body",
    "legal_hold_release_refused_body",
    "legal_hold_released_body",
    "migration_body",
    "refusal_reason",
    "refused_body",
    "render_kinds_table",
    "reveal_body",
    "reveal_refused_body",
    "sla_body",
    "sop_ref",
    "submit_body",
    "subject_reveal_body",
    "subject_reveal_refused_body",
    "survey_body",
]

# -- field names ---------------------------------------------------------------------------

# The chain fields the store adds to every body.
V: Final = "v"
LEDGER: Final = "ledger"
SEQ: Final = "seq"
PREV: Final = "prev"
# Every body carries these two.
TIME: Final = "time"
KIND: Final = "kind"

REQUEST: Final = "request"
SOP: Final = "sop"
ACTION: Final = "action"
ACTOR: Final = "actor"
ROLE: Final = "role"
FROM: Final = "from"
TO: Final = "to"
DATA: Final = "data"
JUSTIFICATION: Final = "justification"
PERSONAL: Final = "personal"
ROUTING: Final = "routing"
ASSIGNMENT: Final = "assignment"
AUTHORITY: Final = "authority"
CLOCKS: Final = "clocks"
REASON: Final = "reason"
ON_BEHALF_OF: Final = "on_behalf_of"
RULES: Final = "rules"
ANSWERS: Final = "answers"
FROM_SOP: Final = "from_sop"
NOTE: Final = "note"
EVENT: Final = "event"
CLOCK: Final = "clock"
CYCLE: Final = "cycle"
KEY: Final = "key"
DUE: Final = "due"
DEADLINE: Final = "deadline"
CALENDAR: Final = "calendar"
FINGERPRINT: Final = "fingerprint"
THRESHOLD: Final = "threshold"
NOTIFY: Final = "notify"
REASSIGN: Final = "reassign"
STATE: Final = "state"
GROUP: Final = "group"
PARENT: Final = "parent"
FROM_UNIT: Final = "from_unit"
INSTRUCTION: Final = "instruction"
DISPOSITIONS: Final = "dispositions"
HOLDER: Final = "holder"
DISPOSITION: Final = "disposition"
JOINED: Final = "joined"
ANSWER: Final = "answer"
RETURNED_TO: Final = "returned_to"
SUBJECT: Final = "subject"
FIELD: Final = "field"
PURPOSE: Final = "purpose"
SCOPE: Final = "scope"
REQUESTS: Final = "requests"
FIELDS: Final = "fields"
#: The parallel branch an action moved: ``{"name", "from", "to"}`` (branch states).
BRANCH: Final = "branch"
KID: Final = "kid"
REFUSAL: Final = "refusal"
HOLD: Final = "hold"
#: ``changed`` of an action: field -> keyed commitments of its old and new values.
CHANGED: Final = "changed"
OLD: Final = "old"
NEW: Final = "new"

# Fields inside the nested objects entries carry.
#: ``sop``: the SOP version applied.
SOP_ID: Final = "id"
SOP_VERSION: Final = "version"
SOP_HASH: Final = "hash"
#: ``reason`` of a refusal, ``refusal`` of a refused erasure or hold.
ERROR: Final = "error"
MESSAGE: Final = "message"
RULE: Final = "rule"
#: Holders (``holder``, ``returned_to``, ``reassign``, routing and assignment records),
#: disposition items and the request data fields the reports read.
UNIT: Final = "unit"
ASSIGNEE: Final = "assignee"
OFFICER: Final = "officer"
ID: Final = "id"
REGION: Final = "region"
ASSIGNED_UNIT: Final = "assigned_unit"
STRATEGY: Final = "strategy"
POSITION: Final = "position"
ATTRIBUTES: Final = "attributes"
LOAD: Final = "load"
#: ``authority``: the delegation (Plt/Plh) an actor used; its ``kind`` is `KIND`.
PRINCIPAL: Final = "principal"
DELEGATION: Final = "delegation"

# -- values of fixed meaning --------------------------------------------------------------

#: The ``action`` of a submission and of a migration.
SUBMIT_ACTION: Final = "submit"
MIGRATE_ACTION: Final = "migrate"
#: The ``actor`` of entries the library writes on its own (SLA events).
SYSTEM_ACTOR: Final = "system"
#: The ``scope`` of a reveal of everything a data subject gave.
SCOPE_SUBJECT: Final = "subject"
#: The ``rule`` of a routing record when no rule matched and the triage unit took it.
TRIAGE_RULE: Final = "triage"

# -- kinds ---------------------------------------------------------------------------------

KIND_SUBMIT: Final = "submit"
KIND_ACTION: Final = "action"
KIND_REFUSED: Final = "refused"
KIND_SURVEY: Final = "survey"
KIND_MIGRATION: Final = "migration"
KIND_SLA: Final = "sla"
KIND_ASSIGNMENT: Final = "assignment"
KIND_DISPOSITION: Final = "disposition"
KIND_DISPOSITION_ANSWER: Final = "disposition_answer"
KIND_BUKAN_WEWENANG: Final = "bukan_wewenang"
KIND_REVEAL: Final = "reveal"
KIND_REVEAL_REFUSED: Final = "reveal_refused"
KIND_ERASURE: Final = "erasure"
KIND_ERASURE_REFUSED: Final = "erasure_refused"
KIND_LEGAL_HOLD: Final = "legal_hold"
KIND_LEGAL_HOLD_REFUSED: Final = "legal_hold_refused"
KIND_LEGAL_HOLD_RELEASED: Final = "legal_hold_released"
#: Not written by the library: the flow replay also reads a host's own routing decisions
#: recorded with top-level ``unit``, ``officer`` (or ``assignee``) and ``region``.
KIND_ROUTING: Final = "routing"

#: The fields the store adds to every body.
CHAIN_FIELDS: tuple[str, ...] = (V, LEDGER, SEQ, PREV)
#: The fields every body carries.
COMMON_FIELDS: tuple[str, ...] = (TIME, KIND)


@attrs.frozen
class EntryKind:
    """One kind of audit entry: its name, its fields and what it records.

    Attributes:
        name: the value of the entry's ``kind`` field.
        meaning: what such an entry records, in one line.
        required: the fields every entry of the kind carries (besides `COMMON_FIELDS`).
        optional: the fields it carries only in some cases.
    """

    name: str
    meaning: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Return every field the kind may carry besides `COMMON_FIELDS`."""
        return self.required + self.optional


_ROUTED = (REQUEST, SOP, ACTOR, STATE)
_ROUTED_OPTIONAL = (ROLE, AUTHORITY)

#: Every kind the library writes, by name.
KINDS: Mapping[str, EntryKind] = {
    k.name: k
    for k in (
        EntryKind(
            KIND_SUBMIT,
            'a request opened (`from` null, `action` "submit")',
            (REQUEST, SOP, ACTION, ACTOR, ROLE, FROM, TO, DATA),
            (PERSONAL, ROUTING, ASSIGNMENT, CLOCKS),
        ),
        EntryKind(
            KIND_ACTION,
            "an SOP action committed; `routing`/`assignment` when it moved the holder, "
            "`branch` when it moved a parallel branch",
            (REQUEST, SOP, ACTION, ACTOR, ROLE, FROM, TO, DATA),
            (PERSONAL, JUSTIFICATION, AUTHORITY, CLOCKS, CHANGED, ROUTING, ASSIGNMENT, BRANCH),
        ),
        EntryKind(
            KIND_REFUSED,
            "an attempt refused; `reason` is {error, message, rule?, fields?}; changes no request",
            (REQUEST, SOP, ACTION, ACTOR, FROM, REASON),
            (ON_BEHALF_OF,),
        ),
        EntryKind(
            KIND_SURVEY,
            "a satisfaction-survey (SKM) response on a closed request",
            (REQUEST, SOP, ACTOR, RULES, ANSWERS),
        ),
        EntryKind(
            KIND_MIGRATION,
            'a request moved to another SOP version (`action` "migrate")',
            (REQUEST, SOP, FROM_SOP, ACTION, ACTOR, ROLE, FROM, TO, NOTE),
        ),
        EntryKind(
            KIND_SLA,
            'an SLA warning, breach or escalation fired by `tick` (actor "system")',
            (REQUEST, SOP, ACTOR, EVENT, CLOCK, CYCLE, KEY, DUE, DEADLINE, CALENDAR, FINGERPRINT),
            (THRESHOLD, NOTIFY, REASSIGN, ACTION),
        ),
        EntryKind(
            KIND_ASSIGNMENT,
            "a request assigned to an officer of the unit holding it",
            (*_ROUTED, ASSIGNMENT),
            _ROUTED_OPTIONAL,
        ),
        EntryKind(
            KIND_DISPOSITION,
            "a disposisi issued to units or officers, with an instruction",
            (*_ROUTED, GROUP, PARENT, FROM_UNIT, INSTRUCTION, DISPOSITIONS, HOLDER),
            (*_ROUTED_OPTIONAL, ASSIGNMENT),
        ),
        EntryKind(
            KIND_DISPOSITION_ANSWER,
            "a disposisi answered (laporan tindak lanjut)",
            (*_ROUTED, DISPOSITION, ANSWER),
            (*_ROUTED_OPTIONAL, JOINED, RETURNED_TO),
        ),
        EntryKind(
            KIND_BUKAN_WEWENANG,
            "a request returned as not the unit's authority; `reason` is text",
            (*_ROUTED, REASON),
            (*_ROUTED_OPTIONAL, DISPOSITION, JOINED, RETURNED_TO),
        ),
        EntryKind(
            KIND_REVEAL,
            "personal data revealed: one field of a request, or a whole subject",
            (ACTOR, SUBJECT, ROLE, PURPOSE),
            (REQUEST, FIELD, SCOPE, REQUESTS, FIELDS),
        ),
        EntryKind(
            KIND_REVEAL_REFUSED,
            "a reveal refused; `reason` is {error, message, rule?}",
            (ACTOR, SUBJECT, PURPOSE, REASON),
            (REQUEST, FIELD, SCOPE),
        ),
        EntryKind(
            KIND_ERASURE,
            "a data subject erased: their key destroyed",
            (ACTOR, ROLE, SUBJECT, KID, REQUESTS, REASON),
        ),
        EntryKind(
            KIND_ERASURE_REFUSED,
            "an erasure refused; `refusal` is {error, message, rule?}",
            (ACTOR, SUBJECT, REQUESTS, REASON, REFUSAL),
        ),
        EntryKind(
            KIND_LEGAL_HOLD,
            "a legal hold placed on a subject or a request",
            (ACTOR, ROLE, HOLD, SUBJECT, REQUEST, REASON),
        ),
        EntryKind(
            KIND_LEGAL_HOLD_REFUSED,
            "placing (`subject`, `request`) or releasing (`hold`) a legal hold refused",
            (ACTOR, REASON, REFUSAL),
            (SUBJECT, REQUEST, HOLD),
        ),
        EntryKind(
            KIND_LEGAL_HOLD_RELEASED,
            "a legal hold released",
            (ACTOR, ROLE, HOLD, SUBJECT, REQUEST, REASON),
        ),
    )
}


# -- builders: nested objects -----------------------------------------------------------------


def sop_ref(sop_id: str, version: str, content_hash: str) -> dict[str, str]:
    """Return the ``sop`` object naming an SOP version.

    Args:
        sop_id: the SOP id.
        version: its version.
        content_hash: its content hash.

    Returns:
        ``{"id", "version", "hash"}``.
    """
    return {SOP_ID: sop_id, SOP_VERSION: version, SOP_HASH: content_hash}


def refusal_reason(error: BaseException) -> dict[str, Any]:
    """Return why an attempt was refused, as entries record it.

    Args:
        error: the error that refused it (its ``rule`` attribute, when set, is kept).

    Returns:
        ``{"error": class name, "message": text}`` plus ``"rule"`` when the error has one
        and ``"fields"`` (names only) when it refused fields.
    """
    reason: dict[str, Any] = {ERROR: type(error).__name__, MESSAGE: str(error)}
    rule = getattr(error, RULE, None)
    _optional(reason, RULE, rule)
    # Field names an error refused (never their values), as a list of text.
    names = getattr(error, FIELDS, None)
    if isinstance(names, tuple) and all(isinstance(n, str) for n in names):
        _optional(reason, FIELDS, list(names), skip_empty=True)
    return reason


def _start(kind: str, at: dt.datetime, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return a body of *kind* recorded *at*, holding *fields* after the time and kind."""
    return {TIME: format_time(at), KIND: kind, **fields}


def _optional(
    body: dict[str, Any],
    key: str,
    value: Any,
    convert: Callable[[Any], Any] = lambda value: value,
    *,
    skip_empty: bool = False,
) -> None:
    """Set ``body[key]`` to ``convert(value)`` unless *value* is absent.

    Args:
        body: the body being built.
        key: the field name.
        value: the field's value, ``None`` when not given.
        convert: makes the value JSON-ready (a copy as ``dict`` or ``list``).
        skip_empty: leave the field out for an empty value too (``""``, ``{}``, ``()``).
    """
    if value is None or (skip_empty and not value):
        return
    body[key] = convert(value)


def _dicts(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return *items* as a list of plain dicts."""
    return [dict(item) for item in items]


def _plain(value: Any) -> Any:
    """Return *value* with a mapping copied as a plain dict, anything else as it is."""
    return dict(value) if isinstance(value, Mapping) else value


# -- builders: the request's life -------------------------------------------------------------


def submit_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    role: str | None,
    to: str,
    data: Mapping[str, Any],
    personal: Mapping[str, Any] | None = None,
    routing: Mapping[str, Any] | None = None,
    assignment: Mapping[str, Any] | None = None,
    clocks: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Return the body of a ``submit`` entry: a request opened.

    Args:
        at: when it was recorded.
        request: the new request's id.
        sop: the SOP version (`sop_ref`).
        actor: who submitted.
        role: the role that allowed it.
        to: the SOP's initial state.
        data: the non-personal fields.
        personal: personal field name -> sealed reference (left out when empty).
        routing: the routing decision's record, if routed.
        assignment: the assignment decision's record, if assigned.
        clocks: the clock changes (left out when empty).

    Returns:
        The JSON-ready body.
    """
    body = _start(
        KIND_SUBMIT,
        at,
        {
            REQUEST: request,
            SOP: dict(sop),
            ACTION: SUBMIT_ACTION,
            ACTOR: actor,
            ROLE: role,
            FROM: None,
            TO: to,
            DATA: dict(data),
        },
    )
    _optional(body, PERSONAL, personal, dict, skip_empty=True)
    _optional(body, ROUTING, routing, dict)
    _optional(body, ASSIGNMENT, assignment, dict)
    _optional(body, CLOCKS, clocks, _dicts, skip_empty=True)
    return body


def action_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    action: str,
    actor: str,
    role: str | None,
    source: str,
    to: str,
    data: Mapping[str, Any],
    personal: Mapping[str, Any] | None = None,
    justification: str | None = None,
    authority: Mapping[str, str] | None = None,
    clocks: Sequence[Mapping[str, Any]] = (),
    changed: Mapping[str, Mapping[str, str]] | None = None,
    routing: Mapping[str, Any] | None = None,
    assignment: Mapping[str, Any] | None = None,
    branch: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the body of an ``action`` entry: an SOP action committed.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version (`sop_ref`).
        action: the SOP action.
        actor: who acted.
        role: the role that allowed it.
        source: the state before (the entry's ``from``).
        to: the state after.
        data: the non-personal fields the action added.
        personal: personal field name -> sealed reference (left out when empty).
        justification: the written reason (left out when empty).
        authority: the delegation used (Plt/Plh), if any.
        clocks: the clock changes (left out when empty).
        changed: subject fields the action changed (the SOP's ``may_change``), each with
            ``{"old", "new"}`` keyed commitments, never the values (left out when empty).
        routing: the routing decision of an action that moved the request to a unit
            (the SOP action's ``route``), as in a submission.
        assignment: the officer chosen in that unit, if a policy chose one.
        branch: the parallel branch the action moved, ``{"name", "from", "to"}``; the
            entry's ``from`` and ``to`` stay the request's states (the parallel state,
            or its ``then`` state when the last branch finished).

    Returns:
        The JSON-ready body.
    """
    body = _start(
        KIND_ACTION,
        at,
        {
            REQUEST: request,
            SOP: dict(sop),
            ACTION: action,
            ACTOR: actor,
            ROLE: role,
            FROM: source,
            TO: to,
            DATA: dict(data),
        },
    )
    _optional(body, PERSONAL, personal, dict, skip_empty=True)
    _optional(body, JUSTIFICATION, justification, skip_empty=True)
    _optional(body, AUTHORITY, authority, dict)
    _optional(body, CLOCKS, clocks, _dicts, skip_empty=True)
    if changed:
        body[CHANGED] = {name: dict(pair) for name, pair in changed.items()}
    _optional(body, ROUTING, routing, dict)
    _optional(body, ASSIGNMENT, assignment, dict)
    _optional(body, BRANCH, branch, dict)
    return body


def refused_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str] | None,
    action: str,
    actor: str,
    state: str | None,
    reason: Mapping[str, Any],
    on_behalf_of: str | None = None,
) -> dict[str, Any]:
    """Return the body of a ``refused`` entry: an attempt refused, no request changed.

    Args:
        at: when it was recorded.
        request: the request id the attempt named.
        sop: the SOP version, when the request is known.
        action: the action attempted.
        actor: who attempted it.
        state: the request's state then (the entry's ``from``), if known.
        reason: why (`refusal_reason`).
        on_behalf_of: the official whose authority was claimed, if any.

    Returns:
        The JSON-ready body.
    """
    body = _start(
        KIND_REFUSED,
        at,
        {
            REQUEST: request,
            SOP: None if sop is None else dict(sop),
            ACTION: action,
            ACTOR: actor,
            FROM: state,
            REASON: dict(reason),
        },
    )
    _optional(body, ON_BEHALF_OF, on_behalf_of, skip_empty=True)
    return body


def survey_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    rules: str,
    answers: Mapping[str, int],
) -> dict[str, Any]:
    """Return the body of a ``survey`` entry: one satisfaction-survey response.

    Args:
        at: when it was recorded.
        request: the completed request it is about.
        sop: the request's SOP version.
        actor: who recorded it.
        rules: the IKM rule set's name.
        answers: unsur key -> answer (1-4).

    Returns:
        The JSON-ready body.
    """
    return _start(
        KIND_SURVEY,
        at,
        {
            REQUEST: request,
            SOP: dict(sop),
            ACTOR: actor,
            RULES: rules,
            ANSWERS: dict(answers),
        },
    )


def migration_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    from_sop: Mapping[str, str],
    actor: str,
    role: str | None,
    source: str,
    to: str,
    note: str,
) -> dict[str, Any]:
    """Return the body of a ``migration`` entry: a request moved to another SOP version.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version it moves to.
        from_sop: the version it ran under.
        actor: who migrated it.
        role: the role that allowed it.
        source: its state before (the entry's ``from``).
        to: its state after.
        note: why the migration exists.

    Returns:
        The JSON-ready body.
    """
    return _start(
        KIND_MIGRATION,
        at,
        {
            REQUEST: request,
            SOP: dict(sop),
            FROM_SOP: dict(from_sop),
            ACTION: MIGRATE_ACTION,
            ACTOR: actor,
            ROLE: role,
            FROM: source,
            TO: to,
            NOTE: note,
        },
    )


def sla_body(
    *,
    at: dt.datetime,
    request: str,
    event: str,
    clock: str,
    cycle: int,
    key: str,
    due: dt.datetime,
    deadline: str,
    calendar: str,
    fingerprint: str,
    sop: Mapping[str, str] | None = None,
    threshold: int | str | Mapping[str, Any] | None = None,
    notify: Sequence[str] = (),
    reassign: Mapping[str, str] | None = None,
    action: str | None = None,
) -> dict[str, Any]:
    """Return the body of an ``sla`` entry: a warning, breach or escalation, by the system.

    Args:
        at: the tick instant.
        request: the request id.
        event: ``warning``, ``breach`` or ``escalation``.
        clock: the clock's name.
        cycle: the clock's cycle.
        key: the event's key on its clock (``warning:50``, ``breach``, ``escalation:1``).
        due: when it became due.
        deadline: the clock's deadline, as its state records it.
        calendar: the calendar's name.
        fingerprint: the calendar's fingerprint.
        sop: the SOP version (left out when ``None``: the desk adds it).
        threshold: the warning percentage or the escalation's ``after``, if any.
        notify: the roles and units an escalation notifies (left out when empty).
        reassign: where an escalation hands the request, if anywhere.
        action: the action an escalation takes, if any.

    Returns:
        The JSON-ready body.
    """
    body = _start(
        KIND_SLA,
        at,
        {
            REQUEST: request,
            ACTOR: SYSTEM_ACTOR,
            EVENT: event,
            CLOCK: clock,
            CYCLE: cycle,
            KEY: key,
            DUE: format_time(due),
            DEADLINE: deadline,
            CALENDAR: calendar,
            FINGERPRINT: fingerprint,
        },
    )
    _optional(body, SOP, sop, dict)
    _optional(body, THRESHOLD, threshold, _plain)
    _optional(body, NOTIFY, notify, list, skip_empty=True)
    _optional(body, REASSIGN, reassign, dict)
    _optional(body, ACTION, action)
    return body


# -- builders: routing and disposisi ----------------------------------------------------------


def _routed(
    kind: str,
    at: dt.datetime,
    *,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    state: str,
    role: str | None,
    authority: Mapping[str, str] | None,
) -> dict[str, Any]:
    body = _start(kind, at, {REQUEST: request, SOP: dict(sop), ACTOR: actor, STATE: state})
    _optional(body, ROLE, role, skip_empty=True)
    _optional(body, AUTHORITY, authority, dict)
    return body


def _closing(
    body: dict[str, Any],
    disposition: str | None,
    joined: str | None,
    returned_to: Mapping[str, str | None] | None,
) -> dict[str, Any]:
    _optional(body, DISPOSITION, disposition)
    _optional(body, JOINED, joined)
    _optional(body, RETURNED_TO, returned_to, dict)
    return body


def assignment_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    state: str,
    assignment: Mapping[str, Any],
    role: str | None = None,
    authority: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the body of an ``assignment`` entry: a request assigned in its unit.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version.
        actor: who assigned.
        state: the request's state.
        assignment: the assignment decision's record.
        role: the role that allowed it (left out when empty).
        authority: the delegation used (Plt/Plh), if any.

    Returns:
        The JSON-ready body.
    """
    body = _routed(
        KIND_ASSIGNMENT,
        at,
        request=request,
        sop=sop,
        actor=actor,
        state=state,
        role=role,
        authority=authority,
    )
    body[ASSIGNMENT] = dict(assignment)
    return body


def disposition_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    state: str,
    group: str,
    parent: str | None,
    from_unit: str | None,
    instruction: str,
    dispositions: Sequence[Mapping[str, Any]],
    holder: Mapping[str, str | None],
    role: str | None = None,
    authority: Mapping[str, str] | None = None,
    assignment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the body of a ``disposition`` entry: a disposisi issued.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version.
        actor: who disposed.
        state: the request's state.
        group: the id of the group of dispositions issued together.
        parent: the disposition this one continues (a chain), if any.
        from_unit: the unit the disposer acted for.
        instruction: what the targets are asked to do.
        dispositions: each issued item's ``id``, ``unit``, ``officer`` and ``due``.
        holder: ``{"unit", "assignee"}`` holding the request afterwards.
        role: the role that allowed it (left out when empty).
        authority: the delegation used (Plt/Plh), if any.
        assignment: the target unit's assignment decision, if one was made.

    Returns:
        The JSON-ready body.
    """
    body = _routed(
        KIND_DISPOSITION,
        at,
        request=request,
        sop=sop,
        actor=actor,
        state=state,
        role=role,
        authority=authority,
    )
    body.update(
        {
            GROUP: group,
            PARENT: parent,
            FROM_UNIT: from_unit,
            INSTRUCTION: instruction,
            DISPOSITIONS: [dict(d) for d in dispositions],
        }
    )
    _optional(body, ASSIGNMENT, assignment, dict)
    body[HOLDER] = dict(holder)
    return body


def disposition_answer_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    state: str,
    disposition: str,
    answer: str,
    role: str | None = None,
    authority: Mapping[str, str] | None = None,
    joined: str | None = None,
    returned_to: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Return the body of a ``disposition_answer`` entry: a disposisi answered.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version.
        actor: who answered.
        state: the request's state.
        disposition: the disposition answered.
        answer: the answer.
        role: the role used (left out when empty).
        authority: the delegation used (Plt/Plh), if any.
        joined: the group the answer completed, if any.
        returned_to: ``{"unit", "assignee"}`` the request went back to, if it moved.

    Returns:
        The JSON-ready body.
    """
    body = _routed(
        KIND_DISPOSITION_ANSWER,
        at,
        request=request,
        sop=sop,
        actor=actor,
        state=state,
        role=role,
        authority=authority,
    )
    body[ANSWER] = answer
    return _closing(body, disposition, joined, returned_to)


def bukan_wewenang_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    state: str,
    reason: str,
    role: str | None = None,
    authority: Mapping[str, str] | None = None,
    disposition: str | None = None,
    joined: str | None = None,
    returned_to: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Return the body of a ``bukan_wewenang`` entry: returned as not our authority.

    Args:
        at: when it was recorded.
        request: the request id.
        sop: the SOP version.
        actor: who returned it.
        state: the request's state.
        reason: why it is not their authority.
        role: the role used (left out when empty).
        authority: the delegation used (Plt/Plh), if any.
        disposition: the disposition returned (``None``: a request routed by a rule).
        joined: the group the return completed, if any.
        returned_to: ``{"unit", "assignee"}`` the request went back to, if it moved.

    Returns:
        The JSON-ready body.
    """
    body = _routed(
        KIND_BUKAN_WEWENANG,
        at,
        request=request,
        sop=sop,
        actor=actor,
        state=state,
        role=role,
        authority=authority,
    )
    body[REASON] = reason
    return _closing(body, disposition, joined, returned_to)


# -- builders: personal data ------------------------------------------------------------------


def _personal(kind: str, at: dt.datetime, actor: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return _start(kind, at, {ACTOR: actor, **fields})


def reveal_body(
    *,
    at: dt.datetime,
    actor: str,
    request: str,
    field: str,
    subject: str,
    role: str,
    purpose: str,
) -> dict[str, Any]:
    """Return the body of a ``reveal`` entry for one personal field of a request.

    Args:
        at: when it was recorded.
        actor: who saw the value.
        request: the request.
        field: the personal field revealed.
        subject: the data subject it belongs to.
        role: the role that allowed it.
        purpose: why, as stated.

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_REVEAL,
        at,
        actor,
        {
            REQUEST: request,
            FIELD: field,
            SUBJECT: subject,
            ROLE: role,
            PURPOSE: purpose,
        },
    )


def subject_reveal_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str,
    requests: Sequence[str],
    fields: Sequence[str],
    role: str,
    purpose: str,
) -> dict[str, Any]:
    """Return the body of a ``reveal`` entry for all of a subject's data (right of access).

    Args:
        at: when it was recorded.
        actor: who answered the access request.
        subject: the data subject.
        requests: the requests whose data was revealed.
        fields: the personal fields revealed.
        role: the role that allowed it.
        purpose: why, as stated.

    Returns:
        The JSON-ready body (``scope: "subject"``).
    """
    return _personal(
        KIND_REVEAL,
        at,
        actor,
        {
            SCOPE: SCOPE_SUBJECT,
            SUBJECT: subject,
            REQUESTS: list(requests),
            FIELDS: list(fields),
            ROLE: role,
            PURPOSE: purpose,
        },
    )


def reveal_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    request: str,
    field: str,
    subject: str | None,
    purpose: str,
    reason: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``reveal_refused`` entry for one field of a request.

    Args:
        at: when it was recorded.
        actor: who asked.
        request: the request named.
        field: the field asked for.
        subject: its data subject, when it was known before the refusal.
        purpose: the purpose stated.
        reason: why it was refused (`refusal_reason`).

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_REVEAL_REFUSED,
        at,
        actor,
        {
            REQUEST: request,
            FIELD: field,
            SUBJECT: subject,
            PURPOSE: purpose,
            REASON: dict(reason),
        },
    )


def subject_reveal_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str,
    purpose: str,
    reason: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``reveal_refused`` entry for a subject access request.

    Args:
        at: when it was recorded.
        actor: who asked.
        subject: the data subject named.
        purpose: the purpose stated.
        reason: why it was refused (`refusal_reason`).

    Returns:
        The JSON-ready body (``scope: "subject"``).
    """
    return _personal(
        KIND_REVEAL_REFUSED,
        at,
        actor,
        {
            SCOPE: SCOPE_SUBJECT,
            SUBJECT: subject,
            PURPOSE: purpose,
            REASON: dict(reason),
        },
    )


def erasure_body(
    *,
    at: dt.datetime,
    actor: str,
    role: str,
    subject: str,
    kid: str,
    requests: Sequence[str],
    reason: str,
) -> dict[str, Any]:
    """Return the body of an ``erasure`` entry: a subject's key destroyed.

    Args:
        at: when it was recorded.
        actor: the data protection officer.
        role: the role that allowed it.
        subject: the data subject erased.
        kid: the id of the destroyed key.
        requests: the requests that held the subject's data.
        reason: why (no personal data).

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_ERASURE,
        at,
        actor,
        {
            ROLE: role,
            SUBJECT: subject,
            KID: kid,
            REQUESTS: list(requests),
            REASON: reason,
        },
    )


def erasure_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str,
    requests: Sequence[str],
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of an ``erasure_refused`` entry.

    Args:
        at: when it was recorded.
        actor: who asked.
        subject: the data subject named.
        requests: the subject's requests, as far as they were looked up.
        reason: the reason the erasure was asked for.
        refusal: why it was refused (`refusal_reason`).

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_ERASURE_REFUSED,
        at,
        actor,
        {
            SUBJECT: subject,
            REQUESTS: list(requests),
            REASON: reason,
            REFUSAL: dict(refusal),
        },
    )


def legal_hold_body(
    *,
    at: dt.datetime,
    actor: str,
    role: str,
    hold: str,
    subject: str | None,
    request: str | None,
    reason: str,
) -> dict[str, Any]:
    """Return the body of a ``legal_hold`` entry: a hold placed.

    Args:
        at: when it was recorded.
        actor: who placed it.
        role: the role that allowed it.
        hold: the hold's id.
        subject: the data subject held, or ``None``.
        request: the request held, or ``None``.
        reason: why.

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_LEGAL_HOLD,
        at,
        actor,
        {
            ROLE: role,
            HOLD: hold,
            SUBJECT: subject,
            REQUEST: request,
            REASON: reason,
        },
    )


def legal_hold_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str | None,
    request: str | None,
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry for placing a hold.

    Args:
        at: when it was recorded.
        actor: who asked.
        subject: the data subject named, or ``None``.
        request: the request named, or ``None``.
        reason: the reason given for the hold.
        refusal: why it was refused (`refusal_reason`).

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_LEGAL_HOLD_REFUSED,
        at,
        actor,
        {
            SUBJECT: subject,
            REQUEST: request,
            REASON: reason,
            REFUSAL: dict(refusal),
        },
    )


def legal_hold_release_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    hold: str,
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry for releasing a hold.

    Args:
        at: when it was recorded.
        actor: who asked.
        hold: the hold named.
        reason: the reason given for the release.
        refusal: why it was refused (`refusal_reason`).

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_LEGAL_HOLD_REFUSED,
        at,
        actor,
        {
            HOLD: hold,
            REASON: reason,
            REFUSAL: dict(refusal),
        },
    )


def legal_hold_released_body(
    *,
    at: dt.datetime,
    actor: str,
    role: str,
    hold: str,
    subject: str | None,
    request: str | None,
    reason: str,
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_released`` entry.

    Args:
        at: when it was recorded.
        actor: who released it.
        role: the role that allowed it.
        hold: the hold's id.
        subject: the data subject it held, or ``None``.
        request: the request it held, or ``None``.
        reason: why.

    Returns:
        The JSON-ready body.
    """
    return _personal(
        KIND_LEGAL_HOLD_RELEASED,
        at,
        actor,
        {
            ROLE: role,
            HOLD: hold,
            SUBJECT: subject,
            REQUEST: request,
            REASON: reason,
        },
    )


# -- documentation ----------------------------------------------------------------------------


def _names(fields: Sequence[str]) -> str:
    return ", ".join(f"`{f}`" for f in fields) or "-"


def render_kinds_table() -> str:
    """Return the Markdown table of `KINDS` that ``docs/audit-format.md`` carries.

    Returns:
        The table, one row per kind in `KINDS` order, ending with a newline.
    """
    rows = ["| kind | always | sometimes | records |", "|---|---|---|---|"]
    rows.extend(
        f"| `{k.name}` | {_names(k.required)} | {_names(k.optional)} | {k.meaning} |"
        for k in KINDS.values()
    )
    return "\n".join(rows) + "\n"
