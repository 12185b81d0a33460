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

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.verify import LedgerVerifier, Progress, VerificationReport
from pelayanan.exceptions import SequenceError, SignatureError, VerificationError

__all__ = [
    "EXPORT_CHECKPOINT_EVERY",
    "EXPORT_FORMAT",
    "ExportRecord",
    "export_checkpoints",
    "read_export",
    "verify_export",
    "write_export",
]

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


#: Default density of the checkpoints an export keeps: at most one per this many entries,
#: besides those that anchor key validity and the last one (see `export_checkpoints`).
EXPORT_CHECKPOINT_EVERY = 1000


def _peek(note: str) -> tuple[int, str, tuple[str, ...]]:
    """Return a note's size, time text and signer names without a full parse."""
    try:
        body, _, sigs = note.partition("\n\n")
        lines = body.split("\n")
        size = int(lines[1])
        when = next(line for line in lines[3:] if line.startswith("time "))
        names = tuple(sorted(line.split(" ")[1] for line in sigs.split("\n") if line))
    except (ValueError, IndexError, StopIteration):
        # A note the store holds but cannot be read: the full parser says why.
        SignedCheckpoint.parse(note)
        raise SignatureError(None, "malformed checkpoint: cannot read its size or time") from None
    return size, when, names


def export_checkpoints(
    notes: Iterable[str], *, every: int = EXPORT_CHECKPOINT_EVERY
) -> frozenset[int]:
    """Choose which checkpoints of a ledger an export keeps; return their indexes in *notes*.

    The last checkpoint's root commits to every entry, so it alone proves the integrity
    of the whole log; the others localize a fault and anchor each key's validity.  Kept:

    * the last checkpoint;
    * at most one per *every* entries (the first whose size enters each block of
      *every*), so a fault is pinned to a stretch of about that many entries;
    * for each run of consecutive checkpoints signed by the same single key, the first,
      the last, and those with the earliest and the latest time: a key's validity
      (``valid_from``, ``valid_until``, ``revoked_at``) is an interval of time, so if
      those verify, every checkpoint of the run left out would verify too;
    * every checkpoint signed by more than one key (acceptance is then a union of
      intervals, which extremes do not capture).

    Args:
        notes: the ledger's checkpoint notes, ordered by size.
        every: the density; 1 keeps every checkpoint.

    Returns:
        The indexes (positions in *notes*) of the checkpoints to keep.

    Raises:
        ValueError: *every* is below 1.
        SignatureError: a note is not a well-formed signed checkpoint.
    """
    if every < 1:
        msg = f"checkpoint density must be at least 1, got {every}"
        raise ValueError(msg)
    keep: set[int] = set()
    block = -1
    run_signers: tuple[str, ...] | None = None
    run: list[tuple[str, int]] = []  # (time, index) of the earliest and the latest

    def close_run(last: int) -> None:
        keep.add(last)
        keep.update(index for _, index in run)

    index = -1
    for index, note in enumerate(notes):
        size, when, signers = _peek(note)
        if signers != run_signers:
            if index:
                close_run(index - 1)
            run_signers = signers
            run = [(when, index), (when, index)]
            keep.add(index)
        else:
            if when < run[0][0]:
                run[0] = (when, index)
            if when > run[1][0]:
                run[1] = (when, index)
        if len(signers) != 1:
            keep.add(index)
        if size // every != block:
            block = size // every
            keep.add(index)
    if index >= 0:
        close_run(index)
    return frozenset(keep)


def _checkpoint_line(note: str) -> bytes:
    return json.dumps({"checkpoint": note}, separators=(",", ":")).encode() + b"\n"


