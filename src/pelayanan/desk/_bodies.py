"""The bodies of the entries the desk writes: one function per entry kind.

Every writer in the desk builds its entry here, so each kind's fields are spelled in
one place.  The functions take the entry time already formatted (`format_time`) and
return a fresh dict the caller hands to the `Recorder`.  Refusal kinds take the reason
object from `refusal_reason` second, so they fit `RefusalBody`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pelayanan.access import Grant
from pelayanan.routing import AssignmentDecision, RoutingDecision
from pelayanan.sla import ClockChange
from pelayanan.sop.model import SOP
from pelayanan.store.base import RequestRecord

__all__ = [
    "action_body",
    "assignment_body",
    "bukan_wewenang_body",
    "disposition_answer_body",
    "disposition_body",
    "erasure_body",
    "erasure_refused_body",
    "legal_hold_body",
    "legal_hold_refused_body",
    "legal_hold_released_body",
    "migration_body",
    "refused_body",
    "reveal_body",
    "reveal_refused_body",
    "sop_ref",
    "submit_body",
    "survey_body",
]


def sop_ref(sop: SOP) -> dict[str, str]:
    """Return the reference to *sop* that entries carry: id, version, content hash."""
    return {"id": sop.id, "version": sop.version, "hash": sop.content_hash}


def _clocks(changes: Sequence[ClockChange]) -> list[dict[str, Any]]:
    return [{"clock": c.clock, **c.record} for c in changes]


def submit_body(
    time: str,
    *,
    request: str,
    sop: SOP,
    actor: str,
    role: str | None,
    clear: Mapping[str, Any],
    personal: Mapping[str, Any],
    routed: RoutingDecision | None,
    assigned: AssignmentDecision | None,
    changes: Sequence[ClockChange],
) -> dict[str, Any]:
    """Return the body of a ``submit`` entry: a new request under *sop*."""
    body: dict[str, Any] = {
        "time": time,
        "kind": "submit",
        "request": request,
        "sop": sop_ref(sop),
        "action": "submit",
        "actor": actor,
        "role": role,
        "from": None,
        "to": sop.initial,
        "data": dict(clear),
    }
    if personal:
        body["personal"] = dict(personal)
    if routed is not None:
        body["routing"] = routed.record()
    if assigned is not None:
        body["assignment"] = assigned.record()
    if changes:
        body["clocks"] = _clocks(changes)
    return body


def action_body(
    time: str,
    *,
    request: str,
    sop: SOP,
    action: str,
    actor: str,
    grant: Grant,
    source: str,
    target: str,
    clear: Mapping[str, Any],
    personal: Mapping[str, Any],
    justification: str | None,
    changes: Sequence[ClockChange],
) -> dict[str, Any]:
    """Return the body of an ``action`` entry: *action* moved the request *source* -> *target*."""
    body: dict[str, Any] = {
        "time": time,
        "kind": "action",
        "request": request,
        "sop": sop_ref(sop),
        "action": action,
        "actor": actor,
        "role": grant.role,
        "from": source,
        "to": target,
        "data": dict(clear),
    }
    if personal:
        body["personal"] = dict(personal)
    if justification:
        body["justification"] = justification
    if grant.delegation is not None:
        body["authority"] = grant.delegation.record()
    if changes:
        body["clocks"] = _clocks(changes)
    return body


def refused_body(
    time: str,
    reason: dict[str, Any],
    *,
    request: str,
    sop: Mapping[str, str] | None,
    action: str,
    actor: str,
    state: str | None,
    on_behalf_of: str | None = None,
) -> dict[str, Any]:
    """Return the body of a ``refused`` entry: an attempt on a request that was refused."""
    body: dict[str, Any] = {
        "time": time,
        "kind": "refused",
        "request": request,
        "sop": dict(sop) if sop is not None else None,
        "action": action,
        "actor": actor,
        "from": state,
        "reason": reason,
    }
    if on_behalf_of:
        body["on_behalf_of"] = on_behalf_of
    return body


def survey_body(
    time: str,
    *,
    request: str,
    sop: Mapping[str, str],
    actor: str,
    rules: str,
    answers: Mapping[str, int],
) -> dict[str, Any]:
    """Return the body of a ``survey`` entry: one SKM response, nothing about the respondent."""
    return {
        "time": time,
        "kind": "survey",
        "request": request,
        "sop": dict(sop),
        "actor": actor,
        "rules": rules,
        "answers": dict(answers),
    }


def migration_body(
    time: str,
    *,
    request: str,
    sop: SOP,
    from_sop: Mapping[str, str],
    actor: str,
    role: str | None,
    source: str,
    target: str,
    note: str | None,
) -> dict[str, Any]:
    """Return the body of a ``migration`` entry: the request moved to another SOP version."""
    return {
        "time": time,
        "kind": "migration",
        "request": request,
        "sop": sop_ref(sop),
        "from_sop": dict(from_sop),
        "action": "migrate",
        "actor": actor,
        "role": role,
        "from": source,
        "to": target,
        "note": note,
    }


def _routing_base(
    time: str, kind: str, record: RequestRecord, sop: SOP, grant: Grant
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "time": time,
        "kind": kind,
        "request": record.id,
        "sop": sop_ref(sop),
        "actor": grant.actor,
        "state": record.state,
    }
    if grant.role:
        body["role"] = grant.role
    authority = grant.authority()
    if authority is not None:
        body["authority"] = authority
    return body


def assignment_body(
    time: str, *, record: RequestRecord, sop: SOP, grant: Grant, assignment: AssignmentDecision
) -> dict[str, Any]:
    """Return the body of an ``assignment`` entry: who the request was assigned to, and why."""
    body = _routing_base(time, "assignment", record, sop, grant)
    body["assignment"] = assignment.record()
    return body


def disposition_body(
    time: str,
    *,
    record: RequestRecord,
    sop: SOP,
    grant: Grant,
    group: str,
    from_unit: str | None,
    instruction: str,
    created: Sequence[Mapping[str, Any]],
    assignment: AssignmentDecision | None,
    holder: Mapping[str, str | None],
) -> dict[str, Any]:
    """Return the body of a ``disposition`` entry: a disposisi issued to one or more targets."""
    body = _routing_base(time, "disposition", record, sop, grant)
    body.update(
        group=group,
        parent=created[0]["parent"],
        from_unit=from_unit,
        instruction=instruction,
        dispositions=[{k: d[k] for k in ("id", "unit", "officer", "due")} for d in created],
    )
    if assignment is not None:
        body["assignment"] = assignment.record()
    body["holder"] = dict(holder)
    return body


def _closing(
    body: dict[str, Any],
    word: str,
    text: str,
    *,
    disposition: str | None,
    joined: str | None,
    returned_to: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if disposition is not None:
        body["disposition"] = disposition
    if joined is not None:
        body["joined"] = joined
    body[word] = text
    if returned_to is not None:
        body["returned_to"] = dict(returned_to)
    return body


def disposition_answer_body(
    time: str,
    *,
    record: RequestRecord,
    sop: SOP,
    grant: Grant,
    answer: str,
    disposition: str | None,
    joined: str | None,
    returned_to: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the body of a ``disposition_answer`` entry: a disposisi answered."""
    body = _routing_base(time, "disposition_answer", record, sop, grant)
    return _closing(
        body, "answer", answer, disposition=disposition, joined=joined, returned_to=returned_to
    )


