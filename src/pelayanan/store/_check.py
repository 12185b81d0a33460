"""Check a whole store against its audit log: `verify_store`.

The log verification (`pelayanan.audit.verify`) proves the entries and checkpoints; the
desk, the proofs and the reports also read the *working tables*, which nothing signs.
`verify_store` reads one consistent snapshot and, beside the log checklist, compares:

1. **ledgers**: every ledger that has entries has a head row (an entry without a head
   is reported and still verified, never skipped);
2. **head**: each head row's size, last hash and compact range equal what the entries
   recompute;
3. **Merkle nodes**: every stored perfect-subtree hash equals the tree's;
4. **checkpoint rows**: none missing, duplicated or out of order (backends that can
   tell);
5. **requests**: every request row equals the replay of the entries that changed it
   (state, version, SOP pin, unit, assignee, recorded actors, disposisi, SLA clocks,
   last-entry pointer), and every request the log changed has a row.

Each disagreement is a `StoreProblem`, rendered ``store: TABLE KEY: what differs``.

With ``jobs`` 2 (what ``jobs=None`` and the CLI choose for a SQLite file of at least
`PARALLEL_MIN_ENTRIES` entries on two or more cores), each ledger's log checklist
(entries, chain, every checkpoint's root, no signature) runs in a worker process that
opens the store itself, while this process checks the signatures `run` would check and
reads the entries once more (parsed only, and the leaf hash) for items 2, 3 and 5.  The
halves must end at the same size and Merkle root (so they read the same entry bytes) and
have read the same checkpoint notes (a digest of them).  Anything short of a clean result
on both sides (a fault, a problem, halves that differ, as when a desk appends between the
two reads) runs the whole check again in one process, so what is reported is always what
``jobs=1`` reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint, unsigned_body
from pelayanan.audit.export import export_checkpoints
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.merkle import CompactRange, Node
from pelayanan.audit.verify import (
    LedgerVerifier,
    Progress,
    VerificationReport,
    accept_checkpoint,
)
from pelayanan.exceptions import (
    InvalidArgumentError,
    PelayananError,
    ProofError,
    StoreError,
    VerificationError,
)
from pelayanan.store._replay import CHECK_COLUMNS, RowReplay, RowView, row_differences
from pelayanan.store.base import Store
from pelayanan.store.sqlite import SQLiteStore
from pelayanan.store.transfer import imported_meta_key

__all__ = ["PARALLEL_MIN_ENTRIES", "StoreProblem", "StoreReport", "read_snapshot", "verify_store"]

#: The C JSON scanner: `tables_only` parses each entry with it, 2.5 µs a bench entry
#: against 3.7 µs through `json.loads` (bytes: an encoding guess, two whitespace scans).
_scan: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

#: How many entries' Merkle nodes are compared per query.
_NODE_BATCH = 2048

#: Stores holding at least this many entries are checked with a worker process when
#: ``jobs`` is None (below it, starting the worker costs more than it saves).
PARALLEL_MIN_ENTRIES = 20_000


@attrs.frozen
class StoreProblem:
    """One row of the store that disagrees with the log.

    Attributes:
        table: the table (``ledgers``, ``merkle_nodes``, ``checkpoints``, ``requests``).
        key: the row's key (a ledger id, a request id, a node, ``-``).
        what: what differs, in words.
    """

    table: str
    key: str
    what: str

    def render(self) -> str:
        """Return the line ``store: TABLE KEY: what differs``."""
        return f"store: {self.table} {self.key}: {self.what}"


@attrs.frozen
class StoreReport:
    """The outcome of `verify_store`: the verified ledgers and the store's disagreements.

    Attributes:
        ledgers: one report per verified ledger.
        problems: every working-table row that disagrees with the log (empty: intact).
        jobs: how many processes the check ran in (1, or 2 with a worker).
    """

    ledgers: tuple[VerificationReport, ...]
    problems: tuple[StoreProblem, ...]
    jobs: int = 1

    @property
    def ok(self) -> bool:
        """Return whether the store agrees with its log everywhere."""
        return not self.problems


@contextlib.contextmanager
def read_snapshot(store: Store) -> Iterator[None]:
    """Run the block's reads of *store* on one consistent snapshot, if it offers one."""
    snapshot = getattr(store, "snapshot", None)
    if snapshot is None:
        yield
        return
    with snapshot():
        yield


