"""The public builders: one typed signature per layout, the body built by the layout.

Each ``*_body`` function names its keywords and their types for callers and the type
checker; `Layout.builder` checks they are the layout's and writes the ``Args`` from the
field declarations in ``_fields.py``, and `Layout.build` assembles the body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pelayanan.audit.kinds import _fields as layouts
from pelayanan.audit.kinds import _names as names
from pelayanan.audit.kinds._layout import _optional

# -- nested objects -------------------------------------------------------------------------------


def sop_ref(sop_id: str, version: str, content_hash: str) -> dict[str, str]:
    """Return the ``sop`` object naming an SOP version.

    Args:
        sop_id: the SOP id.
        version: its version.
        content_hash: its content hash.

    Returns:
        ``{"id", "version", "hash"}``.
    """
    return {names.SOP_ID: sop_id, names.SOP_VERSION: version, names.SOP_HASH: content_hash}


def refusal_reason(error: BaseException) -> dict[str, Any]:
    """Return why an attempt was refused, as entries record it.

    Args:
        error: the error that refused it (its ``rule`` attribute, when set, is kept).

    Returns:
        ``{"error": class name, "message": text}`` plus ``"rule"`` when the error has one
        and ``"fields"`` (names only, never values) when it refused fields.
    """
    reason: dict[str, Any] = {names.ERROR: type(error).__name__, names.MESSAGE: str(error)}
    _optional(reason, names.RULE, getattr(error, names.RULE, None))
    refused_fields = getattr(error, names.FIELDS, None)
    if isinstance(refused_fields, tuple) and all(isinstance(n, str) for n in refused_fields):
        _optional(reason, names.FIELDS, list(refused_fields), skip_empty=True)
    return reason


# -- the builders: typed signatures over the layouts ----------------------------------------------


@layouts.SUBMIT.builder
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
    """Return the body of a ``submit`` entry: a request opened."""
    return layouts.SUBMIT.build(locals())


@layouts.ACTION.builder
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
    """Return the body of an ``action`` entry: an SOP action committed."""
    return layouts.ACTION.build(locals())


@layouts.REFUSED.builder
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
    """Return the body of a ``refused`` entry: an attempt refused, no request changed."""
    return layouts.REFUSED.build(locals())


@layouts.SURVEY.builder
def survey_body(
    *,
    at: dt.datetime,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    rules: str,
    answers: Mapping[str, int],
) -> dict[str, Any]:
    """Return the body of a ``survey`` entry: one satisfaction-survey response."""
    return layouts.SURVEY.build(locals())


@layouts.MIGRATION.builder
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
    """Return the body of a ``migration`` entry: a request moved to another SOP version."""
    return layouts.MIGRATION.build(locals())


@layouts.SLA.builder
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
    """Return the body of an ``sla`` entry: a warning, breach or escalation, by the system."""
    return layouts.SLA.build(locals())


@layouts.ASSIGNMENT.builder
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
    """Return the body of an ``assignment`` entry: a request assigned in its unit."""
    return layouts.ASSIGNMENT.build(locals())


@layouts.DISPOSITION.builder
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
    """Return the body of a ``disposition`` entry: a disposisi issued."""
    return layouts.DISPOSITION.build(locals())


@layouts.DISPOSITION_ANSWER.builder
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
    """Return the body of a ``disposition_answer`` entry: a disposisi answered."""
    return layouts.DISPOSITION_ANSWER.build(locals())


@layouts.BUKAN_WEWENANG.builder
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
    """Return the body of a ``bukan_wewenang`` entry: returned as not our authority."""
    return layouts.BUKAN_WEWENANG.build(locals())


@layouts.REVEAL.builder
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
    """Return the body of a ``reveal`` entry for one personal field of a request."""
    return layouts.REVEAL.build(locals())


@layouts.SUBJECT_REVEAL.builder
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
    """Return the body of a ``reveal`` entry for all of a subject's data (right of access)."""
    return layouts.SUBJECT_REVEAL.build(locals())


@layouts.REVEAL_REFUSED.builder
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
    """Return the body of a ``reveal_refused`` entry for one field of a request."""
    return layouts.REVEAL_REFUSED.build(locals())


@layouts.SUBJECT_REVEAL_REFUSED.builder
def subject_reveal_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str,
    purpose: str,
    reason: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``reveal_refused`` entry for a subject access request."""
    return layouts.SUBJECT_REVEAL_REFUSED.build(locals())


@layouts.ERASURE.builder
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
    """Return the body of an ``erasure`` entry: a subject's key destroyed."""
    return layouts.ERASURE.build(locals())


@layouts.ERASURE_REFUSED.builder
def erasure_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str,
    requests: Sequence[str],
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of an ``erasure_refused`` entry."""
    return layouts.ERASURE_REFUSED.build(locals())


@layouts.LEGAL_HOLD.builder
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
    """Return the body of a ``legal_hold`` entry: a hold placed."""
    return layouts.LEGAL_HOLD.build(locals())


@layouts.LEGAL_HOLD_REFUSED.builder
def legal_hold_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    subject: str | None,
    request: str | None,
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry for placing a hold."""
    return layouts.LEGAL_HOLD_REFUSED.build(locals())


@layouts.LEGAL_HOLD_RELEASE_REFUSED.builder
def legal_hold_release_refused_body(
    *,
    at: dt.datetime,
    actor: str,
    hold: str,
    reason: str,
    refusal: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry for releasing a hold."""
    return layouts.LEGAL_HOLD_RELEASE_REFUSED.build(locals())


@layouts.LEGAL_HOLD_RELEASED.builder
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
    """Return the body of a ``legal_hold_released`` entry."""
    return layouts.LEGAL_HOLD_RELEASED.build(locals())
