"""Verify an agency's audit export against its public key and the checkpoints you hold.

An inspectorate receives an export (``pelayanan audit export``) and, separately, the
ledger's public key and checkpoints it saved earlier or obtained from a witness
(a signed note, a cosigned note, a receipt, or a witness's ``witness.json``).  This script
checks the whole log (sequence, canonical entries, hash chain, Merkle roots, checkpoint
signatures, time order), that it still extends every saved checkpoint, and, with
``--witness-key``, that each saved checkpoint carries enough witness cosignatures.

Example::

    python examples/auditor/verify_export.py export.jsonl --trusted-key ledger-public.pem \\
        --since witness.json --witness-key witness-public.pem

Exit status: 0 the export is intact, 1 it is not (the verdict says where),
2 an input cannot be read or the options do not fit together.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pelayanan import PelayananError, VerificationError, load_public_key, verify_export
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.witness import count_cosignatures, witness_state_notes


def saved_notes(path: Path) -> list[str]:
    """Return the checkpoint notes held by *path*: a note, a receipt or a witness state."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [text]  # a signed (or cosigned) note is plain text
    if isinstance(doc, dict) and doc.get("format") == "pelayanan-witness":
        return witness_state_notes(doc)
    if isinstance(doc, dict) and isinstance(doc.get("checkpoint"), str):
        return [doc["checkpoint"]]  # a receipt
    raise ValueError(f"{path} is neither a checkpoint note, a receipt nor a witness state")


def witnessed(
    notes: list[str], witness_keys: list[VerifierKey], needed: int
) -> list[SignedCheckpoint]:
    """Return the saved checkpoints, refusing one with fewer than *needed* cosignatures."""
    checkpoints = []
    for note in notes:
        signed, names = count_cosignatures(note, witness_keys)
        if len(names) < needed:
            cp = signed.checkpoint
            raise VerificationError(
                None,
                f"the saved checkpoint of {cp.ledger} at size {cp.size} has {len(names)} valid "
                f"witness cosignature(s), {needed} required",
                ledger=cp.ledger,
            )
        checkpoints.append(signed)
    return checkpoints


def verify(export: Path, keys: list[VerifierKey], saved: list[SignedCheckpoint]) -> list[str]:
    """Verify the export once per saved checkpoint; return the lines of a positive verdict."""
    reports = []
    runs: list[SignedCheckpoint | None] = [*saved] or [None]
    for since in runs:
        reports = verify_export(export, keys, since=since, jobs=1)
    lines = [f"OK {report.summary()}" for report in reports]
    for since in saved:
        cp = since.checkpoint
        if cp.ledger not in {report.ledger for report in reports}:
            raise VerificationError(None, f"the export has no ledger {cp.ledger!r}")
        lines.append(f"OK ledger {cp.ledger} still extends the saved checkpoint at size {cp.size}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, verify, print the verdict and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the JSONL export file")
    parser.add_argument(
        "--trusted-key",
        type=Path,
        action="append",
        required=True,
        help="the ledger's public key (PEM); repeat for several",
    )
    parser.add_argument(
        "--since",
        type=Path,
        action="append",
        default=[],
        help="a saved checkpoint, receipt or witness.json; repeatable",
    )
    parser.add_argument(
        "--witness-key",
        type=Path,
        action="append",
        default=[],
        help="a witness public key (PEM) whose cosignatures count; repeatable",
    )
    parser.add_argument(
        "--witnesses",
        type=int,
        default=None,
        help="cosignatures each saved checkpoint needs (default 1 with keys)",
    )
    args = parser.parse_args(argv)
    if (args.witness_key or args.witnesses) and not args.since:
        parser.error("--witness-key and --witnesses check saved checkpoints: give --since")
    needed = args.witnesses if args.witnesses is not None else (1 if args.witness_key else 0)
    try:
        keys = [load_public_key(path) for path in args.trusted_key]
        wkeys = [load_public_key(path) for path in args.witness_key]
        notes = [note for path in args.since for note in saved_notes(path)]
    except (OSError, ValueError, PelayananError) as exc:
        print(f"cannot read the inputs: {exc}", file=sys.stderr)
        return 2
    try:
        lines = verify(args.export, keys, witnessed(notes, wkeys, needed))
    except PelayananError as exc:
        print(f"VERDICT: NOT VERIFIED. {exc}")
        print("Do not rely on this export: ask the agency to explain the named entry,")
        print("and keep this export and your saved checkpoints as evidence.")
        return 1
    print("\n".join(lines))
    print("VERDICT: INTACT. Every entry is covered by a checkpoint signed by a trusted key.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
