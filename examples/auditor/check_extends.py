"""Check that a newer export of a ledger extends an older one: history was only appended to.

An inspectorate that audited an export last year and receives a new one asks: are the
entries it already examined still there, byte for byte, and does the old signed root
still describe the first entries of the new log?  This script verifies both exports, then
checks, for every ledger of the old one, that the new log holds at least as many entries,
that its first entries are the old ones unchanged (naming the first divergence), and that
the old export's last checkpoint is consistent with the new log (same Merkle root at the
old size, checked by the library as for ``audit verify --since``).

Example::

    python examples/auditor/check_extends.py 2025.jsonl 2026.jsonl --trusted-key ledger-public.pem

Exit status: 0 the new export extends the old one, 1 it does not (or an export fails
verification), 2 an input cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from pelayanan import PelayananError, VerificationError, load_public_key, verify_export
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.export import read_export
from pelayanan.audit.keys import VerifierKey


def entry_lines(path: Path, ledger: str) -> Iterator[bytes]:
    """Yield the entry lines of *ledger* in *path*, in order, streaming."""
    for record in read_export(path):
        if record.kind == "entry" and record.ledger == ledger:
            yield record.data


def first_divergence(old: Path, new: Path, ledger: str) -> str | None:
    """Return where the old entries of *ledger* differ from the new ones, or None."""
    newer = entry_lines(new, ledger)
    for seq, line in enumerate(entry_lines(old, ledger)):
        other = next(newer, None)
        if other is None:
            return f"entry {seq}: present in the old export, missing from the new one"
        if other != line:
            return f"entry {seq}: differs (old {line[:80]!r}..., new {other[:80]!r}...)"
    return None


def check(old: Path, new: Path, keys: list[VerifierKey]) -> list[str]:
    """Verify both exports and that *new* extends *old*; return the positive verdict lines."""
    old_reports = verify_export(old, keys, jobs=1)
    new_reports = {report.ledger: report for report in verify_export(new, keys, jobs=1)}
    lines = []
    for report in old_reports:
        if report.ledger not in new_reports:
            raise VerificationError(None, f"the new export has no ledger {report.ledger!r}")
        divergence = first_divergence(old, new, report.ledger)
        if divergence is not None:
            raise VerificationError(None, divergence, ledger=report.ledger)
        if report.last_checkpoint is not None:
            # The old signed root must be the root of the new log's first entries.
            since = SignedCheckpoint.parse(report.last_checkpoint)
            verify_export(new, keys, since=since, jobs=1)
        grown = new_reports[report.ledger].size - report.size
        lines.append(
            f"OK ledger {report.ledger}: the {report.size} old entries are unchanged, "
            f"{grown} appended since, old root {report.root.hex()[:16]}... consistent"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the check, print the verdict and return the status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the earlier export (JSONL)")
    parser.add_argument("new", type=Path, help="the later export (JSONL)")
    parser.add_argument(
        "--trusted-key",
        type=Path,
        action="append",
        required=True,
        help="the ledger's public key (PEM); repeat for several",
    )
    args = parser.parse_args(argv)
    try:
        keys = [load_public_key(path) for path in args.trusted_key]
    except (OSError, PelayananError) as exc:
        print(f"cannot read the inputs: {exc}", file=sys.stderr)
        return 2
    for path in (args.old, args.new):
        if not path.is_file():
            print(f"cannot read the inputs: {path} is not a file", file=sys.stderr)
            return 2
    try:
        lines = check(args.old, args.new, keys)
    except PelayananError as exc:
        print(f"VERDICT: DOES NOT EXTEND. {exc}")
        print("History was rewritten or cut: keep both exports as evidence.")
        return 1
    print("\n".join(lines))
    print("VERDICT: EXTENDS. The new export only appended to the old one.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
