"""Audit entries, format v1: canonical JSON objects chained by their predecessor's hash.

Every entry is a canonical JSON object (see `pelayanan.audit.canonical`) with at least::

    v       1 (the format version)
    ledger  the ledger id
    seq     its position in the ledger, from 0
    time    the instant it was recorded, RFC 3339 UTC with microseconds ("...Z")
    kind    what happened: "submit", "action", "refused", ... (see docs/audit-format.md)
    prev    hex SHA-256 leaf hash of the previous entry (64 zeros for seq 0)

The entry hash is its RFC 9162 leaf hash, SHA-256(0x00 || bytes), so the hash that
chains entries is also the Merkle leaf an inclusion proof starts from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.merkle import leaf_hash

__all__ = [
    "ENTRY_VERSION",
    "GENESIS_PREV",
    "REQUIRED_FIELDS",
    "StoredEntry",
    "encode_entry",
    "format_time",
    "parse_time",
]

ENTRY_VERSION = 1
GENESIS_PREV = "0" * 64
#: Fields every entry carries, with their JSON types.
REQUIRED_FIELDS: Mapping[str, type] = {
    "v": int,
    "ledger": str,
    "seq": int,
    "time": str,
    "kind": str,
    "prev": str,
}


def format_time(value: dt.datetime) -> str:
    """Format an aware instant as the entry time string (UTC, microseconds, ``Z``)."""
    if value.tzinfo is None:
        msg = "entry times must be timezone-aware"
        raise ValueError(msg)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """Parse an entry time string into an aware UTC datetime.

    Raises:
        ValueError: the string is not in the entry time format.
    """
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def encode_entry(
    body: Mapping[str, Any], *, ledger: str, seq: int, prev: str
) -> tuple[bytes, bytes]:
    """Complete *body* with the chain fields and encode it.

    Args:
        body: the entry's own fields (``time``, ``kind`` and whatever the kind carries).
        ledger: the ledger id.
        seq: the entry's sequence number.
        prev: hex leaf hash of the previous entry.

    Returns:
        The canonical bytes and the entry (leaf) hash.
    """
    entry = dict(body)
    entry.update(v=ENTRY_VERSION, ledger=ledger, seq=seq, prev=prev)
    data = canonical_json(entry)
    return data, leaf_hash(data)


@attrs.frozen
class StoredEntry:
    """An entry as a store returns it: its ledger, sequence number and exact bytes."""

    ledger: str
    seq: int
    data: bytes

    @property
    def hash(self) -> bytes:
        """Return the entry (leaf) hash."""
        return leaf_hash(self.data)
