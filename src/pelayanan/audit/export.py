"""The JSONL export format: what ``pelayanan audit export`` writes and ``verify`` reads.

One ledger after another; for each ledger:

* a header line ``{"format":"pelayanan-audit-export","ledger":ID,"size":N,"version":1}``;
* each entry's exact canonical bytes on a line of its own, in sequence order;
* each signed checkpoint as ``{"checkpoint":NOTE}`` right after the entry that completes
  its tree size.

Entry lines are hashed as they are (without the newline), so an export verifies exactly
like the store it came from.  See docs/audit-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.verify import LedgerVerifier, VerificationReport
from pelayanan.exceptions import MalformedEntryError, VerificationError

__all__ = ["EXPORT_FORMAT", "ExportRecord", "read_export", "verify_export", "write_export"]

EXPORT_FORMAT = "pelayanan-audit-export"
EXPORT_VERSION = 1


@attrs.frozen
class ExportRecord:
    """One line of an export: a ``header``, an ``entry`` or a ``checkpoint``."""

    kind: str
    ledger: str
    data: bytes = b""
    seq: int = -1
    note: str = ""


class _NoteQueue:
    """Checkpoint notes in size order, released as the entries they cover are written."""

    def __init__(self, notes: list[str]) -> None:
        self._notes = notes
        self._next = 0

    def take_until(self, size: int | None) -> bytes:
        """Return the lines of the notes whose size is at most *size* (all if ``None``)."""
        lines = []
        while self._next < len(self._notes):
            note = self._notes[self._next]
            if size is not None and SignedCheckpoint.parse(note).checkpoint.size > size:
                break
            lines.append(json.dumps({"checkpoint": note}, separators=(",", ":")).encode() + b"\n")
            self._next += 1
        return b"".join(lines)


def write_export(store: Any, out: IO[bytes], *, ledgers: list[str] | None = None) -> int:
    """Stream the ledgers of *store* to *out*; return the number of entries written."""
    written = 0
    for ledger in ledgers if ledgers is not None else store.ledgers():
        size = store.head(ledger).size
        header = {"format": EXPORT_FORMAT, "ledger": ledger, "size": size, "version": 1}
        out.write(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        notes = _NoteQueue(store.checkpoints(ledger))
        out.write(notes.take_until(0))
        for entry in store.entries(ledger, 0, size):
            out.write(entry.data + b"\n")
            written += 1
            out.write(notes.take_until(entry.seq + 1))
        out.write(notes.take_until(None))
    return written


def read_export(path: str | Path) -> Iterator[ExportRecord]:
    """Yield the records of an export file, streaming.

    Raises:
        VerificationError: the file cannot be read or a line is not a record.
    """
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        ledger: str | None = None
        position = 0
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            try:
                obj = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise MalformedEntryError(
                    position if ledger else None, f"line {number} of {path} is not JSON"
                ) from None
            if isinstance(obj, dict) and obj.get("format") == EXPORT_FORMAT:
                if obj.get("version") != EXPORT_VERSION or not isinstance(obj.get("ledger"), str):
                    raise VerificationError(None, f"line {number}: unsupported export header")
                ledger = obj["ledger"]
                position = 0
                yield ExportRecord("header", ledger)
            elif ledger is None:
                raise VerificationError(None, f"line {number}: no export header before records")
            elif isinstance(obj, dict) and set(obj) == {"checkpoint"}:
                yield ExportRecord("checkpoint", ledger, note=str(obj["checkpoint"]))
            else:
                yield ExportRecord("entry", ledger, data=line, seq=position)
                position += 1


def verify_export(
    path: str | Path,
    trusted_keys: list[VerifierKey],
    *,
    since: SignedCheckpoint | None = None,
) -> list[VerificationReport]:
    """Verify every ledger in an export file, streaming with flat memory.

    Raises:
        VerificationError: the first failure, naming the entry and the reason.
    """
    reports: list[VerificationReport] = []
    verifier: LedgerVerifier | None = None
    for record in read_export(path):
        if record.kind == "header":
            if verifier is not None:
                reports.append(verifier.finish())
            ledger_since = since if since and since.checkpoint.ledger == record.ledger else None
            verifier = LedgerVerifier(record.ledger, trusted_keys, since=ledger_since)
        elif verifier is None:  # pragma: no cover - read_export guarantees a header first
            raise VerificationError(None, "record before header")
        elif record.kind == "checkpoint":
            verifier.add_checkpoint(record.note)
        else:
            verifier.add_entry(record.seq, record.data)
    if verifier is not None:
        reports.append(verifier.finish())
    if not reports:
        raise VerificationError(None, f"{path} holds no ledger")
    return reports