def verify_store(
    store: Store,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    since: Sequence[SignedCheckpoint] = (),
    check_tables: bool = True,
    all_checkpoints: bool = False,
    progress: Progress | None = None,
    jobs: int | None = 1,
) -> StoreReport:
    """Verify every ledger of *store* and check its working tables against the log.

    Everything is read in one snapshot, so a desk writing meanwhile causes no false
    alarm: the log is verified up to the head that snapshot holds.

    Args:
        store: the store (open it read-only: ``open_store(location, read_only=True)``).
        trusted_keys: the keys whose checkpoint signatures count.
        since: signed checkpoints saved earlier (at most one per ledger) that the log
            must still extend: an auditor's own note, or the latest checkpoint a
            witness cosigned (the hook for witnesses: pass it here).
        check_tables: also replay the request rows from the log (default).
        all_checkpoints: check the signature of every checkpoint.  By default only the
            thinned set an export keeps (`pelayanan.audit.export.export_checkpoints`:
            the latest, one per 1,000 entries, the first, last, earliest and latest of
            each key's run) has its signature checked; every checkpoint's root is
            checked either way, and the latest one's signature covers every entry.
        progress: called as entries are verified.
        jobs: processes: 1 (the default: a library call never starts a process
            unasked) checks in this process alone; 2 (or more: one worker is used) runs
            the log checklist in a worker process beside the table checks, for a SQLite
            file store (others: 1); ``None`` picks 2 when the store holds at least
            `PARALLEL_MIN_ENTRIES` entries and two cores are available (what
            ``pelayanan audit verify --db`` does unless given ``--jobs``).  The result
            is the same either way; `StoreReport.jobs` says how many ran.

    Returns:
        The report; `StoreReport.problems` lists every disagreement.

    Raises:
        VerificationError: the log itself does not verify (the first failure).
        InvalidArgumentError: *jobs* is below 1.
    """
    how = _How(tuple(trusted_keys), tuple(since), check_tables, all_checkpoints)
    if _workers(store, jobs) > 1:
        with ProcessPoolExecutor(max_workers=1, mp_context=_start_method()) as pool:
            found = _verify_beside(store, how, progress, pool)
        if found is not None:
            return found
    return _verify_serial(store, how, progress)


@attrs.frozen
class _How:
    """What `verify_store` was asked to check (passed whole to the worker)."""

    trusted_keys: tuple[VerifierKey | TrustedKey, ...]
    since: tuple[SignedCheckpoint, ...]
    check_tables: bool
    all_checkpoints: bool


def _start_method() -> multiprocessing.context.BaseContext | None:
    """Return how to start the worker: the platform's default, unless threads are running.

    A process forked while other threads run may copy a lock one of them holds (SQLite's
    own among them); from a threaded caller (a web application's desk) the worker is
    started from a clean forkserver process instead, where the platform offers one.
    """
    if threading.active_count() > 1 and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return None


def _workers(store: Store, jobs: int | None) -> int:
    """Return how many processes to check *store* in (see `verify_store`)."""
    if jobs is not None and jobs < 1:
        msg = f"jobs must be at least 1, got {jobs}"
        raise InvalidArgumentError(msg)
    if not isinstance(store, SQLiteStore) or store.path == ":memory:":
        return 1  # the worker opens the store by its file name
    if jobs is not None:
        return min(jobs, 2)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return 1
    total = sum(store.head(ledger).size for ledger in store.ledgers())
    return 2 if total >= PARALLEL_MIN_ENTRIES else 1


