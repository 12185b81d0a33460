"""The JSONL export format: what ``pelayanan audit export`` writes and ``verify`` reads.

One ledger after another; for each ledger:

* a header line ``{"format":"pelayanan-audit-export","ledger":ID,"size":N,"version":1}``
  (canonical JSON; N is the number of entry lines that follow for this ledger);
* each entry's exact canonical bytes on a line of its own, in sequence order;
* each signed checkpoint as ``{"checkpoint":NOTE}`` (canonical JSON) right after the entry
  that completes its tree size.

Every line is canonical JSON (RFC 8785, as entries are); a line beginning with
``{"format":`` is a header, one beginning with ``{"checkpoint":`` a checkpoint, every other
line an entry.

Entry lines are hashed as they are (without the newline), so an export verifies exactly
like the store it came from.  See docs/audit-format.md.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any

import attrs

from pelayanan.audit.canonical import canonical_json, parse_canonical
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import ledger_id_problem
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.verify import (
    LedgerVerifier,
    Progress,
    VerificationReport,
    check_entry,
)
from pelayanan.exceptions import (
    CanonicalEncodingError,
    InvalidArgumentError,
    SequenceError,
    SignatureError,
    VerificationError,
)

__all__ = [
    "EXPORT_CHECKPOINT_EVERY",
    "EXPORT_FORMAT",
    "PARALLEL_MIN_BYTES",
    "ExportRecord",
    "export_checkpoints",
    "read_export",
    "verify_export",
    "write_export",
]

EXPORT_FORMAT = "pelayanan-audit-export"
_sha256 = hashlib.sha256
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
        InvalidArgumentError: *every* is below 1 (a `ValueError`).
        SignatureError: a note is not a well-formed signed checkpoint.
    """
    if every < 1:
        msg = f"checkpoint density must be at least 1, got {every}"
        raise InvalidArgumentError(msg)
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
    return canonical_json({"checkpoint": note}) + b"\n"


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
        out.write(canonical_json(header) + b"\n")
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


