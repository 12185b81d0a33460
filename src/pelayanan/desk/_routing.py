"""The desk's routing half: assignment, disposisi, bukan wewenang, and the trail.

`ServiceDesk` inherits these methods; they follow the desk's rule: each call either
commits the request's new state together with one audit entry, or records the refused
attempt and raises a typed error.  The decisions themselves live in `pelayanan.routing`,
`pelayanan.access` and `pelayanan.routing`; this module only wires them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs

from pelayanan.access import AccessPolicy, Actor, DelegationRegistry, Grant, check_access
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import format_time
from pelayanan.clock import Clock, ensure_aware
from pelayanan.exceptions import (
    IncompleteRequestError,
    PermissionDeniedError,
    RequestError,
    TransitionNotAllowedError,
    UnknownRequestError,
)
from pelayanan.routing import (
    AssignmentDecision,
    DispositionTarget,
    RoutingConfig,
    RoutingDecision,
    TrailStep,
    close_disposition,
    find_open,
    issue,
    open_children,
    routing_trail,
)
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry
from pelayanan.store.base import RequestRecord, Store

__all__ = ["RoutingDeskMixin"]


class _Desk(Protocol):
    store: Store
    sops: SOPRegistry
    ledger: str
    clock: Clock
    routing: RoutingConfig | None
    delegations: DelegationRegistry | None
    access_policy: AccessPolicy

    def _sign(self, checkpoint: Checkpoint) -> SignedCheckpoint: ...

    def _record_refusal(
        self,
        request_id: str,
        action: str,
        actor: Actor,
        error: RequestError,
        *,
        sop_ref: Mapping[str, str] | None,
        state: str | None,
        extra: Mapping[str, Any] | None = None,
    ) -> None: ...

    def _route_new(
        self, sop: SOP, data: Mapping[str, Any]
    ) -> tuple[RoutingDecision | None, AssignmentDecision | None]: ...

    def _assign_in(
        self, unit: str, sop: SOP, data: Mapping[str, Any]
    ) -> AssignmentDecision | None: ...

    def _commit(
        self,
        record: RequestRecord,
        updated: RequestRecord,
        body: dict[str, Any],
    ) -> RequestRecord: ...

    def _load(
        self, request_id: str, action: str, actor: Actor, on_behalf_of: str | None
    ) -> tuple[RequestRecord, SOP, dt.datetime]: ...

    def _grant(
        self,
        by: Actor,
        action: str,
        record: RequestRecord,
        *,
        roles: Sequence[str],
        on_behalf_of: str | None,
        now: dt.datetime,
    ) -> tuple[Grant, str | None]: ...

    def _close(
        self,
        request_id: str,
        action: str,
        *,
        by: Actor,
        text: str,
        disposition: str | None,
        on_behalf_of: str | None,
    ) -> RequestRecord: ...


def _sop_ref(sop: SOP) -> dict[str, str]:
    return {"id": sop.id, "version": sop.version, "hash": sop.content_hash}


class RoutingDeskMixin:
    """Routing, assignment and disposisi operations of `pelayanan.desk.ServiceDesk`."""

    # -- shared internals -------------------------------------------------------------------

    def _route_new(
        self: _Desk, sop: SOP, data: Mapping[str, Any]
    ) -> tuple[RoutingDecision | None, AssignmentDecision | None]:
        """Route a new request and pick its officer; ``(None, None)`` without routing."""
        if self.routing is None:
            return None, None
        decision = self.routing.table.route(self.routing.attributes(sop.id, data))
        return decision, self._assign_in(decision.unit, sop, data)

    def _assign_in(
        self: _Desk, unit: str, sop: SOP, data: Mapping[str, Any]
    ) -> AssignmentDecision | None:
        """Return the unit's assignment decision, or ``None`` when it has no policy."""
        if self.routing is None or unit not in self.routing.units:
            return None
        policy = self.routing.units[unit]
        counts = self.store.assignee_counts(unit)
        return policy.choose(counts, attributes=self.routing.attributes(sop.id, data))

    def _load(
        self: _Desk, request_id: str, action: str, actor: Actor, on_behalf_of: str | None
    ) -> tuple[RequestRecord, SOP, dt.datetime]:
        now = ensure_aware(self.clock.now(), what="clock time")
        record = self.store.get_request(request_id)
        extra = {"on_behalf_of": on_behalf_of} if on_behalf_of else None
        if record is None:
            error = UnknownRequestError(request_id)
            self._record_refusal(
                request_id, action, actor, error, sop_ref=None, state=None, extra=extra
            )
            raise error
        sop = self.sops.get(record.sop_id, record.sop_version)
        if record.closed:
            closed = TransitionNotAllowedError(action, record.state)
            self._record_refusal(
                request_id, action, actor, closed, sop_ref=_sop_ref(sop), state=record.state,
                extra=extra,
            )  # fmt: skip
            raise closed
        return record, sop, now

    def _commit(
        self: _Desk, record: RequestRecord, updated: RequestRecord, body: dict[str, Any]
    ) -> RequestRecord:
        self.store.append(
            self.ledger,
            body,
            time=updated.updated_at,
            request=updated,
            expected_version=record.version,
            sign=self._sign,
        )
        return updated

    @staticmethod
    def _body(
        kind: str, record: RequestRecord, sop: SOP, grant: Grant, now: dt.datetime
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "time": format_time(now),
            "kind": kind,
            "request": record.id,
            "sop": _sop_ref(sop),
            "actor": grant.actor,
            "state": record.state,
        }
        if grant.role:
            body["role"] = grant.role
        authority = grant.authority()
        if authority is not None:
            body["authority"] = authority
        return body

    def _grant(
        self: _Desk,
        by: Actor,
        action: str,
        record: RequestRecord,
        *,
        roles: Sequence[str],
        on_behalf_of: str | None,
        now: dt.datetime,
    ) -> tuple[Grant, str | None]:
        """Check roles and delegation; return the grant and the unit it acts for."""
        grant = check_access(
            by,
            action,
            allowed_roles=roles,
            on_behalf_of=on_behalf_of,
            delegations=self.delegations,
            at=now,
            unit=record.unit,
        )
        unit = by.unit
        if grant.delegation is not None and grant.delegation.unit is not None:
            unit = grant.delegation.unit
        return grant, unit

    # -- public API -------------------------------------------------------------------------

    def assign(
        self: _Desk,
        request_id: str,
        *,
        by: Actor,
        officer: str | None = None,
        on_behalf_of: str | None = None,
    ) -> RequestRecord:
        """Assign request *request_id* to *officer*, or by its unit's strategy when ``None``.

        Only a holder of a disposition role in the request's unit may assign.

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is closed (recorded).
            PermissionDeniedError: role, delegation or unit refuses it (recorded).
        """
        record, sop, now = self._load(request_id, "assign", by, on_behalf_of)
        roles = self.routing.disposition_roles if self.routing is not None else ()
        try:
            if not roles:
                msg = "no role may assign: declare disposition.roles in the routing configuration"
                raise PermissionDeniedError(msg, rule="role")
            grant, unit = self._grant(
                by, "assign", record, roles=roles, on_behalf_of=on_behalf_of, now=now
            )
            if unit != record.unit:
                msg = f"actor {by.id!r} may not assign: the request is held by {record.unit!r}"
                raise PermissionDeniedError(msg, rule="assignment:not_holder")
        except PermissionDeniedError as exc:
            extra = {"on_behalf_of": on_behalf_of} if on_behalf_of else None
            self._record_refusal(
                request_id, "assign", by, exc, sop_ref=_sop_ref(sop), state=record.state,
                extra=extra,
            )  # fmt: skip
            raise
        if officer is not None:
            decision = AssignmentDecision(
                str(record.unit), officer, "manual", f"chosen by {grant.actor}"
            )
        else:
            chosen = self._assign_in(str(record.unit), sop, record.data)
            decision = chosen or AssignmentDecision(
                str(record.unit), None, "manual", "the unit has no assignment policy"
            )
        body = RoutingDeskMixin._body("assignment", record, sop, grant, now)
        body["assignment"] = decision.record()
        updated = attrs.evolve(
            record, version=record.version + 1, assignee=decision.assignee, updated_at=now
        )
        return self._commit(record, updated, body)

    def dispose(
        self: _Desk,
        request_id: str,
        *,
        by: Actor,
        to: str | DispositionTarget | Sequence[str | DispositionTarget],
        instruction: str,
        due: dt.datetime | None = None,
        on_behalf_of: str | None = None,
    ) -> RequestRecord:
        """Issue a disposisi: send the request to units or officers with an instruction.

        Several targets make parallel dispositions that join when all have answered.  A
        holder of a disposition role may dispose a request its unit holds, or one it was
        itself sent by an open disposition (a chain).

        Args:
            request_id: the request.
            by: the superior who disposes.
            to: a unit id, a `DispositionTarget`, or a list of them.
            instruction: what the targets are asked to do.
            due: the due date of targets that do not carry their own.
            on_behalf_of: act with this official's authority (Plt/Plh).

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is closed (recorded).
            PermissionDeniedError: role, delegation or holder check refuses it (recorded).
            IncompleteRequestError: no target, no instruction, or a bad due date (recorded).
        """
        record, sop, now = self._load(request_id, "dispose", by, on_behalf_of)
        items = [to] if isinstance(to, str | DispositionTarget) else list(to)
        targets = [DispositionTarget(unit=t) if isinstance(t, str) else t for t in items]
        roles = self.routing.disposition_roles if self.routing is not None else ()
        try:
            if not roles:
                msg = "no role may dispose: declare disposition.roles in the routing configuration"
                raise PermissionDeniedError(msg, rule="role")
            grant, unit = self._grant(
                by, "dispose", record, roles=roles, on_behalf_of=on_behalf_of, now=now
            )
            received = find_open(record.meta, unit=unit, ids=grant.ids)
            if unit != record.unit and not received:
                msg = (
                    f"actor {by.id!r} may not dispose: the request is held by {record.unit!r} "
                    "and no open disposisi was sent to them"
                )
                raise PermissionDeniedError(msg, rule="disposition:not_holder")
            missing = [] if targets else ["to"]
            if not instruction.strip():
                missing.append("instruction")
            if missing:
                raise IncompleteRequestError("dispose", missing)
            try:
                meta, group, created = issue(
                    record.meta,
                    targets,
                    by=grant.actor,
                    from_unit=unit,
                    parent=received[0]["id"] if received else None,
                    instruction=instruction,
                    due=due,
                    at=now,
                )
            except ValueError as exc:
                raise IncompleteRequestError("dispose", [f"due ({exc})"]) from None
        except RequestError as exc:
            extra = {"on_behalf_of": on_behalf_of} if on_behalf_of else None
            self._record_refusal(
                request_id, "dispose", by, exc, sop_ref=_sop_ref(sop), state=record.state,
                extra=extra,
            )  # fmt: skip
            raise
        body = RoutingDeskMixin._body("disposition", record, sop, grant, now)
        body.update(
            group=group,
            parent=created[0]["parent"],
            from_unit=unit,
            instruction=instruction,
            dispositions=[{k: d[k] for k in ("id", "unit", "officer", "due")} for d in created],
        )
        new_unit, assignee = record.unit, record.assignee
        if len(targets) == 1:
            (target,) = targets
            new_unit = target.unit or record.unit
            assignee = target.officer
            if target.officer is None and target.unit is not None:
                decision = self._assign_in(target.unit, sop, record.data)
                if decision is not None:
                    body["assignment"] = decision.record()
                    assignee = decision.assignee
        body["holder"] = {"unit": new_unit, "assignee": assignee}
        updated = attrs.evolve(
            record,
            version=record.version + 1,
            meta=meta,
            unit=new_unit,
            assignee=assignee,
            updated_at=now,
        )
        return self._commit(record, updated, body)

    def _close(
        self: _Desk,
        request_id: str,
        action: str,
        *,
        by: Actor,
        text: str,
        disposition: str | None,
        on_behalf_of: str | None,
    ) -> RequestRecord:
        """Answer or return (bukan wewenang) a disposition, or return a routed request."""
        record, sop, now = self._load(request_id, action, by, on_behalf_of)
        word = "answer" if action == "answer_disposition" else "reason"
        returned: dict[str, Any] | None = None
        try:
            grant, unit = self._grant(
                by, action, record, roles=(), on_behalf_of=on_behalf_of, now=now
            )
            if not text.strip():
                raise IncompleteRequestError(action, [word])
            mine = find_open(record.meta, unit=unit, ids=grant.ids)
            if disposition is not None:
                mine = [d for d in mine if d["id"] == disposition]
            if not mine and action == "bukan_wewenang" and disposition is None:
                # Routed by a rule, not by a disposisi: the holder hands it back to triage.
                if unit != record.unit and record.assignee not in grant.ids:
                    msg = f"actor {by.id!r} does not hold request {request_id!r}"
                    raise PermissionDeniedError(msg, rule="disposition:not_holder")
                triage = self.routing.table.triage if self.routing is not None else None
                returned = {"unit": triage or sop.unit, "assignee": None}
            elif not mine:
                msg = (
                    f"actor {by.id!r} has no open disposisi "
                    f"{disposition or ''} on request {request_id!r}".replace("  ", " ")
                )
                raise PermissionDeniedError(msg, rule="disposition:not_addressee")
            elif len(mine) > 1:
                # Someone addressed both personally and through their unit answers the
                # innermost order first: one without open sub-dispositions, personal first.
                leaves = [d for d in mine if not open_children(record.meta, d["id"])]
                personal = [d for d in leaves if d.get("officer") in grant.ids]
                if len(personal) == 1 or len(leaves) == 1:
                    mine = personal if len(personal) == 1 else leaves
                elif leaves:
                    ids = ", ".join(d["id"] for d in leaves)
                    raise IncompleteRequestError(action, [f"disposition (one of {ids})"])
            if mine and open_children(record.meta, mine[0]["id"]):
                children = ", ".join(open_children(record.meta, mine[0]["id"]))
                msg = f"disposisi {mine[0]['id']} still waits for {children}: answer them first"
                raise TransitionNotAllowedError(action, f"{record.state} ({msg})")
        except RequestError as exc:
            extra = {"on_behalf_of": on_behalf_of} if on_behalf_of else None
            self._record_refusal(
                request_id, action, by, exc, sop_ref=_sop_ref(sop), state=record.state,
                extra=extra,
            )  # fmt: skip
            raise
        kind = "disposition_answer" if action == "answer_disposition" else "bukan_wewenang"
        body = RoutingDeskMixin._body(kind, record, sop, grant, now)
        meta: Mapping[str, Any] = record.meta
        if returned is None:
            status = "answered" if kind == "disposition_answer" else "returned"
            meta, item, joined = close_disposition(
                record.meta, mine[0]["id"], status=status, by=grant.actor, text=text, at=now
            )
            body["disposition"] = item["id"]
            if joined is not None:
                body["joined"] = joined["group"]
                returned = {"unit": joined["unit"], "assignee": joined["assignee"]}
            elif record.unit == item.get("unit") or record.assignee == item.get("officer"):
                # Its part is done but the parallel group still waits for others: the
                # request waits with whoever issued the group, not with this target.
                returned = {"unit": item["from_unit"], "assignee": item["by"]}
        body[word] = text
        unit_now, assignee_now = record.unit, record.assignee
        if returned is not None:
            body["returned_to"] = returned
            unit_now, assignee_now = returned["unit"], returned["assignee"]
        updated = attrs.evolve(
            record,
            version=record.version + 1,
            meta=meta,
            unit=unit_now,
            assignee=assignee_now,
            updated_at=now,
        )
        return self._commit(record, updated, body)

    def answer_disposition(
        self: _Desk,
        request_id: str,
        *,
        by: Actor,
        answer: str,
        disposition: str | None = None,
        on_behalf_of: str | None = None,
    ) -> RequestRecord:
        """Answer a disposisi addressed to *by* (its unit or itself).

        When it was the last open disposition of its group, the group joins and the
        request returns to whoever issued it.

        Args:
            request_id: the request.
            by: who answers (a member of the target unit, or the target officer).
            answer: the answer (laporan tindak lanjut).
            disposition: which disposition (needed only when several are addressed to *by*).
            on_behalf_of: answer with this official's authority (Plt/Plh).

        Raises:
            UnknownRequestError: no such request (recorded).
            PermissionDeniedError: no open disposition is addressed to *by* (recorded).
            IncompleteRequestError: no answer, or which disposition is ambiguous (recorded).
            TransitionNotAllowedError: closed, or sub-dispositions still open (recorded).
        """
        return self._close(
            request_id,
            "answer_disposition",
            by=by,
            text=answer,
            disposition=disposition,
            on_behalf_of=on_behalf_of,
        )

    def bukan_wewenang(
        self: _Desk,
        request_id: str,
        *,
        by: Actor,
        reason: str,
        disposition: str | None = None,
        on_behalf_of: str | None = None,
    ) -> RequestRecord:
        """Return a request as "bukan wewenang" (not our authority) for re-routing.

        A disposition addressed to *by* is marked returned and the request goes back to
        whoever issued it; a request routed to *by*'s unit by a rule goes back to the
        triage unit (or the SOP's unit).  Never a dead end.

        Args:
            request_id: the request.
            by: who returns it.
            reason: why it is not their authority (recorded).
            disposition: which disposition (needed only when several are addressed to *by*).
            on_behalf_of: act with this official's authority (Plt/Plh).

        Raises:
            UnknownRequestError: no such request (recorded).
            PermissionDeniedError: *by* neither holds it nor received a disposisi (recorded).
            IncompleteRequestError: no reason (recorded).
            TransitionNotAllowedError: closed, or sub-dispositions still open (recorded).
        """
        return self._close(
            request_id,
            "bukan_wewenang",
            by=by,
            text=reason,
            disposition=disposition,
            on_behalf_of=on_behalf_of,
        )

    def why(self: _Desk, request_id: str) -> list[TrailStep]:
        """Return the routing, assignment and disposisi decisions on *request_id*, from the log.

        Raises:
            UnknownRequestError: no such request.
        """
        record = self.store.get_request(request_id)
        if record is None:
            raise UnknownRequestError(request_id)
        entries = (json.loads(e.data) for e in self.store.entries(record.ledger))
        return routing_trail(entries, request_id)