def write_export(
    store: Any,
    out: IO[bytes],
    *,
    ledgers: list[str] | None = None,
    all_checkpoints: bool = False,
    checkpoint_every: int = EXPORT_CHECKPOINT_EVERY,
) -> int:
    """Stream the ledgers of *store* to *out*; return the number of entries written.

    Args:
        store: the store to read (any `pelayanan.store.Store`).
        out: a binary file open for writing.
        ledgers: the ledgers to export (default: all).
        all_checkpoints: keep every checkpoint the store holds, not the thinned set of
            `export_checkpoints`.
        checkpoint_every: the density of the thinned set.

    Returns:
        The number of entry lines written.

    Raises:
        ValueError: *checkpoint_every* is below 1.
        SignatureError: the store holds a checkpoint that is not a signed note.
    """
    written = 0
    for ledger in ledgers if ledgers is not None else store.ledgers():
        size = store.head(ledger).size
        header = {"format": EXPORT_FORMAT, "ledger": ledger, "size": size, "version": 1}
        out.write(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
        chosen = (
            None
            if all_checkpoints
            else export_checkpoints(
                store.iter_checkpoints(ledger, max_size=size), every=checkpoint_every
            )
        )
        notes = (
            (_peek(note)[0], note)
            for index, note in enumerate(store.iter_checkpoints(ledger, max_size=size))
            if chosen is None or index in chosen
        )
        head = next(notes, None)
        entries = iter(store.entries(ledger, 0, size))
        done = 0
        while head is not None:
            # The entries a checkpoint covers go before it, so a reader meets each
            # checkpoint right after the entry that completes its size.
            for entry in itertools.islice(entries, head[0] - done):
                out.write(entry.data + b"\n")
                done += 1
            out.write(_checkpoint_line(head[1]))
            head = next(notes, None)
        for entry in entries:
            out.write(entry.data + b"\n")
            done += 1
        written += done
    return written


_HEADER, _ENTRY, _CHECKPOINT = 0, 1, 2


def _records(path: str | Path) -> Iterator[tuple[int, str, bytes | str | int]]:
    """Yield ``(kind, ledger, payload)``: header (size), entry (bytes) or checkpoint (note)."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        ledger: str | None = None
        for number, raw in enumerate(handle, start=1):
            line = raw[:-1] if raw[-1:] == b"\n" else raw
            if line.startswith(_CHECKPOINT_PREFIX):
                note = _checkpoint_note(line)
                if note is not None:
                    if ledger is None:
                        raise VerificationError(
                            None, f"line {number}: no export header before records"
                        )
                    yield _CHECKPOINT, ledger, note
                    continue
            elif line.startswith(_HEADER_PREFIX):
                header = _header(line)
                if header is not None:
                    ledger, size = header
                    yield _HEADER, ledger, size
                    continue
            if ledger is None:
                raise VerificationError(None, f"line {number}: no export header before records")
            yield _ENTRY, ledger, line


def read_export(path: str | Path) -> Iterator[ExportRecord]:
    """Yield the records of an export file, streaming.

    Entry lines are passed on as bytes without being parsed here (the verifier parses
    them once); headers and checkpoint records are recognised by their exact shape.

    Raises:
        VerificationError: the file cannot be read or lacks a header before its records.
    """
    position = 0
    for kind, ledger, payload in _records(path):
        if kind == _ENTRY:
            assert isinstance(payload, bytes)
            yield ExportRecord("entry", ledger, data=payload, seq=position)
            position += 1
        elif kind == _CHECKPOINT:
            assert isinstance(payload, str)
            yield ExportRecord("checkpoint", ledger, note=payload)
        else:
            assert isinstance(payload, int)
            position = 0
            yield ExportRecord("header", ledger, seq=payload)


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
        verifier.end_of_entries()
        if verifier.size != declared:
            # Before the coverage checks: a cut export is best named by its header.
            raise SequenceError(
                verifier.size,
                f"the export header announces {declared} entries but {verifier.size} follow "
                "(entries were removed or added)",
                ledger=verifier.ledger,
            )
        report = verifier.finish()
        if progress is not None:
            progress(report.ledger, report.size, declared)
        reports.append(report)

    for kind, ledger, payload in _records(path):
        if kind == _ENTRY:
            assert verifier is not None
            verifier.add_entry(verifier.size, payload)  # type: ignore[arg-type]
            if progress is not None and not verifier.size & 4095:
                progress(ledger, verifier.size, declared)
        elif kind == _CHECKPOINT:
            assert verifier is not None
            verifier.add_checkpoint(payload)  # type: ignore[arg-type]
        else:
            if verifier is not None:
                close()
            ledger_since = since if since and since.checkpoint.ledger == ledger else None
            verifier = LedgerVerifier(ledger, trusted_keys, since=ledger_since)
            declared = payload  # type: ignore[assignment]
    if verifier is not None:
        close()
    if not reports:
        raise VerificationError(None, f"{path} holds no ledger")
    return reports
