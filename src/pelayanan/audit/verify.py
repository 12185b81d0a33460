"""Verify an audit ledger: a checklist run over a stream of entries and checkpoints.

For each entry, in order:

1. **sequence**: it sits at the position its number says, in the ledger it names;
2. **well-formed**: canonical JSON of the v1 shape (see docs/audit-format.md);
3. **Merkle root**: where a checkpoint's size is reached, the root of the entries so far
   equals the root the checkpoint states (so a changed entry is pinned to the checkpoint
   interval it falls in: with a checkpoint per commit, to the entry itself);
4. **chain**: its ``prev`` equals the hash of the entry before it;

and for each checkpoint: **signature** by a key the auditor trusts, valid at the time the
checkpoint states and not revoked by then (see `pelayanan.audit.keyring`).  At the end, every
entry must be covered by a signed checkpoint and no checkpoint may claim more entries
than the log holds (truncation).  With ``since``, the log must extend a checkpoint the
auditor saved earlier: same root at that size (no rewrite), at least that size (no
truncation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from pelayanan.audit.canonical import parse_canonical
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, entry_problem
from pelayanan.audit.keyring import TrustedKey, trusted_from
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.merkle import CompactRange, leaf_hash
from pelayanan.exceptions import (
    CanonicalEncodingError,
    ChainError,
    MalformedEntryError,
    MerkleRootError,
    SequenceError,
    SignatureError,
)

__all__ = [
    "LedgerVerifier",
    "Progress",
    "VerificationReport",
    "accept_checkpoint",
    "verify_ledger",
]

#: Called as ``progress(ledger, entries verified, entries expected)`` every few thousand
#: entries and at the end of each ledger.
Progress = Callable[[str, int, int], None]


@attrs.frozen
class VerificationReport:
    """The outcome of a successful verification of one ledger."""

    ledger: str
    size: int
    root: bytes
    checkpoints: int
    keys: tuple[str, ...]
    last_checkpoint: str | None

    def summary(self) -> str:
        """Return a one-line summary for a terminal."""
        return (
            f"ledger {self.ledger}: {self.size} entries, {self.checkpoints} signed checkpoints "
            f"verified, root {self.root.hex()[:16]}..., keys {', '.join(self.keys) or '-'}"
        )


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
    seq = cp.size - 1 if cp.size else None
    by_key = {t.key: t for t in trusted_from(trusted_keys)}
    signers = signed.signed_by(by_key)
    if not signers:
        names = ", ".join(name for name, _, _ in signed.signatures)
        raise SignatureError(
            seq,
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
        seq,
        f"{what} is signed by a trusted key that was not valid at its time: " + "; ".join(refusals),
        ledger=ledger,
    )


class LedgerVerifier:
    """Verify one ledger incrementally: feed entries and checkpoints in log order.

    Args:
        ledger: the ledger id the entries must carry.
        trusted_keys: the keys whose checkpoint signatures are accepted; a bare
            `VerifierKey` is trusted at any time, a `TrustedKey` within its validity.
        since: a signed checkpoint saved earlier that the log must still extend.
    """

    def __init__(
        self,
        ledger: str,
        trusted_keys: Sequence[VerifierKey | TrustedKey],
        *,
        since: SignedCheckpoint | None = None,
    ) -> None:
        self.ledger = ledger
        self._keys = trusted_from(trusted_keys)
        self._range = CompactRange()
        self._prev_hex = GENESIS_PREV
        self._pending: list[SignedCheckpoint] = []
        self._checked = 0
        self._checked_size = 0
        self._last_note: str | None = None
        self._keys_used: set[str] = set()
        self._since = since
        if not self._keys:
            raise SignatureError(None, "no trusted key given: pass the ledger public key")
        if since is not None:
            self._check_signature(since, what="the saved checkpoint")

    @property
    def size(self) -> int:
        """Return how many entries were verified so far."""
        return self._range.size

    def add_checkpoint(self, note: str) -> None:
        """Feed a signed checkpoint note; it is checked when the log reaches its size."""
        signed = SignedCheckpoint.parse(note)
        if signed.checkpoint.ledger != self.ledger:
            raise SignatureError(
                None,
                f"checkpoint for ledger {signed.checkpoint.ledger!r} found in ledger "
                f"{self.ledger!r} (checkpoints may not be replayed across ledgers)",
                ledger=self.ledger,
            )
        self._check_signature(signed, what=f"checkpoint at size {signed.checkpoint.size}")
        if signed.checkpoint.size <= self._range.size:
            self._check_root(signed)
        else:
            self._pending.append(signed)
        self._last_note = note

    def add_entry(self, seq: int, data: bytes) -> None:
        """Feed the entry stored at position *seq* (its exact bytes)."""
        position = self._range.size
        # 1. sequence: the store's numbering matches the position in the stream.
        if seq != position:
            missing = "missing" if seq > position else "duplicated or out of order"
            raise SequenceError(
                position,
                f"expected entry {position}, found {seq} (entries {missing})",
                ledger=self.ledger,
            )
        # 2. well-formed: canonical JSON of the documented shape.
        entry = self._parse(position, data)
        if entry["ledger"] != self.ledger:
            raise SequenceError(
                position,
                f"entry belongs to ledger {entry['ledger']!r}, not {self.ledger!r} "
                "(replayed from another ledger)",
                ledger=self.ledger,
            )
        if entry["seq"] != position:
            raise SequenceError(
                position, f"entry says it is number {entry['seq']}", ledger=self.ledger
            )
        entry_hash = leaf_hash(data)
        self._range.append(entry_hash)
        # 3. Merkle root at each checkpoint this entry completes.
        while self._pending and self._pending[0].checkpoint.size <= self._range.size:
            self._check_root(self._pending.pop(0))
        if self._since is not None and self._since.checkpoint.size == self._range.size:
            self._check_since()
        # 4. chain: the predecessor hash this entry records.
        if entry["prev"] != self._prev_hex:
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
            raise ChainError(
                position - 1,
                f"its hash does not match the predecessor hash recorded in entry {position} "
                "(the entry was altered, removed or reordered)",
                ledger=self.ledger,
            )
        self._prev_hex = entry_hash.hex()

    def finish(self) -> VerificationReport:
        """Run the end-of-log checks and return the report."""
        size = self._range.size
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
        return VerificationReport(
            self.ledger,
            size,
            self._range.root(),
            self._checked,
            tuple(sorted(self._keys_used)),
            self._last_note,
        )

    # -- checks -------------------------------------------------------------------------

    def _check_signature(self, signed: SignedCheckpoint, *, what: str) -> None:
        self._keys_used.add(accept_checkpoint(signed, self._keys, what=what, ledger=self.ledger))

    def _check_root(self, signed: SignedCheckpoint) -> None:
        cp = signed.checkpoint
        if cp.size != self._range.size:
            # Only reachable for checkpoints fed after their size was passed; such
            # checkpoints are checked against the root recomputed at that size.
            raise MerkleRootError(
                None,
                f"checkpoint at size {cp.size} arrived after entry {self._range.size - 1}; "
                "feed checkpoints in log order",
                ledger=self.ledger,
            )
        if cp.root != self._range.root():
            start = self._checked_size
            where = f"entry {start}" if cp.size - start <= 1 else f"entries {start}..{cp.size - 1}"
            raise MerkleRootError(
                cp.size - 1,
                f"Merkle root of the log at size {cp.size} does not match the signed "
                f"checkpoint ({where} altered since signing)",
                ledger=self.ledger,
            )
        self._checked += 1
        self._checked_size = max(self._checked_size, cp.size)

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

    def _parse(self, position: int, data: bytes) -> dict[str, Any]:
        try:
            entry = parse_canonical(data)
        except CanonicalEncodingError as exc:
            raise MalformedEntryError(position, str(exc), ledger=self.ledger) from None
        if not isinstance(entry, dict):
            raise MalformedEntryError(position, "entry is not a JSON object", ledger=self.ledger)
        problem = entry_problem(entry)
        if problem is not None:
            raise MalformedEntryError(position, problem, ledger=self.ledger)
        return entry


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
    pending: str | None = None
    pending_size = -1

    def take() -> None:
        nonlocal pending, pending_size
        pending = next(notes, None)
        pending_size = SignedCheckpoint.parse(pending).checkpoint.size if pending else -1

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
