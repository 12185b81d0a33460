"""The names of the log: field names, values of fixed meaning and kind names.

Every spelling of a field or a kind lives here; `pelayanan.audit.kinds` re-exports them.
"""

from __future__ import annotations

from typing import Final

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
    "CHAIN_FIELDS",
    "CHANGED",
    "CLOCK",
    "CLOCKS",
    "COMMON_FIELDS",
    "COUNTING",
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
    "MEASURES",
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
    "VALID_FROM",
    "TRIAGE_RULE",
    "UNIT",
    "V",
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
#: In a clock start of an entry's ``clocks`` list: the clock's own counting convention
#: and whose time it measures, each written only when not the default.
COUNTING: Final = "counting"
MEASURES: Final = "measures"
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
#: In ``authority``: when the delegation used began (attribution never blames an acting
#: official for time before it).
VALID_FROM: Final = "valid_from"
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
