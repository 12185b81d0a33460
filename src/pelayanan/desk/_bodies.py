"""The bodies of the entries the desk writes: one function per entry kind.

Every writer in the desk builds its entry here, so each kind's fields are spelled in
one place.  The functions take the entry time already formatted (`format_time`) and
return a fresh dict the caller hands to the `Recorder`.  Refusal kinds take the reason
object from `refusal_reason` second, so they fit `RefusalBody`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pelayanan.access import Grant
from pelayanan.privacy.settings import Sealed
from pelayanan.routing import AssignmentDecision, RoutingDecision
from pelayanan.sla import ClockChange
from pelayanan.sop.model import SOP
from pelayanan.store.base import RequestRecord
from pelayanan.store.vault import LegalHold

__all__ = [
    "Attempt",
    "Transition",
    "Closing",
    "Decision",
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


@attrs.frozen
class Transition:
    """A request moving from one state to another, as its entry records it."""

    request: str
    sop: SOP
    action: str
    actor: str
    role: str | None
    source: str | None
    target: str
    sealed: Sealed
    changes: Sequence[ClockChange]


def _transition(time: str, kind: str, step: Transition) -> dict[str, Any]:
    body: dict[str, Any] = {
        "time": time,
        "kind": kind,
        "request": step.request,
        "sop": sop_ref(step.sop),
        "action": step.action,
        "actor": step.actor,
        "role": step.role,
        "from": step.source,
        "to": step.target,
        "data": dict(step.sealed.clear),
    }
    if step.sealed.sealed:
        body["personal"] = dict(step.sealed.sealed)
    return body


def _with_clocks(body: dict[str, Any], changes: Sequence[ClockChange]) -> dict[str, Any]:
    if changes:
        body["clocks"] = [{"clock": c.clock, **c.record} for c in changes]
    return body


def submit_body(
    time: str,
    step: Transition,
    *,
    routed: RoutingDecision | None,
    assigned: AssignmentDecision | None,
) -> dict[str, Any]:
    """Return the body of a ``submit`` entry: a new request, routed and assigned."""
    body = _transition(time, "submit", step)
    if routed is not None:
        body["routing"] = routed.record()
    if assigned is not None:
        body["assignment"] = assigned.record()
    return _with_clocks(body, step.changes)


def action_body(
    time: str,
    step: Transition,
    *,
    justification: str | None,
    authority: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the body of an ``action`` entry: an action moved a request between states."""
    body = _transition(time, "action", step)
    if justification:
        body["justification"] = justification
    if authority is not None:
        body["authority"] = dict(authority)
    return _with_clocks(body, step.changes)


@attrs.frozen
class Attempt:
    """An attempt on a request, as its refusal records it."""

    request: str
    sop: Mapping[str, str] | None
    action: str
    actor: str
    state: str | None
    on_behalf_of: str | None = None


def refused_body(time: str, reason: dict[str, Any], attempt: Attempt) -> dict[str, Any]:
    """Return the body of a ``refused`` entry: an attempt on a request that was refused."""
    body: dict[str, Any] = {
        "time": time,
        "kind": "refused",
        "request": attempt.request,
        "sop": dict(attempt.sop) if attempt.sop is not None else None,
        "action": attempt.action,
        "actor": attempt.actor,
        "from": attempt.state,
        "reason": reason,
    }
    if attempt.on_behalf_of:
        body["on_behalf_of"] = attempt.on_behalf_of
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


@attrs.frozen
class Decision:
    """A routing decision about to be recorded: the request before it, its SOP, the grant."""

    record: RequestRecord
    sop: SOP
    grant: Grant


@attrs.frozen
class Closing:
    """How a disposisi was closed: which one, the group it joined, where the request went."""

    disposition: str | None
    joined: str | None
    returned_to: Mapping[str, Any] | None


def _routing_base(time: str, kind: str, decision: Decision) -> dict[str, Any]:
    record, grant = decision.record, decision.grant
    body: dict[str, Any] = {
        "time": time,
        "kind": kind,
        "request": record.id,
        "sop": sop_ref(decision.sop),
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
    time: str, decision: Decision, assignment: AssignmentDecision
) -> dict[str, Any]:
    """Return the body of an ``assignment`` entry: who the request was assigned to, and why."""
    body = _routing_base(time, "assignment", decision)
    body["assignment"] = assignment.record()
    return body


