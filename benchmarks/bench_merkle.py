"""Benchmark: Merkle appends and inclusion proofs, as ratios to pymerkle.

Two figures, each measured in the same run for pelayanan and for pymerkle (the Python
peer; ``InmemoryTree``, RFC 9162 hashing, which it calls "security" mode, left on):

- leaf appends per second: raw entry in, leaf hashed, tree updated.  For pelayanan that
  is ``store.add(compact_range.append(leaf_hash(entry)))``, so the perfect-subtree
  nodes are persisted in a `MemoryNodeStore` as a ledger store would; for pymerkle it is
  ``tree.append_entry(entry)``.  Target: at least 2x pymerkle.
- inclusion proofs generated and verified per second at the full size: a random leaf,
  its proof built from stored nodes (``inclusion_proof_from_nodes``) and checked
  (``verify_inclusion``, leaf hash recomputed from the entry); for pymerkle
  ``tree.prove_inclusion`` then ``verify_inclusion`` with ``tree.hash_buff(entry)``.
  Target: at least 2x pymerkle.

Sizes: 1,000,000 leaves and 3,000 proofs; quick mode 10,000 leaves and 300 proofs.
Entries are 100-byte stand-ins for canonical JSON audit entries.  Appends are timed
once at full size (a second million-leaf build would double the run) and as the best
of three builds in quick mode; proofs are the best of three passes over the same random
indices.  Both trees must give the same root, which the
rows' note confirms.  Without pymerkle installed the rows say so and carry NaN baselines.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable

from pelayanan.audit.merkle import (
    CompactRange,
    MemoryNodeStore,
    inclusion_proof_from_nodes,
    leaf_hash,
    verify_inclusion,
)

TARGET = ">= 2x pymerkle"


def _entries(n: int) -> list[bytes]:
    """Return *n* distinct 100-byte entries."""
    return [
        (b'{"seq":%010d,"ledger":"bench","kind":"request.acted"}' % i).ljust(100, b" ")
        for i in range(n)
    ]


def _best(fn: Callable[[], None], rounds: int) -> float:
    """Return the best wall time of *rounds* calls of *fn*, in seconds."""
    best = math.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _ours(
    entries: list[bytes], picks: list[int], builds: int, rounds: int
) -> tuple[float, float, bytes]:
    """Time pelayanan's appends and proofs; return (appends/s, proofs/s, root)."""
    n = len(entries)
    appends = 0.0
    for _ in range(builds):
        gc.collect()
        compact = CompactRange()
        store = MemoryNodeStore()
        t0 = time.perf_counter()
        for entry in entries:
            store.add(compact.append(leaf_hash(entry)))
        appends = max(appends, n / (time.perf_counter() - t0))
    root = compact.root()

    def prove() -> None:
        for i in picks:
            proof = inclusion_proof_from_nodes(store, i, n)
            verify_inclusion(leaf_hash(entries[i]), i, n, proof, root)

    proofs = len(picks) / _best(prove, rounds)
    return appends, proofs, root


def _pymerkle(
    entries: list[bytes], picks: list[int], builds: int, rounds: int
) -> tuple[float, float, bytes]:
    """Time pymerkle's appends and proofs; return (appends/s, proofs/s, root)."""
    from pymerkle import InmemoryTree
    from pymerkle import verify_inclusion as pm_verify

    appends = 0.0
    for _ in range(builds):
        tree = InmemoryTree()
        gc.collect()  # after rebinding, so the previous build's node cycles are freed
        t0 = time.perf_counter()
        for entry in entries:
            tree.append_entry(entry)
        appends = max(appends, len(entries) / (time.perf_counter() - t0))
    root = tree.get_root()

    def prove() -> None:
        for i in picks:
            # pymerkle numbers leaves from 1.
            proof = tree.prove_inclusion(i + 1)
            pm_verify(tree.hash_buff(entries[i]), root, proof)

    proofs = len(picks) / _best(prove, rounds)
    return appends, proofs, bytes(root)


def run(quick: bool = False) -> list[dict[str, object]]:
    """Time appends and inclusion proofs against pymerkle; return the two rows."""
    n = 10_000 if quick else 1_000_000
    n_proofs = 300 if quick else 3_000
    # A second million-leaf build would double the run; small builds are noisy.
    builds = 3 if quick else 1
    rounds = 3
    entries = _entries(n)
    picks = [random.Random(9162).randrange(n) for _ in range(n_proofs)]

    our_appends, our_proofs, our_root = _ours(entries, picks, builds, rounds)
    gc.collect()

    baseline = "pymerkle InmemoryTree"
    try:
        import pymerkle
    except ImportError:
        base_appends = base_proofs = math.nan
        note = "pymerkle not installed (install the 'bench' dependency group)"
    else:
        baseline = f"pymerkle {pymerkle.__version__} InmemoryTree"
        base_appends, base_proofs, base_root = _pymerkle(entries, picks, builds, rounds)
        agree = "roots agree" if base_root == our_root else "ROOTS DIFFER"
        note = f"{n:,} leaves; {agree} with pymerkle"

    return [
        {
            "figure": f"leaf appends per second ({n:,} leaves, nodes persisted)",
            "value": our_appends,
            "unit": "appends/s",
            "baseline": baseline,
            "baseline_value": base_appends,
            "ratio": our_appends / base_appends,
            "target": TARGET,
            "note": note + ("; best of 3 builds" if quick else "; single timed build"),
        },
        {
            "figure": f"inclusion proofs generated + verified per second at {n:,} leaves",
            "value": our_proofs,
            "unit": "proofs/s",
            "baseline": baseline,
            "baseline_value": base_proofs,
            "ratio": our_proofs / base_proofs,
            "target": TARGET,
            "note": note + f"; best of {rounds} passes over {n_proofs:,} random leaves",
        },
    ]


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(
            f"{row['figure']}: {row['value']:,.0f} {row['unit']} vs {row['baseline']} "
            f"{row['baseline_value']:,.0f} -> {row['ratio']:.2f}x ({row['note']})"
        )
