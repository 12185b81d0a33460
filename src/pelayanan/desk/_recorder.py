"""The one object every desk collaborator records through.

A `Recorder` knows the store, the ledger, the injected clock and the signing key.  It
reads "now" (always timezone-aware), signs the checkpoint of every commit, commits an
entry together with its request change and an optional vault change in one store
transaction, records refused attempts, and finds the earlier result of an idempotent
retry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

import attrs

from pelayanan.access import AccessPolicy, Actor, DelegationRegistry, same_id
from pelayanan.audit import kinds
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import StoredEntry, format_time, parse_time
from pelayanan.audit.keyring import KeyringSigner
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.kinds import refusal_reason
from pelayanan.clock import Clock, ensure_aware
from pelayanan.desk._result import ActionResult
from pelayanan.exceptions import (
    ClockWentBackwardsError,
    ConcurrentModificationError,
    ConfigurationError,
    IdempotencyKeyReuseError,
    InvalidInstantError,
    PelayananError,
    PermissionDeniedError,
)
from pelayanan.sop.model import SOP
from pelayanan.store.base import AppendOptions, AppendResult, RequestRecord, Store
from pelayanan.store.vault import VaultChange, VaultStore

__all__ = [
    "CALENDAR_YEARS",
    "Attempt",
    "HOST_TIME",
    "IDEMPOTENCY",
    "ClockSkew",
    "Operation",
    "RefusalBody",
    "Recorder",
    "refusal",
    "refused",
    "sop_entry_ref",
    "within_calendar_years",
]

#: What a desk does with an entry earlier than its ledger's last one.
ClockSkew = Literal["refuse", "hold"]
#: The entry field holding the host's own time when an entry was held at the head's.
HOST_TIME = "host_time"
#: The first and last years the working calendars support.
CALENDAR_YEARS = (1946, 2200)


def within_calendar_years(value: object, *, what: str) -> dt.datetime:
    """Return *value* if it is an aware instant in `CALENDAR_YEARS`.

    Args:
        value: the instant a caller or the clock gave.
        what: how to name it in the error message.

    Returns:
        *value*, unchanged.

    Raises:
        InvalidInstantError: naive, or outside the years calendars support.
    """
    instant = ensure_aware(value, what=what)
    first, last = CALENDAR_YEARS
    if not first <= instant.year <= last:
        msg = (
            f"{what} {instant.isoformat()} is outside the years {first} to {last} "
            "that the working calendars support"
        )
        raise InvalidInstantError(msg)
    return instant


#: Builds a refusal entry's body from the entry time and the refusal reason object
#: (`pelayanan.audit.kinds.refusal_reason`).
RefusalBody = Callable[[dt.datetime, dict[str, Any]], dict[str, Any]]


def sop_entry_ref(sop: SOP) -> dict[str, str]:
    """Return the ``sop`` object entries carry for *sop*: id, version, content hash."""
    return kinds.sop_ref(sop.id, sop.version, sop.content_hash)


def refused(
    request: str,
    *,
    sop: Mapping[str, str] | None,
    action: str,
    actor: str,
    state: str | None,
    on_behalf_of: str | None = None,
) -> RefusalBody:
    """Return the builder of the ``refused`` entry for an attempt on a request.

    Args:
        request: the request id the attempt named.
        sop: the SOP version (`sop_entry_ref`), when the request is known.
        action: the action attempted.
        actor: who attempted it.
        state: the request's state then, if known.
        on_behalf_of: the official whose authority was claimed, if any.

    Returns:
        A `RefusalBody` for `Recorder.refuse`.
    """

    return refusal(
        kinds.refused_body,
        request=request,
        sop=sop,
        action=action,
        actor=actor,
        state=state,
        on_behalf_of=on_behalf_of,
    )


def refusal(
    builder: Callable[..., dict[str, Any]], key: str = kinds.REASON, **fields: Any
) -> RefusalBody:
    """Return the `RefusalBody` that calls *builder* with *fields*, the time and the reason.

    Args:
        builder: the `pelayanan.audit.kinds` builder of the refusal's kind.
        key: the keyword that takes the refusal reason: ``reason``, or ``refusal`` for the
            kinds whose ``reason`` is the caller's own text.
        fields: every other keyword of *builder*.

    Returns:
        A `RefusalBody` for `Recorder.refuse`.
    """

    def build(at: dt.datetime, reason: dict[str, Any]) -> dict[str, Any]:
        return builder(at=at, **fields, **{key: reason})

    return build


@attrs.frozen
class Attempt:
    """An operation on a request under way: the request as loaded, its SOP, who acts and when."""

    record: RequestRecord
    sop: SOP
    action: str
    actor: Actor
    on_behalf_of: str | None
    now: dt.datetime

    def refused(self) -> RefusalBody:
        """Return the builder of the ``refused`` entry that records this attempt's refusal."""
        return refused(
            self.record.id,
            sop=sop_entry_ref(self.sop),
            action=self.action,
            actor=self.actor.id,
            state=self.record.state,
            on_behalf_of=self.on_behalf_of,
        )