def _verify_serial(store: Store, how: _How, progress: Progress | None) -> StoreReport:
    """Run every check in this process (the reference for what a fault reports)."""
    saved = {note.checkpoint.ledger: note for note in how.since}
    check_tables, trusted_keys = how.check_tables, how.trusted_keys
    problems: list[StoreProblem] = []
    reports: list[VerificationReport] = []
    replay = RowReplay() if check_tables else None
    with read_snapshot(store):
        missing = tuple(getattr(store, "missing_tables", ()))
        problems.extend(StoreProblem(t, "-", "the table is missing") for t in missing)
        ledgers = _ledgers(store, problems)
        if not ledgers:
            raise VerificationError(None, "the store holds no ledger")
        unknown = set(saved) - set(ledgers)
        if unknown:
            what = f"the log has no ledger {sorted(unknown)[0]!r} of the saved checkpoint"
            raise VerificationError(None, what)
        for ledger in ledgers:
            check = _LedgerCheck(store, ledger, replay, nodes="merkle_nodes" not in missing)
            reports.append(
                check.run(
                    trusted_keys, saved.get(ledger), progress, all_signatures=how.all_checkpoints
                )
            )
            problems.extend(check.problems)
        faults = getattr(store, "checkpoint_faults", None)
        if faults is not None and "checkpoints" not in missing:
            problems.extend(StoreProblem(*fault) for fault in faults())
        if replay is not None and "requests" not in missing:
            problems.extend(_request_problems(store, replay))
    return StoreReport(tuple(reports), tuple(problems))


def _verify_beside(
    store: Store, how: _How, progress: Progress | None, pool: ProcessPoolExecutor
) -> StoreReport | None:
    """Check the tables here and each ledger's log in *pool*; ``None`` unless all is well.

    ``None`` (a fault, a problem, or the two halves did not read the same log) sends
    the caller to `_verify_serial`, which names what is wrong exactly as ``jobs=1``.
    """
    assert isinstance(store, SQLiteStore)
    saved = {note.checkpoint.ledger: note for note in how.since}
    replay = RowReplay() if how.check_tables else None
    reports: list[VerificationReport] = []
    with read_snapshot(store):
        problems: list[StoreProblem] = []
        ledgers = _ledgers(store, problems)
        if store.missing_tables or problems or not ledgers or set(saved) - set(ledgers):
            return None
        logs = [
            pool.submit(_log_report, store.path, ledger, how, saved.get(ledger))
            for ledger in ledgers
        ]
        halves = []
        for ledger in ledgers:
            check = _LedgerCheck(store, ledger, replay, nodes=True)
            try:
                signed = check.signatures_only(how.trusted_keys, all_signatures=how.all_checkpoints)
            except VerificationError:
                return None
            read = check.tables_only(progress)
            if read is None:
                return None
            problems.extend(check.problems)
            halves.append((signed, read))
        # The store-wide checks run while the worker is still busy with the log, not
        # after it: 0.57 s to 0.47 s at 20,000 entries (docs/performance.md).
        problems.extend(StoreProblem(*fault) for fault in store.checkpoint_faults())
        if replay is not None:
            problems.extend(_request_problems(store, replay))
        for ((keys, checked, last, notes), read), log in zip(halves, logs, strict=True):
            answer = log.result()
            if answer is None:
                return None
            report, digest = answer
            if (report.size, report.root, digest) != (*read, notes):
                return None  # the two processes did not read the same log
            reports.append(
                attrs.evolve(
                    report,
                    keys=tuple(sorted(keys.union(report.keys))),
                    signatures=checked,
                    last_checkpoint=last,
                )
            )
    return None if problems else StoreReport(tuple(reports), (), jobs=2)


