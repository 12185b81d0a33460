"""Check a citizen's receipt offline: their entry is in the log the agency signed.

A receipt (``pelayanan audit prove``) holds one entry's hash, an inclusion proof and a
signed checkpoint.  Checking it needs only the ledger's public key: no database, no
network.  A valid receipt shows that the agency cannot later remove or change that entry
without the change being detected against the checkpoint.

Example::

    python examples/auditor/check_receipt.py receipt.json --trusted-key ledger-public.pem

Exit status: 0 valid, 1 invalid (the reason is printed), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pelayanan import PelayananError, load_public_key
from pelayanan.audit.receipt import Receipt, check_receipt


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, check the receipt, print the verdict and return the status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("receipt", type=Path, help="the receipt JSON file")
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
        text = args.receipt.read_text(encoding="utf-8")
    except (OSError, PelayananError) as exc:
        print(f"cannot read the inputs: {exc}", file=sys.stderr)
        return 2
    try:
        receipt = Receipt.from_json(text)
        result = check_receipt(receipt, keys)
    except PelayananError as exc:
        print(f"VERDICT: RECEIPT INVALID. {exc}")
        return 1
    print(f"OK {result.summary()}")
    if receipt.entry is not None:
        entry = json.loads(receipt.entry)
        what = ", ".join(
            f"{k}={entry[k]}" for k in ("time", "kind", "action", "request") if k in entry
        )
        print(f"the entry: {what}")
    print("VERDICT: RECEIPT VALID.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
