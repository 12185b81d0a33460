"""The desk's request collaborator: submit, act, migrate, and survey responses.

Each call either commits the request's new state together with its audit entry (and the
vault change that seals its personal fields) in one store transaction, or records the
refused attempt and raises a typed error.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pelayanan.access import (
    Actor,
    Grant,
    authorize,
    check_access,
)
from pelayanan.audit import kinds
from pelayanan.desk._bounds import Bounds
from pelayanan.desk._clocks import Clocks
from pelayanan.desk._privacy import Privacy
from pelayanan.desk._recorder import (
    IDEMPOTENCY,
    Attempt,
    Operation,
    Recorder,
    RefusalBody,
    refused,
    sop_entry_ref,
)
from pelayanan.desk._result import ActionResult
from pelayanan.desk._routing import Routing
from pelayanan.exceptions import (
    ConcurrentModificationError,
    DuplicateRequestError,
    GuardNotMetError,
    IdempotencyKeyReuseError,
    IncompleteRequestError,
    InvalidFieldValueError,
    MigrationError,
    PermissionDeniedError,
    ReportError,
    RequestError,
    RoutingError,
    TransitionNotAllowedError,
    UnknownRequestError,
    UnknownSOPError,
)
from pelayanan.reports.ikm import RuleSet, compute_ikm
from pelayanan.routing import AssignmentDecision, RoutingDecision, open_dispositions
from pelayanan.sla import ClockChange, next_due
from pelayanan.sop.compile import compile_sop
from pelayanan.sop.model import (
    PAUSE_REASON,
    SOP,
    ActionDef,
    Migration,
)
from pelayanan.sop.registry import SOPRegistry
from pelayanan.sop.values import check_writes, limit_problems, value_problems
from pelayanan.store.base import RequestRecord

__all__ = ["Requests"]


#: The request meta key holding each parallel branch's state while the request is in a
#: parallel state.
BRANCHES = "branches"

#: Values that mean "not given".
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _kept(
    meta: Mapping[str, Any] | None, idempotency_key: str | None, operation: Operation | None
) -> dict[str, Any]:
    """Return the request meta that keeps what *idempotency_key* stands for, if given."""
    if idempotency_key is None or operation is None:
        return {}
    kept = dict((meta or {}).get(IDEMPOTENCY, {}))
    kept[idempotency_key] = operation.record()
    return {IDEMPOTENCY: kept}


def _clocks_and_subject(clocks: Mapping[str, Any], subject: str | None) -> dict[str, Any]:
    """Return the request meta that keeps the SLA *clocks* and the data *subject*, if any."""
    return {
        **({"sla": clocks} if clocks else {}),
        **({"subject": subject} if subject is not None else {}),
    }


def _refused_submit(new_id: str, sop: SOP | None, actor: Actor) -> RefusalBody:
    """Return the refusal entry of a submit of *new_id* (under *sop*, once it is known)."""
    ref = sop_entry_ref(sop) if sop is not None else None
    return refused(new_id, sop=ref, action="submit", actor=actor.id, state=None)


def _on_request(
    now: dt.datetime, request_id: str, sop: Mapping[str, str], actor: Actor
) -> dict[str, Any]:
    """Return the fields every entry on a request shares (builders' keyword arguments):
    when, which request under which SOP version (*sop*, an entry's ``sop`` object), who."""
    return {"at": now, "request": request_id, "sop": sop, "actor": actor.id}


def _missing(fields: Iterable[str], data: Mapping[str, Any]) -> list[str]:
    return [f for f in fields if data.get(f) in (None, "", [], {})]


def _new_request_id() -> str:
    return f"REQ-{uuid.uuid4().hex[:12].upper()}"


@attrs.frozen
class _Step:
    """An action that passed every check: who may take it, where it leads, the clocks."""

    grant: Grant
    target: str
    clocks: dict[str, Any]
    changes: list[ClockChange]
    changed: dict[str, dict[str, str]]
    routed: RoutingDecision | None = None
    assigned: AssignmentDecision | None = None
    branches: dict[str, str] | None = None
    branch: dict[str, str] | None = None


@attrs.define(kw_only=True, eq=False, slots=False)
class Requests:
    """Open requests and move them through their SOPs, recording through the `Recorder`.

    Args:
        recorder: the desk's recorder.
        sops: the desk's SOPs.
        clocks: the SLA collaborator (its engines start, pause and stop clocks).
        routing: the routing collaborator (routes and assigns new requests).
        privacy: the privacy collaborator (seals personal fields).
        id_factory: makes new request ids (``None``: ``REQ-`` and a random UUID).
    """

    _recorder: Recorder
    _sops: SOPRegistry
    _clocks: Clocks
    _routing: Routing
    _privacy: Privacy
    _id_factory: Callable[[], str] | None

    def submit(
        self,
        sop_id: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None,
        version: str | None,
        request_id: str | None,
        idempotency_key: str | None,
    ) -> ActionResult:
        """Open a new request under an SOP (`ServiceDesk.submit`)."""
        operation = self._operation(idempotency_key, "submit", request_id, sop_id, actor, data)
        replay = self._replay(idempotency_key, operation, request_id or "", actor)
        if replay is not None:
            return replay
        now = self._recorder.now()
        sop, new_id = self._opening(sop_id, version, request_id, actor)
        fields = dict(data or {})
        try:
            role = authorize(actor, "submit", allowed_roles=sop.submit.roles)
            _check_fields(sop, None, fields, _missing(sop.submit.requires, fields))
            # Routing decisions are logged with their attributes: never route on personal data.
            routed, assigned = (None, None)
            if sop.submit.route:
                routed, assigned = self._routing.route_new(sop, sop.privacy.public(fields))
            unit = routed.unit if routed is not None else sop.unit
            assignee = assigned.assignee if assigned is not None else None
            clocks, changes = self._clocks.engine(sop).transition(
                {},
                action="submit",
                source=None,
                target=sop.initial,
                final=sop.state(sop.initial).final,
                at=now,
                holder={"unit": unit, "assignee": assignee},
            )
        except RequestError as exc:
            self._refuse(exc, _refused_submit(new_id, sop, actor))
            raise
        sealed = self._privacy.seal(sop, new_id, None, fields, now)
        record = RequestRecord(
            id=new_id,
            ledger=self._recorder.ledger,
            sop_id=sop.id,
            sop_version=sop.version,
            sop_hash=sop.content_hash,
            state=sop.initial,
            version=1,
            data={**sealed.clear, **sealed.sealed},
            meta={
                "actors": {"submit": [actor.id]},
                **_kept(None, idempotency_key, operation),
                **_clocks_and_subject(clocks, sealed.subject),
            },
            unit=unit,
            assignee=assignee,
            next_due=next_due(clocks),
            created_at=now,
            updated_at=now,
            closed=sop.state(sop.initial).final,
        )
        body = kinds.submit_body(
            **_on_request(now, new_id, sop_entry_ref(sop), actor),
            role=role,
            to=sop.initial,
            data=sealed.clear,
            personal=sealed.sealed,
            routing=routed.record() if routed is not None else None,
            assignment=assigned.record() if assigned is not None else None,
            clocks=[{kinds.CLOCK: c.clock, **c.record} for c in changes],
        )
        try:
            return self._recorder.commit_once(
                body,
                time=now,
                request=record,
                expected_version=None,
                idempotency_key=idempotency_key,
                change=sealed.change,
                operation=operation,
            )
        except ConcurrentModificationError:
            # Another writer created a request under this id between the check and now.
            duplicate = DuplicateRequestError(new_id)
            self._refuse(duplicate, _refused_submit(new_id, sop, actor))
            raise duplicate from None

    def _opening(
        self, sop_id: str, version: str | None, request_id: str | None, actor: Actor
    ) -> tuple[SOP, str]:
        """Return the SOP and the id of a new request; record and raise when there is none.

        Raises:
            InvalidFieldValueError: an id is longer than `MAX_ID_LENGTH` (recorded).
            UnknownSOPError: no such SOP or version (recorded).
            DuplicateRequestError: a request with *request_id* exists (recorded).
        """
        bounds = Bounds()
        new_id = (
            (self._id_factory or _new_request_id)()
            if request_id is None
            else bounds.id(request_id, "request_id")
        )
        bounds.id(sop_id, "sop_id")
        bounds.optional_id(version, "version")
        tried = _refused_submit(new_id, None, actor)
        error: RequestError | None = bounds.error("submit")
        if error is not None:
            self._refuse(error, tried)
            raise error
        try:
            sop = self._sops.get(sop_id, version)
        except UnknownSOPError as exc:
            self._refuse(exc, tried)
            raise
        if request_id is not None and self._recorder.store.get_request(new_id) is not None:
            error = DuplicateRequestError(new_id)
            self._refuse(error, _refused_submit(new_id, sop, actor))
            raise error
        return sop, new_id

    def act(
        self,
        request_id: str,
        action: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        justification: str | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
        at: dt.datetime | None = None,
    ) -> ActionResult:
        """Take an action on a request (`ServiceDesk.act`).

        *at* stamps an action the system takes for an SLA event with that event's time.
        """
        operation = self._operation(idempotency_key, "act", request_id, action, actor, data)
        replay = self._replay(idempotency_key, operation, request_id, actor, action=action)
        if replay is not None:
            return replay
        now = at if at is not None else self._recorder.now()
        record = self._acted_on(request_id, action, actor, on_behalf_of, justification)
        sop = self._sops.get(record.sop_id, record.sop_version)
        fields = dict(data or {})
        attempt = Attempt(record, sop, action, actor, on_behalf_of, now)
        try:
            check = self._check_action(attempt, fields, justification)
        except (
            TransitionNotAllowedError,
            PermissionDeniedError,
            IncompleteRequestError,
            InvalidFieldValueError,
            GuardNotMetError,
            RoutingError,
        ) as exc:
            self._refuse(exc, attempt.refused())
            raise
        sealed = self._privacy.seal(sop, request_id, record.meta.get("subject"), fields, now)
        actors = {k: list(v) for k, v in record.meta.get("actors", {}).items()}
        actors.setdefault(action, [])
        for person in check.grant.ids:  # a Plt's principal counts too, for separation of duties
            if person not in actors[action]:
                actors[action].append(person)
        updated = attrs.evolve(
            record,
            state=check.target,
            version=record.version + 1,
            data={**record.data, **sealed.clear, **sealed.sealed},
            meta={
                **{k: v for k, v in record.meta.items() if k != BRANCHES},
                **_kept(record.meta, idempotency_key, operation),
                "actors": actors,
                **_clocks_and_subject(check.clocks, sealed.subject),
                **({BRANCHES: check.branches} if check.branches is not None else {}),
            },
            next_due=next_due(check.clocks) if check.clocks else record.next_due,
            updated_at=now,
            closed=sop.state(check.target).final,
            **_holder(record, check),
        )
        body = kinds.action_body(
            **_on_request(now, request_id, sop_entry_ref(sop), actor),
            action=action,
            role=check.grant.role,
            source=record.state,
            to=check.target,
            data=sealed.clear,
            personal=sealed.sealed,
            justification=justification,
            authority=check.grant.authority(),
            clocks=[{kinds.CLOCK: c.clock, **c.record} for c in check.changes],
            changed=check.changed,
            routing=check.routed.record() if check.routed is not None else None,
            assignment=check.assigned.record() if check.assigned is not None else None,
            branch=check.branch,
        )
        return self._recorder.commit_once(
            body,
            time=now,
            request=updated,
            expected_version=record.version,
            idempotency_key=idempotency_key,
            change=sealed.change,
            operation=operation,
        )

    def _acted_on(
        self,
        request_id: str,
        action: str,
        actor: Actor,
        on_behalf_of: str | None,
        justification: str | None,
    ) -> RequestRecord:
        """Return the request an action names; record and raise when it cannot be taken.

        Raises:
            InvalidFieldValueError: an id or the justification is too long (recorded).
            UnknownRequestError: no such request (recorded).
        """
        bounds = Bounds()
        named = bounds.id(request_id, "request_id")
        verb = bounds.id(action, "action")
        behalf = bounds.optional_id(on_behalf_of, "on_behalf_of")
        bounds.optional_text(justification, "justification")
        error: RequestError | None = bounds.error(verb)
        record = None if error is not None else self._recorder.store.get_request(request_id)
        if record is None:
            error = error or UnknownRequestError(request_id)
            tried = refused(
                named, sop=None, action=verb, actor=actor.id, state=None, on_behalf_of=behalf
            )
            self._refuse(error, tried)
            raise error
        return record

    def _operation(  # noqa: PLR0917 (the parts of a call, in the order it names them)
        self,
        idempotency_key: str | None,
        name: str,
        request_id: str | None,
        action: str,
        actor: Actor,
        data: Mapping[str, Any] | None,
    ) -> Operation | None:
        """Return what a call with an idempotency key stands for (``None`` without a key)."""
        if idempotency_key is None:
            return None
        fields = dict(data or {})
        # Data over the limits is refused later; its digest need not be computed.
        digest = "(over the limits)" if limit_problems(fields) else self._privacy.digest(fields)
        return Operation(name, request_id, action, actor.id, digest, actor.roles)

    def _replay(
        self,
        idempotency_key: str | None,
        operation: Operation | None,
        request_id: str,
        actor: Actor,
        *,
        action: str = "submit",
    ) -> ActionResult | None:
        """Return the first result under *idempotency_key*; record and raise a misuse.

        Raises:
            InvalidFieldValueError: the key is longer than `MAX_ID_LENGTH` (recorded).
            IdempotencyKeyReuseError: the key stood for another operation (recorded).
            PermissionDeniedError: the actor may no longer do what it replays (recorded).
        """
        if idempotency_key is None or operation is None:
            return None
        bounds = Bounds()
        bounds.id(idempotency_key, "idempotency_key")
        named = bounds.id(request_id, "request_id")
        verb = bounds.id(action, "action")
        error: RequestError | None = bounds.error(verb)
        try:
            if error is not None:
                raise error
            return self._recorder.replayed(idempotency_key, operation)
        except (IdempotencyKeyReuseError, PermissionDeniedError, InvalidFieldValueError) as exc:
            self._refuse(exc, refused(named, sop=None, action=verb, actor=actor.id, state=None))
            raise

    def _check_id(self, request_id: str, action: str, actor: Actor) -> None:
        """Refuse (recorded) a request id longer than `MAX_ID_LENGTH`.

        Raises:
            InvalidFieldValueError: it is.
        """
        bounds = Bounds()
        named = bounds.id(request_id, "request_id")
        error = bounds.error(action)
        if error is not None:
            self._refuse(error, refused(named, sop=None, action=action, actor=actor.id, state=None))
            raise error

    def record_survey(
        self, request_id: str, answers: Mapping[str, int], *, actor: Actor, rules: RuleSet
    ) -> ActionResult:
        """Record one SKM response against a completed request (`ServiceDesk.record_survey`)."""
        self._check_id(request_id, "survey", actor)
        try:
            compute_ikm([answers], rules=rules)
        except ReportError as exc:
            raise ReportError(f"survey for request {request_id!r}: {exc}") from None
        record = self._recorder.store.get_request(request_id)
        if record is None:
            error: RequestError = UnknownRequestError(request_id)
            self._refuse(
                error, refused(request_id, sop=None, action="survey", actor=actor.id, state=None)
            )
            raise error
        ref = kinds.sop_ref(record.sop_id, record.sop_version, record.sop_hash)
        if not record.closed:
            error = TransitionNotAllowedError("survey", record.state)
            tried = refused(
                request_id, sop=ref, action="survey", actor=actor.id, state=record.state
            )
            self._refuse(error, tried)
            raise error
        now = self._recorder.now()
        body = kinds.survey_body(
            **_on_request(now, request_id, ref, actor),
            rules=rules.name,
            answers={key: int(answers[key]) for key in rules.keys},
        )
        result = self._recorder.commit(body, time=now)
        return ActionResult(record, result.seq, result.entry_hash.hex())

    def migrate(
        self,
        request_id: str,
        migration: Migration,
        *,
        actor: Actor,
        idempotency_key: str | None,
    ) -> ActionResult:
        """Move a request to another SOP version (`ServiceDesk.migrate`)."""
        target_version = migration.to_version
        operation = self._operation(
            idempotency_key, "migrate", request_id, target_version, actor, None
        )
        replay = self._replay(idempotency_key, operation, request_id, actor, action="migrate")
        if replay is not None:
            return replay
        now = self._recorder.now()
        self._check_id(request_id, "migrate", actor)
        record = self.get(request_id)
        old = kinds.sop_ref(record.sop_id, record.sop_version, record.sop_hash)
        target = self._sops.get(migration.sop_id, migration.to_version)
        try:
            new_state = _migrated_state(record, migration)
            role = authorize(actor, "migrate", allowed_roles=migration.roles)
        except (MigrationError, PermissionDeniedError) as exc:
            tried = refused(
                request_id, sop=old, action="migrate", actor=actor.id, state=record.state
            )
            self._refuse(exc, tried)
            raise
        updated = attrs.evolve(
            record,
            sop_version=target.version,
            sop_hash=target.content_hash,
            state=new_state,
            version=record.version + 1,
            meta={
                **{k: v for k, v in record.meta.items() if k != BRANCHES},
                **_kept(record.meta, idempotency_key, operation),
                **_migrated_branches(target, new_state, record.meta.get(BRANCHES)),
            },
            updated_at=now,
            closed=target.state(new_state).final,
        )
        body = kinds.migration_body(
            **_on_request(now, request_id, sop_entry_ref(target), actor),
            from_sop=old,
            role=role,
            source=record.state,
            to=new_state,
            note=migration.note,
        )
        result = self._recorder.commit(
            body,
            time=now,
            request=updated,
            expected_version=record.version,
            idempotency_key=idempotency_key,
        )
        return ActionResult(updated, result.seq, result.entry_hash.hex())

    def get(self, request_id: str) -> RequestRecord:
        """Return the request *request_id* (`ServiceDesk.get`).

        Raises:
            UnknownRequestError: no such request.
        """
        record = self._recorder.store.get_request(request_id)
        if record is None:
            raise UnknownRequestError(request_id)
        return record

    def allowed_actions(self, request_id: str, actor: Actor | None) -> list[str]:
        """Return the actions possible now (`ServiceDesk.allowed_actions`)."""
        record = self.get(request_id)
        sop = self._sops.get(record.sop_id, record.sop_version)
        names = set()
        active = sop.active(record.state, record.meta.get(BRANCHES))
        for spec in (a for state_id in active for a in sop.actions_from(state_id)):
            if actor is None or not spec.roles or set(spec.roles) & actor.roles:
                names.add(spec.name)
        return sorted(names)

    # -- internals ------------------------------------------------------------------------

    def _check_action(
        self, attempt: Attempt, fields: Mapping[str, Any], justification: str | None
    ) -> _Step:
        """Check that the *attempt*'s actor may take its action with *fields* and
        *justification*; return where it leads and the clocks."""
        record, sop, action, now = attempt.record, attempt.sop, attempt.action, attempt.now
        merged = {**record.data, **fields}
        active = sop.active(record.state, record.meta.get(BRANCHES))
        spec, source = sop.taking(action, active)
        in_branch = sop.branch_of(source)
        # Subject rules read what is stored: a caller's data never names another subject.
        subject_data = {**fields, **{k: v for k, v in record.data.items() if v not in _EMPTY}}
        grant = check_access(
            attempt.actor,
            action,
            allowed_roles=spec.roles,
            not_by=spec.not_by,
            history=record.meta.get("actors", {}),
            subject_fields=self._recorder.access_policy.subject_fields(sop.id, action),
            data=subject_data,
            on_behalf_of=attempt.on_behalf_of,
            delegations=self._recorder.delegations,
            at=now,
            unit=(in_branch[1].unit if in_branch else None) or record.unit,
            policy=self._recorder.access_policy,
        )
        missing = _missing(spec.required_fields, merged)
        blank = spec.justification and not (justification and justification.strip())
        _check_fields(sop, spec, fields, missing, ["justification"] if blank else [])
        _check_guards(spec, record)
        changed = self._subject_changes(record, sop, spec, fields)
        configuration = compile_sop(sop).fire_active(active, action)
        target = configuration[0]
        routed, assigned = (None, None)
        holder = {"unit": record.unit, "assignee": record.assignee}
        if spec.route is not None:
            # Routing decisions are logged with their attributes: never route on personal data.
            routed, assigned = self._routing.route_action(
                sop, action, spec.route, sop.privacy.public(merged)
            )
            holder = {"unit": routed.unit, "assignee": assigned.assignee if assigned else None}
        # A branch move inside the parallel state enters the branch's state, which no clock
        # condition names: only the action itself can start, pause or stop a clock then.
        entered = spec.target if in_branch is not None and target == record.state else target
        clocks, changes = self._clocks.engine(sop).transition(
            record.meta.get("sla", {}),
            action=action,
            source=record.state,
            target=entered,
            final=sop.state(target).final,
            at=now,
            reason=justification or fields.get(PAUSE_REASON),
            holder=holder,
        )
        branches = _branches(sop, configuration)
        branch = None
        if in_branch is not None:
            branch = {"name": in_branch[1].name, "from": source, "to": spec.target}
        return _Step(grant, target, clocks, changes, changed, routed, assigned, branches, branch)

    def _subject_changes(
        self, record: RequestRecord, sop: SOP, spec: ActionDef, fields: Mapping[str, Any]
    ) -> dict[str, dict[str, str]]:
        """Return the commitments of the subject fields *spec* changes; refuse other changes.

        Subject fields are the access policy's (for any action of the SOP) and the SOP's
        personal fields of kind ``nik``; once stored they change only through an action
        that lists them under ``may_change``.

        Raises:
            PermissionDeniedError: the action changes one it may not (rule
                ``immutable:<field>``).
        """
        guarded = {
            r.field for r in self._recorder.access_policy.subject_rules if r.sop in ("*", sop.id)
        }
        guarded |= {n for n, f in sop.privacy.fields.items() if f.kind == "nik"}
        changed: dict[str, dict[str, str]] = {}
        for name in sorted(guarded & set(fields)):
            old, new = record.data.get(name), fields[name]
            if old in _EMPTY or new in _EMPTY or self._privacy.plain(record, name, old) == new:
                continue
            if name not in spec.may_change:
                msg = (
                    f"field {name!r} identifies the subject of request {record.id!r} and may "
                    f"not change after submission; list it under may_change of the action "
                    "that may change it"
                )
                raise PermissionDeniedError(msg, rule=f"immutable:{name}")
            changed[name] = self._privacy.commitments(sop, record, name, old, new)
        return changed

    def _refuse(self, error: RequestError, body: RefusalBody) -> None:
        self._recorder.refuse(error, body)


def _branches(sop: SOP, configuration: list[str]) -> dict[str, str] | None:
    """Return branch name -> state in *configuration* (``None`` outside a parallel state)."""
    parallel = sop.parallel_state(configuration[0])
    if parallel is None:
        return None
    branches = {}
    for branch in parallel.branches:
        current = [state_id for state_id in configuration[1:] if state_id in branch.states]
        branches[branch.name] = current[0] if current else branch.initial
    return branches


def _holder(record: RequestRecord, step: _Step) -> dict[str, Any]:
    """Return the record changes of a step that routed the request (none otherwise)."""
    if step.routed is None:
        return {}
    return {
        "unit": step.routed.unit,
        "assignee": step.assigned.assignee if step.assigned is not None else None,
    }


def _check_guards(spec: ActionDef, record: RequestRecord) -> None:
    """Refuse an action whose guards (``requires: disposisi_answered``) do not hold.

    Raises:
        GuardNotMetError: a guard does not hold.
    """
    if "disposisi_answered" in spec.guards:
        still = open_dispositions(record.meta)
        if still:
            detail = f"disposisi {', '.join(still)} still open: answer them first"
            raise GuardNotMetError(spec.name, "disposisi_answered", detail)


def _check_fields(
    sop: SOP,
    spec: ActionDef | None,
    fields: Mapping[str, Any],
    missing: list[str],
    arguments: list[str] | tuple[str, ...] = (),
) -> None:
    """Refuse invalid field values, then fields not allowed, then missing fields and arguments.

    Args:
        sop: the request's SOP.
        spec: the action taken (``None``: the submission).
        fields: the data given.
        missing: the required fields found missing.
        arguments: keyword arguments found missing (``justification``).

    Raises:
        InvalidFieldValueError: a value does not fit its declared type.
        FieldNotAllowedError: a field the SOP or the action does not allow.
        IncompleteRequestError: required fields or arguments are missing.
    """
    action = spec.name if spec is not None else "submit"
    invalid = value_problems(sop, fields)
    if invalid:
        raise InvalidFieldValueError(action, invalid)
    check_writes(sop, spec, action, fields)
    if missing or arguments:
        raise IncompleteRequestError(action, missing, arguments=arguments)


def _migrated_branches(sop: SOP, state: str, branches: Any) -> dict[str, Any]:
    """Return the meta of a migrated request's branches in its new version.

    A branch keeps its state when the new version's parallel *state* has a branch of that
    name holding that state; every other branch starts over at its initial state.
    """
    parallel = sop.parallel_state(state)
    if parallel is None:
        return {}
    kept = dict(branches) if isinstance(branches, dict) else {}
    return {
        BRANCHES: {
            branch.name: kept[branch.name]
            if kept.get(branch.name) in branch.states
            else branch.initial
            for branch in parallel.branches
        }
    }


def _migrated_state(record: RequestRecord, migration: Migration) -> str:
    """Return the state *migration* maps *record*'s state to, refusing what it cannot move."""
    if (record.sop_id, record.sop_version) != (migration.sop_id, migration.from_version):
        msg = (
            f"request {record.id!r} runs under {record.sop_id} {record.sop_version}, "
            f"not {migration.sop_id} {migration.from_version}"
        )
        raise MigrationError(msg)
    new_state = migration.states.get(record.state)
    if new_state is None:
        msg = (
            f"the migration to version {migration.to_version} maps no state for "
            f"{record.state!r}; add it to the migration's states"
        )
        raise MigrationError(msg)
    return new_state
