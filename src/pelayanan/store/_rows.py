"""Row encoding shared by the SQL backends: instants as integer microseconds, JSON as text.

SQLite and PostgreSQL store a request identically, so a record round-trips exactly the
same way through either (and through an export/import between them).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pelayanan.exceptions import SchemaVersionError
from pelayanan.store.base import RequestRecord

REQUEST_COLUMNS = (
    "id, ledger, sop_id, sop_version, sop_hash, state, version, data, meta, unit, assignee, "
    "next_due, created_at, updated_at, closed, last_seq, last_hash"
)
#: Placeholders for one request row, in `REQUEST_COLUMNS` order (``?`` style; the
#: PostgreSQL store swaps them for ``%s``).
REQUEST_PLACEHOLDERS = ", ".join(["?"] * 17)


__all__ = [
    "REQUEST_COLUMNS",
    "REQUEST_PLACEHOLDERS",
    "from_micros",
    "micros",
    "request_params",
    "row_to_request",
    "schema_number",
]


def micros(value: dt.datetime) -> int:
    """Return *value* as integer microseconds since the Unix epoch (UTC)."""
    delta = value.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> dt.datetime:
    """Return the aware UTC instant *value* microseconds after the Unix epoch."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)


def row_to_request(row: tuple[Any, ...]) -> RequestRecord:
    """Return the record stored in *row* (columns in `REQUEST_COLUMNS` order)."""
    return RequestRecord(
        id=row[0],
        ledger=row[1],
        sop_id=row[2],
        sop_version=row[3],
        sop_hash=row[4],
        state=row[5],
        version=row[6],
        data=json.loads(row[7]),
        meta=json.loads(row[8]),
        unit=row[9],
        assignee=row[10],
        next_due=None if row[11] is None else from_micros(row[11]),
        created_at=from_micros(row[12]),
        updated_at=from_micros(row[13]),
        closed=bool(row[14]),
        last_seq=None if row[15] is None else int(row[15]),
        last_hash=row[16],
    )


def request_params(record: RequestRecord) -> tuple[Any, ...]:
    """Return *record* as row values in `REQUEST_COLUMNS` order."""
    return (
        record.id,
        record.ledger,
        record.sop_id,
        record.sop_version,
        record.sop_hash,
        record.state,
        record.version,
        json.dumps(record.data, sort_keys=True, ensure_ascii=False),
        json.dumps(record.meta, sort_keys=True, ensure_ascii=False),
        record.unit,
        record.assignee,
        None if record.next_due is None else micros(record.next_due),
        micros(record.created_at),
        micros(record.updated_at),
        int(record.closed),
        record.last_seq,
        record.last_hash,
    )


def schema_number(value: Any, where: str) -> int:
    """Return the schema version stored as *value*, refusing a damaged one.

    Args:
        value: the ``meta`` table's ``schema_version`` value.
        where: the store, for the message.

    Raises:
        SchemaVersionError: the value is not a positive whole number.
    """
    text = str(value)
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 9) or int(text) == 0:
        msg = f"{where}: the recorded schema version is not a positive number; the store is damaged"
        raise SchemaVersionError(msg)
    return int(text)