#: The request meta key under which each idempotency key's operation is kept.
IDEMPOTENCY = "idempotency"


@attrs.frozen
class Operation:
    """What one idempotency key stands for: the call that first used it.

    Attributes:
        name: ``submit``, ``act`` or ``migrate``.
        request: the request id the caller named (``None``: a submission's new id).
        action: the action (or the migration's target version).
        actor: the actor's id.
        data: a keyed digest of the data (never the data itself).
        roles: the actor's roles now, to authorise a replay (not kept).
    """

    name: str
    request: str | None
    action: str
    actor: str
    data: str
    roles: frozenset[str] = attrs.field(factory=frozenset, eq=False)

    def record(self) -> dict[str, str | None]:
        """Return the operation as the request's meta keeps it."""
        return {
            "name": self.name,
            "request": self.request,
            "action": self.action,
            "actor": self.actor,
            "data": self.data,
        }

    def check_replay(self, record: RequestRecord, key: str, entry: StoredEntry | None) -> None:
        """Refuse replaying *record*'s result for this operation when it is another one.

        Raises:
            IdempotencyKeyReuseError: the request, operation, action, actor or data differ.
            PermissionDeniedError: the actor lacks the role the first call used.
        """
        first = record.meta.get(IDEMPOTENCY, {}).get(key)
        if first is None:
            # A key kept before operations were: the request is all there is to compare.
            if self.request is not None and self.request != record.id:
                raise IdempotencyKeyReuseError("request")
            return
        for name, label in (("request", "request"), ("name", "operation"), ("action", "action")):
            if first.get(name) != self.record()[name]:
                raise IdempotencyKeyReuseError(label)
        if not same_id(str(first.get("actor")), self.actor):
            raise IdempotencyKeyReuseError("actor")
        if first.get("data") != self.data:
            raise IdempotencyKeyReuseError("data")
        role = json.loads(entry.data).get(kinds.ROLE) if entry is not None else None
        if role and role not in self.roles:
            msg = (
                f"actor {self.actor!r} may not replay {self.action!r}: the first call used "
                f"the role {role!r}, which the actor no longer holds"
            )
            raise PermissionDeniedError(msg, rule="role")


