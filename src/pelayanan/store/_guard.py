"""The checks every append runs before it builds on stored rows (shared by all backends).

An append extends two things it reads from the working tables: the ledger's head row
(size, last hash, compact range) and, for a request change, the request row.  Both are
checked against the log in O(log n) and O(1) before anything is written:

1. **head**: the compact range covers the size the head states, its frontier hashes are
   the stored Merkle nodes, and the last entry's hash is the one the head names;
2. **request row**: the entry the row names as its last (``last_seq``, ``last_hash``) is
   in the log with that hash and is about this request, and the row's decision fields
   (state, SOP pin, holder, recorded actors, SLA clocks) say what that entry says.

A disagreement raises `StoreIntegrityError` naming the table, the key and what differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from pelayanan.audit.entry import GENESIS_PREV
from pelayanan.audit.merkle import leaf_hash
from pelayanan.exceptions import ProofError, StoreIntegrityError

__all__ = [
    "RowReader",
    "check_head",
    "check_request_row",
    "checkpoint_order_faults",
    "entry_disagreement",
]


class RowReader(Protocol):
    """Reads inside the open write transaction that a guard needs."""

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""


def check_head(ledger: str, size: int, last_hash: str, frontier: Any, reader: RowReader) -> None:
    """Refuse to extend a head whose frontier does not match its last entry.

    Args:
        ledger: the ledger.
        size: the size the head row states.
        last_hash: the last entry hash it states.
        frontier: its compact range (a `pelayanan.audit.merkle.CompactRange`).
        reader: reads entries and nodes in the open transaction.

    Raises:
        StoreIntegrityError: the head row disagrees with the log.
    """
    if frontier.size != size:
        what = f"compact range covers {frontier.size} entries, the head says {size}"
        raise StoreIntegrityError("ledgers", ledger, what)
    if size == 0:
        if last_hash != GENESIS_PREV:
            raise StoreIntegrityError("ledgers", ledger, "an empty head names a last hash")
        return
    data = reader.entry_data(ledger, size - 1)
    if data is None:
        raise StoreIntegrityError("ledgers", ledger, f"entry {size - 1}, its last, is missing")
    if leaf_hash(data).hex() != last_hash:
        what = f"last_hash is not the hash of entry {size - 1}"
        raise StoreIntegrityError("ledgers", ledger, what)
    nodes = frontier.nodes()
    try:
        stored = reader.node_hashes(ledger, [(n.level, n.index) for n in nodes])
    except ProofError:
        stored = []
    if stored != [n.hash for n in nodes]:
        what = "compact range does not match the stored Merkle nodes of its entries"
        raise StoreIntegrityError("ledgers", ledger, what)


def check_request_row(stored: Any, reader: RowReader) -> None:
    """Refuse to act on a request row that disagrees with its last log entry.

    Args:
        stored: the request row as stored (a `RequestRecord`).
        reader: reads entries in the open transaction.

    Raises:
        StoreIntegrityError: the pointer or a decision field disagrees with the entry.
    """
    if stored.last_seq is None:
        return  # written before rows named their entry, and no entry names it since
    data = reader.entry_data(stored.ledger, stored.last_seq)
    if data is None or leaf_hash(data).hex() != stored.last_hash:
        missing = (
            f"its last entry (seq {stored.last_seq}, hash {str(stored.last_hash)[:16]}...) "
            f"is not in ledger {stored.ledger!r}"
        )
        raise StoreIntegrityError("requests", stored.id, missing)
    differs = entry_disagreement(stored, json.loads(data))
    if differs is not None:
        raise StoreIntegrityError("requests", stored.id, f"{differs} (entry {stored.last_seq})")


def entry_disagreement(stored: Any, entry: Mapping[str, Any]) -> str | None:
    """Return how the row *stored* disagrees with its last entry *entry*, or ``None``.

    Only what the entry itself states is compared, so the check is O(1).
    """
    named = entry.get("request")
    if named is None:
        return None  # an entry that names no request (a store-level test body)
    if named != stored.id:
        return f"its last entry is about request {named!r}"
    for problem in (_sop(stored, entry), _state(stored, entry), _holder(stored, entry)):
        if problem is not None:
            return problem
    return _actors(stored, entry) or _clocks(stored, entry)


def _sop(stored: Any, entry: Mapping[str, Any]) -> str | None:
    sop = entry.get("sop")
    if not isinstance(sop, Mapping):
        return None
    mine = {"id": stored.sop_id, "version": stored.sop_version, "hash": stored.sop_hash}
    for key, value in mine.items():
        if key in sop and sop[key] != value:
            return f"sop {key} is {value!r}, the entry says {sop[key]!r}"
    return None


def _state(stored: Any, entry: Mapping[str, Any]) -> str | None:
    if "to" in entry and entry["to"] != stored.state:
        return f"state is {stored.state!r}, the entry says {entry['to']!r}"
    return None


def _holder(stored: Any, entry: Mapping[str, Any]) -> str | None:
    """Compare unit and assignee with where the entry says the request went."""
    expected: dict[str, Any] = {}
    assignment = entry.get("assignment")
    if isinstance(assignment, Mapping) and "assignee" in assignment:
        expected["assignee"] = assignment["assignee"]
    for field in ("holder", "returned_to"):
        moved = entry.get(field)
        if isinstance(moved, Mapping):
            expected.update({k: moved[k] for k in ("unit", "assignee") if k in moved})
    reassign = entry.get("reassign")
    if isinstance(reassign, Mapping):
        expected["assignee"] = None
        if "unit" in reassign:
            expected["unit"] = reassign["unit"]
    for key, value in expected.items():
        if getattr(stored, key) != value:
            return f"{key} is {getattr(stored, key)!r}, the entry says {value!r}"
    return None


def _actors(stored: Any, entry: Mapping[str, Any]) -> str | None:
    if entry.get("kind") not in ("submit", "action"):
        return None
    action, actor = entry.get("action"), entry.get("actor")
    recorded = stored.meta.get("actors", {}).get(action, [])
    if actor not in recorded:
        return f"recorded actors of {action!r} lack {actor!r}, who the entry says took it"
    return None


def _clocks(stored: Any, entry: Mapping[str, Any]) -> str | None:
    clocks = stored.meta.get("sla", {})
    for change in entry.get("clocks", []):
        state = clocks.get(change.get("clock"), {})
        for key in ("cycle", "status", "deadline", "used_us", "paused_us"):
            if key in change and state.get(key) != change[key]:
                return f"SLA clock {change.get('clock')!r} {key} differs from the entry"
    if entry.get("kind") == "sla":
        state = clocks.get(entry.get("clock"), {})
        if entry.get("key") not in state.get("fired", []):
            return f"SLA clock {entry.get('clock')!r} has not fired {entry.get('key')!r}"
    return None


def checkpoint_order_faults(rows: Iterable[Sequence[Any]]) -> list[tuple[str, str, str]]:
    """Return the checkpoint rows stored out of order or twice.

    Appends store a ledger's checkpoints in growing tree size, so in insertion (id) order
    the sizes never decrease and no note repeats.  Memory stays O(1) per ledger.

    Args:
        rows: ``(ledger, id, size, note)`` ordered by ledger, then id.

    Returns:
        ``(table, key, what differs)`` per fault.
    """
    faults: list[tuple[str, str, str]] = []
    last: tuple[str, int, str] | None = None
    for ledger, row_id, size, note in rows:
        if last is not None and last[0] == ledger:
            if note == last[2]:
                faults.append(
                    ("checkpoints", str(row_id), f"duplicates the checkpoint at size {size}")
                )
            elif size < last[1]:
                what = f"size {size} stored after size {last[1]} (duplicated or out of order)"
                faults.append(("checkpoints", str(row_id), what))
        last = (str(ledger), int(size), str(note))
    return faults
