"""Benchmark: a witness countersigns a checkpoint 1,000,000 entries after the one it saw.

The tree is built in memory (`CompactRange` appends persisted in a `MemoryNodeStore`, as
a ledger store would), to an old size of 1,000 entries and a new size 1,000,000 entries
later (quick mode: 10,000 later).  Timed, best of five fresh witnesses (three in quick
mode), each remembering the old checkpoint:

- the consistency proof read from the stored nodes (``consistency_proof_from_nodes``)
  plus ``Witness.cosign``: the ledger signature check, the RFC 9162 consistency check,
  the Ed25519 cosignature and the atomic state write (temporary file, fsync, rename);
- the baseline: one Ed25519 signature verification (best of 200, per call).

A second row reports the number of proof hashes against ``2 * ceil(log2(new size))``,
the O(log n) bound.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time
from pathlib import Path

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.keys import generate_key_pair
from pelayanan.audit.merkle import (
    CompactRange,
    MemoryNodeStore,
    consistency_proof_from_nodes,
    leaf_hash,
)
from pelayanan.audit.witness import Witness

OLD_SIZE = 1000
T0 = dt.datetime(2026, 7, 6, tzinfo=dt.UTC)


def _tree(old: int, new: int) -> tuple[MemoryNodeStore, bytes, bytes]:
    """Return the stored nodes of a tree of *new* leaves and the roots at *old* and *new*."""
    nodes = MemoryNodeStore()
    compact = CompactRange()
    old_root = b""
    for i in range(new):
        nodes.add(compact.append(leaf_hash(b'{"seq":%d,"ledger":"bench"}' % i)))
        if compact.size == old:
            old_root = compact.root()
    return nodes, old_root, compact.root()


def _verify_baseline() -> float:
    """Return the best per-call time of one Ed25519 verification, in seconds."""
    key = generate_key_pair()
    message = b"pelayanan/bench\n1\nroot\ntime x\n"
    signature = key.sign(message)
    verifier = key.verifier
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(40):
            verifier.verify(message, signature)
        best = min(best, (time.perf_counter() - t0) / 40)
    return best


def run(quick: bool = False) -> list[dict[str, object]]:
    """Time one witness cosign after a large extension; return the two rows."""
    later = 10_000 if quick else 1_000_000
    new_size = OLD_SIZE + later
    nodes, old_root, new_root = _tree(OLD_SIZE, new_size)
    ledger_key = generate_key_pair()
    old_note = Checkpoint("bench", OLD_SIZE, old_root, T0).sign(ledger_key).to_text()
    new_note = (
        Checkpoint("bench", new_size, new_root, T0 + dt.timedelta(days=1))
        .sign(ledger_key)
        .to_text()
    )
    now = T0 + dt.timedelta(days=2)
    best = math.inf
    hashes = 0
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(3 if quick else 5):
            witness = Witness.create(Path(tmp) / str(round_), "bench-witness")
            witness.trust_ledger("bench", ledger_key.verifier)
            witness.cosign(old_note, [], now=now)
            t0 = time.perf_counter()
            proof = consistency_proof_from_nodes(nodes, OLD_SIZE, new_size)
            witness.cosign(new_note, proof, now=now)
            best = min(best, time.perf_counter() - t0)
            hashes = len(proof)
    baseline = _verify_baseline()
    bound = 2 * math.ceil(math.log2(new_size))
    return [
        {
            "figure": f"witness cosign, {later:,} entries after the checkpoint it saw",
            "value": best * 1000,
            "unit": "ms",
            "baseline": "one Ed25519 verification",
            "baseline_value": baseline * 1000,
            "ratio": best / baseline,
            "note": "proof from nodes, signature and consistency checks, cosign, fsync-ed state",
        },
        {
            "figure": f"consistency proof hashes, size {OLD_SIZE:,} -> {new_size:,}",
            "value": hashes,
            "unit": "hashes",
            "baseline": "2 * ceil(log2(new size))",
            "baseline_value": bound,
            "ratio": hashes / bound,
            "target": "<= 1 (O(log n))",
        },
    ]
