"""The JSONL export format: what ``pelayanan audit export`` writes and ``verify`` reads.

One ledger after another; for each ledger:

* a header line ``{"format":"pelayanan-audit-export","ledger":ID,"size":N,"version":1}``
  (keys in this order; N is the number of entry lines that follow for this ledger);
* each entry's exact canonical bytes on a line of its own, in sequence order;
* each signed checkpoint as ``{"checkpoint":NOTE}`` right after the entry that completes
  its tree size.

Entry lines are hashed as they are (without the newline), so an export verifies exactly
like the store it came from.  See docs/audit-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.verify import LedgerVerifier, Progress, VerificationReport
from pelayanan.exceptions import SequenceError, VerificationError

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

    def __init__(self, notes: Iterable[str]) -> None:
        self._notes = iter(notes)
        self._head: str | None = next(self._notes, None)
        self._head_size = self._size(self._head)

    @staticmethod
    def _size(note: str | None) -> int:
        return -1 if note is None else SignedCheckpoint.parse(note).checkpoint.size

    def take_until(self, size: int | None) -> bytes:
        """Return the lines of the notes whose size is at most *size* (all if ``None``)."""
        lines = []
        while self._head is not None and (size is None or self._head_size <= size):
            record = {"checkpoint": self._head}
            lines.append(json.dumps(record, separators=(",", ":")).encode() + b"\n")
            self._head = next(self._notes, None)
            self._head_size = self._size(self._head)
        return b"".join(lines)


def write_export(store: Any, out: IO[bytes], *, ledgers: list[str] | None = None) -> int:
    """Stream the ledgers of *store* to *out*; return the number of entries written."""
    written = 0
    for ledger in ledgers if ledgers is not None else store.ledgers():
        size = store.head(ledger).size
        header = {"format": EXPORT_FORMAT, "ledger": ledger, "size": size, "version": 1}
        out.write(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        notes = _NoteQueue(store.iter_checkpoints(ledger, max_size=size))
        out.write(notes.take_until(0))
        for entry in store.entries(ledger, 0, size):
            out.write(entry.data + b"\n")
            written += 1
            out.write(notes.take_until(entry.seq + 1))
        out.write(notes.take_until(None))
    return written


def read_export(path: str | Path) -> Iterator[ExportRecord]:
    """Yield the records of an export file, streaming.

    Entry lines are passed on as bytes without being parsed here (the verifier parses
    them once); headers and checkpoint records are recognised by their exact shape.

    Raises:
        VerificationError: the file cannot be read or lacks a header before its records.
    """
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        ledger: str | None = None
        position = 0
        for number, raw in enumerate(handle, start=1):
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if line.startswith(_CHECKPOINT_PREFIX):
                note = _checkpoint_note(line)
                if note is not None:
                    if ledger is None:
                        raise VerificationError(
                            None, f"line {number}: no export header before records"
                        )
                    yield ExportRecord("checkpoint", ledger, note=note)
                    continue
            elif line.startswith(_HEADER_PREFIX):
                header = _header(line)
                if header is not None:
                    ledger, size = header
                    position = 0
                    yield ExportRecord("header", ledger, seq=size)
                    continue
            if ledger is None:
                raise VerificationError(None, f"line {number}: no export header before records")
            yield ExportRecord("entry", ledger, data=line, seq=position)
            position += 1


_CHECKPOINT_PREFIX = b'{"checkpoint":'
_HEADER_PREFIX = b'{"format":"' + EXPORT_FORMAT.encode() + b'"'


def _checkpoint_note(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(obj, dict) and set(obj) == {"checkpoint"} and isinstance(obj["checkpoint"], str):
        return obj["checkpoint"]
    return None


def _header(line: bytes) -> tuple[str, int] | None:
    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(obj, dict) or set(obj) != {"format", "ledger", "size", "version"}:
        return None
    if obj["version"] != EXPORT_VERSION:
        raise VerificationError(None, f"unsupported export version {obj['version']!r}")
    ledger, size = obj["ledger"], obj["size"]
    if not isinstance(ledger, str) or type(size) is not int or size < 0:
        raise VerificationError(None, "malformed export header (ledger or size)")
    return ledger, size


def verify_export(
    path: str | Path,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    since: SignedCheckpoint | None = None,
    progress: Progress | None = None,
) -> list[VerificationReport]:
    """Verify every ledger in an export file, streaming with flat memory.

    Args:
        path: the JSONL export.
        trusted_keys: the keys whose checkpoint signatures count.
        since: a checkpoint saved earlier that its ledger must still extend.
        progress: called as ``progress(ledger, verified, size in header)`` now and then.

    Returns:
        One report per ledger, in file order.

    Raises:
        VerificationError: the first failure, naming the entry and the reason.
    """
    reports: list[VerificationReport] = []
    verifier: LedgerVerifier | None = None
    declared = 0

    def close() -> None:
        assert verifier is not None
        report = verifier.finish()
        if report.size != declared:
            raise SequenceError(
                report.size,
                f"the export header announces {declared} entries but {report.size} follow "
                "(entries were removed or added)",
                ledger=report.ledger,
            )
        if progress is not None:
            progress(report.ledger, report.size, declared)
        reports.append(report)

    for record in read_export(path):
        if record.kind == "entry":
            assert verifier is not None
            verifier.add_entry(record.seq, record.data)
            if progress is not None and not verifier.size & 4095:
                progress(record.ledger, verifier.size, declared)
        elif record.kind == "checkpoint":
            assert verifier is not None
            verifier.add_checkpoint(record.note)
        else:
            if verifier is not None:
                close()
            ledger_since = since if since and since.checkpoint.ledger == record.ledger else None
            verifier = LedgerVerifier(record.ledger, trusted_keys, since=ledger_since)
            declared = record.seq
    if verifier is not None:
        close()
    if not reports:
        raise VerificationError(None, f"{path} holds no ledger")
    return reports
