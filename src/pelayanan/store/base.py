"""The `Store` protocol, the records it keeps, and the logic every backend shares.

A store keeps service requests (their current state and version), the audit ledgers
(entries, signed checkpoints, the Merkle compact range at the head) and idempotency
keys.  Its one write operation, `Store.append`, commits a new audit entry *together
with* the request's new state in a single transaction, so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, StoredEntry, encode_entry
from pelayanan.audit.merkle import CompactRange, Node

__all__ = [
    "SCHEMA_VERSION",
    "AppendResult",
    "CheckpointSigner",
    "LedgerHead",
    "LedgerNodes",
    "RequestRecord",
    "Store",
    "build_append",
]

#: The storage schema version this library writes.
SCHEMA_VERSION = 1

CheckpointSigner = Callable[[Checkpoint], SignedCheckpoint]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


@attrs.frozen
class RequestRecord:
    """The stored state of one service request.

    Attributes:
        id: the request id.
        ledger: the ledger its audit entries go to.
        sop_id: the SOP it runs under.
        sop_version: the exact SOP version it is pinned to.
        sop_hash: the content hash of that SOP version.
        state: its current state id.
        version: optimistic-concurrency counter, incremented by every change.
        data: the request's fields (non-personal, JSON-compatible).
        meta: bookkeeping the desk needs (e.g. who took which action), JSON-compatible.
        unit: the unit currently responsible, if any.
        assignee: the officer currently assigned, if any.
        next_due: the next instant an SLA clock needs attention, if any (indexed).
        created_at: when it was submitted (UTC).
        updated_at: when it last changed (UTC).
        closed: whether it is in a final state.
    """

    id: str
    ledger: str
    sop_id: str
    sop_version: str
    sop_hash: str
    state: str
    version: int
    data: Mapping[str, Any]
    meta: Mapping[str, Any]
    created_at: dt.datetime = attrs.field(converter=_utc)
    updated_at: dt.datetime = attrs.field(converter=_utc)
    unit: str | None = None
    assignee: str | None = None
    next_due: dt.datetime | None = attrs.field(default=None, converter=_utc_or_none)
    closed: bool = False


@attrs.frozen
class LedgerHead:
    """A ledger's size, last entry hash and Merkle compact range."""

    size: int
    last_hash: str
    range: CompactRange

    @classmethod
    def empty(cls) -> LedgerHead:
        """Return the head of an empty ledger."""
        return cls(0, GENESIS_PREV, CompactRange())


@attrs.frozen
class AppendResult:
    """What one committed append produced."""

    seq: int
    entry_hash: bytes
    size: int
    root: bytes
    checkpoint: SignedCheckpoint | None


@attrs.frozen
class PreparedAppend:
    """An entry encoded against a ledger head, ready to be written."""

    data: bytes
    entry_hash: bytes
    head: LedgerHead
    nodes: Sequence[Node]
    checkpoint: SignedCheckpoint | None
    result: AppendResult


def build_append(
    head: LedgerHead,
    ledger: str,
    body: Mapping[str, Any],
    *,
    time: dt.datetime,
    sign: CheckpointSigner | None,
) -> PreparedAppend:
    """Encode *body* as the next entry after *head*, extend the tree, sign a checkpoint.

    Backends call this inside their write transaction, after locking the ledger head.
    """
    data, entry_hash = encode_entry(body, ledger=ledger, seq=head.size, prev=head.last_hash)
    compact = CompactRange.from_dict(head.range.to_dict())
    nodes = compact.append(entry_hash)
    new_head = LedgerHead(head.size + 1, entry_hash.hex(), compact)
    root = compact.root()
    signed = sign(Checkpoint(ledger, new_head.size, root, time)) if sign else None
    result = AppendResult(head.size, entry_hash, new_head.size, root, signed)
    return PreparedAppend(data, entry_hash, new_head, nodes, signed, result)


class LedgerNodes:
    """The stored Merkle nodes of one ledger, as a `pelayanan.audit.merkle.NodeReader`.

    Args:
        store: the store.
        ledger: the ledger whose nodes to read.
    """

    def __init__(self, store: Store, ledger: str) -> None:
        self.store = store
        self.ledger = ledger

    def __repr__(self) -> str:
        return f"LedgerNodes({self.store!r}, {self.ledger!r})"

    def get_nodes(self, level_index_pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the hashes of the named perfect subtrees, in the order asked.

        Raises:
            ProofError: a node is not stored.
        """
        return self.store.get_nodes(self.ledger, level_index_pairs)


class Store(Protocol):
    """What the desk, the verifier and the reports need from storage."""

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request with *request_id*, or ``None``."""
        ...

    def append(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        request: RequestRecord | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        sign: CheckpointSigner | None = None,
    ) -> AppendResult:
        """Append an audit entry and, in the same transaction, write *request*.

        Args:
            ledger: the ledger to append to.
            body: the entry's fields; the store adds ``v``, ``ledger``, ``seq``, ``prev``.
            time: the instant recorded in the checkpoint.
            request: the request's new state, or ``None`` for entries that change no request
                (e.g. refused attempts).
            expected_version: the version the request had when it was read (``None`` for a
                new request); a mismatch raises `ConcurrentModificationError`.
            idempotency_key: remembered with the result; a second append with the same key
                raises `ConcurrentModificationError` (the desk looks keys up first).
            sign: signs a checkpoint of the new tree head, stored in the same transaction.

        Raises:
            ConcurrentModificationError: the request changed since it was read.
        """
        ...

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation."""
        ...

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""
        ...

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""
        ...

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*.

        Assignment strategies (`pelayanan.routing`) read this: least-loaded uses the open
        count, round-robin the total.  Requests with no assignee are not counted.
        """
        ...

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to (not including) *stop*, in order."""
        ...

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""
        ...

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``.

        Ordered by tree size (then by when they were stored), read in batches so memory
        stays flat for ledgers with millions of checkpoints.
        """
        ...

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""
        ...

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle perfect-subtree hashes of *ledger*, in the order asked.

        Args:
            ledger: the ledger.
            pairs: ``(level, index)`` of each node (see `pelayanan.audit.merkle.Node`).

        Raises:
            ProofError: a node is not stored (the tree is smaller than asked for).
        """
        ...

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note (e.g. co-signed or after key rotation)."""
        ...

    def ledgers(self) -> list[str]:
        """Return the ids of the ledgers in this store, sorted."""
        ...

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger* (empty head if it has no entry)."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...
