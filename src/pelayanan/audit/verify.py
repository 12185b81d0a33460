"""Verify an audit ledger: a checklist run over a stream of entries and checkpoints.

For each entry, in order:

1. **sequence**: it sits at the position its number says, in the ledger it names;
2. **well-formed**: canonical JSON of the v1 shape (see docs/audit-format.md);
3. **Merkle root**: where a checkpoint's size is reached, the root of the entries so far
   equals the root the checkpoint states (so a changed entry is pinned to the checkpoint
   interval it falls in: with a checkpoint per commit, to the entry itself);
4. **chain**: its ``prev`` equals the hash of the entry before it;
5. **time**: its ``time`` is not before the time of the entry before it (checked where
   entries are fed whole, `LedgerVerifier.add_entry`);

and for each checkpoint: **signature** by a key the auditor trusts, valid at the time the
checkpoint states and not revoked by then (see `pelayanan.audit.keyring`).  At the end, every
entry must be covered by a signed checkpoint and no checkpoint may claim more entries
than the log holds (truncation).  With ``since``, the log must extend a checkpoint the
auditor saved earlier: same root at that size (no rewrite), at least that size (no
truncation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import attrs

from pelayanan.audit.canonical import parse_canonical_text
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, entry_problem
from pelayanan.audit.keyring import TrustedKey, trusted_from
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.merkle import CompactRange
from pelayanan.exceptions import (
    CanonicalEncodingError,
    ChainError,
    MalformedEntryError,
    MerkleRootError,
    SequenceError,
    SignatureError,
    TimeOrderError,
    VerificationError,
)

__all__ = [
    "LedgerVerifier",
    "Progress",
    "ResumePoint",
    "VerificationReport",
    "accept_checkpoint",
    "check_entry",
    "check_entry_line",
    "fault_evidence",
    "fault_line",
    "verify_ledger",
]

_sha256 = hashlib.sha256

#: Called as ``progress(ledger, entries verified, entries expected)`` every few thousand
#: entries and at the end of each ledger.
Progress = Callable[[str, int, int], None]


@attrs.frozen
class VerificationReport:
    """The outcome of a successful verification of one ledger.

    Attributes:
        ledger: the ledger id.
        size: how many entries verified.
        root: the Merkle root of those entries.
        checkpoints: how many checkpoints had their root checked.
        keys: the names of the keys whose signatures were accepted.
        last_checkpoint: the last checkpoint note fed (``None`` when none).
        signatures: how many of those checkpoints also had their signature checked
            (``-1``: every one of them).
    """

    ledger: str
    size: int
    root: bytes
    checkpoints: int
    keys: tuple[str, ...]
    last_checkpoint: str | None
    signatures: int = -1

    def summary(self) -> str:
        """Return a one-line summary for a terminal."""
        if self.signatures < 0 or self.signatures == self.checkpoints:
            checked = f"{self.checkpoints} signed checkpoints verified"
        else:
            checked = (
                f"{self.checkpoints} checkpoint roots verified, {self.signatures} of their "
                "signatures checked"
            )
        return (
            f"ledger {self.ledger}: {self.size} entries, {checked}, "
            f"root {self.root.hex()[:16]}..., keys {', '.join(self.keys) or '-'}"
        )


@attrs.frozen
class ResumePoint:
    """Where an earlier verification of a ledger stopped, to carry on from there.

    Only the saved signed checkpoint is taken on trust-by-signature: the verifier checks
    its signature and that *frontier* has its size and root before taking any entry.

    Attributes:
        checkpoint: the signed checkpoint the earlier verification ended at.
        frontier: the compact range of the entries it verified (size and root must be
            the checkpoint's).
        prev: the hex hash of the last of those entries (the next entry's ``prev``).
        last_time: the ``time`` field of the last of those entries.
    """

    checkpoint: SignedCheckpoint
    frontier: CompactRange
    prev: str
    last_time: str | None


def accept_checkpoint(
    signed: SignedCheckpoint,
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    what: str = "checkpoint",
    ledger: str | None = None,
) -> str:
    """Check that a trusted key, valid at the checkpoint's time, signed *signed*.

    Args:
        signed: the signed checkpoint.
        trusted_keys: the keys whose signatures count (bare keys: at any time).
        what: how to name the checkpoint in the error.
        ledger: the ledger being verified, for the error.

    Returns:
        The name of the key whose signature was accepted.

    Raises:
        SignatureError: no valid signature by a trusted key, or every such key was
            outside its validity (rotated, not yet valid, revoked) at that time.
    """
    cp = signed.checkpoint
    by_key = {t.key: t for t in trusted_from(trusted_keys)}
    signers = signed.signed_by(by_key)
    if not signers:
        names = ", ".join(name for name, _, _ in signed.signatures)
        raise SignatureError(
            None,
            f"{what} is not validly signed by a trusted key (signed by {names})",
            ledger=ledger,
        )
    # A valid signature counts only inside its key's validity (rotation, revocation).
    refusals = []
    for key in signers:
        refusal = by_key[key].refusal_at(cp.time)
        if refusal is None:
            return key.name
        refusals.append(refusal)
    raise SignatureError(
        None,
        f"{what} is signed by a trusted key that was not valid at its time: " + "; ".join(refusals),
        ledger=ledger,
    )


def check_entry_line(data: bytes, ledger: str, position: int) -> str:
    """Run the checks that need only the entry's own bytes; return its ``prev`` field.

    See `check_entry` (which returns the whole parsed entry) for the checks and errors.
    """
    prev: str = check_entry(data, ledger, position)["prev"]
    return prev


def check_entry(data: bytes, ledger: str, position: int) -> dict[str, Any]:
    """Run the checks that need only the entry's own bytes: well-formed, ledger, number.

    This is checklist item 2 and the entry-side half of item 1, the part of the
    verification that needs no other entry (so it may run in another process).

    Args:
        data: the entry's exact bytes.
        ledger: the ledger the entry must name.
        position: the position it is read at, which its ``seq`` must equal.

    Returns:
        The parsed entry (its ``prev`` field feeds the chain check).

    Raises:
        MalformedEntryError: not canonical JSON of the v1 entry shape.
        SequenceError: the entry names another ledger or another number.
    """
    try:
        entry = parse_canonical_text(data.decode("utf-8"), data)
    except UnicodeDecodeError as exc:
        raise MalformedEntryError(position, f"not valid UTF-8 JSON: {exc}", ledger=ledger) from None
    except CanonicalEncodingError as exc:
        raise MalformedEntryError(position, str(exc), ledger=ledger) from None
    if type(entry) is not dict:
        raise MalformedEntryError(position, "entry is not a JSON object", ledger=ledger)
    problem = entry_problem(entry)
    if problem is not None:
        raise MalformedEntryError(position, problem, ledger=ledger)
    if entry["ledger"] != ledger:
        raise SequenceError(
            position,
            f"entry belongs to ledger {entry['ledger']!r}, not {ledger!r} "
            "(replayed from another ledger)",
            ledger=ledger,
        )
    if entry["seq"] != position:
        raise SequenceError(position, f"entry says it is number {entry['seq']}", ledger=ledger)
    return entry


class LedgerVerifier:
    """Verify one ledger incrementally: feed entries and checkpoints in log order.

    Args:
        ledger: the ledger id the entries must carry.
        trusted_keys: the keys whose checkpoint signatures are accepted; a bare
            `VerifierKey` is trusted at any time, a `TrustedKey` within its validity.
        since: a signed checkpoint saved earlier that the log must still extend.
        resume: carry on from an earlier verification (the first entry fed is then the
            one after it); its checkpoint plays the part of *since*.

    Raises:
        SignatureError: no trusted key is given, or *since* (or the resume point's
            checkpoint) is not validly signed by one.
        SequenceError: the resume point's checkpoint is for another ledger.
        MerkleRootError: the resume frontier is not the tree its checkpoint signs.
    """

    def __init__(
        self,
        ledger: str,
        trusted_keys: Sequence[VerifierKey | TrustedKey],
        *,
        since: SignedCheckpoint | None = None,
        resume: ResumePoint | None = None,
    ) -> None:
        self.ledger = ledger
        self._keys = trusted_from(trusted_keys)
        self._range = CompactRange()
        self._prev_hex = GENESIS_PREV
        self._pending: list[SignedCheckpoint] = []
        # Checkpoints read before the entry that brings the log to their size.
        self._early: list[SignedCheckpoint] = []
        self._checked = 0
        self._checked_size = 0
        self._last_note: str | SignedCheckpoint | None = None
        self._keys_used: set[str] = set()
        self._signatures = 0
        self._since = resume.checkpoint if resume is not None else since
        self._last_time: str | None = None
        self._last_instant = ("", dt.datetime.min)  # _last_time and its instant
        # A chain break between entries p-1 and p, neither pinned by a checkpoint:
        # (p, hex hash of entry p).  The next entry tells which of the two changed.
        self._suspect: tuple[int, str] | None = None
        self._time_fault: TimeOrderError | None = None
        if not self._keys:
            raise SignatureError(
                None, "no trusted key given: pass the ledger public key in trusted_keys"
            )
        if self._since is not None:
            self._check_signature(self._since, what="the saved checkpoint")
        if resume is not None:
            self._resume(resume)

    def _resume(self, resume: ResumePoint) -> None:
        cp = resume.checkpoint.checkpoint
        if cp.ledger != self.ledger:
            raise SequenceError(
                None, f"the saved checkpoint is for ledger {cp.ledger!r}", ledger=self.ledger
            )
        if resume.frontier.size != cp.size or resume.frontier.root() != cp.root:
            raise MerkleRootError(
                None,
                f"the saved state's tree is not the one the checkpoint at size {cp.size} signs",
                ledger=self.ledger,
            )
        self._range = CompactRange(resume.frontier.size, resume.frontier.hashes)
        self._prev_hex = resume.prev
        self._last_time = resume.last_time
        self._checked_size = cp.size
        self._last_note = resume.checkpoint

    @property
    def size(self) -> int:
        """Return how many entries were verified so far."""
        return self._range.size

    @property
    def last_hash(self) -> bytes:
        """Return the leaf hash of the last entry fed (`GENESIS_PREV`'s bytes before any)."""
        return bytes.fromhex(self._prev_hex)

    def add_checkpoint(self, note: str | SignedCheckpoint, *, signature: bool = True) -> None:
        """Feed a signed checkpoint (text or parsed); its root is checked at its size.

        Args:
            note: the checkpoint note.
            signature: also check its signature.  Pass ``False`` only for a checkpoint
                that a later checkpoint whose signature is checked covers (its root is
                still checked: it pins a fault to its stretch of the log).

        Raises:
            SignatureError: the checkpoint is for another ledger, or not validly signed
                by a trusted key.
            MerkleRootError: its root is not the root of the entries fed so far.
        """
        signed = note if isinstance(note, SignedCheckpoint) else SignedCheckpoint.parse(note)
        if self._suspect is not None:
            # The chain is broken already; the next entry decides which entry to name.
            return
        if signed.checkpoint.ledger != self.ledger:
            raise SignatureError(
                None,
                f"checkpoint at size {signed.checkpoint.size}: it names ledger "
                f"{signed.checkpoint.ledger!r}, not {self.ledger!r} (checkpoints may not be "
                "replayed across ledgers)",
                ledger=self.ledger,
            )
        if signature:
            self._check_signature(signed, what=f"checkpoint at size {signed.checkpoint.size}")
            self._signatures += 1
        if signed.checkpoint.size <= self._range.size:
            self._check_root(signed)
        else:
            self._pending.append(signed)
            self._early.append(signed)
        self._last_note = note

    def add_entry(self, seq: int, data: bytes) -> dict[str, Any]:
        """Feed the entry stored at position *seq* (its exact bytes); return it parsed.

        The parsed entry is what replays use, so a report never parses an entry twice.

        Raises:
            SequenceError: *seq* is not the next position (entries missing or repeated).
            VerificationError: the entry is malformed, or breaks the chain or a root.
        """
        position = self._range.size
        if self._suspect is not None:
            self._resolve_suspect(seq, data)
        # 1. sequence: the store's numbering matches the position in the stream.
        if seq != position:
            missing = "missing" if seq > position else "duplicated or out of order"
            raise SequenceError(
                position,
                f"expected entry {position}, found {seq} (entries {missing})",
                ledger=self.ledger,
            )
        # 2. well-formed, and the entry's own ledger and number.
        entry = check_entry(data, self.ledger, position)
        self.add_checked_entry(_sha256(b"\x00" + data).digest(), entry["prev"], entry["time"])
        return entry

    def add_checked_entry(self, entry_hash: bytes, prev: str, time: str | None = None) -> None:
        """Feed the next entry, already checked by `check_entry_line`, by its hash and prev.

        Args:
            entry_hash: the entry's leaf hash, SHA-256(0x00 || bytes).
            prev: its ``prev`` field, as `check_entry_line` returned it.
            time: its ``time`` field; checkpoints covering it may not be dated before it.
        """
        position = self._range.size
        if self._suspect is not None:
            self._decide_suspect(prev)
        self._range.push(entry_hash)
        # 5. time: entry times never decrease (the fault is raised at the end).
        self._check_time(position, time)
        # 3. Merkle root at each checkpoint this entry completes.
        while self._pending and self._pending[0].checkpoint.size <= position + 1:
            self._check_root(self._pending.pop(0))
        if self._since is not None and self._since.checkpoint.size == position + 1:
            self._check_since()
        # 4. chain: the predecessor hash this entry records.
        if prev != self._prev_hex:
            self._chain_break(position, entry_hash)
        self._prev_hex = entry_hash.hex()

    def end_of_entries(self) -> None:
        """Raise a chain fault still awaiting the next entry: there is none.

        Raises:
            ChainError: the chain broke between the last two entries.
        """
        if self._suspect is not None:
            self._decide_suspect(None)

    def resume_point(self) -> ResumePoint | None:
        """Return where to carry on from, or ``None`` when the log ends at no checkpoint.

        Call it after `finish`: the last checkpoint fed must cover every entry.
        """
        note = self._last_note
        if note is None:
            return None
        signed = note if isinstance(note, SignedCheckpoint) else SignedCheckpoint.parse(note)
        if signed.checkpoint.size != self._range.size:
            return None
        frontier = CompactRange(self._range.size, self._range.hashes)
        return ResumePoint(signed, frontier, self._prev_hex, self._last_time)

    def finish(self) -> VerificationReport:
        """Run the end-of-log checks and return the report.

        Raises:
            SequenceError: a checkpoint (or the saved one) covers more entries than the
                log holds: entries were removed from the end.
            SignatureError: the last entries are covered by no signed checkpoint.
            TimeOrderError: an entry is dated before the one before it.
        """
        size = self._range.size
        self.end_of_entries()
        if self._pending:
            claimed = self._pending[0].checkpoint.size
            raise SequenceError(
                size,
                f"a signed checkpoint covers {claimed} entries but the log holds only {size} "
                "(entries were removed from the end)",
                ledger=self.ledger,
            )
        if self._since is not None and self._since.checkpoint.size > size:
            raise SequenceError(
                size,
                f"the saved checkpoint covers {self._since.checkpoint.size} entries but the log "
                f"holds only {size} (truncated)",
                ledger=self.ledger,
            )
        if self._checked_size < size:
            raise SignatureError(
                self._checked_size,
                f"entries {self._checked_size}..{size - 1} are not covered by any signed "
                "checkpoint",
                ledger=self.ledger,
            )
        if self._time_fault is not None:
            raise self._time_fault
        return VerificationReport(
            self.ledger,
            size,
            self._range.root(),
            self._checked,
            tuple(sorted(self._keys_used)),
            self._last_note.to_text()
            if isinstance(self._last_note, SignedCheckpoint)
            else self._last_note,
            self._signatures,
        )

    # -- checks -------------------------------------------------------------------------

    def _check_time(self, position: int, time: object) -> None:
        # Entry times are fixed-width UTC strings, so text order is time order.  The fault
        # is raised at the end: a changed time in a tampered entry is a Merkle or chain
        # fault first, and those name what was changed.
        if not isinstance(time, str):
            return
        if self._last_time is not None and time < self._last_time and self._time_fault is None:
            self._time_fault = TimeOrderError(
                position,
                f"time goes backwards ({time} is before {self._last_time}, the time of "
                "the entry before it)",
                ledger=self.ledger,
            )
        self._last_time = time

    def _chain_break(self, position: int, entry_hash: bytes) -> None:
        if not position:
            raise ChainError(
                0,
                "the first entry must have the genesis predecessor (64 zeros)",
                ledger=self.ledger,
            )
        if self._checked_size >= position:
            # The predecessor is pinned by a verified checkpoint: this entry changed.
            raise ChainError(
                position,
                f"its predecessor hash does not match entry {position - 1}, which a signed "
                "checkpoint covers (this entry was altered)",
                ledger=self.ledger,
            )
        # Entry position-1 or this one changed: the next entry's prev tells which.
        self._suspect = (position, entry_hash.hex())

    def _resolve_suspect(self, seq: int, data: bytes) -> NoReturn:
        position = self._range.size
        prev: str | None = None
        if seq == position:
            try:
                prev = check_entry_line(data, self.ledger, position)
            except VerificationError:
                prev = None
        self._decide_suspect(prev)

    def _decide_suspect(self, next_prev: str | None) -> NoReturn:
        assert self._suspect is not None
        position, entry_hex = self._suspect
        if next_prev is not None and next_prev != entry_hex:
            # Both links of this entry are broken: its bytes are not those its
            # successor recorded, nor do they record its predecessor.
            raise ChainError(
                position,
                f"its predecessor hash does not match entry {position - 1} and its hash does "
                f"not match the predecessor hash recorded in entry {position + 1} "
                "(this entry was altered)",
                ledger=self.ledger,
            )
        if next_prev is not None:
            why = f"; entry {position} matches its successor (entry {position - 1} was altered)"
        else:
            why = " (the entry was altered, removed or reordered)"
        raise ChainError(
            position - 1,
            f"its hash does not match the predecessor hash recorded in entry {position}{why}",
            ledger=self.ledger,
        )

    def _check_signature(self, signed: SignedCheckpoint, *, what: str) -> None:
        self._keys_used.add(accept_checkpoint(signed, self._keys, what=what, ledger=self.ledger))

    def _check_root(self, signed: SignedCheckpoint) -> None:
        cp = signed.checkpoint
        if cp.size != self._range.size:
            # Only reachable for checkpoints fed after their size was passed; such
            # checkpoints are checked against the root recomputed at that size.
            raise SequenceError(
                None,
                f"checkpoint at size {cp.size}: placed after entry {self._range.size - 1}; a "
                "checkpoint follows the entry that brings the log to its size "
                f"(entry {cp.size - 1})",
                ledger=self.ledger,
            )
        if cp.root != self._range.root():
            if not cp.size:
                raise MerkleRootError(
                    None,
                    "checkpoint at size 0: its root is not the root of the empty tree",
                    ledger=self.ledger,
                )
            # The chain verified every entry up to here, so the last entry the checkpoint
            # covers is the one whose change the chain cannot show: it is named.
            start = min(self._checked_size, cp.size - 1)
            where = f"entry {start}" if cp.size - start == 1 else f"entries {start}..{cp.size - 1}"
            raise MerkleRootError(
                cp.size - 1,
                f"Merkle root of the log at size {cp.size} does not match the signed "
                f"checkpoint ({where} altered since signing)",
                ledger=self.ledger,
            )
        # After the root: a changed entry time is named as the change it is.
        self._check_dated_after_entries(cp)
        if self._early and self._early[0] is signed:
            self._early.pop(0)
            raise SequenceError(
                None,
                f"checkpoint at size {cp.size}: placed before entry {cp.size - 1}; a checkpoint "
                "follows the entry that brings the log to its size",
                ledger=self.ledger,
            )
        self._checked += 1
        self._checked_size = max(self._checked_size, cp.size)

    def _check_dated_after_entries(self, cp: Checkpoint) -> None:
        # A checkpoint dated before an entry it covers was backdated (for instance into
        # the validity of a key revoked since).  The last entry's time (checked to be an
        # entry time) is parsed once, not the checkpoint's formatted each time: 0.2 µs
        # against 1.4 µs a checkpoint, with one per entry (docs/performance.md).
        last = self._last_time
        if last is None or not cp.size:
            return
        if self._last_instant[0] != last:
            self._last_instant = (last, dt.datetime.fromisoformat(last))
        if cp.time < self._last_instant[1]:
            raise SignatureError(
                cp.size - 1,
                f"checkpoint at size {cp.size} is dated before the entry it covers",
                ledger=self.ledger,
            )

    def _check_since(self) -> None:
        assert self._since is not None
        if self._since.checkpoint.root != self._range.root():
            raise MerkleRootError(
                self._range.size - 1,
                f"the log no longer extends the saved checkpoint at size "
                f"{self._since.checkpoint.size}: its first {self._since.checkpoint.size} entries "
                "were rewritten",
                ledger=self.ledger,
            )


#: How a fault line may begin when no entry is at fault (see `fault_line`).
_PLACES = ("checkpoint at size ", "line ", "ledger ", "the saved checkpoint", "store: ")


def fault_line(exc: VerificationError) -> str:
    """Return the one line that reports *exc*: ``entry N: reason`` or a named place.

    A fault tied to an entry names it; one tied to a checkpoint, an export line or a
    ledger names that (the reason begins with it); anything else is ``unverifiable:``
    (the input could not be checked at all, such as a file that cannot be read).  Only
    the reason's first line is used: `fault_evidence` returns the rest.
    """
    reason = exc.reason.partition("\n")[0]
    if exc.seq is not None:
        line = f"entry {exc.seq}: {reason}"
    elif reason.startswith(_PLACES):
        line = reason
    else:
        line = f"unverifiable: {reason}"
    return line + (f" (ledger {exc.ledger})" if exc.ledger else "")


def fault_evidence(exc: VerificationError) -> str:
    """Return what *exc* carries after its first line (a fork's two notes), else ``""``."""
    return exc.reason.partition("\n")[2]


def verify_ledger(
    ledger: str,
    entries: Iterable[tuple[int, bytes]],
    checkpoints: Iterable[str],
    trusted_keys: Sequence[VerifierKey | TrustedKey],
    *,
    since: SignedCheckpoint | None = None,
    expected_size: int = 0,
    progress: Progress | None = None,
) -> VerificationReport:
    """Verify one ledger from its entries and its checkpoint notes (ordered by size).

    Both iterables are consumed lazily, so memory stays flat however long the log is.

    Args:
        ledger: the ledger id.
        entries: ``(seq, bytes)`` of each entry, in order.
        checkpoints: the signed checkpoint notes, ordered by tree size.
        trusted_keys: the keys whose signatures count (see `LedgerVerifier`).
        since: a checkpoint saved earlier that the log must still extend.
        expected_size: the size the caller expects, passed to *progress* as the total.
        progress: called every 4096 entries and at the end.

    Returns:
        The report of the verified ledger.

    Raises:
        VerificationError: the first failure, with the entry sequence number and reason.
    """
    verifier = LedgerVerifier(ledger, trusted_keys, since=since)
    notes = iter(checkpoints)
    pending: SignedCheckpoint | None = None
    pending_size = -1

    def take() -> None:
        nonlocal pending, pending_size
        note = next(notes, None)
        # Parsed once here; the verifier takes the parsed note.
        pending = SignedCheckpoint.parse(note) if note is not None else None
        pending_size = pending.checkpoint.size if pending is not None else -1

    take()
    while pending is not None and pending_size == 0:
        verifier.add_checkpoint(pending)
        take()
    for seq, data in entries:
        verifier.add_entry(seq, data)
        size = verifier.size
        while pending is not None and pending_size <= size:
            verifier.add_checkpoint(pending)
            take()
        if progress is not None and not size & 4095:
            progress(ledger, size, expected_size)
    while pending is not None:
        verifier.add_checkpoint(pending)
        take()
    report = verifier.finish()
    if progress is not None:
        progress(ledger, report.size, expected_size)
    return report
