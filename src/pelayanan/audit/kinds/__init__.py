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

from pelayanan.audit.kinds import _names
from pelayanan.audit.kinds._builders import (
    action_body,
    assignment_body,
    bukan_wewenang_body,
    disposition_answer_body,
    disposition_body,
    erasure_body,
    erasure_refused_body,
    legal_hold_body,
    legal_hold_refused_body,
    legal_hold_release_refused_body,
    legal_hold_released_body,
    migration_body,
    refusal_reason,
    refused_body,
    reveal_body,
    reveal_refused_body,
    sla_body,
    sop_ref,
    subject_reveal_body,
    subject_reveal_refused_body,
    submit_body,
    survey_body,
)
from pelayanan.audit.kinds._fields import KINDS, render_kinds_table
from pelayanan.audit.kinds._layout import (
    EntryKind,
)
from pelayanan.audit.kinds._names import *  # noqa: F403  (the names, listed in their __all__)

__all__ = [
    "KINDS",
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
    "subject_reveal_body",
    "subject_reveal_refused_body",
    "submit_body",
    "survey_body",
]
__all__ += _names.__all__
