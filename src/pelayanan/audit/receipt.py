"""Citizen receipts: proof that one entry is in the ledger a signed checkpoint commits to.

A receipt is a small JSON document (format in docs/audit-format.md)::

    {"format": "pelayanan-receipt", "version": 1,
     "ledger": ID, "seq": N, "entry_hash": HEX, "tree_size": SIZE,
     "checkpoint": "<signed note text>", "inclusion_proof": [HEX, ...],
     "entry": "<the entry's canonical JSON>"}        (optional)

It is checked offline with only the ledger's public key: the checkpoint's signature,
then the RFC 9162 inclusion proof of the entry hash at index N in the tree of the
checkpoint's size against the checkpoint's root, and, when the entry is included, that
its bytes hash to the entry hash and name the same ledger and sequence number.  Entries
never hold personal data in clear, so a receipt can be handed to the citizen as is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from pelayanan.audit._document import read_document
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.kinds import LEDGER, SEQ
from pelayanan.audit.merkle import NodeReader, inclusion_proof_from_nodes, leaf_hash
from pelayanan.audit.merkle import verify_inclusion as _verify_inclusion
from pelayanan.audit.verify import accept_checkpoint
from pelayanan.exceptions import ProofError, SignatureError

__all__ = ["RECEIPT_FORMAT", "Receipt", "ReceiptCheck", "check_receipt", "make_receipt"]

RECEIPT_FORMAT = "pelayanan-receipt"
RECEIPT_VERSION = 1


@attrs.frozen
class Receipt:
    """Proof that entry *seq* of *ledger* is included under a signed checkpoint.

    Attributes:
        ledger: the ledger id.
        seq: the entry's sequence number (its leaf index).
        entry_hash: the entry's RFC 9162 leaf hash.
        checkpoint: the signed checkpoint note the proof leads to.
        proof: the inclusion proof (audit path), bottom-up.
        entry: the entry's canonical bytes, when included.
    """

    ledger: str
    seq: int
    entry_hash: bytes
    checkpoint: str
    proof: tuple[bytes, ...]
    entry: bytes | None = None

    @property
    def tree_size(self) -> int:
        """Return the size of the tree the checkpoint states."""
        return SignedCheckpoint.parse(self.checkpoint).checkpoint.size

    def to_json(self) -> str:
        """Return the receipt document (indented JSON, UTF-8 safe)."""
        doc: dict[str, Any] = {
            "format": RECEIPT_FORMAT,
            "version": RECEIPT_VERSION,
            "ledger": self.ledger,
            "seq": self.seq,
            "entry_hash": self.entry_hash.hex(),
            "tree_size": self.tree_size,
            "checkpoint": self.checkpoint,
            "inclusion_proof": [h.hex() for h in self.proof],
        }
        if self.entry is not None:
            doc["entry"] = self.entry.decode("utf-8")
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Receipt:
        """Parse a receipt document.

        Raises:
            ProofError: the text is not a receipt of a known version, or a field is
                malformed (the message names it).
        """
        doc = read_document(
            text,
            fmt=RECEIPT_FORMAT,
            what="receipt",
            wrong_format=f"not a receipt (its 'format' is not {RECEIPT_FORMAT!r})",
            error=ProofError,
        )
        if doc.get("version") != RECEIPT_VERSION:
            msg = f"unsupported receipt version {doc.get('version')!r}"
            raise ProofError(msg)
        try:
            ledger, seq, size = doc["ledger"], doc["seq"], doc["tree_size"]
            if not isinstance(ledger, str):
                raise ValueError("'ledger' is not a string")
            if type(seq) is not int or seq < 0 or type(size) is not int:
                raise ValueError("'seq' and 'tree_size' must be non-negative integers")
            note = doc["checkpoint"]
            if not isinstance(note, str):
                raise ValueError("'checkpoint' is not a string")
            proof = doc["inclusion_proof"]
            if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
                raise ValueError("'inclusion_proof' is not a list of hex strings")
            entry = doc.get("entry")
            if entry is not None and not isinstance(entry, str):
                raise ValueError("'entry' is not a string")
            receipt = cls(
                ledger,
                seq,
                _hash(doc["entry_hash"]),
                note,
                tuple(_hash(h) for h in proof),
                None if entry is None else entry.encode("utf-8"),
            )
        except KeyError as exc:
            msg = f"receipt lacks the field {exc.args[0]!r}"
            raise ProofError(msg) from None
        except ValueError as exc:
            msg = f"receipt is malformed: {exc}"
            raise ProofError(msg) from None
        try:
            stated = receipt.tree_size
        except SignatureError as exc:
            msg = f"receipt's checkpoint is malformed: {exc.reason}"
            raise ProofError(msg) from None
        if stated != size:
            msg = f"receipt says tree_size {size} but its checkpoint states {stated}"
            raise ProofError(msg)
        return receipt


@attrs.frozen
class ReceiptCheck:
    """What a successful receipt check established."""

    ledger: str
    seq: int
    tree_size: int
    root: bytes
    key: str

    def summary(self) -> str:
        """Return a one-line summary for a terminal."""
        return (
            f"entry {self.seq} of ledger {self.ledger} is included in the log of "
            f"{self.tree_size} entries, root {self.root.hex()[:16]}..., signed by {self.key}"
        )


def make_receipt(
    ledger: str,
    seq: int,
    entry_hash: bytes,
    checkpoint: str,
    nodes: NodeReader,
    *,
    entry: bytes | None = None,
) -> Receipt:
    """Build the receipt of entry *seq* against a signed checkpoint.

    Reads O(log n) stored Merkle nodes; never the other entries.

    Args:
        ledger: the ledger id.
        seq: the entry's sequence number.
        entry_hash: the entry's leaf hash.
        checkpoint: a signed checkpoint note of the ledger whose size exceeds *seq*.
        nodes: the ledger's stored Merkle nodes.
        entry: the entry's bytes, to include in the receipt.

    Returns:
        The receipt.

    Raises:
        ProofError: the checkpoint does not cover the entry, is of another ledger, or a
            node is missing.
    """
    try:
        cp = SignedCheckpoint.parse(checkpoint).checkpoint
    except SignatureError as exc:
        msg = f"cannot build a receipt on a malformed checkpoint: {exc.reason}"
        raise ProofError(msg) from None
    if cp.ledger != ledger:
        msg = f"the checkpoint is of ledger {cp.ledger!r}, not {ledger!r}"
        raise ProofError(msg)
    if not 0 <= seq < cp.size:
        msg = f"entry {seq} is not covered by a checkpoint of size {cp.size}"
        raise ProofError(msg)
    if entry is not None and leaf_hash(entry) != entry_hash:
        msg = f"the entry bytes do not hash to the entry hash of entry {seq}"
        raise ProofError(msg)
    proof = inclusion_proof_from_nodes(nodes, seq, cp.size)
    # Never hand out a receipt that would not check.
    _verify_inclusion(entry_hash, seq, cp.size, proof, cp.root)
    return Receipt(ledger, seq, entry_hash, checkpoint, tuple(proof), entry)


def check_receipt(
    receipt: Receipt, trusted_keys: Sequence[VerifierKey | TrustedKey]
) -> ReceiptCheck:
    """Check a receipt offline with the ledger's public key(s).

    Args:
        receipt: the receipt.
        trusted_keys: the keys whose checkpoint signatures count.

    Returns:
        What the receipt proves.

    Raises:
        ProofError: the signature, the inclusion proof or the included entry does not
            check (the message says which).
    """
    try:
        signed = SignedCheckpoint.parse(receipt.checkpoint)
        key = accept_checkpoint(signed, trusted_keys, what="the receipt's checkpoint")
    except SignatureError as exc:
        raise ProofError(exc.reason) from None
    cp = signed.checkpoint
    if cp.ledger != receipt.ledger:
        msg = f"the receipt is for ledger {receipt.ledger!r} but its checkpoint for {cp.ledger!r}"
        raise ProofError(msg)
    if receipt.entry is not None:
        if leaf_hash(receipt.entry) != receipt.entry_hash:
            msg = "the included entry does not hash to the receipt's entry hash"
            raise ProofError(msg)
        try:
            entry = json.loads(receipt.entry)
        except (UnicodeDecodeError, json.JSONDecodeError):
            entry = None
        if (
            not isinstance(entry, dict)
            or entry.get(LEDGER) != receipt.ledger
            or entry.get(SEQ) != receipt.seq
        ):
            msg = "the included entry does not name the receipt's ledger and sequence number"
            raise ProofError(msg)
    _verify_inclusion(receipt.entry_hash, receipt.seq, cp.size, receipt.proof, cp.root)
    return ReceiptCheck(receipt.ledger, receipt.seq, cp.size, cp.root, key)


def _hash(text: object) -> bytes:
    """Decode a hash written as 64 lowercase hex digits (the only form the format uses)."""
    if type(text) is not str or len(text) != 64 or text.strip("0123456789abcdef"):
        msg = f"receipt is malformed: {text!r} is not a hash in 64 lowercase hex digits"
        raise ProofError(msg)
    return bytes.fromhex(text)
