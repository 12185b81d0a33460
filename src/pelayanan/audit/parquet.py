"""The verified log as flat rows, for Parquet (``pelayanan audit export --format parquet``).

One row per entry, with the same columns for every kind, so that analysts can query many
units' logs together (DuckDB, Spark, pandas).  The projection is a whitelist
(`FLAT_COLUMNS`): identifiers, codes and instants only.  Nothing that may be personal is
copied: no request ``data`` (which holds the personal fields, sealed or not; only its
``assigned_unit`` is read, for the ``unit`` column), no free text
(justifications, purposes, reasons and refusal messages), no data-subject id, no survey
answers, and no actor on ``submit`` entries (the submitter is the citizen); the officer
NIPs of actions stay, since they are the accountability the log exists for.

Parquet needs the optional ``parquet`` extra (pyarrow): ``pip install 'pelayanan[parquet]'``.
The writer takes entries as a fold of `pelayanan.reports.replay.replay_verified`, so only a
log that verifies is written (the command writes to a temporary file, renamed only once
the whole log has verified).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import IO, Any, Final

from pelayanan.audit.entry import parse_time
from pelayanan.audit.kinds import (
    ACTION,
    ACTOR,
    ASSIGNED_UNIT,
    ASSIGNEE,
    ASSIGNMENT,
    CLOCK,
    CLOCKS,
    DATA,
    ERROR,
    EVENT,
    FROM,
    KIND,
    KIND_SUBMIT,
    LEDGER,
    OFFICER,
    PREV,
    REASON,
    REFUSAL,
    REQUEST,
    ROLE,
    ROUTING,
    RULE,
    RULES,
    SEQ,
    SOP,
    SOP_HASH,
    SOP_ID,
    SOP_VERSION,
    STATE,
    TIME,
    TO,
    UNIT,
)
from pelayanan.exceptions import ReportError

__all__ = ["FLAT_COLUMNS", "ParquetWriter", "available", "flatten_entry"]

#: The columns of a flat row, in order: (name, type) with type ``int``, ``time`` or ``text``.
FLAT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("ledger", "text"),
    ("seq", "int"),
    ("time", "time"),
    ("kind", "text"),
    ("request", "text"),
    ("sop_id", "text"),
    ("sop_version", "text"),
    ("sop_hash", "text"),
    ("actor", "text"),
    ("role", "text"),
    ("action", "text"),
    ("from_state", "text"),
    ("to_state", "text"),
    ("unit", "text"),  # the unit the entry moves the request to, or names
    ("officer", "text"),  # the officer it names or assigns
    ("clock", "text"),
    ("event", "text"),
    ("clock_changes", "int"),
    ("refusal_error", "text"),
    ("refusal_rule", "text"),
    ("survey_rules", "text"),
    ("prev", "text"),
)
#: Rows written per Parquet row group.
BATCH = 50_000


def available() -> bool:
    """Say whether pyarrow (the ``parquet`` extra) is installed."""
    return importlib.util.find_spec("pyarrow") is not None


def _text(value: object) -> str | None:
    """Return a scalar identifier as text; anything else (objects, lists) as ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _get(mapping: object, key: str) -> str | None:
    return _text(mapping.get(key)) if isinstance(mapping, Mapping) else None


def flatten_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return the flat row of one verified entry (the columns of `FLAT_COLUMNS`).

    Args:
        entry: the parsed entry, as the verifier passes it to folds.

    Returns:
        Column name -> value (``None`` where the entry has no such field).
    """
    kind = entry[KIND]
    sop = entry.get(SOP)
    refusal = entry.get(REASON) if isinstance(entry.get(REASON), Mapping) else entry.get(REFUSAL)
    clocks = entry.get(CLOCKS)
    assignment = entry.get(ASSIGNMENT)
    return {
        "ledger": entry[LEDGER],
        "seq": entry[SEQ],
        "time": parse_time(entry[TIME]),
        "kind": kind,
        "request": _text(entry.get(REQUEST)),
        "sop_id": _get(sop, SOP_ID),
        "sop_version": _get(sop, SOP_VERSION),
        "sop_hash": _get(sop, SOP_HASH),
        # The submitter is the citizen: never copied.
        "actor": None if kind == KIND_SUBMIT else _text(entry.get(ACTOR)),
        "role": _text(entry.get(ROLE)),
        "action": _text(entry.get(ACTION)),
        "from_state": _text(entry.get(FROM)),
        "to_state": _text(entry.get(TO)) or _text(entry.get(STATE)),
        "unit": (
            _text(entry.get(UNIT))
            or _get(assignment, UNIT)
            or _get(entry.get(ROUTING), UNIT)
            or _get(entry.get(DATA), ASSIGNED_UNIT)
        ),
        "officer": _text(entry.get(OFFICER)) or _get(assignment, ASSIGNEE),
        "clock": _text(entry.get(CLOCK)),
        "event": _text(entry.get(EVENT)),
        "clock_changes": len(clocks) if isinstance(clocks, list) else 0,
        "refusal_error": _get(refusal, ERROR),
        "refusal_rule": _get(refusal, RULE),
        "survey_rules": _text(entry.get(RULES)),
        "prev": _text(entry.get(PREV)),
    }


class ParquetWriter:
    """A fold that writes each verified entry's flat row to a Parquet file.

    Args:
        handle: the binary file to write (the command's temporary file).

    Raises:
        ReportError: pyarrow is not installed.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        if not available():
            raise ReportError("Parquet needs pyarrow: pip install 'pelayanan[parquet]'")
        import pyarrow as pa  # noqa: PLC0415  (optional dependency)
        import pyarrow.parquet as pq  # noqa: PLC0415

        types = {"text": pa.string(), "int": pa.int64(), "time": pa.timestamp("us", tz="UTC")}
        self._pa = pa
        self._schema = pa.schema([(name, types[kind]) for name, kind in FLAT_COLUMNS])
        self._writer = pq.ParquetWriter(handle, self._schema)
        self._columns: dict[str, list[Any]] = {name: [] for name, _ in FLAT_COLUMNS}
        self.rows = 0

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry."""
        for name, value in flatten_entry(entry).items():
            self._columns[name].append(value)
        self.rows += 1
        if len(self._columns["seq"]) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._columns["seq"]:
            table = self._pa.Table.from_pydict(self._columns, schema=self._schema)
            self._writer.write_table(table)
            self._columns = {name: [] for name, _ in FLAT_COLUMNS}

    def close(self) -> None:
        """Write the last rows and the Parquet footer (call once the log has verified)."""
        self._flush()
        self._writer.close()