def _records(path: str | Path) -> Iterator[tuple[int, str, bytes | SignedCheckpoint | int]]:
    """Yield ``(kind, ledger, payload)``: header (size), entry (bytes) or checkpoint (parsed)."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        ledger: str | None = None
        for number, raw in enumerate(handle, start=1):
            line = raw[:-1] if raw[-1:] == b"\n" else raw
            if line.startswith(_HEADER_PREFIX):
                ledger, size = _header(line, number)
                yield _HEADER, ledger, size
                continue
            if ledger is None:
                raise VerificationError(None, f"line {number}: no export header before records")
            if line.startswith(_CHECKPOINT_PREFIX):
                yield _CHECKPOINT, ledger, _checkpoint_note(line, number)
            else:
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
            assert isinstance(payload, SignedCheckpoint)
            yield ExportRecord("checkpoint", ledger, note=payload.to_text())
        else:
            assert isinstance(payload, int)
            position = 0
            yield ExportRecord("header", ledger, seq=payload)


_CHECKPOINT_PREFIX = b'{"checkpoint":'
_HEADER_PREFIX = b'{"format":'
_HEADER_MEMBERS = frozenset({"format", "ledger", "size", "version"})


def _json_line(line: bytes, number: int, what: str) -> Any:
    """Parse a header or checkpoint line, which must be canonical JSON (as entries are)."""
    try:
        return parse_canonical(line)
    except (UnicodeDecodeError, CanonicalEncodingError) as exc:
        raise VerificationError(
            None, f"line {number}: {what} is not canonical JSON: {exc}"
        ) from None


def _checkpoint_note(line: bytes, number: int) -> SignedCheckpoint:
    obj = _json_line(line, number, "checkpoint line")
    if type(obj) is not dict or obj.keys() != {"checkpoint"} or type(obj["checkpoint"]) is not str:
        msg = f'line {number}: a checkpoint line is {{"checkpoint": NOTE}} with NOTE a string'
        raise VerificationError(None, msg)
    try:
        return SignedCheckpoint.parse(obj["checkpoint"])
    except SignatureError as exc:
        raise SignatureError(None, f"line {number}: {exc.reason}") from None


def _header(line: bytes, number: int) -> tuple[str, int]:
    obj = _json_line(line, number, "export header")
    if type(obj) is not dict or obj.keys() != _HEADER_MEMBERS or obj["format"] != EXPORT_FORMAT:
        msg = (
            f"line {number}: an export header has exactly the members format "
            f"({EXPORT_FORMAT!r}), ledger, size and version"
        )
        raise VerificationError(None, msg)
    if obj["version"] != EXPORT_VERSION:
        raise VerificationError(
            None, f"line {number}: unsupported export version {obj['version']!r}"
        )
    ledger, size = obj["ledger"], obj["size"]
    problem = ledger_id_problem(ledger)
    if problem is not None:
        raise VerificationError(None, f"line {number}: malformed export header: {problem}")
    if type(size) is not int or size < 0:
        raise VerificationError(None, f"line {number}: malformed export header: size {size!r}")
    return ledger, size


#: Exports at least this large are verified with worker processes when ``jobs`` is None.
PARALLEL_MIN_BYTES = 4 << 20
_CHUNK_LINES = 2048  # entry lines per task sent to a worker
_IN_FLIGHT = 3  # tasks per worker queued ahead, which bounds memory


def _check_chunk(
    lines: list[bytes], ledger: str, start: int
) -> tuple[bytes, list[tuple[str, str]], int]:
    """Run `check_entry` and hash each line (in a worker); stop at the first failure.

    Returns:
        The leaf hashes of the lines that passed (concatenated), their ``prev`` and
        ``time`` fields, and the index of the first failing line (-1 when none failed).
    """
    hashes = bytearray()
    fields: list[tuple[str, str]] = []
    for offset, data in enumerate(lines):
        try:
            entry = check_entry(data, ledger, start + offset)
        except VerificationError:
            return bytes(hashes), fields, offset
        fields.append((entry["prev"], entry["time"]))
        hashes += _sha256(b"\x00" + data).digest()
    return bytes(hashes), fields, -1


class _Run:
    """The state of one export verification: the ledger being verified and the reports."""

    def __init__(
        self,
        trusted_keys: Sequence[VerifierKey | TrustedKey],
        since: SignedCheckpoint | None,
        progress: Progress | None,
    ) -> None:
        self.trusted_keys = trusted_keys
        self.since = since
        self.progress = progress
        self.verifier: LedgerVerifier | None = None
        self.declared = 0
        self.reports: list[VerificationReport] = []

    def header(self, ledger: str, size: int) -> None:
        self.close()
        since = self.since if self.since and self.since.checkpoint.ledger == ledger else None
        self.verifier = LedgerVerifier(ledger, self.trusted_keys, since=since)
        self.declared = size

    def tick(self) -> None:
        if self.progress is not None and self.verifier is not None:
            self.progress(self.verifier.ledger, self.verifier.size, self.declared)

    def close(self) -> None:
        verifier = self.verifier
        if verifier is None:
            return
        verifier.end_of_entries()
        if verifier.size != self.declared:
            # Before the coverage checks: a cut export is best named by its header.
            raise SequenceError(
                verifier.size,
                f"the export header announces {self.declared} entries but {verifier.size} "
                "follow (entries were removed or added)",
                ledger=verifier.ledger,
            )
        report = verifier.finish()
        self.tick()
        _refuse_second_history(self.reports, report)
        self.reports.append(report)
        self.verifier = None


def _refuse_second_history(
    earlier: Sequence[VerificationReport], report: VerificationReport
) -> None:
    """Raise when *report*'s ledger was verified already in this file (one ledger, one history).

    Two signed histories of one ledger that differ are a fork: both last checkpoints are
    quoted as evidence.
    """
    first = next((r for r in earlier if r.ledger == report.ledger), None)
    if first is None:
        return
    if (first.size, first.root) == (report.size, report.root):
        what = "a second copy of it"
    elif first.size == report.size:
        what = "two signed histories with different roots at one size (a fork)"
    else:
        what = f"two signed histories, of {first.size} and {report.size} entries"
    raise SequenceError(
        None,
        f"ledger {report.ledger!r} appears twice in the export: {what}\n"
        f"{first.last_checkpoint or ''}\n{report.last_checkpoint or ''}",
        ledger=report.ledger,
    )


def _workers(path: str | Path, jobs: int | None) -> int:
    if jobs is not None:
        if jobs < 1:
            raise VerificationError(None, f"jobs must be at least 1, got {jobs}")
        return jobs
    try:
        size = Path(path).stat().st_size
    except OSError:
        return 1  # the reader reports the problem
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if size >= PARALLEL_MIN_BYTES and (cores or 1) >= 2 else 1


def _verify_serial(path: str | Path, run: _Run) -> None:
    for kind, ledger, payload in _records(path):
        if kind == _ENTRY:
            verifier = run.verifier
            assert verifier is not None
            assert isinstance(payload, bytes)
            verifier.add_entry(verifier.size, payload)
            if not verifier.size & 4095:
                run.tick()
        elif kind == _CHECKPOINT:
            assert run.verifier is not None
            assert isinstance(payload, SignedCheckpoint)
            run.verifier.add_checkpoint(payload)
        else:
            assert isinstance(payload, int)
            run.header(ledger, payload)


# A task in flight: ledger, first position, lines, (lines before, note) of the checkpoints
# among them, and the worker's answer; or a header: (ledger, size).
_Task = tuple[
    str,
    int,
    list[bytes],
    list[tuple[int, SignedCheckpoint]],
    "Future[tuple[bytes, list[tuple[str, str]], int]]",
]


def _apply(run: _Run, task: _Task) -> None:
    """Feed a worker's answer to the verifier, in log order, exactly as the serial path."""
    _, _, lines, notes, future = task
    verifier = run.verifier
    assert verifier is not None
    hashes, prevs, failed = future.result()
    pending = iter(notes)
    note = next(pending, None)
    done = len(prevs)
    for index in range(len(lines)):
        while note is not None and note[0] == index:
            verifier.add_checkpoint(note[1])
            note = next(pending, None)
        if index < done:
            verifier.add_checked_entry(hashes[32 * index : 32 * index + 32], *prevs[index])
        else:
            # The worker stopped here: the serial check names the fault (and resolves a
            # pending chain fault first), so both paths report the same first error.
            verifier.add_entry(verifier.size, lines[index])
    while note is not None:
        verifier.add_checkpoint(note[1])
        note = next(pending, None)
    del failed  # every line from the failing one on was re-checked above
    run.tick()


