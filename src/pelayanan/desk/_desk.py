"""The service desk: the one place that wires SOPs, access, the audit log and the store.

``desk.submit(...)`` opens a request under an SOP; ``desk.act(request_id, action, ...)``
takes an action.  Each call either commits the request's new state together with its
audit entry, or records the refused attempt in the log and raises a typed error.
``desk.tick(now)`` fires the SLA warnings, breaches and escalations that are due.
With a routing configuration, ``submit`` routes and assigns the new request, and the desk
issues and answers disposisi (see `pelayanan.desk._routing`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from pelayanan.access import (
    SYSTEM,
    AccessPolicy,
    Actor,
    DelegationRegistry,
    authorize,
    check_access,
)
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import format_time
from pelayanan.audit.keyring import KeyringSigner
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import WorkCalendar, indonesian_government_calendar
from pelayanan.clock import Clock, SystemClock, ensure_aware
from pelayanan.desk._routing import RoutingDeskMixin
from pelayanan.exceptions import (
    ConcurrentModificationError,
    IncompleteRequestError,
    InvalidFieldValueError,
    MigrationError,
    PermissionDeniedError,
    ReportError,
    RequestError,
    SOPDefinitionError,
    TransitionNotAllowedError,
    UnknownRequestError,
    UnknownSOPError,
)
from pelayanan.privacy._desk import PrivacyDesk, PrivacySettings
from pelayanan.reports.ikm import RULES_2017, RuleSet, compute_ikm
from pelayanan.routing import RoutingConfig
from pelayanan.sla import (
    ClockDef,
    ClockEngine,
    FiredEvent,
    check_clock_defs,
    event_body,
    next_due,
)
from pelayanan.sop.compile import compile_sop
from pelayanan.sop.model import SOP, Migration
from pelayanan.sop.registry import SOPRegistry
from pelayanan.sop.values import value_problems
from pelayanan.store.base import RequestRecord, Store

__all__ = ["ActionResult", "ServiceDesk"]


@attrs.frozen
class ActionResult:
    """What a committed submit or action produced.

    Attributes:
        request: the request as stored after the action.
        seq: the sequence number of the audit entry that records it.
        entry_hash: hex leaf hash of that entry.
        replayed: ``True`` when an idempotency key matched an earlier call, so nothing new
            was applied and *request* is the request as it is now.
    """

    request: RequestRecord
    seq: int
    entry_hash: str
    replayed: bool = False


def _missing(fields: Iterable[str], data: Mapping[str, Any]) -> list[str]:
    return [f for f in fields if data.get(f) in (None, "", [], {})]


class ServiceDesk(RoutingDeskMixin, PrivacyDesk):
    """Run service requests through their SOPs, recording everything in the audit log.

    Args:
        store: where requests and the audit log live.
        sops: the SOPs this desk serves (a registry or an iterable of SOPs).
        signing_key: the ledger key that signs a checkpoint after every commit, or a
            `KeyringSigner` that picks the key valid at each checkpoint's time.
        ledger: the ledger id entries are appended to (one per agency or unit).
        clock: where "now" comes from.
        id_factory: makes new request ids (default: ``REQ-`` and a random UUID).
        calendars: working calendars by name for SLA clocks: a clock counts on the one
            it names, else the one named after its SOP's unit, else ``"default"``
            (default: ``{"default": indonesian_government_calendar()}``).
        clocks: SLA clocks by SOP id.
        routing: routing rules, assignment policies, disposition roles (and, unless given
            separately, the access policy and delegations); ``None``: requests stay with
            their SOP's unit.
        delegations: the acting officials (Plt/Plh) in force (default: the routing's).
        access_policy: separation-of-duties rules kept outside the SOP (default: the
            routing's).
        privacy: the vault and retention classes that protect personal fields (needed
            as soon as a request carries a field its SOP marks personal).

    Raises:
        SOPDefinitionError: a clock names an unknown action or state.
        CalendarError: a clock names a calendar the desk does not have.
    """

    def __init__(
        self,
        store: Store,
        *,
        sops: SOPRegistry | Iterable[SOP],
        signing_key: SigningKey | KeyringSigner,
        ledger: str = "default",
        clock: Clock | None = None,
        id_factory: Callable[[], str] | None = None,
        calendars: Mapping[str, WorkCalendar] | None = None,
        clocks: Mapping[str, Sequence[ClockDef]] | None = None,
        routing: RoutingConfig | None = None,
        delegations: DelegationRegistry | None = None,
        access_policy: AccessPolicy | None = None,
        privacy: PrivacySettings | None = None,
    ) -> None:
        self.store = store
        self.sops = sops if isinstance(sops, SOPRegistry) else SOPRegistry(sops)
        self.ledger = ledger
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._key = signing_key
        self._new_id = id_factory or (lambda: f"REQ-{uuid.uuid4().hex[:12].upper()}")
        # -- personal data (pelayanan.privacy) --
        self.privacy = privacy
        # -- access and routing (pelayanan.access, pelayanan.routing) --
        self.routing = routing
        self.delegations = delegations or (routing.delegations if routing else None)
        self.access_policy = access_policy or (routing.access if routing else AccessPolicy())
        # -- SLA clocks (pelayanan.sla) --
        self.calendars: dict[str, WorkCalendar] = (
            dict(calendars) if calendars else {"default": indonesian_government_calendar()}
        )
        self._clock_specs = {sop_id: tuple(specs) for sop_id, specs in (clocks or {}).items()}
        self._engines: dict[tuple[str, str], ClockEngine] = {}
        for sop in self.sops:
            self._engine(sop)

    def __repr__(self) -> str:
        return f"ServiceDesk(store={self.store!r}, ledger={self.ledger!r})"

    def _sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        if isinstance(self._key, KeyringSigner):
            return self._key(checkpoint)
        return checkpoint.sign(self._key)

    # -- public API -----------------------------------------------------------------------

    def submit(
        self,
        sop_id: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        version: str | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Open a new request under SOP *sop_id* (its latest version unless *version*).

        Raises:
            UnknownSOPError: no such SOP is registered.
            PermissionDeniedError: the actor may not submit (recorded).
            IncompleteRequestError: required fields are missing (recorded).
        """
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        sop = self.sops.get(sop_id, version)
        now = ensure_aware(self.clock.now(), what="clock time")
        fields = dict(data or {})
        new_id = request_id or self._new_id()
        sop_ref = {"id": sop.id, "version": sop.version, "hash": sop.content_hash}
        try:
            role = authorize(actor, "submit", allowed_roles=sop.submit.roles)
            invalid = value_problems(sop, fields)
            if invalid:
                raise InvalidFieldValueError("submit", invalid)
            missing = _missing(sop.submit.requires, fields)
            if missing:
                raise IncompleteRequestError("submit", missing)
            # Routing decisions are logged with their attributes: never route on personal data.
            routed, assigned = self._route_new(sop, sop.privacy.public(fields))
            unit = routed.unit if routed is not None else sop.unit
            assignee = assigned.assignee if assigned is not None else None
            clocks, changes = self._engine(sop).transition(
                {},
                action="submit",
                source=None,
                target=sop.initial,
                final=sop.state(sop.initial).final,
                at=now,
                holder={"unit": unit, "assignee": assignee},
            )
        except RequestError as exc:
            self._record_refusal(new_id, "submit", actor, exc, sop_ref=sop_ref, state=None)
            raise
        # -- privacy: personal fields are sealed before they are stored --
        sealed = self._seal(sop, new_id, None, fields, now)
        privacy_meta = {"subject": sealed.subject} if sealed.subject is not None else {}
        record = RequestRecord(
            id=new_id,
            ledger=self.ledger,
            sop_id=sop.id,
            sop_version=sop.version,
            sop_hash=sop.content_hash,
            state=sop.initial,
            version=1,
            data={**sealed.clear, **sealed.sealed},
            meta={
                "actors": {"submit": [actor.id]},
                **({"sla": clocks} if clocks else {}),
                **privacy_meta,
            },
            unit=unit,
            assignee=assignee,
            next_due=next_due(clocks),
            created_at=now,
            updated_at=now,
            closed=sop.state(sop.initial).final,
        )
        body: dict[str, Any] = {
            "time": format_time(now),
            "kind": "submit",
            "request": new_id,
            "sop": sop_ref,
            "action": "submit",
            "actor": actor.id,
            "role": role,
            "from": None,
            "to": sop.initial,
            "data": dict(sealed.clear),
        }
        if sealed.sealed:
            body["personal"] = dict(sealed.sealed)
        if routed is not None:
            body["routing"] = routed.record()
        if assigned is not None:
            body["assignment"] = assigned.record()
        if changes:
            body["clocks"] = [{"clock": c.clock, **c.record} for c in changes]
        try:
            result = self._commit_sealed(
                body,
                time=now,
                change=sealed.change,
                request=record,
                expected_version=None,
                idempotency_key=idempotency_key,
            )
        except ConcurrentModificationError as exc:
            return self._replayed_or_raise(idempotency_key, exc)
        return ActionResult(record, result.seq, result.entry_hash.hex())

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
    ) -> ActionResult:
        """Take *action* on request *request_id* as *actor*.

        Args:
            request_id: the request to act on.
            action: the SOP action name.
            actor: who acts.
            data: fields the action adds or updates (e.g. a category, a document id).
            justification: the written reason, required by actions that ask for one.
            idempotency_key: a retry with the same key applies nothing new and returns the
                result of the first call.
            on_behalf_of: act with this official's authority, under a delegation (Plt/Plh)
                in force; the entry records both the actor and the authority used.

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: not possible from the current state (recorded).
            PermissionDeniedError: role, separation of duties or delegation refuses it
                (recorded).
            IncompleteRequestError: required fields or justification missing (recorded).
            ConcurrentModificationError: another writer changed the request first; retry.
        """
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        now = ensure_aware(self.clock.now(), what="clock time")
        record = self.store.get_request(request_id)
        claim = {"on_behalf_of": on_behalf_of} if on_behalf_of else None
        if record is None:
            error = UnknownRequestError(request_id)
            self._record_refusal(
                request_id, action, actor, error, sop_ref=None, state=None, extra=claim
            )
            raise error
        sop = self.sops.get(record.sop_id, record.sop_version)
        sop_ref = {"id": sop.id, "version": sop.version, "hash": sop.content_hash}
        fields = dict(data or {})
        merged = {**record.data, **fields}
        history: Mapping[str, list[str]] = record.meta.get("actors", {})
        try:
            spec = sop.action(action, record.state)
            if spec is None:
                allowed = sorted({a.name for a in sop.actions_from(record.state)})
                raise TransitionNotAllowedError(action, record.state, allowed)
            grant = check_access(
                actor,
                action,
                allowed_roles=spec.roles,
                not_by=spec.not_by,
                history=history,
                subject_fields=self.access_policy.subject_fields(sop.id, action),
                data=merged,
                on_behalf_of=on_behalf_of,
                delegations=self.delegations,
                at=now,
                unit=record.unit,
            )
            role = grant.role
            invalid = value_problems(sop, fields)
            if invalid:
                raise InvalidFieldValueError(action, invalid)
            missing = _missing(spec.requires, merged)
            if spec.justification and not (justification and justification.strip()):
                missing.append("justification")
            if missing:
                raise IncompleteRequestError(action, missing)
            new_state = compile_sop(sop).fire(record.state, action)
            clocks, changes = self._engine(sop).transition(
                record.meta.get("sla", {}),
                action=action,
                source=record.state,
                target=new_state,
                final=sop.state(new_state).final,
                at=now,
                reason=justification or fields.get("pause_reason"),
                holder={"unit": record.unit, "assignee": record.assignee},
            )
        except (
            TransitionNotAllowedError,
            PermissionDeniedError,
            IncompleteRequestError,
            InvalidFieldValueError,
        ) as exc:
            self._record_refusal(
                request_id, action, actor, exc, sop_ref=sop_ref, state=record.state, extra=claim
            )
            raise
        # -- privacy: personal fields are sealed before they are stored --
        sealed = self._seal(sop, request_id, record.meta.get("subject"), fields, now)
        privacy_meta = {"subject": sealed.subject} if sealed.subject is not None else {}
        actors = {k: list(v) for k, v in history.items()}
        actors.setdefault(action, [])
        for person in grant.ids:  # a Plt's principal counts too, for separation of duties
            if person not in actors[action]:
                actors[action].append(person)
        updated = attrs.evolve(
            record,
            state=new_state,
            version=record.version + 1,
            data={**record.data, **sealed.clear, **sealed.sealed},
            meta={
                **record.meta,
                "actors": actors,
                **({"sla": clocks} if clocks else {}),
                **privacy_meta,
            },
            next_due=next_due(clocks) if clocks else record.next_due,
            updated_at=now,
            closed=sop.state(new_state).final,
        )
        body: dict[str, Any] = {
            "time": format_time(now),
            "kind": "action",
            "request": request_id,
            "sop": sop_ref,
            "action": action,
            "actor": actor.id,
            "role": role,
            "from": record.state,
            "to": new_state,
            "data": dict(sealed.clear),
        }
        if sealed.sealed:
            body["personal"] = dict(sealed.sealed)
        if justification:
            body["justification"] = justification
        if grant.delegation is not None:
            body["authority"] = grant.delegation.record()
        if changes:
            body["clocks"] = [{"clock": c.clock, **c.record} for c in changes]
        try:
            result = self._commit_sealed(
                body,
                time=now,
                change=sealed.change,
                request=updated,
                expected_version=record.version,
                idempotency_key=idempotency_key,
            )
        except ConcurrentModificationError as exc:
            return self._replayed_or_raise(idempotency_key, exc)
        return ActionResult(updated, result.seq, result.entry_hash.hex())

    # -- survey responses ------------------------------------------------------------------

    def record_survey(
        self,
        request_id: str,
        answers: Mapping[str, int],
        *,
        actor: Actor,
        rules: RuleSet = RULES_2017,
    ) -> int:
        """Record one satisfaction-survey response (SKM) against a completed request.

        The entry (``kind: "survey"``) holds the answers per unsur key and the rule-set
        name, nothing about the respondent; the request itself does not change.

        Args:
            request_id: the completed request the response is about.
            answers: unsur key -> answer (integer 1-4), every unsur of *rules*.
            actor: who records it (a front-desk officer, or the citizen's account).
            rules: the IKM rule set the survey follows (PermenPANRB 14/2017 by default).

        Returns:
            The sequence number of the survey entry.

        Raises:
            ReportError: an unsur is missing or unknown, or an answer is not 1-4.
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is not in a final state (recorded).
        """
        try:
            compute_ikm([answers], rules=rules)
        except ReportError as exc:
            raise ReportError(f"survey for request {request_id!r}: {exc}") from None
        record = self.store.get_request(request_id)
        if record is None:
            error: RequestError = UnknownRequestError(request_id)
            self._record_refusal(request_id, "survey", actor, error, sop_ref=None, state=None)
            raise error
        sop_ref = {"id": record.sop_id, "version": record.sop_version, "hash": record.sop_hash}
        if not record.closed:
            error = TransitionNotAllowedError("survey", record.state)
            self._record_refusal(
                request_id, "survey", actor, error, sop_ref=sop_ref, state=record.state
            )
            raise error
        now = ensure_aware(self.clock.now(), what="clock time")
        body = {
            "time": format_time(now),
            "kind": "survey",
            "request": request_id,
            "sop": sop_ref,
            "actor": actor.id,
            "rules": rules.name,
            "answers": {key: int(answers[key]) for key in rules.keys},
        }
        return self.store.append(self.ledger, body, time=now, sign=self._sign).seq

    def tick(self, now: dt.datetime | None = None, *, limit: int | None = None) -> list[FiredEvent]:
        """Fire the SLA warnings, breaches and escalations due at *now*, each exactly once.

        Due requests come from the store's index on ``next_due``.  Each event is one
        audit entry (``kind: "sla"``, actor ``system``) appended together with the
        request's new clock state under the optimistic version check, so a repeated or
        concurrent tick fires nothing twice: the loser of a race skips the request.

        Args:
            now: the instant to tick at (default: the desk's clock).
            limit: at most this many due requests this call (the earliest due first).

        Returns:
            The events fired, in the order recorded.
        """
        at = ensure_aware(now if now is not None else self.clock.now(), what="tick time")
        fired: list[FiredEvent] = []
        for record in self.store.due_requests(at, limit=limit):
            if record.ledger != self.ledger:
                continue  # another desk's ledger ticks its own requests
            try:
                sop = self.sops.get(record.sop_id, record.sop_version)
            except UnknownSOPError:
                continue
            fired.extend(self._tick_request(record, sop, at))
        return fired

    def migrate(
        self,
        request_id: str,
        migration: Migration,
        *,
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Move request *request_id* to the SOP version *migration* leads to (audited).

        The request keeps its data and history; its state is mapped by the migration and
        it is pinned to the new version.  The entry has ``kind: "migration"`` and names
        both SOP versions.

        Raises:
            UnknownRequestError: no such request.
            MigrationError: the request is not on the migration's SOP version, or its
                state is not mapped (recorded).
            PermissionDeniedError: the actor holds none of the migration's roles (recorded).
            UnknownSOPError: the target version is not registered.
        """
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        now = ensure_aware(self.clock.now(), what="clock time")
        record = self.get(request_id)
        old = {"id": record.sop_id, "version": record.sop_version, "hash": record.sop_hash}
        target = self.sops.get(migration.sop_id, migration.to_version)
        try:
            if (record.sop_id, record.sop_version) != (migration.sop_id, migration.from_version):
                msg = (
                    f"request {request_id!r} runs under {record.sop_id} {record.sop_version}, "
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
            role = authorize(actor, "migrate", allowed_roles=migration.roles)
        except (MigrationError, PermissionDeniedError) as exc:
            self._record_refusal(request_id, "migrate", actor, exc, sop_ref=old, state=record.state)
            raise
        new = {"id": target.id, "version": target.version, "hash": target.content_hash}
        updated = attrs.evolve(
            record,
            sop_version=target.version,
            sop_hash=target.content_hash,
            state=new_state,
            version=record.version + 1,
            updated_at=now,
            closed=target.state(new_state).final,
        )
        body: dict[str, Any] = {
            "time": format_time(now),
            "kind": "migration",
            "request": request_id,
            "sop": new,
            "from_sop": old,
            "action": "migrate",
            "actor": actor.id,
            "role": role,
            "from": record.state,
            "to": new_state,
            "note": migration.note,
        }
        result = self.store.append(
            self.ledger,
            body,
            time=now,
            request=updated,
            expected_version=record.version,
            idempotency_key=idempotency_key,
            sign=self._sign,
        )
        return ActionResult(updated, result.seq, result.entry_hash.hex())

    def get(self, request_id: str) -> RequestRecord:
        """Return the request *request_id*.

        Raises:
            UnknownRequestError: no such request.
        """
        record = self.store.get_request(request_id)
        if record is None:
            raise UnknownRequestError(request_id)
        return record

    def allowed_actions(self, request_id: str, actor: Actor | None = None) -> list[str]:
        """Return the actions possible now on the request (for *actor*'s roles if given)."""
        record = self.get(request_id)
        sop = self.sops.get(record.sop_id, record.sop_version)
        names = set()
        for spec in sop.actions_from(record.state):
            if actor is None or not spec.roles or set(spec.roles) & actor.roles:
                names.add(spec.name)
        return sorted(names)

    # -- internals ------------------------------------------------------------------------

    def _engine(self, sop: SOP) -> ClockEngine:
        """Return the SLA clock engine of *sop*, checking its clocks once."""
        engine = self._engines.get(sop.key)
        if engine is None:
            # Clocks given to the desk for an SOP override the ones the SOP declares.
            specs = self._clock_specs.get(sop.id, sop.clocks)
            problems = check_clock_defs(
                specs,
                states=[s.id for s in sop.states],
                actions=[a.name for a in sop.actions],
                source=sop.source,
            )
            if problems:
                raise SOPDefinitionError(problems)
            engine = ClockEngine(specs, calendars=self.calendars, unit=sop.unit)
            self._engines[sop.key] = engine
        return engine

    def _tick_request(self, record: RequestRecord, sop: SOP, now: dt.datetime) -> list[FiredEvent]:
        """Fire *record*'s due events, one entry each, until none is due or a writer races."""
        engine = self._engine(sop)
        sop_ref = {"id": sop.id, "version": sop.version, "hash": sop.content_hash}
        fired: list[FiredEvent] = []
        while True:
            clocks: Mapping[str, Any] = record.meta.get("sla", {})
            due = engine.due(clocks, now)
            if not due:
                return fired
            event = due[0]
            body = event_body(event, clocks, request=record.id, at=now)
            body["sop"] = sop_ref
            clocks = engine.fire(clocks, event)
            meta: dict[str, Any] = {**record.meta, "sla": clocks}
            unit, assignee = record.unit, record.assignee
            moved: Mapping[str, str] | None = body.get("reassign")
            if moved is not None:
                assignee = None
                if "unit" in moved:
                    unit = moved["unit"]
                else:
                    meta["assigned_role"] = moved["role"]
            updated = attrs.evolve(
                record,
                version=record.version + 1,
                meta=meta,
                unit=unit,
                assignee=assignee,
                next_due=next_due(clocks),
                updated_at=now,
            )
            try:
                result = self.store.append(
                    self.ledger,
                    body,
                    time=now,
                    request=updated,
                    expected_version=record.version,
                    sign=self._sign,
                )
            except ConcurrentModificationError:
                return fired  # another tick or an officer changed it first: theirs stands
            action: str | None = body.get("action")
            notify: list[str] = body.get("notify", [])
            fired.append(
                FiredEvent(
                    record.id,
                    event.clock,
                    event.event,
                    event.key,
                    event.due,
                    result.seq,
                    tuple(notify),
                    moved,
                    action,
                )
            )
            record = updated
            if action is not None:
                record = self._system_action(record, action, event.clock, event.key)

    def _system_action(
        self, record: RequestRecord, action: str, clock: str, key: str
    ) -> RequestRecord:
        """Take an escalation's *action* as the system; return the request as it is after."""
        # Only the tick that committed the escalation entry gets here, so the system acts
        # at most once; a refusal is recorded by act() like any other.
        reason = f"SLA escalation: clock {clock!r} {key}"
        try:
            return self.act(record.id, action, actor=SYSTEM, justification=reason).request
        except RequestError:
            return self.store.get_request(record.id) or record

    def _replayed_or_raise(
        self, idempotency_key: str | None, error: ConcurrentModificationError
    ) -> ActionResult:
        """Return the first result when a concurrent call with the same key won, else raise."""
        # Two calls with one idempotency key raced: the loser answers with the winner's result.
        replay = self._replayed(idempotency_key)
        if replay is None:
            raise error
        return replay

    def _replayed(self, idempotency_key: str | None) -> ActionResult | None:
        if idempotency_key is None:
            return None
        found = self.store.idempotent_result(idempotency_key)
        if found is None:
            return None
        request_id, seq = found
        record = self.store.get_request(request_id) if request_id else None
        if record is None:
            return None
        entry = next(self.store.entries(self.ledger, seq, seq + 1), None)
        entry_hash = entry.hash.hex() if entry is not None else ""
        return ActionResult(record, seq, entry_hash, replayed=True)

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
    ) -> None:
        now = ensure_aware(self.clock.now(), what="clock time")
        reason: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
        rule = getattr(error, "rule", None)
        if rule is not None:
            reason["rule"] = rule
        body = {
            "time": format_time(now),
            "kind": "refused",
            "request": request_id,
            "sop": dict(sop_ref) if sop_ref is not None else None,
            "action": action,
            "actor": actor.id,
            "from": state,
            "reason": reason,
            **(extra or {}),
        }
        self.store.append(self.ledger, body, time=now, sign=self._sign)