def _log_report(
    path: str, ledger: str, how: _How, since: SignedCheckpoint | None
) -> tuple[VerificationReport, bytes] | None:
    """In the worker: `_LedgerCheck.log_only` on the store at *path*; ``None`` on a fault."""
    try:
        store = SQLiteStore(path, read_only=True)
    except PelayananError:
        return None
    try:
        with read_snapshot(store):
            return _LedgerCheck(store, ledger, None, nodes=False).log_only(how.trusted_keys, since)
    except PelayananError:
        return None
    finally:
        store.close()


def _ledgers(store: Store, problems: list[StoreProblem]) -> list[str]:
    """Return every ledger with a head row or an entry; report entries without a head."""
    heads = store.ledgers()
    with_entries = getattr(store, "entry_ledgers", None)
    found = list(with_entries()) if with_entries is not None else heads
    for ledger in sorted(set(found) - set(heads)):
        what = "entries exist but the ledger has no head row (hidden from the ledger list)"
        problems.append(StoreProblem("ledgers", ledger, what))
    return sorted(set(heads) | set(found))


class _LedgerCheck:
    """Verify one ledger's log and compare its head and nodes, in one pass."""

    def __init__(self, store: Store, ledger: str, replay: RowReplay | None, *, nodes: bool) -> None:
        self.store = store
        self.ledger = ledger
        self.replay = replay
        self.check_nodes = nodes
        self.problems: list[StoreProblem] = []
        self._range = CompactRange()
        self._made: list[Node] = []

    def __repr__(self) -> str:
        return f"_LedgerCheck({self.ledger!r})"

    def run(
        self,
        trusted_keys: Sequence[VerifierKey | TrustedKey],
        since: SignedCheckpoint | None,
        progress: Progress | None,
        *,
        all_signatures: bool,
    ) -> VerificationReport:
        """Verify the ledger; collect the head and node problems; return the report."""
        store, ledger = self.store, self.ledger
        head = store.head(ledger)
        verifier = LedgerVerifier(ledger, trusted_keys, since=since)
        notes = self._notes(all_signatures)
        notes.feed_upto(verifier, 0)
        for stored in store.entries(ledger):
            entry = verifier.add_entry(stored.seq, stored.data)
            self._tap(stored.seq, verifier.last_hash, entry)
            size = verifier.size
            notes.feed_upto(verifier, size)
            if progress is not None and not size & 4095:
                progress(ledger, size, head.size)
        notes.feed_upto(verifier, None)
        report = verifier.finish()
        self._flush_nodes()
        self._compare_head(head)
        if progress is not None:
            progress(ledger, report.size, head.size)
        return report

    def log_only(
        self, trusted_keys: Sequence[VerifierKey | TrustedKey], since: SignedCheckpoint | None
    ) -> tuple[VerificationReport, bytes]:
        """Do the worker's half of `run`: the log, every checkpoint's root, no signature.

        Returns:
            The report (its ``signatures`` 0, its ``last_checkpoint`` the body alone)
            and the digest of the checkpoint notes read (see `_hashed`).
        """
        verifier = LedgerVerifier(self.ledger, trusted_keys, since=since)
        digest = hashlib.sha256()
        notes = _Notes(_hashed(self.store.iter_checkpoints(self.ledger), digest), frozenset())
        notes.feed_upto(verifier, 0)
        for stored in self.store.entries(self.ledger):
            verifier.add_entry(stored.seq, stored.data)
            notes.feed_upto(verifier, verifier.size)
        notes.feed_upto(verifier, None)
        return verifier.finish(), digest.digest()

    def signatures_only(
        self, trusted_keys: Sequence[VerifierKey | TrustedKey], *, all_signatures: bool
    ) -> tuple[set[str], int, str | None, bytes]:
        """Do this process's share of the log: the signatures `run` checks.

        Returns:
            The names of the keys accepted, how many signatures were checked, the last
            note's text (``None``: no note) and the digest of every note read.

        Raises:
            VerificationError: a note is malformed or not validly signed (the caller
                then runs `run`, which names the fault where ``jobs=1`` does).
        """
        store, ledger = self.store, self.ledger
        digest = hashlib.sha256()
        chosen = None
        if not all_signatures:
            chosen = export_checkpoints(_hashed(store.iter_checkpoints(ledger), digest))
        notes = store.iter_checkpoints(ledger)
        if chosen is None:
            notes = _hashed(notes, digest)
        keys: set[str] = set()
        checked = 0
        last = None
        for index, text in enumerate(notes):
            last = text
            if chosen is None or index in chosen:
                keys.add(accept_checkpoint(SignedCheckpoint.parse(text), trusted_keys))
                checked += 1
        return keys, checked, last, digest.digest()

    def tables_only(self, progress: Progress | None) -> tuple[int, bytes] | None:
        """Do `run`'s table half: nodes, head and replay; return the entries' size and root.

        The entries are only parsed (`_scan`): the worker's `log_only` checks them.
        ``None``: an entry this half could not take (the worker rejects it too, or the
        two read different logs).
        """
        store, ledger = self.store, self.ledger
        head = store.head(ledger)
        scan = _scan
        for stored in store.entries(ledger):
            if stored.seq != self._range.size:
                return None
            try:
                text = stored.data.decode()
                entry, end = scan(text, 0)
                if end != len(text):
                    return None
                self._tap(stored.seq, stored.hash, entry)
            except Exception:  # a malformed entry may break the replay in any way
                return None
            size = self._range.size
            if progress is not None and not size & 4095:
                progress(ledger, size, head.size)
        self._flush_nodes()
        self._compare_head(head)
        if progress is not None:
            progress(ledger, self._range.size, head.size)
        return self._range.size, self._range.root()

    def _notes(self, all_signatures: bool) -> _Notes:
        store, ledger = self.store, self.ledger
        signed = None if all_signatures else export_checkpoints(store.iter_checkpoints(ledger))
        return _Notes(store.iter_checkpoints(ledger), signed)

    def _tap(self, seq: int, entry_hash: bytes, entry: dict[str, Any]) -> None:
        if self.replay is not None:
            self.replay.add(seq, entry_hash, entry)
        if self.check_nodes:
            self._made.extend(self._range.append(entry_hash))
            if len(self._made) >= _NODE_BATCH:
                self._flush_nodes()
        else:
            self._range.push(entry_hash)

    def _flush_nodes(self) -> None:
        made, self._made = self._made, []
        if not made:
            return
        for node, digest in zip(made, self._stored(made), strict=True):
            if digest != node.hash:
                state = "is missing" if not digest else "differs from the tree of the entries"
                key = f"{self.ledger}/{node.level}/{node.index}"
                self.problems.append(StoreProblem("merkle_nodes", key, f"node {state}"))
                if len(self.problems) > 100:
                    return

    def _stored(self, made: list[Node]) -> list[bytes]:
        """Return the stored hash of each node of *made* (``b""``: not stored)."""
        node_range = getattr(self.store, "node_range", None)
        if node_range is not None:
            # The nodes a run of appends completes are consecutive at each level.
            levels: dict[int, list[int]] = {}
            for node in made:
                levels.setdefault(node.level, []).append(node.index)
            found = {
                level: node_range(self.ledger, level, indexes[0], indexes[-1] + 1)
                for level, indexes in levels.items()
            }
            return [found[node.level].get(node.index, b"") for node in made]
        try:
            return self.store.get_nodes(self.ledger, [(n.level, n.index) for n in made])
        except (ProofError, StoreError):
            stored = [b""] * len(made)
            for index, node in enumerate(made):
                with contextlib.suppress(ProofError, StoreError):
                    stored[index] = self.store.get_nodes(self.ledger, [(node.level, node.index)])[0]
            return stored

    def _compare_head(self, head: Any) -> None:
        computed = self._range
        if head.size == 0 and computed.size == 0:
            return
        if head.size != computed.size:
            what = f"size is {head.size}, the entries number {computed.size}"
            self.problems.append(StoreProblem("ledgers", self.ledger, what))
        elif head.range.hashes != computed.hashes:
            pairs = zip(head.range.nodes(), computed.nodes(), strict=True)
            have, want = next((a, b) for a, b in pairs if a.hash != b.hash)
            what = (
                f"compact range node ({have.level}, {have.index}) is {have.hash.hex()[:16]}..., "
                f"the entries give {want.hash.hex()[:16]}..."
            )
            self.problems.append(StoreProblem("ledgers", self.ledger, what))
        last = next(iter(self.store.entries(self.ledger, computed.size - 1, computed.size)), None)
        want_hash = last.hash.hex() if last is not None else head.last_hash
        if head.last_hash != want_hash:
            what = f"last_hash is {head.last_hash[:16]}..., entry {computed.size - 1} hashes to "
            self.problems.append(StoreProblem("ledgers", self.ledger, what + want_hash[:16]))