def bukan_wewenang_body(
    time: str,
    *,
    record: RequestRecord,
    sop: SOP,
    grant: Grant,
    reason: str,
    disposition: str | None,
    joined: str | None,
    returned_to: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the body of a ``bukan_wewenang`` entry: a request handed back for re-routing."""
    body = _routing_base(time, "bukan_wewenang", record, sop, grant)
    return _closing(
        body, "reason", reason, disposition=disposition, joined=joined, returned_to=returned_to
    )


def reveal_body(time: str, *, actor: str, role: str, purpose: str, **about: Any) -> dict[str, Any]:
    """Return the body of a ``reveal`` entry: who saw whose personal data, and why.

    *about* names what was revealed: ``request``, ``field`` and ``subject`` for one field;
    ``scope="subject"``, ``subject``, ``requests`` and ``fields`` for a subject access.
    """
    return {
        "time": time,
        "kind": "reveal",
        "actor": actor,
        **about,
        "role": role,
        "purpose": purpose,
    }


def reveal_refused_body(
    time: str, reason: dict[str, Any], *, actor: str, purpose: str, **about: Any
) -> dict[str, Any]:
    """Return the body of a ``reveal_refused`` entry; *about* as for `reveal_body`."""
    return {
        "time": time,
        "kind": "reveal_refused",
        "actor": actor,
        **about,
        "purpose": purpose,
        "reason": reason,
    }


def erasure_body(
    time: str,
    *,
    actor: str,
    role: str,
    subject: str,
    kid: str,
    requests: Sequence[str],
    reason: str,
) -> dict[str, Any]:
    """Return the body of an ``erasure`` entry: a data subject's key destroyed."""
    return {
        "time": time,
        "kind": "erasure",
        "actor": actor,
        "role": role,
        "subject": subject,
        "kid": kid,
        "requests": list(requests),
        "reason": reason,
    }


def erasure_refused_body(
    time: str,
    refusal: dict[str, Any],
    *,
    actor: str,
    subject: str,
    requests: Sequence[str],
    reason: str,
) -> dict[str, Any]:
    """Return the body of an ``erasure_refused`` entry (*reason* is the erasure's own)."""
    return {
        "time": time,
        "kind": "erasure_refused",
        "actor": actor,
        "subject": subject,
        "requests": list(requests),
        "reason": reason,
        "refusal": refusal,
    }


def legal_hold_body(
    time: str,
    *,
    actor: str,
    role: str,
    hold: str,
    subject: str | None,
    request: str | None,
    reason: str,
) -> dict[str, Any]:
    """Return the body of a ``legal_hold`` entry: a hold placed on a subject or request."""
    return {
        "time": time,
        "kind": "legal_hold",
        "actor": actor,
        "role": role,
        "hold": hold,
        "subject": subject,
        "request": request,
        "reason": reason,
    }


def legal_hold_released_body(
    time: str,
    *,
    actor: str,
    role: str,
    hold: str,
    subject: str | None,
    request: str | None,
    reason: str,
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_released`` entry."""
    return {
        "time": time,
        "kind": "legal_hold_released",
        "actor": actor,
        "role": role,
        "hold": hold,
        "subject": subject,
        "request": request,
        "reason": reason,
    }


def legal_hold_refused_body(
    time: str, refusal: dict[str, Any], *, actor: str, reason: str, **about: Any
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry (*reason* is the hold's own).

    *about* names the hold: ``subject`` and ``request`` when placing, ``hold`` when
    releasing.
    """
    return {
        "time": time,
        "kind": "legal_hold_refused",
        "actor": actor,
        **about,
        "reason": reason,
        "refusal": refusal,
    }
