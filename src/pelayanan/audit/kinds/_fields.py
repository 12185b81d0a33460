"""Every kind the library writes: its fields, each declared once, and its layouts.

Each field a body carries is declared once below (name, meaning, conversion, when it
appears); each kind is one `Layout` of those fields, or two when it records two shapes of
one event; `KINDS` derives what each kind always and sometimes carries from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pelayanan.audit.kinds import _names as names
from pelayanan.audit.kinds._layout import EntryKind, Field, Layout, Presence
from pelayanan.audit.kinds._layout import dicts as _dicts
from pelayanan.audit.kinds._layout import pairs as _pairs
from pelayanan.audit.kinds._layout import plain as _plain
from pelayanan.audit.kinds._layout import when as _when

_GIVEN = Presence.GIVEN
_FILLED = Presence.FILLED
_HOLDER_DOC = '``{"unit", "assignee"}``'

# -- the fields, each declared once --------------------------------------------------------------

_REQUEST = Field(names.REQUEST, "the request id.")
_SOP = Field(names.SOP, "the SOP version (`sop_ref`).", convert=dict)
_ACTION = Field(names.ACTION, "the SOP action.")
_ACTOR = Field(names.ACTOR, "who acted.")
_ROLE = Field(names.ROLE, "the role that allowed it.")
_SOURCE = Field(names.FROM, "the state before (the entry's ``from``).", param="source")
_TO = Field(names.TO, "the state after.")
_DATA = Field(names.DATA, "the non-personal fields.", convert=dict)
_PERSONAL = Field(
    names.PERSONAL, "personal field name -> sealed reference (left out when empty).", dict, _FILLED
)
_AUTHORITY = Field(names.AUTHORITY, "the delegation used (Plt/Plh), if any.", convert=dict)
_CLOCKS = Field(names.CLOCKS, "the clock changes (left out when empty).", _dicts, _FILLED)
_ASSIGNMENT = Field(names.ASSIGNMENT, "the assignment decision's record.", convert=dict)
_STATE = Field(names.STATE, "the request's state.")
_REFUSAL_REASON = Field(names.REASON, "why it was refused (`refusal_reason`).", convert=dict)
_REASON_TEXT = Field(names.REASON, "why, in words (no personal data).")
_REFUSAL = Field(names.REFUSAL, "why it was refused (`refusal_reason`).", convert=dict)
_SUBJECT = Field(names.SUBJECT, "the data subject.")
_PURPOSE = Field(names.PURPOSE, "why, as stated.")
_REQUESTS = Field(names.REQUESTS, "the subject's requests.", convert=list)
_HOLD = Field(names.HOLD, "the hold's id.")
_DISPOSITION = Field(names.DISPOSITION, "the disposition it closes.")
_JOINED = Field(names.JOINED, "the group it completed, if any.", presence=_GIVEN)
_RETURNED_TO = Field(
    names.RETURNED_TO, f"{_HOLDER_DOC} the request went back to, if it moved.", dict, _GIVEN
)

#: The fields every routing and disposisi entry starts with.
_ROUTED = (
    _REQUEST,
    _SOP,
    _ACTOR,
    _STATE,
    _ROLE.but(doc="the role that allowed it (left out when empty).", presence=_FILLED),
    _AUTHORITY.but(presence=_GIVEN),
)
#: The subject or request a legal hold names (either may be ``None``).
_HELD = (
    _SUBJECT.but(doc="the data subject, or ``None``."),
    _REQUEST.but(doc="the request, or ``None``."),
)

# -- the layouts ----------------------------------------------------------------------------------

SUBMIT = Layout(
    names.KIND_SUBMIT,
    (
        _REQUEST.but(doc="the new request's id."),
        _SOP,
        _ACTION.fixed(names.SUBMIT_ACTION),
        _ACTOR,
        _ROLE,
        _SOURCE.fixed(None),
        _TO.but(doc="the SOP's initial state."),
        _DATA,
        _PERSONAL,
        Field(names.ROUTING, "the routing decision's record, if routed.", dict, _GIVEN),
        _ASSIGNMENT.but(doc="the assignment decision's record, if assigned.", presence=_GIVEN),
        _CLOCKS,
    ),
)
ACTION = Layout(
    names.KIND_ACTION,
    (
        _REQUEST,
        _SOP,
        _ACTION,
        _ACTOR,
        _ROLE,
        _SOURCE,
        _TO,
        _DATA.but(doc="the non-personal fields the action added."),
        _PERSONAL,
        Field(names.JUSTIFICATION, "the written reason (left out when empty).", presence=_FILLED),
        _AUTHORITY.but(presence=_GIVEN),
        _CLOCKS,
        Field(
            names.CHANGED,
            "subject fields the action changed (the SOP's ``may_change``), each with "
            '``{"old", "new"}`` keyed commitments, never the values (left out when empty).',
            _pairs,
            _FILLED,
        ),
        Field(
            names.ROUTING,
            "the routing decision of an action that moved the request to a unit (the SOP "
            "action's ``route``), as in a submission.",
            dict,
            _GIVEN,
        ),
        _ASSIGNMENT.but(
            doc="the officer chosen in that unit, if a policy chose one.", presence=_GIVEN
        ),
        Field(
            names.BRANCH,
            'the parallel branch the action moved, ``{"name", "from", "to"}``; the entry\'s '
            "``from`` and ``to`` stay the request's states (the parallel state, or its "
            "``then`` state when the last branch finished).",
            dict,
            _GIVEN,
        ),
    ),
)
REFUSED = Layout(
    names.KIND_REFUSED,
    (
        _REQUEST.but(doc="the request id the attempt named."),
        _SOP.but(doc="the SOP version, when the request is known."),
        _ACTION.but(doc="the action attempted."),
        _ACTOR,
        _SOURCE.but(param="state", doc="the request's state then (the entry's ``from``)."),
        _REFUSAL_REASON,
        Field(
            names.ON_BEHALF_OF,
            "the official whose authority was claimed, if any.",
            presence=_FILLED,
        ),
    ),
)
SURVEY = Layout(
    names.KIND_SURVEY,
    (
        _REQUEST.but(doc="the completed request it is about."),
        _SOP,
        _ACTOR,
        Field(names.RULES, "the IKM rule set's name."),
        Field(names.ANSWERS, "unsur key -> answer (1-4).", convert=dict),
    ),
)
MIGRATION = Layout(
    names.KIND_MIGRATION,
    (
        _REQUEST,
        _SOP.but(doc="the SOP version it moves to."),
        Field(names.FROM_SOP, "the version it ran under.", convert=dict),
        _ACTION.fixed(names.MIGRATE_ACTION),
        _ACTOR,
        _ROLE,
        _SOURCE,
        _TO,
        Field(names.NOTE, "why the migration exists."),
    ),
)
SLA = Layout(
    names.KIND_SLA,
    (
        _REQUEST,
        _SOP.but(
            doc="the SOP version (left out when None: the desk adds it).",
            presence=Presence.ADDED,
        ),
        _ACTOR.fixed(names.SYSTEM_ACTOR),
        Field(names.EVENT, "``warning``, ``breach`` or ``escalation``."),
        Field(names.CLOCK, "the clock's name."),
        Field(names.CYCLE, "the clock's cycle."),
        Field(
            names.KEY,
            "the event's key on its clock (``warning:50``, ``breach``, ``escalation:1``).",
        ),
        Field(names.DUE, "when it became due.", convert=_when),
        Field(names.DEADLINE, "the clock's deadline, as its state records it."),
        Field(names.CALENDAR, "the calendar's name."),
        Field(names.FINGERPRINT, "the calendar's fingerprint."),
        Field(
            names.THRESHOLD,
            "the warning percentage or the escalation's ``after``, if any.",
            _plain,
            _GIVEN,
        ),
        Field(
            names.NOTIFY,
            "the roles and units an escalation notifies (left out when empty).",
            list,
            _FILLED,
        ),
        Field(names.REASSIGN, "where an escalation hands the request, if anywhere.", dict, _GIVEN),
        _ACTION.but(doc="the action an escalation takes, if any.", presence=_GIVEN),
    ),
    at="the tick instant.",
)
ASSIGNMENT = Layout(names.KIND_ASSIGNMENT, (*_ROUTED, _ASSIGNMENT))
DISPOSITION = Layout(
    names.KIND_DISPOSITION,
    (
        *_ROUTED,
        Field(names.GROUP, "the id of the group of dispositions issued together."),
        Field(names.PARENT, "the disposition this one continues (a chain), if any."),
        Field(names.FROM_UNIT, "the unit the disposer acted for."),
        Field(names.INSTRUCTION, "what the targets are asked to do."),
        Field(
            names.DISPOSITIONS,
            "each issued item's ``id``, ``unit``, ``officer`` and ``due``.",
            convert=_dicts,
        ),
        _ASSIGNMENT.but(
            doc="the target unit's assignment decision, if one was made.", presence=_GIVEN
        ),
        Field(names.HOLDER, f"{_HOLDER_DOC} holding the request afterwards.", convert=dict),
    ),
)
DISPOSITION_ANSWER = Layout(
    names.KIND_DISPOSITION_ANSWER,
    (*_ROUTED, _DISPOSITION, Field(names.ANSWER, "the answer."), _JOINED, _RETURNED_TO),
)
BUKAN_WEWENANG = Layout(
    names.KIND_BUKAN_WEWENANG,
    (
        *_ROUTED,
        _REASON_TEXT.but(doc="why it is not their authority."),
        _DISPOSITION.but(
            doc="the disposition returned (``None``: a request routed by a rule).",
            presence=_GIVEN,
        ),
        _JOINED,
        _RETURNED_TO,
    ),
)
_FIELD_NAMED = Field(names.FIELD, "the personal field.")
_SUBJECT_SCOPE = Field(names.SCOPE, "", presence=Presence.FIXED, value=names.SCOPE_SUBJECT)
REVEAL = Layout(names.KIND_REVEAL, (_ACTOR, _REQUEST, _FIELD_NAMED, _SUBJECT, _ROLE, _PURPOSE))
SUBJECT_REVEAL = Layout(
    names.KIND_REVEAL,
    (
        _ACTOR,
        _SUBJECT_SCOPE,
        _SUBJECT,
        _REQUESTS.but(doc="the requests whose data was revealed."),
        Field(names.FIELDS, "the personal fields revealed.", convert=list),
        _ROLE,
        _PURPOSE,
    ),
    returns='The JSON-ready body (``scope: "subject"``).',
)
REVEAL_REFUSED = Layout(
    names.KIND_REVEAL_REFUSED,
    (
        _ACTOR,
        _REQUEST,
        _FIELD_NAMED,
        _SUBJECT.but(doc="its data subject, when it was known before the refusal."),
        _PURPOSE,
        _REFUSAL_REASON,
    ),
)
SUBJECT_REVEAL_REFUSED = Layout(
    names.KIND_REVEAL_REFUSED,
    (_ACTOR, _SUBJECT_SCOPE, _SUBJECT, _PURPOSE, _REFUSAL_REASON),
    returns=SUBJECT_REVEAL.returns,
)
ERASURE = Layout(
    names.KIND_ERASURE,
    (
        _ACTOR,
        _ROLE,
        _SUBJECT,
        Field(names.KID, "the id of the destroyed key."),
        _REQUESTS,
        _REASON_TEXT,
    ),
)
ERASURE_REFUSED = Layout(
    names.KIND_ERASURE_REFUSED,
    (_ACTOR, _SUBJECT, _REQUESTS, _REASON_TEXT.but(doc="the reason given."), _REFUSAL),
)
LEGAL_HOLD = Layout(names.KIND_LEGAL_HOLD, (_ACTOR, _ROLE, _HOLD, *_HELD, _REASON_TEXT))
LEGAL_HOLD_REFUSED = Layout(
    names.KIND_LEGAL_HOLD_REFUSED,
    (_ACTOR, *_HELD, _REASON_TEXT.but(doc="the reason given."), _REFUSAL),
)
LEGAL_HOLD_RELEASE_REFUSED = Layout(
    names.KIND_LEGAL_HOLD_REFUSED,
    (_ACTOR, _HOLD, _REASON_TEXT.but(doc="the reason given."), _REFUSAL),
)
LEGAL_HOLD_RELEASED = Layout(
    names.KIND_LEGAL_HOLD_RELEASED, (_ACTOR, _ROLE, _HOLD, *_HELD, _REASON_TEXT)
)

#: Every kind the library writes, by name, in the order `render_kinds_table` lists them.
KINDS: Mapping[str, EntryKind] = {
    k.name: k
    for k in (
        EntryKind.of('a request opened (`from` null, `action` "submit")', SUBMIT),
        EntryKind.of(
            "an SOP action committed; `routing`/`assignment` when it moved the holder, "
            "`branch` when it moved a parallel branch",
            ACTION,
        ),
        EntryKind.of(
            "an attempt refused; `reason` is {error, message, rule?, fields?}; changes no request",
            REFUSED,
        ),
        EntryKind.of("a satisfaction-survey (SKM) response on a closed request", SURVEY),
        EntryKind.of('a request moved to another SOP version (`action` "migrate")', MIGRATION),
        EntryKind.of('an SLA warning, breach or escalation fired by `tick` (actor "system")', SLA),
        EntryKind.of("a request assigned to an officer of the unit holding it", ASSIGNMENT),
        EntryKind.of("a disposisi issued to units or officers, with an instruction", DISPOSITION),
        EntryKind.of("a disposisi answered (laporan tindak lanjut)", DISPOSITION_ANSWER),
        EntryKind.of(
            "a request returned as not the unit's authority; `reason` is text", BUKAN_WEWENANG
        ),
        EntryKind.of(
            "personal data revealed: one field of a request, or a whole subject",
            REVEAL,
            SUBJECT_REVEAL,
        ),
        EntryKind.of(
            "a reveal refused; `reason` is {error, message, rule?}",
            REVEAL_REFUSED,
            SUBJECT_REVEAL_REFUSED,
        ),
        EntryKind.of("a data subject erased: their key destroyed", ERASURE),
        EntryKind.of("an erasure refused; `refusal` is {error, message, rule?}", ERASURE_REFUSED),
        EntryKind.of("a legal hold placed on a subject or a request", LEGAL_HOLD),
        EntryKind.of(
            "placing (`subject`, `request`) or releasing (`hold`) a legal hold refused",
            LEGAL_HOLD_REFUSED,
            LEGAL_HOLD_RELEASE_REFUSED,
        ),
        EntryKind.of("a legal hold released", LEGAL_HOLD_RELEASED),
    )
}


# -- documentation --------------------------------------------------------------------------------


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