def disposition_body(
    time: str,
    decision: Decision,
    *,
    group: str,
    from_unit: str | None,
    instruction: str,
    created: Sequence[Mapping[str, Any]],
    assignment: AssignmentDecision | None,
    holder: Mapping[str, str | None],
) -> dict[str, Any]:
    """Return the body of a ``disposition`` entry: a disposisi issued to one or more targets."""
    body = _routing_base(time, "disposition", decision)
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


def _closed(body: dict[str, Any], closing: Closing) -> dict[str, Any]:
    if closing.disposition is not None:
        body["disposition"] = closing.disposition
    if closing.joined is not None:
        body["joined"] = closing.joined
    if closing.returned_to is not None:
        body["returned_to"] = dict(closing.returned_to)
    return body


def disposition_answer_body(
    time: str, decision: Decision, answer: str, closing: Closing
) -> dict[str, Any]:
    """Return the body of a ``disposition_answer`` entry: a disposisi answered."""
    body = _routing_base(time, "disposition_answer", decision)
    body["answer"] = answer
    return _closed(body, closing)


def bukan_wewenang_body(
    time: str, decision: Decision, reason: str, closing: Closing
) -> dict[str, Any]:
    """Return the body of a ``bukan_wewenang`` entry: a request handed back for re-routing."""
    body = _routing_base(time, "bukan_wewenang", decision)
    body["reason"] = reason
    return _closed(body, closing)


def _entry(time: str, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
    """Return the frame every privacy entry shares (time, kind, actor) with its fields."""
    return {"time": time, "kind": kind, "actor": actor, **fields}


def reveal_body(time: str, *, actor: str, role: str, purpose: str, **about: Any) -> dict[str, Any]:
    """Return the body of a ``reveal`` entry: who saw whose personal data, and why.

    *about* names what was revealed: ``request``, ``field`` and ``subject`` for one field;
    ``scope="subject"``, ``subject``, ``requests`` and ``fields`` for a subject access.
    """
    return _entry(time, "reveal", actor, **about, role=role, purpose=purpose)


def reveal_refused_body(
    time: str, reason: dict[str, Any], *, actor: str, purpose: str, **about: Any
) -> dict[str, Any]:
    """Return the body of a ``reveal_refused`` entry; *about* as for `reveal_body`."""
    return _entry(time, "reveal_refused", actor, **about, purpose=purpose, reason=reason)


def erasure_body(
    time: str, *, actor: str, role: str, subject: str, kid: str, requests: list[str], reason: str
) -> dict[str, Any]:
    """Return the body of an ``erasure`` entry: a data subject's key destroyed."""
    about = {"subject": subject, "kid": kid, "requests": list(requests), "reason": reason}
    return _entry(time, "erasure", actor, role=role, **about)


def erasure_refused_body(
    time: str,
    refusal: dict[str, Any],
    *,
    actor: str,
    subject: str,
    requests: list[str],
    reason: str,
) -> dict[str, Any]:
    """Return the body of an ``erasure_refused`` entry (*reason* is the erasure's own)."""
    about = {"subject": subject, "requests": list(requests), "reason": reason}
    return _entry(time, "erasure_refused", actor, **about, refusal=refusal)


def _held(hold: LegalHold) -> dict[str, Any]:
    return {"hold": hold.id, "subject": hold.subject, "request": hold.request}


def legal_hold_body(time: str, hold: LegalHold, *, role: str) -> dict[str, Any]:
    """Return the body of a ``legal_hold`` entry: *hold* placed on a subject or request."""
    return _entry(time, "legal_hold", hold.placed_by, role=role, **_held(hold), reason=hold.reason)


def legal_hold_released_body(
    time: str, hold: LegalHold, *, actor: str, role: str, reason: str
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_released`` entry (*reason* is the release's)."""
    return _entry(time, "legal_hold_released", actor, role=role, **_held(hold), reason=reason)


def legal_hold_refused_body(
    time: str, refusal: dict[str, Any], *, actor: str, reason: str, **about: Any
) -> dict[str, Any]:
    """Return the body of a ``legal_hold_refused`` entry (*reason* is the hold's own).

    *about* names the hold: ``subject`` and ``request`` when placing, ``hold`` when
    releasing.
    """
    return _entry(time, "legal_hold_refused", actor, **about, reason=reason, refusal=refusal)
