"""The desk's routing collaborator: assignment, disposisi, bukan wewenang, and the trail.

Each operation either commits the request's new state together with one audit entry, or
records the refused attempt and raises a typed error.  The decisions themselves live in
`pelayanan.routing` and `pelayanan.access`; this module only wires them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pelayanan.access import Actor, Grant, check_access
from pelayanan.audit import kinds
from pelayanan.desk._bounds import Bounds
from pelayanan.desk._recorder import Attempt, Recorder, refused, sop_entry_ref
from pelayanan.desk._result import ActionResult
from pelayanan.exceptions import (
    IncompleteRequestError,
    PermissionDeniedError,
    RequestError,
    RoutingError,
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
from pelayanan.store.base import RequestRecord

__all__ = ["Routing"]


@attrs.frozen
class _Closing:
    """How a disposisi was closed: which one, the group it joined, where the request went."""

    disposition: str | None
    joined: str | None
    returned_to: Mapping[str, Any] | None


def _decided(attempt: Attempt, grant: Grant) -> dict[str, Any]:
    """Return the fields every routing entry shares (the builders' keyword arguments)."""
    authority = grant.authority()
    return {
        "at": attempt.now,
        "request": attempt.record.id,
        "sop": sop_entry_ref(attempt.sop),
        "actor": grant.actor,
        "state": attempt.record.state,
        "role": grant.role,
        "authority": dict(authority) if authority is not None else None,
    }


@attrs.define(kw_only=True, eq=False, slots=False)
class Routing:
    """Route, assign and dispose requests for a desk, recording through its `Recorder`.

    Args:
        recorder: the desk's recorder.
        sops: the desk's SOPs.
        config: routing rules, assignment policies and disposition roles; ``None``:
            requests stay with their SOP's unit and nobody may assign or dispose.
    """

    _recorder: Recorder
    _sops: SOPRegistry
    _config: RoutingConfig | None

    # -- used by the request collaborator ------------------------------------------------

    def route_new(
        self, sop: SOP, data: Mapping[str, Any]
    ) -> tuple[RoutingDecision | None, AssignmentDecision | None]:
        """Route a new request and pick its officer; ``(None, None)`` without routing."""
        if self._config is None:
            return None, None
        decision = self._config.table.route(self._config.attributes(sop.id, data))
        return decision, self._assign_in(decision.unit, sop, data)

    def route_action(
        self, sop: SOP, action: str, route: str, data: Mapping[str, Any]
    ) -> tuple[RoutingDecision, AssignmentDecision | None]:
        """Route a request as an SOP action's ``route`` says, and pick its officer.

        Args:
            sop: the request's SOP.
            action: the action, for messages.
            route: ``rules`` (the routing rules on *data*) or ``field:<name>`` (the unit
                the field names).
            data: the request's non-personal data after the action.

        Returns:
            The routing decision and, when the unit has a policy, the assignment.

        Raises:
            RoutingError: ``rules`` without a routing configuration, or no rule matched.
            IncompleteRequestError: the field naming the unit is empty.
        """
        if route == "rules":
            if self._config is None:
                msg = (
                    f"action {action!r} routes by the routing rules: give the desk a "
                    "routing configuration"
                )
                raise RoutingError(msg)
            decision = self._config.table.route(self._config.attributes(sop.id, data))
            return decision, self._assign_in(decision.unit, sop, data)
        name = route.removeprefix("field:")
        unit = data.get(name)
        if not isinstance(unit, str) or not unit.strip():
            raise IncompleteRequestError(action, [name])
        decision = RoutingDecision(unit, f"field:{name}", None, {name: unit})
        return decision, self._assign_in(unit, sop, data)

    # -- operations -----------------------------------------------------------------------

    def assign(
        self,
        request_id: str,
        *,
        actor: Actor,
        officer: str | None,
        on_behalf_of: str | None,
    ) -> ActionResult:
        """Assign the request to *officer*, or by its unit's strategy (`ServiceDesk.assign`)."""
        attempt = self._load(request_id, "assign", actor, on_behalf_of, ids={"officer": officer})
        record = attempt.record
        try:
            grant, unit = self._grant(attempt, roles=self._disposition_roles("assign"))
            if unit != record.unit:
                msg = f"actor {actor.id!r} may not assign: the request is held by {record.unit!r}"
                raise PermissionDeniedError(msg, rule="assignment:not_holder")
        except PermissionDeniedError as exc:
            self._refuse(attempt, exc)
            raise
        if officer is not None:
            decision = AssignmentDecision(
                str(record.unit), officer, "manual", f"chosen by {grant.actor}"
            )
        else:
            chosen = self._assign_in(str(record.unit), attempt.sop, record.data)
            decision = chosen or AssignmentDecision(
                str(record.unit), None, "manual", "the unit has no assignment policy"
            )
        body = kinds.assignment_body(**_decided(attempt, grant), assignment=decision.record())
        updated = attrs.evolve(
            record, version=record.version + 1, assignee=decision.assignee, updated_at=attempt.now
        )
        return self._commit(record, updated, body)

    def dispose(
        self,
        request_id: str,
        *,
        actor: Actor,
        to: str | DispositionTarget | Sequence[str | DispositionTarget],
        instruction: str,
        due: dt.datetime | None,
        on_behalf_of: str | None,
    ) -> ActionResult:
        """Issue a disposisi to units or officers (`ServiceDesk.dispose`)."""
        attempt = self._load(
            request_id, "dispose", actor, on_behalf_of, texts={"instruction": instruction}
        )
        record = attempt.record
        items = [to] if isinstance(to, str | DispositionTarget) else list(to)
        targets = [DispositionTarget(unit=t) if isinstance(t, str) else t for t in items]
        try:
            grant, unit = self._grant(attempt, roles=self._disposition_roles("dispose"))
            received = find_open(record.meta, unit=unit, ids=grant.ids)
            if unit != record.unit and not received:
                msg = (
                    f"actor {actor.id!r} may not dispose: the request is held by "
                    f"{record.unit!r} and no open disposisi was sent to them"
                )
                raise PermissionDeniedError(msg, rule="disposition:not_holder")
            missing = [] if targets else ["to"]
            if not instruction.strip():
                missing.append("instruction")
            if missing:
                raise IncompleteRequestError("dispose", arguments=missing)
            try:
                meta, group, created = issue(
                    record.meta,
                    targets,
                    by=grant.actor,
                    from_unit=unit,
                    parent=received[0]["id"] if received else None,
                    instruction=instruction,
                    due=due,
                    at=attempt.now,
                )
            except ValueError as exc:
                raise IncompleteRequestError("dispose", arguments=[f"due ({exc})"]) from None
        except RequestError as exc:
            self._refuse(attempt, exc)
            raise
        new_unit, assignee = record.unit, record.assignee
        decision: AssignmentDecision | None = None
        if len(targets) == 1:
            (target,) = targets
            new_unit = target.unit or record.unit
            assignee = target.officer
            if target.officer is None and target.unit is not None:
                decision = self._assign_in(target.unit, attempt.sop, record.data)
                if decision is not None:
                    assignee = decision.assignee
        body = kinds.disposition_body(
            **_decided(attempt, grant),
            group=group,
            parent=created[0]["parent"],
            from_unit=unit,
            instruction=instruction,
            dispositions=[{k: d[k] for k in ("id", "unit", "officer", "due")} for d in created],
            assignment=decision.record() if decision is not None else None,
            holder={"unit": new_unit, "assignee": assignee},
        )
        return self._commit(record, _moved(record, meta, new_unit, assignee, attempt.now), body)

    def close(
        self,
        request_id: str,
        action: str,
        *,
        actor: Actor,
        text: str,
        disposition: str | None,
        on_behalf_of: str | None,
    ) -> ActionResult:
        """Answer a disposisi, or return a request as not our authority.

        *action* is ``"answer_disposition"`` (`ServiceDesk.answer_disposition`, *text* the
        answer) or ``"bukan_wewenang"`` (`ServiceDesk.bukan_wewenang`, *text* the reason).
        """
        word = "answer" if action == "answer_disposition" else "reason"
        attempt = self._load(
            request_id,
            action,
            actor,
            on_behalf_of,
            ids={"disposition": disposition},
            texts={word: text},
        )
        grant, mine, returned = self._closing(attempt, text, disposition)
        meta, closing = self._close_item(attempt, grant, mine, returned, text)
        shared = _decided(attempt, grant)
        returned_to = closing.returned_to
        if action == "answer_disposition":
            body = kinds.disposition_answer_body(
                **shared,
                answer=text,
                disposition=str(closing.disposition),
                joined=closing.joined,
                returned_to=returned_to,
            )
        else:
            body = kinds.bukan_wewenang_body(
                **shared,
                reason=text,
                disposition=closing.disposition,
                joined=closing.joined,
                returned_to=returned_to,
            )
        record = attempt.record
        unit, assignee = record.unit, record.assignee
        if closing.returned_to is not None:
            unit, assignee = closing.returned_to["unit"], closing.returned_to["assignee"]
        return self._commit(record, _moved(record, meta, unit, assignee, attempt.now), body)

    def why(self, request_id: str) -> list[TrailStep]:
        """Return the routing decisions on *request_id*, from the log (`ServiceDesk.why`)."""
        store = self._recorder.store
        record = store.get_request(request_id)
        if record is None:
            raise UnknownRequestError(request_id)
        entries = (json.loads(e.data) for e in store.entries(record.ledger))
        return routing_trail(entries, request_id)

    # -- internals ------------------------------------------------------------------------

    def _assign_in(self, unit: str, sop: SOP, data: Mapping[str, Any]) -> AssignmentDecision | None:
        """Return the unit's assignment decision, or ``None`` when it has no policy."""
        if self._config is None or unit not in self._config.units:
            return None
        policy = self._config.units[unit]
        counts = self._recorder.store.assignee_counts(unit)
        return policy.choose(counts, attributes=self._config.attributes(sop.id, data))

    def _disposition_roles(self, verb: str) -> tuple[str, ...]:
        """Return the roles that may assign and dispose, refusing when none is declared."""
        roles = tuple(self._config.disposition_roles) if self._config is not None else ()
        if not roles:
            msg = f"no role may {verb}: declare disposition.roles in the routing configuration"
            raise PermissionDeniedError(msg, rule="role")
        return roles

    def _refuse(self, attempt: Attempt, error: RequestError) -> None:
        self._recorder.refuse(error, attempt.refused())

    def _load(
        self,
        request_id: str,
        action: str,
        actor: Actor,
        on_behalf_of: str | None,
        *,
        ids: Mapping[str, str | None] | None = None,
        texts: Mapping[str, str | None] | None = None,
    ) -> Attempt:
        """Load the open request an operation acts on; record and raise when it cannot.

        *ids* and *texts* are further caller values the operation records, by name, held
        to `MAX_ID_LENGTH` and `MAX_TEXT_LENGTH`.

        Raises:
            InvalidFieldValueError: a caller value is too long (recorded).
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is closed (recorded).
        """
        now = self._recorder.now()
        bounds = Bounds()
        named = bounds.id(request_id, "request_id")
        behalf = bounds.optional_id(on_behalf_of, "on_behalf_of")
        for name, value in (ids or {}).items():
            bounds.optional_id(value, name)
        for name, value in (texts or {}).items():
            bounds.optional_text(value, name)
        error: RequestError | None = bounds.error(action)
        record = None if error is not None else self._recorder.store.get_request(request_id)
        if record is None:
            error = error or UnknownRequestError(request_id)
            tried = refused(
                named,
                sop=None,
                action=action,
                actor=actor.id,
                state=None,
                on_behalf_of=behalf,
            )
            self._recorder.refuse(error, tried)
            raise error
        sop = self._sops.get(record.sop_id, record.sop_version)
        attempt = Attempt(record, sop, action, actor, on_behalf_of, now)
        if record.closed:
            closed = TransitionNotAllowedError(action, record.state)
            self._refuse(attempt, closed)
            raise closed
        return attempt

    def _grant(self, attempt: Attempt, *, roles: Sequence[str]) -> tuple[Grant, str | None]:
        """Check roles and delegation; return the grant and the unit it acts for."""
        grant = check_access(
            attempt.actor,
            attempt.action,
            allowed_roles=roles,
            on_behalf_of=attempt.on_behalf_of,
            delegations=self._recorder.delegations,
            at=attempt.now,
            unit=attempt.record.unit,
            policy=self._recorder.access_policy,
        )
        unit = attempt.actor.unit
        if grant.delegation is not None and grant.delegation.unit is not None:
            unit = grant.delegation.unit
        return grant, unit

    def _closing(
        self, attempt: Attempt, text: str, disposition: str | None
    ) -> tuple[Grant, list[dict[str, Any]], dict[str, Any] | None]:
        """Check who may answer or return; return the grant, their disposition, the return.

        The return is where a request routed by a rule (not by a disposisi) goes back to.
        """
        try:
            grant, unit = self._grant(attempt, roles=())
            if not text.strip():
                word = "answer" if attempt.action == "answer_disposition" else "reason"
                raise IncompleteRequestError(attempt.action, arguments=[word])
            mine = find_open(attempt.record.meta, unit=unit, ids=grant.ids)
            if disposition is not None:
                mine = [d for d in mine if d["id"] == disposition]
            returned: dict[str, Any] | None = None
            if not mine and attempt.action == "bukan_wewenang" and disposition is None:
                returned = self._back_to_triage(attempt, grant, unit)
            elif not mine:
                msg = (
                    f"actor {attempt.actor.id!r} has no open disposisi "
                    f"{disposition or ''} on request {attempt.record.id!r}".replace("  ", " ")
                )
                raise PermissionDeniedError(msg, rule="disposition:not_addressee")
            elif len(mine) > 1:
                mine = _innermost(attempt, grant, mine)
            if mine and open_children(attempt.record.meta, mine[0]["id"]):
                children = ", ".join(open_children(attempt.record.meta, mine[0]["id"]))
                msg = f"disposisi {mine[0]['id']} still waits for {children}: answer them first"
                raise TransitionNotAllowedError(attempt.action, f"{attempt.record.state} ({msg})")
        except RequestError as exc:
            self._refuse(attempt, exc)
            raise
        return grant, mine, returned

    def _back_to_triage(self, attempt: Attempt, grant: Grant, unit: str | None) -> dict[str, Any]:
        """Return where a rule-routed request goes when its holder hands it back."""
        record = attempt.record
        if unit != record.unit and record.assignee not in grant.ids:
            msg = f"actor {attempt.actor.id!r} does not hold request {record.id!r}"
            raise PermissionDeniedError(msg, rule="disposition:not_holder")
        triage = self._config.table.triage if self._config is not None else None
        return {"unit": triage or attempt.sop.unit, "assignee": None}

    @staticmethod
    def _close_item(
        attempt: Attempt,
        grant: Grant,
        mine: list[dict[str, Any]],
        returned: dict[str, Any] | None,
        text: str,
    ) -> tuple[Mapping[str, Any], _Closing]:
        """Close the disposition answered or returned; return the new meta and the closing."""
        record = attempt.record
        if returned is not None:
            return record.meta, _Closing(None, None, returned)
        status = "answered" if attempt.action == "answer_disposition" else "returned"
        meta, item, joined = close_disposition(
            record.meta, mine[0]["id"], status=status, by=grant.actor, text=text, at=attempt.now
        )
        if joined is not None:
            returned = {"unit": joined["unit"], "assignee": joined["assignee"]}
            return meta, _Closing(item["id"], joined["group"], returned)
        if record.unit == item.get("unit") or record.assignee == item.get("officer"):
            # Its part is done but the parallel group still waits for others: the
            # request waits with whoever issued the group, not with this target.
            returned = {"unit": item["from_unit"], "assignee": item["by"]}
        return meta, _Closing(item["id"], None, returned)

    def _commit(
        self, record: RequestRecord, updated: RequestRecord, body: dict[str, Any]
    ) -> ActionResult:
        result = self._recorder.commit(
            body, time=updated.updated_at, request=updated, expected_version=record.version
        )
        return ActionResult(updated, result.seq, result.entry_hash.hex())


def _innermost(attempt: Attempt, grant: Grant, mine: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pick the innermost of several dispositions addressed to the same person."""
    # Someone addressed both personally and through their unit answers the innermost
    # order first: one without open sub-dispositions, personal first.
    leaves = [d for d in mine if not open_children(attempt.record.meta, d["id"])]
    personal = [d for d in leaves if d.get("officer") in grant.ids]
    if len(personal) == 1 or len(leaves) == 1:
        return personal if len(personal) == 1 else leaves
    if leaves:
        ids = ", ".join(d["id"] for d in leaves)
        raise IncompleteRequestError(attempt.action, arguments=[f"disposition (one of {ids})"])
    return mine


def _moved(
    record: RequestRecord,
    meta: Mapping[str, Any],
    unit: str | None,
    assignee: str | None,
    now: dt.datetime,
) -> RequestRecord:
    """Return the next version of *record* with its new disposisi state and holder."""
    return attrs.evolve(
        record, version=record.version + 1, meta=meta, unit=unit, assignee=assignee, updated_at=now
    )