class Recorder:
    """Clock, signing, commits, refusals and idempotent replays for one desk's ledger.

    Args:
        store: where requests, the vault and the audit log live.
        ledger: the ledger entries are appended to.
        clock: where "now" comes from.
        signing_key: a ledger key, or a `KeyringSigner` that picks the key valid at each
            checkpoint's time.
        access_policy: the desk's access policy, passed to every access check.
        delegations: the acting officials (Plt/Plh) in force, passed to every access check.
        clock_skew: what to do with an entry earlier than the ledger's last one:
            ``"refuse"`` raises `ClockWentBackwardsError`; ``"hold"`` records it at the
            last entry's time with the host time alongside (``host_time``).
    """

    def __init__(
        self,
        store: Store,
        *,
        ledger: str,
        clock: Clock,
        signing_key: SigningKey | KeyringSigner,
        access_policy: AccessPolicy | None = None,
        delegations: DelegationRegistry | None = None,
        clock_skew: ClockSkew = "refuse",
    ) -> None:
        if clock_skew not in ("refuse", "hold"):
            msg = f'clock_skew must be "refuse" or "hold", got {clock_skew!r}'
            raise ConfigurationError(msg)
        self.clock_skew = clock_skew
        # The time of the ledger's last entry, by its hash: read once per new head.
        self._head_time: tuple[str, dt.datetime | None] | None = None
        self.store = store
        self.access_policy = access_policy if access_policy is not None else AccessPolicy()
        self.delegations = delegations
        self.ledger = ledger
        self.clock = clock
        self._key = signing_key
        self._vault_store: VaultStore | None = None

    def now(self) -> dt.datetime:
        """Return the clock's current instant, refusing a naive one or one out of range.

        Raises:
            InvalidInstantError: naive, or outside the years calendars support.
        """
        return within_calendar_years(self.clock.now(), what="clock time")

    def head_time(self) -> dt.datetime | None:
        """Return the time of the ledger's last entry, or ``None`` when it has none."""
        head = self.store.head(self.ledger)
        if self._head_time is not None and self._head_time[0] == head.last_hash:
            return self._head_time[1]
        time: dt.datetime | None = None
        if head.size:
            last = next(self.store.entries(self.ledger, head.size - 1, head.size), None)
            if last is not None:
                time = parse_time(json.loads(last.data)[kinds.TIME])
        self._head_time = (head.last_hash, time)
        return time

    def forward(
        self, body: Mapping[str, Any], time: dt.datetime
    ) -> tuple[Mapping[str, Any], dt.datetime]:
        """Return *body* and *time* such that the entry is not earlier than the ledger head.

        Raises:
            ClockWentBackwardsError: *time* is before the head and the desk refuses skew.
        """
        head = self.head_time()
        if head is None or time >= head:
            return body, time
        if self.clock_skew != "hold":
            raise ClockWentBackwardsError(head, time)
        held = {**body, kinds.TIME: format_time(head), HOST_TIME: format_time(time)}
        return held, head

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        """Sign *checkpoint* with the key, or the keyring's key valid at its time."""
        if isinstance(self._key, KeyringSigner):
            return self._key(checkpoint)
        return checkpoint.sign(self._key)

    def vault_store(self) -> VaultStore:
        """Return the store as a `VaultStore`.

        Raises:
            ConfigurationError: the store keeps no key vault.
        """
        # isinstance() against a runtime protocol inspects every method: do it once.
        if self._vault_store is None:
            if not isinstance(self.store, VaultStore):
                msg = f"{self.store!r} has no key vault; use a store that implements VaultStore"
                raise ConfigurationError(msg)
            self._vault_store = cast("VaultStore", self.store)
        return self._vault_store

    def commit(
        self,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        request: RequestRecord | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        change: VaultChange | None = None,
    ) -> AppendResult:
        """Append *body*, write *request* and apply the vault *change* in one transaction.

        Args:
            body: the entry body.
            time: the entry's time (also the checkpoint's).
            request: the request's new state, if the entry changes one.
            expected_version: the version the stored request must still have.
            idempotency_key: remembered with the entry, so a retry finds it.
            change: vault rows to write with the entry.

        Returns:
            The appended entry's sequence number and hash.

        Raises:
            ConcurrentModificationError: another writer changed the request first.
            ConfigurationError: a vault change on a store without a vault.
            ClockWentBackwardsError: *time* is before the ledger's last entry (unless the
                desk holds skew).
        """
        body, time = self.forward(body, time)
        key = None if idempotency_key is None else self.scoped(idempotency_key)
        options = AppendOptions(
            time=time,
            request=request,
            expected_version=expected_version,
            idempotency_key=key,
            sign=self.sign,
        )
        if change is None:
            return self.store.append(self.ledger, body, **options)
        return self.vault_store().append_with_vault(self.ledger, body, change=change, **options)

    def commit_once(
        self,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        request: RequestRecord,
        expected_version: int | None,
        idempotency_key: str | None,
        change: VaultChange | None,
        operation: Operation | None = None,
    ) -> ActionResult:
        """Commit a request change under an idempotency key (see `commit`).

        Two calls with one key may race: the loser gets the winner's result instead of an
        error, as a retry after the winner would.

        Returns:
            The request as committed and its entry, or the winner's result.

        Raises:
            ConcurrentModificationError: another writer, not a retry, changed it first.
        """
        try:
            result = self.commit(
                body,
                time=time,
                request=request,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
                change=change,
            )
        except ConcurrentModificationError as exc:
            return self.replayed_or_raise(idempotency_key, exc, operation)
        return ActionResult(request, result.seq, result.entry_hash.hex())

    def refuse(
        self, error: PelayananError, body: RefusalBody, *, at: dt.datetime | None = None
    ) -> None:
        """Record a refused attempt: one entry, no request change.

        Args:
            error: why it was refused; its class, message and rule become the reason.
            body: builds the entry body of the refusal's kind (a `pelayanan.audit.kinds`
                builder) from the entry time and the reason object.
            at: the entry time (default: the clock's now).
        """
        now = at if at is not None else self.now()
        entry, now = self.forward(body(now, refusal_reason(error)), now)
        self.store.append(self.ledger, entry, time=now, sign=self.sign)

    def scoped(self, idempotency_key: str) -> str:
        """Return the key the store keeps for *idempotency_key* on this desk's ledger."""
        # The ledger's length first, so no ledger and key pair spells another's.
        return f"{len(self.ledger)}:{self.ledger}:{idempotency_key}"

    def replayed(
        self, idempotency_key: str | None, operation: Operation | None = None
    ) -> ActionResult | None:
        """Return the result of the earlier call made with *idempotency_key*, if any.

        Args:
            idempotency_key: the caller's key (scoped by the ledger here).
            operation: what the call does; the first call's must be the same.

        Returns:
            The first call's result (``replayed=True``), or ``None`` when the key is new.

        Raises:
            IdempotencyKeyReuseError: the key was first used for another operation.
            PermissionDeniedError: the actor no longer holds the role the first call used.
        """
        if idempotency_key is None:
            return None
        found = self.store.idempotent_result(self.scoped(idempotency_key))
        legacy = found is None
        if found is None:
            # Keys stored before keys were scoped by ledger.
            found = self.store.idempotent_result(idempotency_key)
        if found is None:
            return None
        request_id, seq = found
        record = self.store.get_request(request_id) if request_id else None
        if record is None or (legacy and record.ledger != self.ledger):
            return None
        entry = next(self.store.entries(self.ledger, seq, seq + 1), None)
        if operation is not None:
            operation.check_replay(record, idempotency_key, entry)
        entry_hash = entry.hash.hex() if entry is not None else ""
        return ActionResult(record, seq, entry_hash, replayed=True)

    def replayed_or_raise(
        self,
        idempotency_key: str | None,
        error: ConcurrentModificationError,
        operation: Operation | None = None,
    ) -> ActionResult:
        """Return the first result when a concurrent call with the same key won, else raise.

        Raises:
            ConcurrentModificationError: *error*, when no call with the key committed.
            IdempotencyKeyReuseError: the winner's key stood for another operation.
        """
        replay = self.replayed(idempotency_key, operation)
        if replay is None:
            raise error
        return replay
