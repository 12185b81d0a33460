"""The service desk: the one place that wires SOPs, access, the audit log and the store.

``desk.submit(...)`` opens a request under an SOP; ``desk.act(request_id, action, ...)``
takes an action.  Each call either commits the request's new state together with its
audit entry, or records the refused attempt in the log and raises a typed error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from pelayanan.access import Actor, authorize
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import format_time
from pelayanan.audit.keyring import KeyringSigner
from pelayanan.audit.keys import SigningKey
from pelayanan.clock import Clock, SystemClock, ensure_aware
from pelayanan.exceptions import (
    IncompleteRequestError,
    PermissionDeniedError,
    RequestError,
    TransitionNotAllowedError,
    UnknownRequestError,
)
from pelayanan.sop.compile import compile_sop
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry
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


class ServiceDesk:
    """Run service requests through their SOPs, recording everything in the audit log.

    Args:
        store: where requests and the audit log live.
        sops: the SOPs this desk serves (a registry or an iterable of SOPs).
        signing_key: the ledger key that signs a checkpoint after every commit, or a
            `KeyringSigner` that picks the key valid at each checkpoint's time.
        ledger: the ledger id entries are appended to (one per agency or unit).
        clock: where "now" comes from.
        id_factory: makes new request ids (default: ``REQ-`` and a random UUID).
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
    ) -> None:
        self.store = store
        self.sops = sops if isinstance(sops, SOPRegistry) else SOPRegistry(sops)
        self.ledger = ledger
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._key = signing_key
        self._new_id = id_factory or (lambda: f"REQ-{uuid.uuid4().hex[:12].upper()}")

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
            missing = _missing(sop.submit.requires, fields)
            if missing:
                raise IncompleteRequestError("submit", missing)
        except RequestError as exc:
            self._record_refusal(new_id, "submit", actor, exc, sop_ref=sop_ref, state=None)
            raise
        record = RequestRecord(
            id=new_id,
            ledger=self.ledger,
            sop_id=sop.id,
            sop_version=sop.version,
            sop_hash=sop.content_hash,
            state=sop.initial,
            version=1,
            data=fields,
            meta={"actors": {"submit": [actor.id]}},
            unit=sop.unit,
            created_at=now,
            updated_at=now,
            closed=sop.state(sop.initial).final,
        )
        body = {
            "time": format_time(now),
            "kind": "submit",
            "request": new_id,
            "sop": sop_ref,
            "action": "submit",
            "actor": actor.id,
            "role": role,
            "from": None,
            "to": sop.initial,
            "data": fields,
        }
        result = self.store.append(
            self.ledger,
            body,
            time=now,
            request=record,
            expected_version=None,
            idempotency_key=idempotency_key,
            sign=self._sign,
        )
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

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: not possible from the current state (recorded).
            PermissionDeniedError: role or separation of duties refuses it (recorded).
            IncompleteRequestError: required fields or justification missing (recorded).
            ConcurrentModificationError: another writer changed the request first; retry.
        """
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        now = ensure_aware(self.clock.now(), what="clock time")
        record = self.store.get_request(request_id)
        if record is None:
            error = UnknownRequestError(request_id)
            self._record_refusal(request_id, action, actor, error, sop_ref=None, state=None)
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
            role = authorize(
                actor, action, allowed_roles=spec.roles, not_by=spec.not_by, history=history
            )
            missing = _missing(spec.requires, merged)
            if spec.justification and not (justification and justification.strip()):
                missing.append("justification")
            if missing:
                raise IncompleteRequestError(action, missing)
            new_state = compile_sop(sop).fire(record.state, action)
        except (TransitionNotAllowedError, PermissionDeniedError, IncompleteRequestError) as exc:
            self._record_refusal(
                request_id, action, actor, exc, sop_ref=sop_ref, state=record.state
            )
            raise
        actors = {k: list(v) for k, v in history.items()}
        actors.setdefault(action, [])
        if actor.id not in actors[action]:
            actors[action].append(actor.id)
        updated = attrs.evolve(
            record,
            state=new_state,
            version=record.version + 1,
            data=merged,
            meta={**record.meta, "actors": actors},
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
            "data": fields,
        }
        if justification:
            body["justification"] = justification
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
        }
        self.store.append(self.ledger, body, time=now, sign=self._sign)
