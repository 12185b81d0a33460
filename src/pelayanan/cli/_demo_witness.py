"""The demo's witness step: a witness countersigns the final checkpoint after a mid-demo one."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.verify import verify_ledger
from pelayanan.audit.witness import Witness, count_cosignatures
from pelayanan.store import store_consistency_proof
from pelayanan.store.sqlite import SQLiteStore

__all__ = ["WITNESS_NAME", "witness_dir", "witness_step"]

#: The demo witness's name in its cosignature lines.
WITNESS_NAME = "saksi-demo"


def witness_dir(db: str | Path) -> Path:
    """Return the demo witness's state folder for the demo database *db*: ``DB.witness/``."""
    return Path(str(db) + ".witness")


def witness_step(
    store: SQLiteStore, ledger: str, keys: Sequence[TrustedKey], db: Path, now: dt.datetime
) -> str:
    """Run a witness beside the demo and return the line that reports what it countersigned.

    The witness first sees the checkpoint the unit published half-way through the demo,
    then accepts the final one only with a consistency proof from it, countersigns it,
    and the log is verified to extend the cosigned checkpoint.
    """
    folder = witness_dir(db)
    shutil.rmtree(folder, ignore_errors=True)
    witness = Witness.create(folder, WITNESS_NAME)
    witness.trust_ledger(ledger, keys[-1].key)
    notes = store.checkpoints(ledger)
    mid = notes[len(notes) // 2]
    mid_size = SignedCheckpoint.parse(mid).checkpoint.size
    witness.cosign(mid, [], now=now)
    final = notes[-1]
    final_size = SignedCheckpoint.parse(final).checkpoint.size
    proof = store_consistency_proof(store, mid_size, final_size, ledger)
    cosigned = witness.cosign(final, proof.hashes, now=now)
    signed, names = count_cosignatures(cosigned, [witness.verifier])
    verify_ledger(
        ledger,
        ((e.seq, e.data) for e in store.entries(ledger)),
        store.iter_checkpoints(ledger),
        keys,
        since=signed,
    )
    return (
        f"witness: {', '.join(names)} countersigned the checkpoint at size {final_size} "
        f"(consistency proof from size {mid_size}: {len(proof.hashes)} hashes); "
        f"the log extends it: OK ({folder.name}/)"
    )
