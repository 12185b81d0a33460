"""The RFC 9162 Merkle tree over the entries of an audit ledger.

The tree is the one of Certificate Transparency (RFC 6962 §2.1, unchanged in RFC 9162
§2.1), so every proof this module makes can be checked by any CT tool:

- leaf hash ``SHA-256(0x00 || entry bytes)``, node hash ``SHA-256(0x01 || left || right)``;
- ``MTH({}) = SHA-256("")``; a list of *n* > 1 leaves splits at *k*, the largest power of
  two smaller than *n*: ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``.

Three layers, from simplest to the one a store uses:

1. Whole-list functions: `root_hash`, `inclusion_proof`, `consistency_proof` recompute
   from every leaf (O(n)); they are the reference the other layers are tested against.
2. `CompactRange`: the hashes of the perfect subtrees that make up a tree of size *n*
   (one per set bit of *n*).  Appending a leaf costs O(1) amortised hashes and returns
   the perfect subtree `Node` objects it completed, for a store to persist.
3. Proofs from stored nodes: `inclusion_proof_from_nodes`, `consistency_proof_from_nodes`
   and `root_from_nodes` read only O(log n) perfect-subtree hashes through a `NodeReader`
   in one batch call; nodes on the ragged right edge of a tree whose size is not a power
   of two are composed from perfect ones.

Node numbering: ``Node(level, index)`` is the perfect subtree of height *level* covering
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes.

Verification (`verify_inclusion`, `verify_consistency`) follows the algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, after checking the arguments and the proof
length so that a malformed proof is refused with a reason rather than a mismatch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from pelayanan.exceptions import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryNodeStore",
    "Node",
    "NodeReader",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "root_from_nodes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

_sha256 = hashlib.sha256

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""Root of the empty tree, ``SHA-256("")`` (RFC 9162 §2.1.1)."""


# --- hashing ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf: ``SHA-256(0x00 || data)``.

    Args:
        data: the raw bytes of the entry.

    Returns:
        The 32-byte leaf hash.
    """
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: ``SHA-256(0x01 || left || right)``.

    Args:
        left: hash of the left child.
        right: hash of the right child.

    Returns:
        The 32-byte node hash.
    """
    return _sha256(b"\x01" + left + right).digest()


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of consecutive perfect subtrees, largest first, into one root.

    The RFC tree over a range that is not a power of two hangs every smaller subtree
    off the right of the larger one, so the fold runs from the right.
    """
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = _sha256(b"\x01" + h + result).digest()
    return result


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Compute the tree root over leaf hashes that are already computed.

    Args:
        hashes: the leaf hashes, in log order.

    Returns:
        The root hash; `EMPTY_ROOT` when *hashes* is empty.

    Raises:
        ProofError: an element is not 32 bytes.
    """
    stack: list[bytes] = []
    _check_hashes(hashes, "leaf hash")
    for count, h in enumerate(hashes, start=1):
        stack.append(h)
        # After leaf number `count`, one merge per trailing zero bit of `count`.
        n = count
        while not n & 1:
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()
            n >>= 1
    return _fold(stack) if stack else EMPTY_ROOT


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Compute the tree root over raw entries.

    Args:
        leaves: the raw entry bytes, in log order.

    Returns:
        The root hash; `EMPTY_ROOT` for no entries.
    """
    return root_from_leaf_hashes([leaf_hash(x) for x in leaves])


# --- argument checks -------------------------------------------------------------------


def _check_hash(value: object, what: str) -> None:
    """Refuse anything that is not a 32-byte hash."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise ProofError(f"{what} must be a {HASH_SIZE}-byte SHA-256 hash, got {got}")


def _check_hashes(values: Sequence[object], what: str) -> None:
    """Refuse a sequence with an element that is not a 32-byte hash, naming its position."""
    for pos, value in enumerate(values):
        # Inline fast path: proofs are checked element by element on every verification.
        if type(value) is not bytes or len(value) != HASH_SIZE:
            _check_hash(value, f"{what} {pos}")


