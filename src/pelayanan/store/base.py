"""The `Store` protocol, the records it keeps, and the logic every backend shares.

A store keeps service requests (their current state and version), the audit ledgers
(entries, signed checkpoints, the Merkle compact range at the head) and idempotency
keys.  Its one write operation, `Store.append`, commits a new audit entry *together
with* the request's new state in a single transaction, so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, Required, TypedDict, Unpack

import attrs

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, StoredEntry, encode_entry
from pelayanan.audit.merkle import CompactRange, Node, leaf_hash
from pelayanan.exceptions import ChainError, ConcurrentModificationError, SequenceError
from pelayanan.store._guard import RowReader, check_head, check_request_row

__all__ = [
    "SCHEMA_VERSION",
    "AppendOptions",
    "AppendResult",
    "BulkAppender",
    "CheckpointSigner",
    "LedgerHead",
    "LedgerNodes",
    "RequestRecord",
    "Store",
    "build_append",
    "check_version",
    "prepare_append",
    "prepare_checked_append",
]

#: The storage schema version this library writes.  History: 1 = the walking
#: skeleton's layout (no ``merkle_nodes``); 2 = stored Merkle nodes and an index on
#: ``(unit, assignee)``; 3 = each request row names its last audit entry (``last_seq``,
#: ``last_hash``) (see docs/storage.md, "Schema versions").
SCHEMA_VERSION = 3

CheckpointSigner = Callable[[Checkpoint], SignedCheckpoint]


class AppendOptions(TypedDict, total=False):
    """The keyword options of `Store.append`, named once for every store and wrapper.

    Attributes:
        time: the instant recorded in the checkpoint.
        request: the request's new state, or ``None`` for entries that change no request
            (e.g. refused attempts).
        expected_version: the version the request had when it was read (``None`` for a
            new request); a mismatch raises `ConcurrentModificationError`.
        idempotency_key: remembered with the result; a second append with the same key
            raises `ConcurrentModificationError` (the desk looks keys up first).
        sign: signs a checkpoint of the new tree head, stored in the same transaction.
    """

    time: Required[dt.datetime]
    request: RequestRecord | None
    expected_version: int | None
    idempotency_key: str | None
    sign: CheckpointSigner | None


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
        last_seq: the sequence number of the audit entry that last changed it (set by the
            store on append; not part of equality).
        last_hash: that entry's hex leaf hash (set by the store; not part of equality).
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
    # Bookkeeping the store keeps so each append can check the row against its last
    # entry in O(1); two records of the same request state compare equal without it.
    last_seq: int | None = attrs.field(default=None, eq=False)
    last_hash: str | None = attrs.field(default=None, eq=False)


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
    request: RequestRecord | None = None


def check_version(
    request: RequestRecord | None, stored: RequestRecord | None, expected_version: int | None
) -> None:
    """Check the optimistic version of a request change against its stored row.

    Raises:
        ConcurrentModificationError: the stored version is not *expected_version*.
    """
    if request is not None:
        found = None if stored is None else stored.version
        if found != expected_version:
            raise ConcurrentModificationError(request.id, expected_version or 0, found)


def prepare_append(
    head: LedgerHead,
    ledger: str,
    body: Mapping[str, Any],
    *,
    time: dt.datetime,
    sign: CheckpointSigner | None,
    request: RequestRecord | None,
    stored: RequestRecord | None,
    reader: RowReader,
) -> PreparedAppend:
    """Check what an append builds on, then encode the entry (the path every backend shares).

    Backends call this inside their write transaction, after locking the ledger head and
    reading the request's stored row and checking its version (`check_version`): the
    head and the row are checked against the log (`pelayanan.store._guard`), then the
    entry is built and the request given a pointer to it.

    Args:
        head: the ledger head as stored.
        ledger: the ledger appended to.
        body: the entry's fields.
        time: the checkpoint time.
        sign: the checkpoint signer, if any.
        request: the request's new state, if the entry changes one.
        stored: the request's stored row, if any.
        reader: reads entries and nodes inside the transaction.

    Returns:
        The prepared rows; ``request`` carries the pointer to the new entry.

    Raises:
        StoreIntegrityError: the head or the request row disagrees with the log.
    """
    check_head(ledger, head.size, head.last_hash, head.range, reader)
    if stored is not None and request is not None:
        check_request_row(stored, reader)
    prepared = build_append(head, ledger, body, time=time, sign=sign)
    if request is None:
        return prepared
    if request.ledger == ledger:
        request = attrs.evolve(request, last_seq=head.size, last_hash=prepared.entry_hash.hex())
    else:
        # The pointer names an entry of the request's own ledger; an entry elsewhere
        # leaves the row without one (its check is then skipped).
        request = attrs.evolve(request, last_seq=None, last_hash=None)
    return attrs.evolve(prepared, request=request)


def prepare_checked_append(
    head: LedgerHead,
    ledger: str,
    body: Mapping[str, Any],
    options: AppendOptions,
    *,
    stored: RequestRecord | None,
    key_used: bool,
    reader: RowReader,
) -> PreparedAppend:
    """Check an append's version and idempotency key, then `prepare_append` it.

    The checks every backend makes first, in its write transaction with the ledger head
    locked, once it has read the request's stored row and looked the key up.

    Args:
        head: the ledger head as stored.
        ledger: the ledger appended to.
        body: the entry's fields.
        options: the `AppendOptions` of the call.
        stored: the request's stored row, if any.
        key_used: the call's idempotency key is already recorded.
        reader: reads entries and nodes inside the transaction.

    Returns:
        The prepared rows, as `prepare_append` returns them.

    Raises:
        ConcurrentModificationError: the stored version is not the expected one, or the
            idempotency key was used already.
        StoreIntegrityError: the head or the request row disagrees with the log.
    """
    request = options.get("request")
    expected_version = options.get("expected_version")
    check_version(request, stored, expected_version)
    if key_used:
        request_id = request.id if request is not None else "-"
        raise ConcurrentModificationError(request_id, expected_version or 0, None)
    return prepare_append(
        head,
        ledger,
        body,
        time=options["time"],
        sign=options.get("sign"),
        request=request,
        stored=stored,
        reader=reader,
    )


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


class BulkAppender:
    """Check and extend a ledger head with pre-encoded entries and checkpoint notes.

    Backends use it inside one write transaction for `Store.bulk_append`: every entry must
    continue the chain exactly where the head ends (its ``ledger``, ``seq`` and ``prev``),
    so a bulk load can never fork or renumber a ledger.

    Args:
        head: the ledger's head when the transaction started.
        ledger: the ledger being extended.
    """

    def __init__(self, head: LedgerHead, ledger: str) -> None:
        self.ledger = ledger
        self.size = head.size
        self.last_hash = head.last_hash
        self.range = CompactRange.from_dict(head.range.to_dict())

    def __repr__(self) -> str:
        return f"BulkAppender({self.ledger!r}, size={self.size})"

    def entry(self, data: bytes) -> tuple[int, list[Node]]:
        """Accept the next entry's bytes; return its seq and the Merkle nodes it completes.

        Raises:
            SequenceError: the entry names another ledger or another position.
            ChainError: its ``prev`` is not the hash of the entry before it.
        """
        seq = self.size
        try:
            fields = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            fields = None
        if not isinstance(fields, dict):
            raise SequenceError(seq, "not a JSON object: cannot be appended", ledger=self.ledger)
        if fields.get("ledger") != self.ledger or fields.get("seq") != seq:
            msg = (
                f"names ledger {fields.get('ledger')!r} seq {fields.get('seq')!r} where "
                f"ledger {self.ledger!r} seq {seq} comes next"
            )
            raise SequenceError(seq, msg, ledger=self.ledger)
        if fields.get("prev") != self.last_hash:
            msg = "its prev is not the hash of the entry before it: appending it would fork"
            raise ChainError(seq, msg, ledger=self.ledger)
        digest = leaf_hash(data)
        nodes = self.range.append(digest)
        self.size += 1
        self.last_hash = digest.hex()
        return seq, nodes

    def checkpoint(self, note: str) -> int:
        """Accept a signed checkpoint note; return the tree size it states.

        Raises:
            SequenceError: it names another ledger or more entries than loaded so far.
        """
        parsed = SignedCheckpoint.parse(note).checkpoint
        size, named = parsed.size, parsed.ledger
        if named != self.ledger or size > self.size:
            msg = (
                f"a checkpoint of ledger {named!r} at size {size} cannot be stored in ledger "
                f"{self.ledger!r} at size {self.size}"
            )
            raise SequenceError(None, msg, ledger=self.ledger)
        return size

    @property
    def head(self) -> LedgerHead:
        """Return the head after the records accepted so far."""
        return LedgerHead(self.size, self.last_hash, CompactRange.from_dict(self.range.to_dict()))


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

    def append(
        self, ledger: str, body: Mapping[str, Any], **options: Unpack[AppendOptions]
    ) -> AppendResult:
        """Append an audit entry and, in the same transaction, write *request*.

        Args:
            ledger: the ledger to append to.
            body: the entry's fields; the store adds ``v``, ``ledger``, ``seq``, ``prev``.
            **options: the `AppendOptions` (``time`` is required).

        Raises:
            ConcurrentModificationError: the request changed since it was read.
        """

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Append pre-encoded entries and checkpoint notes verbatim, in one transaction.

        The import and bulk-load path: *records* are entry bytes (``bytes``) and signed
        checkpoint notes (``str``) in export order.  Each entry must continue the ledger
        (``ledger``, ``seq``, ``prev``); Merkle nodes and the head are computed as for
        `append`.  Signatures are not checked here: verify first (`import_export` does).

        Returns:
            The ledger's head afterwards.

        Raises:
            SequenceError: an entry or checkpoint does not continue this ledger.
            ChainError: an entry's ``prev`` does not link to the one before it.
        """

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation."""

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*.

        Assignment strategies (`pelayanan.routing`) read this: least-loaded uses the open
        count, round-robin the total.  Requests with no assignee are not counted.
        """

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to (not including) *stop*, in order."""

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``.

        Ordered by tree size (then by when they were stored), read in batches so memory
        stays flat for ledgers with millions of checkpoints.
        """

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle perfect-subtree hashes of *ledger*, in the order asked.

        Args:
            ledger: the ledger.
            pairs: ``(level, index)`` of each node (see `pelayanan.audit.merkle.Node`).

        Raises:
            ProofError: a node is not stored (the tree is smaller than asked for).
        """

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note (e.g. co-signed or after key rotation)."""

    def ledgers(self) -> list[str]:
        """Return the ids of the ledgers in this store, sorted."""

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger* (empty head if it has no entry)."""

    def close(self) -> None:
        """Release the store's connections."""
