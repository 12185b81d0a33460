"""Checkpoints and consistency proofs read out of a store, for witnesses and auditors."""

from __future__ import annotations

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.merkle import consistency_proof_from_nodes
from pelayanan.audit.receipt import Receipt, make_receipt
from pelayanan.audit.witness import ConsistencyProof
from pelayanan.exceptions import InvalidArgumentError, ProofError
from pelayanan.store._check import read_snapshot
from pelayanan.store.base import LedgerNodes, Store

__all__ = ["latest_checkpoint_note", "pick_ledger", "prove_entry", "store_consistency_proof"]


def pick_ledger(store: Store, ledger: str | None) -> str:
    """Return *ledger*, or the store's only ledger when *ledger* is ``None``.

    Raises:
        InvalidArgumentError: no ledger is given and the store holds none or several,
            or the store has no such ledger.
    """
    ledgers = store.ledgers()
    if ledger is None:
        if len(ledgers) != 1:
            held = ", ".join(ledgers) or "(none)"
            msg = f"the store holds ledgers {held}: name one (--ledger)"
            raise InvalidArgumentError(msg)
        return ledgers[0]
    if ledger not in ledgers:
        msg = f"the store has no ledger {ledger!r}"
        raise InvalidArgumentError(msg)
    return ledger


def latest_checkpoint_note(store: Store, ledger: str | None = None) -> str:
    """Return the latest signed checkpoint note of *ledger* in *store*.

    Args:
        store: the store (read-only is enough).
        ledger: the ledger; ``None`` when the store holds exactly one.

    Raises:
        InvalidArgumentError: the ledger cannot be picked, or has no checkpoint yet.
    """
    with read_snapshot(store):
        name = pick_ledger(store, ledger)
        note = store.latest_checkpoint(name)
    if note is None:
        msg = f"ledger {name!r} has no signed checkpoint yet"
        raise InvalidArgumentError(msg)
    return note


def store_consistency_proof(
    store: Store, old_size: int, new_size: int | None = None, ledger: str | None = None
) -> ConsistencyProof:
    """Return the RFC 9162 consistency proof between two sizes of a ledger in *store*.

    The proof is read from the stored Merkle nodes (O(log n) of them); whoever checks
    it does so against two signed roots, so it needs no trust in the store.

    Args:
        store: the store.
        old_size: the earlier size.
        new_size: the later size; default the latest signed checkpoint's size.
        ledger: the ledger; ``None`` when the store holds exactly one.

    Raises:
        InvalidArgumentError: a size is negative, *old_size* exceeds *new_size*, or
            *new_size* exceeds the ledger; or the ledger cannot be picked.
    """
    with read_snapshot(store):
        name = pick_ledger(store, ledger)
        if new_size is None:
            note = store.latest_checkpoint(name)
            new_size = 0 if note is None else SignedCheckpoint.parse(note).checkpoint.size
        held = store.head(name).size
        if not 0 <= old_size <= new_size <= held:
            msg = (
                f"sizes must satisfy 0 <= from ({old_size}) <= to ({new_size}) <= the "
                f"ledger's size ({held})"
            )
            raise InvalidArgumentError(msg)
        try:
            hashes = consistency_proof_from_nodes(LedgerNodes(store, name), old_size, new_size)
        except ProofError as exc:
            msg = f"ledger {name!r}: cannot build the proof: {exc}"
            raise InvalidArgumentError(msg) from None
    return ConsistencyProof(name, old_size, new_size, tuple(hashes))


def prove_entry(store: Store, ledger: str, seq: int, *, include_entry: bool = True) -> Receipt:
    """Return the receipt of entry *seq*: its hash, the latest checkpoint and the proof.

    The same receipt ``pelayanan audit prove`` writes; a citizen checks it offline with
    ``pelayanan audit check-proof`` or `pelayanan.audit.receipt.check_receipt`.

    Args:
        store: the store holding the ledger.
        ledger: the ledger of the entry.
        seq: the entry's sequence number.
        include_entry: put the entry's bytes in the receipt (personal fields in an entry
            are sealed, so this reveals no personal data).

    Returns:
        The receipt.

    Raises:
        ProofError: no such entry, or no signed checkpoint covers it yet.
    """
    entry = next(store.entries(ledger, seq, seq + 1), None)
    if entry is None:
        msg = f"entry {seq}: no such entry in ledger {ledger!r}"
        raise ProofError(msg)
    note = store.latest_checkpoint(ledger)
    if note is None:
        msg = f"ledger {ledger!r} has no signed checkpoint yet"
        raise ProofError(msg)
    return make_receipt(
        ledger,
        seq,
        entry.hash,
        note,
        LedgerNodes(store, ledger),
        entry=entry.data if include_entry else None,
    )