class _Notes:
    """A ledger's checkpoint notes, fed to the verifier as the log reaches their sizes."""

    def __init__(self, notes: Iterator[str], signed: frozenset[int] | None) -> None:
        self._notes = enumerate(notes)
        self._signed = signed  # the indexes whose signature is checked; None: all
        self._index = -1
        self._pending: SignedCheckpoint | None = None
        self._size = -1
        self._next()

    def _next(self) -> None:
        self._index, note = next(self._notes, (-1, None))
        self._signature = self._signed is None or self._index in self._signed
        if note is None:
            self._pending = None
        else:
            # A note whose signature is not checked needs only its size, root and time.
            read = SignedCheckpoint.parse if self._signature else unsigned_body
            self._pending = read(note)
        self._size = -1 if self._pending is None else self._pending.checkpoint.size

    def feed_upto(self, verifier: LedgerVerifier, size: int | None) -> None:
        """Feed every note up to *size* entries (``None``: every note left)."""
        while self._pending is not None and (size is None or self._size <= size):
            verifier.add_checkpoint(self._pending, signature=self._signature)
            self._next()


def _hashed(notes: Iterator[str], digest: Any) -> Iterator[str]:
    """Yield *notes*, adding each (length-prefixed) to *digest*: what two reads compare."""
    for text in notes:
        data = text.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
        yield text


