"""The in-memory store: for tests, simulations and examples; nothing survives the process."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Unpack

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import StoredEntry
from pelayanan.audit.merkle import MemoryNodeStore, Node
from pelayanan.store.base import (
    AppendOptions,
    AppendResult,
    BulkAppender,
    LedgerHead,
    RequestRecord,
    prepare_checked_append,
)
from pelayanan.store.vault import MemoryVaultMixin

__all__ = ["MemoryStore"]


class MemoryStore(MemoryVaultMixin):
    """A `Store` held in Python dictionaries, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: dict[str, RequestRecord] = {}
        self._entries: dict[str, list[bytes]] = {}
        self._heads: dict[str, LedgerHead] = {}
        self._checkpoints: dict[str, list[tuple[int, str]]] = {}
        self._nodes: dict[str, MemoryNodeStore] = {}
        self._idempotency: dict[str, tuple[str | None, int]] = {}
        self._meta: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(requests={len(self._requests)}, ledgers={len(self._heads)})"

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request with *request_id*, or ``None``."""
        with self._lock:
            return self._requests.get(request_id)

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation."""
        with self._lock:
            records = sorted(self._requests.values(), key=lambda r: (r.created_at, r.id))
        yield from (r for r in records if ledger is None or r.ledger == ledger)

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""
        with self._lock:
            due = [
                r for r in self._requests.values() if r.next_due is not None and r.next_due <= now
            ]
        due.sort(key=lambda r: (r.next_due, r.id))
        return due if limit is None else due[:limit]

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*."""
        counts: dict[str, tuple[int, int]] = {}
        with self._lock:
            for record in self._requests.values():
                if record.unit != unit or record.assignee is None:
                    continue
                open_, total = counts.get(record.assignee, (0, 0))
                counts[record.assignee] = (open_ + (not record.closed), total + 1)
        return counts

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""
        with self._lock:
            return self._idempotency.get(key)

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to *stop*."""
        with self._lock:
            data = list(self._entries.get(ledger, [])[start:stop])
        for offset, item in enumerate(data):
            yield StoredEntry(ledger, start + offset, item)

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""
        with self._lock:
            notes = list(self._checkpoints.get(ledger, []))
        return [note for _, note in sorted(notes, key=lambda item: item[0])]

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``."""
        with self._lock:
            notes = list(self._checkpoints.get(ledger, []))
        notes.sort(key=lambda item: item[0])
        for size, note in notes:
            if size >= min_size and (max_size is None or size <= max_size):
                yield note

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""
        with self._lock:
            notes = self._checkpoints.get(ledger, [])
            # Stable max: among equal sizes the last stored wins, as in SQLite.
            best = max(range(len(notes)), key=lambda i: (notes[i][0], i), default=None)
            return None if best is None else notes[best][1]

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle node hashes of *ledger*, in the order asked.

        Raises:
            ProofError: a node is not stored.
        """
        with self._lock:
            nodes = self._nodes.get(ledger)
            if nodes is None:
                nodes = MemoryNodeStore()
            return nodes.get_nodes(pairs)

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note."""
        size = SignedCheckpoint.parse(note).checkpoint.size
        with self._lock:
            self._checkpoints.setdefault(ledger, []).append((size, note))

    def ledgers(self) -> list[str]:
        """Return the ids of the ledgers in this store, sorted."""
        with self._lock:
            return sorted(self._heads)

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger*."""
        with self._lock:
            return self._heads.get(ledger, LedgerHead.empty())

    def append(
        self, ledger: str, body: Mapping[str, Any], **options: Unpack[AppendOptions]
    ) -> AppendResult:
        """Append an audit entry and write *request*, atomically.

        Raises:
            ConcurrentModificationError: the request changed since it was read, or the
                idempotency key was used already.
        """
        request = options.get("request")
        idempotency_key = options.get("idempotency_key")
        with self._lock:
            stored = self._requests.get(request.id) if request is not None else None
            head = self._heads.get(ledger, LedgerHead.empty())
            # Everything that can fail happens before the first mutation below.
            prepared = prepare_checked_append(
                head,
                ledger,
                body,
                options,
                stored=stored,
                key_used=idempotency_key is not None and idempotency_key in self._idempotency,
                reader=self,
            )
            nodes = self._nodes.setdefault(ledger, MemoryNodeStore())
            nodes.add(prepared.nodes)
            self._entries.setdefault(ledger, []).append(prepared.data)
            self._heads[ledger] = prepared.head
            if prepared.request is not None:
                self._requests[prepared.request.id] = prepared.request
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (
                    request.id if request is not None else None,
                    head.size,
                )
            if prepared.checkpoint is not None:
                self._checkpoints.setdefault(ledger, []).append(
                    (prepared.head.size, prepared.checkpoint.to_text())
                )
            return prepared.result

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Append pre-encoded entries and checkpoint notes verbatim, all or nothing.

        Raises:
            SequenceError: an entry or checkpoint does not continue this ledger.
            ChainError: an entry's ``prev`` does not link to the one before it.
        """
        with self._lock:
            bulk = BulkAppender(self._heads.get(ledger, LedgerHead.empty()), ledger)
            entries: list[bytes] = []
            nodes: list[Node] = []
            notes: list[tuple[int, str]] = []
            for record in records:
                if isinstance(record, bytes):
                    nodes.extend(bulk.entry(record)[1])
                    entries.append(record)
                else:
                    notes.append((bulk.checkpoint(record), record))
            if not entries and not notes:
                return bulk.head
            self._nodes.setdefault(ledger, MemoryNodeStore()).add(nodes)
            self._entries.setdefault(ledger, []).extend(entries)
            self._checkpoints.setdefault(ledger, []).extend(notes)
            self._heads[ledger] = bulk.head
            return bulk.head

    def put_requests(self, records: Iterable[RequestRecord]) -> int:
        """Write request rows as they are (a ledger moved here); return how many."""
        copied = list(records)
        with self._lock:
            self._requests.update((record.id, record) for record in copied)
        return len(copied)

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level metadata value."""
        with self._lock:
            self._meta[key] = value

    def get_meta(self, key: str) -> str | None:
        """Return a store-level metadata value, or ``None``."""
        with self._lock:
            return self._meta.get(key)

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""
        with self._lock:
            entries = self._entries.get(ledger, [])
            return entries[seq] if 0 <= seq < len(entries) else None

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""
        return self.get_nodes(ledger, pairs)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold the store still: reads inside see one state (writers wait)."""
        with self._lock:
            yield

    def close(self) -> None:
        """Do nothing: memory needs no closing."""
