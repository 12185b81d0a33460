"""The RFC 9162 Merkle tree over audit entries.

Leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right); the
tree of n leaves splits at the largest power of two smaller than n.  `CompactRange`
keeps the perfect-subtree hashes of the binary decomposition of the size, so an append
costs O(log n) hashes and the root is always at hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import attrs

__all__ = ["EMPTY_ROOT", "CompactRange", "Node", "leaf_hash", "node_hash", "root_hash"]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash of *data*."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash of two child hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(_root_of_hashes(hashes[:k]), _root_of_hashes(hashes[k:]))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle tree head of raw *leaves*."""
    return _root_of_hashes([leaf_hash(leaf) for leaf in leaves])


@attrs.frozen
class Node:
    """A perfect subtree hash: *level* is its height, *index* its position at that height."""

    level: int
    index: int
    hash: bytes


@attrs.define
class CompactRange:
    """The perfect-subtree hashes covering leaves ``[0, size)``, largest first."""

    size: int = 0
    hashes: list[bytes] = attrs.Factory(list)

    def append(self, leaf: bytes) -> list[Node]:
        """Append a leaf *hash*; return the perfect subtree nodes this append completes."""
        index = self.size
        current = leaf
        completed = [Node(0, index, current)]
        level = 0
        while (index >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            completed.append(Node(level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """Return the tree head over the leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        current = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            current = node_hash(left, current)
        return current

    def to_dict(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {"size": self.size, "hashes": [h.hex() for h in self.hashes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompactRange:
        """Rebuild from `to_dict` output."""
        return cls(int(data["size"]), [bytes.fromhex(h) for h in data["hashes"]])