def _request_problems(store: Store, replay: RowReplay) -> Iterator[StoreProblem]:
    for seq, request_id in replay.orphans:
        yield StoreProblem("requests", request_id, f"entry {seq} changes it but none submitted it")
    seen: set[str] = set()
    for record in _rows(store):
        seen.add(record.id)
        expected = replay.rows.get(record.id)
        if expected is None:
            yield StoreProblem("requests", record.id, "no entry of the log submitted it")
            continue
        for what in row_differences(expected, record):
            yield StoreProblem("requests", record.id, what)
    imported = _imported(store)
    for request_id in sorted(set(replay.rows) - seen):
        expected = replay.rows[request_id]
        if expected.first_seq < imported.get(expected.ledger, 0):
            continue  # submitted in a log imported from an export, which holds no rows
        yield StoreProblem("requests", request_id, "the log submitted it but the row is missing")


def _imported(store: Store) -> dict[str, int]:
    """Return ledger -> how many of its entries came from an import (see `import_export`)."""
    get_meta = getattr(store, "get_meta", None)
    if get_meta is None:
        return {}
    found = {}
    for ledger in store.ledgers():
        value = get_meta(imported_meta_key(ledger))
        if value is not None and value.isdigit():
            found[ledger] = int(value)
    return found


def _rows(store: Store) -> Iterator[RowView]:
    """Yield the request rows as the check reads them (only the compared columns)."""
    reader = getattr(store, "check_rows", None)
    if reader is None:
        yield from (RowView.from_record(record) for record in store.requests())
        return
    for row in reader(CHECK_COLUMNS):
        yield RowView.from_row(row)