def _verify_parallel(path: str | Path, run: _Run, workers: int) -> None:
    pool = ProcessPoolExecutor(max_workers=workers)
    window: collections.deque[_Task | tuple[str, int]] = collections.deque()
    lines: list[bytes] = []
    notes: list[tuple[int, SignedCheckpoint]] = []
    ledger: str | None = None
    position = 0

    def flush() -> None:
        nonlocal lines, notes, position
        if ledger is not None and (lines or notes):
            future = pool.submit(_check_chunk, lines, ledger, position)
            window.append((ledger, position, lines, notes, future))
            position += len(lines)
            lines, notes = [], []
        while len(window) > workers * _IN_FLIGHT:
            settle(window.popleft())

    def settle(item: _Task | tuple[str, int]) -> None:
        if len(item) == 2:
            run.header(item[0], item[1])
        else:
            _apply(run, item)

    try:
        for kind, record_ledger, payload in _records(path):
            if kind == _ENTRY:
                assert isinstance(payload, bytes)
                lines.append(payload)
                if len(lines) >= _CHUNK_LINES:
                    flush()
            elif kind == _CHECKPOINT:
                assert isinstance(payload, SignedCheckpoint)
                notes.append((len(lines), payload))
            else:
                assert isinstance(payload, int)
                flush()
                window.append((record_ledger, payload))
                ledger, position = record_ledger, 0
        flush()
        while window:
            settle(window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def verify_export(
    path: str | Path,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    since: SignedCheckpoint | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> list[VerificationReport]:
    """Verify every ledger in an export file, streaming with flat memory.

    With more than one job, worker processes parse, check and hash the entry lines
    (`check_entry`) while this process reads the file and runs the chain, Merkle
    and checkpoint checks in log order; the outcome, and the first error, are the same.

    Args:
        path: the JSONL export.
        trusted_keys: the keys whose checkpoint signatures count.
        since: a checkpoint saved earlier that its ledger must still extend.
        progress: called as ``progress(ledger, verified, size in header)`` now and then.
        jobs: worker processes; 1 verifies in this process alone; ``None`` picks 2 for
            files of at least `PARALLEL_MIN_BYTES` on a machine with two cores or more.

    Returns:
        One report per ledger, in file order.

    Raises:
        VerificationError: the first failure, naming the entry and the reason (or
            *jobs* is below 1).
    """
    run = _Run(trusted_keys, since, progress)
    workers = _workers(path, jobs)
    if workers > 1:
        _verify_parallel(path, run, workers)
    else:
        _verify_serial(path, run)
    run.close()
    if not run.reports:
        raise VerificationError(None, f"{path} holds no ledger")
    return run.reports