def _check_count(value: object, what: str) -> int:
    """Refuse anything that is not a non-negative integer (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _check_index(index: object, size: object) -> tuple[int, int]:
    """Check a leaf index against a tree size; return both as ints."""
    i = _check_count(index, "leaf index")
    n = _check_count(size, "tree size")
    if i >= n:
        raise ProofError(f"leaf index {i} is not below tree size {n}; no such leaf")
    return i, n


def _check_sizes(old_size: object, new_size: object) -> tuple[int, int]:
    """Check a pair of tree sizes for a consistency proof; return both as ints."""
    m = _check_count(old_size, "old tree size")
    n = _check_count(new_size, "new tree size")
    if m > n:
        raise ProofError(
            f"old tree size {m} is larger than new tree size {n}; "
            "a log only grows, swap the arguments"
        )
    return m, n


def _check_available(size: int, available: int) -> None:
    """Refuse a tree size larger than the leaves on hand."""
    if size > available:
        raise ProofError(f"tree size {size} is larger than the {available} leaves given")


def _inclusion_length(index: int, size: int) -> int:
    """Return the length of the inclusion proof for leaf *index* in a tree of *size*.

    Below the level where the paths to *index* and to the last leaf meet, there is
    one sibling per level; above it, one left sibling per set bit of the index.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """Return the length of the consistency proof between two sizes (0 < old < new)."""
    index = old_size - 1
    inner = (index ^ (new_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1
    # The proof starts at the perfect subtree of height `shift` that ends at old_size;
    # its hash is in the proof unless it is the whole old tree (old_size a power of 2).
    seed = 0 if old_size == 1 << shift else 1
    return seed + (inner - shift) + border


# --- proofs over a list of leaves ------------------------------------------------------


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """Return MTH over ``hashes[lo:hi]`` (non-empty)."""
    return root_from_leaf_hashes(hashes[lo:hi])


def _split(n: int) -> int:
    """Return the largest power of two smaller than *n* (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(m: int, hashes: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(m, D[lo:hi])``, bottom-up."""
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        proof = _path(m, hashes, lo, lo + k)
        proof.append(_subtree_root(hashes, lo + k, hi))
    else:
        proof = _path(m - k, hashes, lo + k, hi)
        proof.append(_subtree_root(hashes, lo, lo + k))
    return proof


def _subproof(m: int, hashes: Sequence[bytes], lo: int, hi: int, whole: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``SUBPROOF(m, D[lo:hi], b)``."""
    n = hi - lo
    if m == n:
        return [] if whole else [_subtree_root(hashes, lo, hi)]
    k = _split(n)
    if m <= k:
        proof = _subproof(m, hashes, lo, lo + k, whole)
        proof.append(_subtree_root(hashes, lo + k, hi))
    else:
        proof = _subproof(m - k, hashes, lo + k, hi, False)
        proof.append(_subtree_root(hashes, lo, lo + k))
    return proof


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Build the inclusion proof of one leaf from the full list of leaves.

    Recomputes from every leaf (O(size)); a store uses `inclusion_proof_from_nodes`.

    Args:
        leaves: the raw entry bytes, in log order (at least *size* of them).
        index: the 0-based index of the leaf to prove.
        size: the size of the tree the proof is against.

    Returns:
        The audit path, bottom-up, as RFC 9162 §2.1.3.1 defines it.

    Raises:
        ProofError: *index* is not below *size*, or *size* exceeds the leaves given.
    """
    i, n = _check_index(index, size)
    _check_available(n, len(leaves))
    hashes = [leaf_hash(x) for x in leaves[:n]]
    return _path(i, hashes, 0, n)


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Build the consistency proof between two sizes from the full list of leaves.

    Recomputes from every leaf (O(new_size)); a store uses `consistency_proof_from_nodes`.

    Args:
        leaves: the raw entry bytes, in log order (at least *new_size* of them).
        old_size: the size of the earlier tree.
        new_size: the size of the later tree.

    Returns:
        The proof as RFC 9162 §2.1.4.1 defines it; empty when *old_size* is 0 or equals
        *new_size*.

    Raises:
        ProofError: *old_size* > *new_size*, or *new_size* exceeds the leaves given.
    """
    m, n = _check_sizes(old_size, new_size)
    _check_available(n, len(leaves))
    if m in (0, n):
        return []
    hashes = [leaf_hash(x) for x in leaves[:n]]
    return _subproof(m, hashes, 0, n, True)


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Compute the root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-4).

    Args:
        leaf_hash: the leaf hash of the entry (see the module function `leaf_hash`).
        index: the 0-based index of the leaf.
        size: the tree size the proof is for.
        proof: the audit path, bottom-up.

    Returns:
        The root hash the proof commits to; compare it with a trusted root.

    Raises:
        ProofError: bad arguments (index not below size, a hash that is not 32 bytes) or
            a proof of the wrong length for *index* and *size*.
    """
    i, n = _check_index(index, size)
    _check_hash(leaf_hash, "leaf hash")
    expected = _inclusion_length(i, n)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for leaf {i} in a tree of size {n} must have "
            f"{expected} hashes, got {len(proof)}"
        )
    _check_hashes(proof, "inclusion proof element")
    # Step 3.
    r = leaf_hash
    # Steps 2, 4 and 5's first half.
    for p, left in _climb(i, n - 1, proof, "inclusion proof", "the root"):
        r = _sha256(b"\x01" + (p + r if left else r + p)).digest()
    return r


def _climb(
    fn: int, sn: int, path: Sequence[bytes], proof: str, top: str
) -> Iterator[tuple[bytes, bool]]:
    """Walk *path* up the tree from node *fn* of last node *sn* (RFC 9162 §2.1.3.2 steps
    2-5, §2.1.4.2 step 6 and 7's first half).

    Yields each hash of *path* with whether it is a left sibling (hash it before the
    running value); the caller hashes.

    Raises:
        ProofError: *path* is longer or shorter than the way from the node to *top*
            (*proof* names the proof in the message).
    """
    for p in path:
        if sn == 0:
            raise ProofError(f"{proof} is longer than the path to {top}")
        left = bool(fn & 1 or fn == sn)
        yield p, left
        if left:
            # ... then, if LSB(fn) is not set, shift until it is set or fn is 0.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        fn >>= 1
        sn >>= 1
    # The path must have reached the top.
    if sn != 0:
        raise ProofError(f"{proof} is shorter than the path to {top}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that a leaf is at *index* in the tree of *size* with *root* (RFC 9162 §2.1.3.2).

    Args:
        leaf_hash: the leaf hash of the entry (see the module function `leaf_hash`).
        index: the 0-based index of the leaf.
        size: the tree size the proof is for.
        proof: the audit path, bottom-up.
        root: the trusted root hash of the tree of *size*.

    Raises:
        ProofError: the arguments are bad, the proof is malformed, or it leads to
            another root.
    """
    _check_hash(root, "root hash")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # Step 5, second half.
    proof_name = f"inclusion proof for leaf {index} in a tree of size {size}"
    _check_root(computed, root, proof_name, "the root")


def _check_root(computed: bytes, root: bytes, proof: str, which: str) -> None:
    """Refuse a *proof* whose *computed* root is not the trusted *root* (named *which*).

    Raises:
        ProofError: the roots differ; the message gives both.
    """
    if computed != root:
        raise ProofError(
            f"{proof} does not match {which}: computed {computed.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of *new_size* extends the tree of *old_size* (RFC 9162 §2.1.4.2).

    The RFC defines the algorithm for ``0 < old_size < new_size``.  The edge cases are
    decided here: equal sizes need an empty proof and equal roots; an old size of 0
    needs an empty proof and *old_root* equal to `EMPTY_ROOT` (every tree extends the
    empty one, but a wrong empty root is still a wrong root).

    Args:
        old_size: the size of the earlier tree.
        new_size: the size of the later tree.
        old_root: the trusted root of the earlier tree.
        new_root: the trusted root of the later tree.
        proof: the consistency proof.

    Raises:
        ProofError: the arguments are bad (old size larger than new size, a hash that
            is not 32 bytes), the proof has the wrong length, or a root does not match.
    """
    m, n = _check_sizes(old_size, new_size)
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_hashes(proof, "consistency proof element")
    if m in (n, 0):
        _verify_trivial_consistency(m, n, old_root, new_root, proof)
        return
    expected = _consistency_length(m, n)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from size {m} to size {n} must have {expected} hashes, "
            f"got {len(proof)}"
        )
    fr, sr = _consistency_roots(m, n, old_root, proof)
    proof_name = f"consistency proof from size {m} to size {n}"
    _check_root(fr, old_root, proof_name, "the old root")
    _check_root(sr, new_root, proof_name, "the new root")


def _verify_trivial_consistency(
    m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check the cases the RFC leaves out: equal sizes, or an empty old tree."""
    if m == n:
        if proof:
            raise ProofError(f"consistency proof between equal sizes {m} must be empty")
        if old_root != new_root:
            raise ProofError(f"trees of equal size {m} have different roots")
        return
    if proof:
        raise ProofError("consistency proof from the empty tree must be empty")
    if old_root != EMPTY_ROOT:
        raise ProofError("the root of the empty tree must be SHA-256 of the empty string")


def _consistency_roots(
    m: int, n: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Return the old and new roots a consistency proof leads to (RFC 9162 §2.1.4.2).

    Requires ``0 < m < n`` and a proof of the expected length; the caller compares the
    roots (step 7's equalities) so that each mismatch gets its own message.
    """
    # Step 1 (an empty proof) cannot happen here: the caller's length check needs >= 1.
    path = list(proof)
    # Step 2.
    if m & (m - 1) == 0:
        path.insert(0, old_root)
    # Step 3.
    fn, sn = m - 1, n - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6 and step 7's first half.
    for c, left in _climb(fn, sn, path[1:], "consistency proof", "the new root"):
        if left:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
    return fr, sr


# --- perfect-subtree nodes -------------------------------------------------------------


class Node(NamedTuple):
    """One perfect subtree of the tree, as a store persists it.

    A named tuple rather than a frozen attrs class: every ledger append creates one or
    two, and with attrs instances an append took about twice as long (measured on
    100,000 appends while writing ``benchmarks/bench_merkle.py``).  The ``index`` field
    hides ``tuple.index``, which has no use on a node.

    Attributes:
        level: the height of the subtree; 0 for a leaf hash.
        index: the position among subtrees of that height; the subtree covers leaves
            ``[index * 2**level, (index + 1) * 2**level)``.
        hash: the subtree's 32-byte root hash.
    """

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose; see above
    hash: bytes


_NodeId = tuple[int, int]
"""A ``(level, index)`` pair naming a perfect subtree."""


@runtime_checkable
class NodeReader(Protocol):
    """Batch lookup of stored perfect-subtree hashes."""

    def get_nodes(self, level_index_pairs: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        """Return the hashes of the named perfect subtrees, in the order asked.

        Args:
            level_index_pairs: ``(level, index)`` of each subtree wanted.

        Returns:
            One 32-byte hash per pair, in the same order.

        Raises:
            ProofError: a node is not stored (the tree is smaller than asked for).
        """


def _range_ids(begin: int, end: int) -> list[_NodeId]:
    """Decompose leaves ``[begin, end)`` into perfect subtrees, largest (leftmost) first.

    *begin* must be a multiple of a power of two larger than ``end - begin`` (true for 0
    and for the right half of any node), so every piece is aligned.
    """
    ids: list[_NodeId] = []
    width = end - begin
    pos = begin
    level = width.bit_length() - 1
    while level >= 0:
        if width >> level & 1:
            ids.append((level, pos >> level))
            pos += 1 << level
        level -= 1
    return ids


def _path_plan(level: int, index: int, size: int) -> tuple[list[_NodeId], int, int]:
    """Plan the audit path of perfect node ``(level, index)`` in the tree of *size*.

    For a leaf (level 0) the path is exactly RFC 9162 ``PATH``; for the subtree ending
    at the old size it is the tail of ``SUBPROOF``.  Every proof hash is one perfect
    subtree except at most one: the sibling at the fork with the last leaf's path, on
    the ragged right edge, which is the right fold of several perfect subtrees.

    Returns:
        The perfect subtrees to read, bottom-up, and the span ``[start, end)`` of the
        ones to fold into that single composed hash.
    """
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    # Below the fork with the last leaf's path, siblings lie inside [0, size): perfect.
    ids: list[_NodeId] = [(level + j, (index >> j) ^ 1) for j in range(inner - 1)]
    start = len(ids)
    if inner:
        # At the fork the sibling is the right half, cut short by the end of the tree.
        top = level + inner - 1
        begin = ((index >> (inner - 1)) + 1) << top
        ids.extend(_range_ids(begin, size))
    end = len(ids)
    # Above the fork the path runs along the right edge: only left siblings exist.
    j = inner
    while index >> j:
        if index >> j & 1:
            ids.append((level + j, (index >> j) - 1))
        j += 1
    return ids, start, end


def _read(reader: NodeReader, ids: Sequence[_NodeId]) -> list[bytes]:
    """Fetch node hashes in one batch and check what the reader returned."""
    hashes = list(reader.get_nodes(ids))
    if len(hashes) != len(ids):
        raise ProofError(f"node reader returned {len(hashes)} hashes for {len(ids)} nodes")
    for pos, h in enumerate(hashes):
        if type(h) is not bytes or len(h) != HASH_SIZE:
            level, index = ids[pos]
            _check_hash(h, f"stored node ({level}, {index})")
    return hashes


def _resolve(reader: NodeReader, ids: Sequence[_NodeId], start: int, end: int) -> list[bytes]:
    """Fetch the planned nodes in one batch and fold the span ``[start, end)`` into one."""
    hashes = _read(reader, ids)
    if end - start > 1:
        hashes[start:end] = [_fold(hashes[start:end])]
    return hashes


def root_from_nodes(reader: NodeReader, size: int) -> bytes:
    """Compute the root of the tree of *size* from stored perfect subtrees.

    Reads one node per set bit of *size* (at most log2(size) + 1).

    Args:
        reader: where the perfect-subtree hashes are stored.
        size: the tree size.

    Returns:
        The root hash; `EMPTY_ROOT` for size 0.

    Raises:
        ProofError: *size* is negative, or the reader lacks a node.
    """
    n = _check_count(size, "tree size")
    if n == 0:
        return EMPTY_ROOT
    return _fold(_read(reader, _range_ids(0, n)))


def inclusion_proof_from_nodes(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Build the inclusion proof of one leaf from stored perfect subtrees.

    Reads O(log size) nodes in one batch: at most one per level below the fork with
    the last leaf's path, the right-edge decomposition of one sibling, and one per set
    bit of the index above the fork (never more than 2 * log2(size) + 1 in all).

    Args:
        reader: where the perfect-subtree hashes are stored.
        index: the 0-based index of the leaf to prove.
        size: the size of the tree the proof is against.

    Returns:
        The same audit path as `inclusion_proof` over the full list of leaves.

    Raises:
        ProofError: *index* is not below *size*, or the reader lacks a node.
    """
    i, n = _check_index(index, size)
    return _resolve(reader, *_path_plan(0, i, n))


def consistency_proof_from_nodes(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """Build the consistency proof between two sizes from stored perfect subtrees.

    Reads O(log new_size) nodes in one batch, like `inclusion_proof_from_nodes`.

    Args:
        reader: where the perfect-subtree hashes are stored.
        old_size: the size of the earlier tree.
        new_size: the size of the later tree.

    Returns:
        The same proof as `consistency_proof` over the full list of leaves.

    Raises:
        ProofError: *old_size* > *new_size*, or the reader lacks a node.
    """
    m, n = _check_sizes(old_size, new_size)
    if m in (0, n):
        return []
    # The largest perfect subtree ending exactly at the old size is where SUBPROOF
    # bottoms out; its own hash leads the proof unless it is the whole old tree.
    level = (m & -m).bit_length() - 1
    index = (m >> level) - 1
    ids, start, end = _path_plan(level, index, n)
    if index:
        ids.insert(0, (level, index))
        start, end = start + 1, end + 1
    return _resolve(reader, ids, start, end)


class MemoryNodeStore:
    """Perfect-subtree hashes kept in memory: a `NodeReader` for tests and memory stores.

    One list per level, indexed by node index.  Lists of bytes rather than a dict keyed
    by tuples: a million-leaf tree holds two million nodes, and tuple keys would all be
    tracked by the garbage collector, whose full passes then dominate append time.
    Because the tree is append-only, nodes arrive in index order on each level, which
    `add` requires.
    """

    __slots__ = ("_levels",)

    def __init__(self, nodes: Iterable[Node] = ()) -> None:
        """Create a store, optionally holding *nodes* already.

        Args:
            nodes: nodes to add, as `add` takes them.
        """
        self._levels: list[list[bytes]] = []
        self.add(nodes)

    def add(self, nodes: Iterable[Node]) -> None:
        """Store perfect-subtree nodes, as `CompactRange.append` returns them.

        Args:
            nodes: the nodes to store; storing the same node twice is harmless.

        Raises:
            ProofError: a node is malformed, would leave a gap on its level (nodes of a
                level arrive in index order), or is already stored with another hash
                (the tree is append-only, so a subtree hash never changes).
        """
        levels = self._levels
        for level, index, h in nodes:
            # Inline checks: this loop runs once or twice for every ledger append.
            if type(h) is not bytes or len(h) != HASH_SIZE:
                _check_hash(h, f"node ({level}, {index})")
            if type(level) is not int or type(index) is not int or level < 0 or index < 0:
                _check_count(level, "node level")
                _check_count(index, "node index")
            while len(levels) <= level:
                levels.append([])
            row = levels[level]
            if index == len(row):
                row.append(h)
            elif index > len(row):
                raise ProofError(
                    f"node ({level}, {index}) would leave a gap: level {level} holds "
                    f"nodes 0..{len(row) - 1}; add nodes in the order appends return them"
                )
            elif row[index] != h:
                raise ProofError(
                    f"node ({level}, {index}) is already stored with another hash; "
                    "the tree is append-only"
                )

    def get_nodes(self, level_index_pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the hashes of the named perfect subtrees, in the order asked.

        Args:
            level_index_pairs: ``(level, index)`` of each subtree wanted.

        Returns:
            One 32-byte hash per pair, in the same order.

        Raises:
            ProofError: a node is not stored.
        """
        levels = self._levels
        out: list[bytes] = []
        for level, index in level_index_pairs:
            # Negative numbers would index from the end of a list: refuse them.
            if 0 <= level < len(levels) and 0 <= index < len(levels[level]):
                out.append(levels[level][index])
            else:
                raise ProofError(
                    f"node ({level}, {index}) is not stored; the tree is smaller than the "
                    "size asked for, or the node was not persisted on append"
                )
        return out

    def __len__(self) -> int:
        """Return how many nodes are stored."""
        return sum(len(row) for row in self._levels)

    def __contains__(self, key: object) -> bool:
        """Tell whether the ``(level, index)`` node is stored."""
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        level, index = key
        return (
            isinstance(level, int)
            and isinstance(index, int)
            and 0 <= level < len(self._levels)
            and 0 <= index < len(self._levels[level])
        )

    def __repr__(self) -> str:
        return f"MemoryNodeStore(<{len(self)} nodes>)"


# --- the incremental tree --------------------------------------------------------------


class CompactRange:
    """The frontier of the tree: the roots of the perfect subtrees covering leaves [0, size).

    There is one hash per set bit of the size, largest subtree first.  Appending a leaf
    merges the equal-height subtrees at the right end, so the amortised cost is two
    hashes per append and the whole tree is never rehashed.  The state is small enough
    (at most 64 hashes) to keep in a ledger's head row; see `to_dict` and `from_dict`.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Create a compact range from its size and frontier hashes.

        Args:
            size: the number of leaves covered.
            hashes: the roots of the perfect subtrees of the binary decomposition of
                *size*, largest first (one per set bit of *size*).

        Raises:
            ProofError: the number of hashes does not match the size, or a hash is not
                32 bytes.
        """
        n = _check_count(size, "compact range size")
        if len(hashes) != n.bit_count():
            raise ProofError(
                f"a compact range of size {n} needs {n.bit_count()} hashes "
                f"(one per set bit of the size), got {len(hashes)}"
            )
        _check_hashes(hashes, "compact range hash")
        self._size = n
        self._hashes = list(hashes)

    @classmethod
    def from_nodes(cls, reader: NodeReader, size: int) -> CompactRange:
        """Rebuild the compact range of a tree of *size* from stored perfect subtrees.

        Args:
            reader: where the perfect-subtree hashes are stored.
            size: the tree size.

        Returns:
            The compact range, ready for further appends.

        Raises:
            ProofError: *size* is negative, or the reader lacks a node.
        """
        n = _check_count(size, "tree size")
        return cls(n, _read(reader, _range_ids(0, n)) if n else ())

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CompactRange:
        """Load a compact range saved by `to_dict`.

        Args:
            data: a mapping with ``size`` (int) and ``hashes`` (list of hex strings).

        Returns:
            The compact range.

        Raises:
            ProofError: the mapping is not of that shape.
        """
        size = data.get("size")
        hashes = data.get("hashes")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ProofError("a saved compact range needs 'hashes', a list of hex strings")
        try:
            raw = [bytes.fromhex(h) for h in hashes]
        except ValueError:
            raise ProofError("a saved compact range has a hash that is not hex") from None
        return cls(_check_count(size, "saved compact range 'size'"), raw)

    def to_dict(self) -> dict[str, object]:
        """Save as a JSON-ready mapping: ``{"size": int, "hashes": [hex, ...]}``.

        Returns:
            The mapping, which `from_dict` reads back.
        """
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier hashes, largest subtree first."""
        return tuple(self._hashes)

    def nodes(self) -> list[Node]:
        """List the frontier as `Node` objects, largest subtree first.

        Returns:
            One node per set bit of the size.
        """
        out: list[Node] = []
        ids = _range_ids(0, self._size)
        for (level, index), h in zip(ids, self._hashes, strict=True):
            out.append(Node(level, index, h))
        return out

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf hash.

        Args:
            leaf_hash: the leaf hash of the new entry (see the module function
                `leaf_hash`).

        Returns:
            The perfect subtrees this append completed, lowest first: the leaf itself
            at level 0, then one node per level merged.  A store persists them to
            serve proofs later.

        Raises:
            ProofError: *leaf_hash* is not 32 bytes.
        """
        if type(leaf_hash) is not bytes or len(leaf_hash) != 32:
            _check_hash(leaf_hash, "leaf hash")
        size = self._size
        completed = [Node(0, size, leaf_hash)]
        if size & 1:
            hashes = self._hashes
            sha256 = _sha256
            h = leaf_hash
            level = 0
            n = size
            # Every trailing one bit of the old size is a subtree of equal height to merge.
            while n & 1:
                h = sha256(b"\x01" + hashes.pop() + h).digest()
                level += 1
                n >>= 1
                completed.append(Node(level, n, h))
            hashes.append(h)
        else:
            self._hashes.append(leaf_hash)
        self._size = size + 1
        return completed

    def push(self, leaf_hash: bytes) -> None:
        """Append one leaf hash without reporting the subtrees it completes.

        The verifier's hot path: same result as `append`, without building `Node`
        objects nobody keeps.

        Args:
            leaf_hash: the 32-byte leaf hash of the new entry.

        Raises:
            ProofError: *leaf_hash* is not 32 bytes.
        """
        if type(leaf_hash) is not bytes or len(leaf_hash) != 32:
            _check_hash(leaf_hash, "leaf hash")
        size = self._size
        hashes = self._hashes
        h = leaf_hash
        while size & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            size >>= 1
        hashes.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Append several leaf hashes in order.

        Args:
            leaf_hashes: the leaf hashes of the new entries.

        Returns:
            Every perfect subtree completed, in the order `append` returns them.

        Raises:
            ProofError: a leaf hash is not 32 bytes.
        """
        completed: list[Node] = []
        for h in leaf_hashes:
            completed.extend(self.append(h))
        return completed

    def root(self) -> bytes:
        """Return the root hash of the tree covered.

        Returns:
            The root; `EMPTY_ROOT` for size 0.
        """
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def copy(self) -> CompactRange:
        """Return an independent copy (appends to one do not affect the other)."""
        clone = CompactRange.__new__(CompactRange)
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable: appends change the value

    def __repr__(self) -> str:
        root = self.root().hex()[:16]
        return f"CompactRange(size={self._size}, root={root}...)"
