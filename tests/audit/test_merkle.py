"""Tests for `pelayanan.audit.merkle`, the RFC 9162 Merkle tree.

The fixed vectors are the published RFC 6962 test data of Certificate Transparency:

- the 8 leaf inputs, the perfect-subtree hashes and the roots for sizes 0..8 come from
  ``testonly/constants.go`` of transparency-dev/merkle (``LeafInputs``, ``NodeHashes``,
  ``RootHashes``, ``CompactTrees``), the same data as ``merkle/testonly/constants.go`` of
  google/trillian, first published in google/certificate-transparency
  ``cpp/merkletree/merkle_tree_test.cc``;
- the inclusion and consistency proofs come from ``proof/verify_test.go`` of
  transparency-dev/merkle (``inclusionProofs``, ``consistencyProofs``), where leaf
  numbers are 1-based; they are 0-based here.  The corrupted-proof probes mirror that
  file's ``corruptInclusionProof`` and ``corruptConsistencyProof``.

Property tests compare every layer of the module with a naive recursive implementation
written here straight from RFC 9162 §2.1 (MTH, PATH, SUBPROOF).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pelayanan.audit import merkle
from pelayanan.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodeStore,
    Node,
    NodeReader,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    root_from_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from pelayanan.exceptions import AuditError, ProofError

h = bytes.fromhex

LEAVES: list[bytes] = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

NODE_HASHES: list[list[bytes]] = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

ROOTS: list[bytes] = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

NH = NODE_HASHES
# CompactTrees() of constants.go: the frontier after each size.
COMPACT_TREES: list[list[bytes]] = [
    [],
    [NH[0][0]],
    [NH[1][0]],
    [NH[1][0], NH[0][2]],
    [NH[2][0]],
    [NH[2][0], NH[0][4]],
    [NH[2][0], NH[1][2]],
    [NH[2][0], NH[1][2], NH[0][6]],
    [NH[3][0]],
]

# (0-based leaf index, tree size, proof)
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 8, [NH[0][1], NH[1][1], NH[2][1]]),
    (5, 8, [NH[0][4], NH[1][3], NH[2][0]]),
    (2, 3, [NH[1][0]]),
    (1, 5, [NH[0][0], NH[1][1], NH[0][4]]),
]

# (old size, new size, proof)
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (1, 8, [NH[0][1], NH[1][1], NH[2][1]]),
    (6, 8, [NH[1][2], NH[1][3], NH[2][0]]),
    (2, 5, [NH[1][1], NH[0][4]]),
    (6, 7, [NH[1][2], NH[0][6], NH[2][0]]),
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_vector_proofs_are_the_published_hex() -> None:
    """The vector proofs built from NODE_HASHES spell the hex of verify_test.go."""
    assert [p.hex()[:8] for p in INCLUSION_VECTORS[2][2]] == ["bc1a0643", "ca854ea1", "d37ee418"]
    assert [p.hex()[:8] for p in CONSISTENCY_VECTORS[4][2]] == [
        "0ebc5d34",
        "b08693ec",
        "d37ee418",
    ]


# --- a naive implementation straight from RFC 9162 §2.1 --------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the recursive definition."""
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the recursive definition."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) by the recursive definition."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


def naive_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]); empty for m = 0 and m = n."""
    if m in (0, len(d)):
        return []
    return naive_subproof(m, d, True)


# --- helpers ---------------------------------------------------------------------------


def make_leaves(n: int, salt: int = 0) -> list[bytes]:
    """Return *n* distinct raw entries of varying length."""
    return [f"entry-{salt}-{i}".encode() * (1 + i % 3) for i in range(n)]


def build(leaves: Sequence[bytes]) -> tuple[CompactRange, MemoryNodeStore]:
    """Append every leaf to a fresh compact range, persisting the completed nodes."""
    cr = CompactRange()
    store = MemoryNodeStore()
    for leaf in leaves:
        store.add(cr.append(leaf_hash(leaf)))
    return cr, store


def flip(data: bytes, bit: int) -> bytes:
    """Return *data* with one bit flipped."""
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


VECTOR_STORE = build(LEAVES)[1]


# --- hashing ---------------------------------------------------------------------------


class TestHashing:
    """Leaf, node and root hashes."""

    def test_leaf_hash_prefixes_zero(self) -> None:
        """Hash a leaf as SHA-256 of 0x00 followed by the entry."""
        assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()

    def test_node_hash_prefixes_one(self) -> None:
        """Hash a node as SHA-256 of 0x01, the left hash and the right hash."""
        a, b = leaf_hash(b"a"), leaf_hash(b"b")
        assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()

    def test_empty_root(self) -> None:
        """The empty tree's root is SHA-256 of the empty string."""
        assert ROOTS[0] == EMPTY_ROOT
        assert root_hash([]) == EMPTY_ROOT
        assert root_from_leaf_hashes([]) == EMPTY_ROOT

    @pytest.mark.parametrize("size", range(9))
    def test_published_roots(self, size: int) -> None:
        """Reproduce the published root for every size 0..8."""
        assert root_hash(LEAVES[:size]) == ROOTS[size]
        assert root_from_leaf_hashes([leaf_hash(x) for x in LEAVES[:size]]) == ROOTS[size]

    def test_published_leaf_hashes(self) -> None:
        """Reproduce the published level-0 node hashes."""
        assert [leaf_hash(x) for x in LEAVES] == NODE_HASHES[0]

    def test_root_from_leaf_hashes_refuses_bad_hash(self) -> None:
        """Refuse a leaf hash that is not 32 bytes, naming its position."""
        with pytest.raises(ProofError, match="leaf hash 1"):
            root_from_leaf_hashes([leaf_hash(b"a"), b"short"])

    def test_proof_error_is_an_audit_error(self) -> None:
        """ProofError sits under AuditError, so one except catches the ledger's errors."""
        assert issubclass(ProofError, AuditError)


# --- inclusion -------------------------------------------------------------------------


def corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, lh: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """Mirror corruptInclusionProof of transparency-dev/merkle: probes that must fail."""
    probes = [
        ("index - 1", index - 1, size, proof, root, lh),
        ("index + 1", index + 1, size, proof, root, lh),
        ("index ^ 2", index ^ 2, size, proof, root, lh),
        ("size * 2", index, size * 2, proof, root, lh),
        ("size // 2", index, size // 2, proof, root, lh),
        ("wrong leaf", index, size, proof, root, leaf_hash(b"WrongLeaf")),
        ("empty root", index, size, proof, EMPTY_ROOT, lh),
        ("random root", index, size, proof, SOME_HASH, lh),
        ("trailing garbage", index, size, [*proof, b""], root, lh),
        ("trailing root", index, size, [*proof, root], root, lh),
        ("preceding garbage", index, size, [b"", *proof], root, lh),
        ("preceding root", index, size, [root, *proof], root, lh),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 3)
        probes.append((f"modified proof[{i}]", index, size, wrong, root, lh))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, lh))
    if len(proof) > 1:
        probes.append(
            ("inserted component", index, size, [proof[0], SOME_HASH, *proof[1:]], root, lh)
        )
    return probes


class TestInclusionVectors:
    """The published inclusion proofs."""

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_list_proof_matches(self, index: int, size: int, proof: list[bytes]) -> None:
        """Build the published proof from the list of leaves."""
        assert inclusion_proof(LEAVES, index, size) == proof

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_node_proof_matches(self, index: int, size: int, proof: list[bytes]) -> None:
        """Build the published proof from stored nodes."""
        assert inclusion_proof_from_nodes(VECTOR_STORE, index, size) == proof

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_verifies(self, index: int, size: int, proof: list[bytes]) -> None:
        """Verify the published proof against the published root."""
        lh = leaf_hash(LEAVES[index])
        assert root_from_inclusion_proof(lh, index, size, proof) == ROOTS[size]
        verify_inclusion(lh, index, size, proof, ROOTS[size])

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_corrupted_probes_fail(self, index: int, size: int, proof: list[bytes]) -> None:
        """Refuse every corruption of the published proof that transparency-dev probes."""
        lh = leaf_hash(LEAVES[index])
        accepted = []
        for desc, i, n, p, root, leaf in corrupt_inclusion(index, size, proof, ROOTS[size], lh):
            try:
                verify_inclusion(leaf, i, n, p, root)
            except ProofError:
                continue
            accepted.append(desc)
        assert accepted == []


class TestInclusionArguments:
    """Bad arguments to inclusion proofs and their verification."""

    @pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (8, 8)])
    def test_index_not_below_size(self, index: int, size: int) -> None:
        """Refuse an index that is not below the tree size, in every function."""
        with pytest.raises(ProofError, match="not below tree size"):
            verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
        with pytest.raises(ProofError, match="not below tree size"):
            inclusion_proof(LEAVES, index, size)
        with pytest.raises(ProofError, match="not below tree size"):
            inclusion_proof_from_nodes(VECTOR_STORE, index, size)

    @pytest.mark.parametrize("value", [-1, True, 1.0, "1", None])
    def test_index_and_size_must_be_counts(self, value: object) -> None:
        """Refuse a negative or non-integer index or size, naming which."""
        with pytest.raises(ProofError, match="leaf index must be"):
            verify_inclusion(SOME_HASH, value, 8, [], SOME_HASH)  # type: ignore[arg-type]
        with pytest.raises(ProofError, match="tree size must be"):
            verify_inclusion(SOME_HASH, 0, value, [], SOME_HASH)  # type: ignore[arg-type]

    def test_size_beyond_leaves(self) -> None:
        """Refuse a tree size larger than the list of leaves."""
        with pytest.raises(ProofError, match="larger than the 8 leaves"):
            inclusion_proof(LEAVES, 0, 9)

    def test_wrong_length_names_expected(self) -> None:
        """Refuse a proof of the wrong length, saying how long it must be."""
        with pytest.raises(ProofError, match="must have 3 hashes, got 2"):
            verify_inclusion(leaf_hash(LEAVES[0]), 0, 8, [NH[0][1], NH[1][1]], ROOTS[8])

    @pytest.mark.parametrize("bad", [b"", b"x" * 31, b"x" * 33, "ab" * 32])
    def test_hash_sizes_checked(self, bad: object) -> None:
        """Refuse a leaf hash, root or proof element that is not 32 bytes."""
        lh = leaf_hash(LEAVES[0])
        good = [NH[0][1], NH[1][1], NH[2][1]]
        with pytest.raises(ProofError, match="leaf hash must be"):
            verify_inclusion(bad, 0, 8, good, ROOTS[8])  # type: ignore[arg-type]
        with pytest.raises(ProofError, match="root hash must be"):
            verify_inclusion(lh, 0, 8, good, bad)  # type: ignore[arg-type]
        with pytest.raises(ProofError, match="element 1"):
            verify_inclusion(lh, 0, 8, [good[0], bad, good[2]], ROOTS[8])  # type: ignore[list-item]

    def test_single_leaf_tree(self) -> None:
        """In a one-leaf tree the root is the leaf hash and the proof is empty."""
        lh = leaf_hash(b"data")
        verify_inclusion(lh, 0, 1, [], lh)
        with pytest.raises(ProofError, match="does not match the root"):
            verify_inclusion(lh, 0, 1, [], SOME_HASH)

    def test_mismatch_message_names_both_roots(self) -> None:
        """Say which root was computed and which was expected."""
        lh = leaf_hash(LEAVES[0])
        with pytest.raises(ProofError) as info:
            verify_inclusion(lh, 0, 8, [NH[0][1], NH[1][1], NH[2][1]], ROOTS[7])
        assert ROOTS[8].hex() in str(info.value)
        assert ROOTS[7].hex() in str(info.value)


# --- consistency -----------------------------------------------------------------------


def corrupt_consistency(
    m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """Mirror corruptConsistencyProof of transparency-dev/merkle: probes that must fail."""
    probes = [
        ("size1 - 1", m - 1, n, r1, r2, proof),
        ("size1 + 1", m + 1, n, r1, r2, proof),
        ("size1 ^ 2", m ^ 2, n, r1, r2, proof),
        ("size2 * 2", m, n * 2, r1, r2, proof),
        ("size2 // 2", m, n // 2, r1, r2, proof),
        ("wrong root1", m, n, SOME_HASH, r2, proof),
        ("wrong root2", m, n, r1, SOME_HASH, proof),
        ("swapped roots", m, n, r2, r1, proof),
        ("empty proof", m, n, r1, r2, []),
        ("trailing garbage", m, n, r1, r2, [*proof, b""]),
        ("trailing root1", m, n, r1, r2, [*proof, r1]),
        ("trailing root2", m, n, r1, r2, [*proof, r2]),
        ("preceding garbage", m, n, r1, r2, [b"", *proof]),
        ("preceding root1", m, n, r1, r2, [r1, *proof]),
        ("preceding root2", m, n, r1, r2, [r2, *proof]),
        ("preceding proof[0]", m, n, r1, r2, [proof[0], *proof]),
        ("truncated proof", m, n, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 4)
        probes.append((f"modified proof[{i}]", m, n, r1, r2, wrong))
    return probes


class TestConsistencyVectors:
    """The published consistency proofs."""

    @pytest.mark.parametrize(("m", "n", "proof"), CONSISTENCY_VECTORS)
    def test_list_proof_matches(self, m: int, n: int, proof: list[bytes]) -> None:
        """Build the published proof from the list of leaves."""
        assert consistency_proof(LEAVES, m, n) == proof

    @pytest.mark.parametrize(("m", "n", "proof"), CONSISTENCY_VECTORS)
    def test_node_proof_matches(self, m: int, n: int, proof: list[bytes]) -> None:
        """Build the published proof from stored nodes."""
        assert consistency_proof_from_nodes(VECTOR_STORE, m, n) == proof

    @pytest.mark.parametrize(("m", "n", "proof"), CONSISTENCY_VECTORS)
    def test_verifies(self, m: int, n: int, proof: list[bytes]) -> None:
        """Verify the published proof against the published roots."""
        verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)

    @pytest.mark.parametrize(("m", "n", "proof"), [v for v in CONSISTENCY_VECTORS if v[2]])
    def test_corrupted_probes_fail(self, m: int, n: int, proof: list[bytes]) -> None:
        """Refuse every corruption of the published proof that transparency-dev probes."""
        accepted = []
        for desc, m2, n2, r1, r2, p in corrupt_consistency(m, n, ROOTS[m], ROOTS[n], proof):
            try:
                verify_consistency(m2, n2, r1, r2, p)
            except ProofError:
                continue
            accepted.append(desc)
        assert accepted == []


class TestConsistencyEdges:
    """Sizes where RFC 9162 defines no algorithm, and bad arguments."""

    def test_equal_sizes_need_equal_roots(self) -> None:
        """Accept equal sizes with equal roots and an empty proof, and nothing else."""
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
        verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
        with pytest.raises(ProofError, match="different roots"):
            verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
        with pytest.raises(ProofError, match="must be empty"):
            verify_consistency(5, 5, ROOTS[5], ROOTS[5], [EMPTY_ROOT])

    def test_from_empty_tree(self) -> None:
        """Accept any tree as an extension of the empty one, if its root is the empty root."""
        verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
        with pytest.raises(ProofError, match="empty tree must be SHA-256"):
            verify_consistency(0, 8, SOME_HASH, ROOTS[8], [])
        with pytest.raises(ProofError, match="must be empty"):
            verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])

    def test_old_larger_than_new(self) -> None:
        """Refuse an old size larger than the new size, in every function."""
        with pytest.raises(ProofError, match="swap the arguments"):
            verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])
        with pytest.raises(ProofError, match="swap the arguments"):
            consistency_proof(LEAVES, 2, 1)
        with pytest.raises(ProofError, match="swap the arguments"):
            consistency_proof_from_nodes(VECTOR_STORE, 2, 1)

    def test_empty_proof_for_growth(self) -> None:
        """Refuse an empty proof between different non-zero sizes (RFC step 1)."""
        with pytest.raises(ProofError, match="must have 1 hashes, got 0"):
            verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])

    def test_list_proof_edges_empty(self) -> None:
        """Return empty proofs from size 0 and between equal sizes."""
        assert consistency_proof(LEAVES, 0, 8) == []
        assert consistency_proof(LEAVES, 8, 8) == []
        assert consistency_proof_from_nodes(VECTOR_STORE, 0, 8) == []
        assert consistency_proof_from_nodes(VECTOR_STORE, 3, 3) == []

    def test_size_beyond_leaves(self) -> None:
        """Refuse a new size larger than the list of leaves."""
        with pytest.raises(ProofError, match="larger than the 8 leaves"):
            consistency_proof(LEAVES, 1, 9)

    def test_hash_sizes_checked(self) -> None:
        """Refuse roots or proof elements that are not 32 bytes."""
        with pytest.raises(ProofError, match="old root hash"):
            verify_consistency(1, 2, b"x", ROOTS[2], [NH[0][1]])
        with pytest.raises(ProofError, match="new root hash"):
            verify_consistency(1, 2, ROOTS[1], b"x", [NH[0][1]])
        with pytest.raises(ProofError, match="element 0"):
            verify_consistency(1, 2, ROOTS[1], ROOTS[2], [b"x"])


# --- exhaustive small trees ------------------------------------------------------------


SMALL = make_leaves(33, salt=7)
SMALL_RANGE, SMALL_STORE = build(SMALL)
SMALL_ROOTS = [naive_mth(SMALL[:n]) for n in range(len(SMALL) + 1)]


class TestExhaustiveSmallTrees:
    """Every index and every size pair up to 33 leaves (all powers of two to 32 and neighbours)."""

    def test_roots(self) -> None:
        """Agree with the naive MTH at every size, from leaves and from nodes."""
        for n in range(len(SMALL) + 1):
            assert root_hash(SMALL[:n]) == SMALL_ROOTS[n]
            assert root_from_nodes(SMALL_STORE, n) == SMALL_ROOTS[n]

    def test_inclusion(self) -> None:
        """Agree with the naive PATH for every leaf of every size, and verify."""
        for n in range(1, len(SMALL) + 1):
            for i in range(n):
                expected = naive_path(i, SMALL[:n])
                assert inclusion_proof(SMALL, i, n) == expected
                assert inclusion_proof_from_nodes(SMALL_STORE, i, n) == expected
                verify_inclusion(leaf_hash(SMALL[i]), i, n, expected, SMALL_ROOTS[n])

    def test_consistency(self) -> None:
        """Agree with the naive PROOF for every pair of sizes, and verify."""
        for n in range(len(SMALL) + 1):
            for m in range(n + 1):
                expected = naive_proof(m, SMALL[:n])
                assert consistency_proof(SMALL, m, n) == expected
                assert consistency_proof_from_nodes(SMALL_STORE, m, n) == expected
                verify_consistency(m, n, SMALL_ROOTS[m], SMALL_ROOTS[n], expected)

    def test_consistency_refuses_other_roots(self) -> None:
        """Refuse a good proof checked against the roots of neighbouring sizes."""
        for n in range(2, len(SMALL) + 1):
            for m in range(1, n):
                proof = naive_proof(m, SMALL[:n])
                with pytest.raises(ProofError):
                    verify_consistency(m, n, SMALL_ROOTS[m - 1], SMALL_ROOTS[n], proof)
                with pytest.raises(ProofError):
                    verify_consistency(m, n, SMALL_ROOTS[m], SMALL_ROOTS[n - 1], proof)


# --- property tests --------------------------------------------------------------------


MAX_SIZE = 300
BIG = make_leaves(MAX_SIZE, salt=3)
BIG_LEAF_HASHES = [leaf_hash(x) for x in BIG]
BIG_RANGE, BIG_STORE = build(BIG)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    """Draw a tree size in 1..MAX_SIZE and a leaf index below it."""
    n = draw(st.integers(min_value=1, max_value=MAX_SIZE))
    return n, draw(st.integers(min_value=0, max_value=n - 1))


@st.composite
def size_pair(draw: st.DrawFn) -> tuple[int, int]:
    """Draw an old size and a new size with 0 <= old <= new <= MAX_SIZE."""
    n = draw(st.integers(min_value=0, max_value=MAX_SIZE))
    return draw(st.integers(min_value=0, max_value=n)), n


class TestProperties:
    """Random sizes up to 300 against the naive implementation."""

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=0, max_value=MAX_SIZE))
    def test_root(self, n: int) -> None:
        """Agree with the naive MTH from leaves, leaf hashes and stored nodes."""
        expected = naive_mth(BIG[:n])
        assert root_hash(BIG[:n]) == expected
        assert root_from_leaf_hashes(BIG_LEAF_HASHES[:n]) == expected
        assert root_from_nodes(BIG_STORE, n) == expected

    @settings(max_examples=80, deadline=None)
    @given(size_and_index())
    def test_inclusion(self, case: tuple[int, int]) -> None:
        """Build the naive PATH from leaves and from nodes; it verifies against the root."""
        n, i = case
        expected = naive_path(i, BIG[:n])
        assert inclusion_proof(BIG, i, n) == expected
        assert inclusion_proof_from_nodes(BIG_STORE, i, n) == expected
        verify_inclusion(BIG_LEAF_HASHES[i], i, n, expected, naive_mth(BIG[:n]))

    @settings(max_examples=80, deadline=None)
    @given(size_pair())
    def test_consistency(self, case: tuple[int, int]) -> None:
        """Build the naive PROOF from leaves and from nodes; it verifies against both roots."""
        m, n = case
        expected = naive_proof(m, BIG[:n])
        assert consistency_proof(BIG, m, n) == expected
        assert consistency_proof_from_nodes(BIG_STORE, m, n) == expected
        verify_consistency(m, n, naive_mth(BIG[:m]), naive_mth(BIG[:n]), expected)

    @settings(max_examples=80, deadline=None)
    @given(size_and_index(), st.data())
    def test_inclusion_tamper(self, case: tuple[int, int], data: st.DataObject) -> None:
        """Refuse the proof once any bit of a proof element, the leaf or the root flips."""
        n, i = case
        proof = inclusion_proof_from_nodes(BIG_STORE, i, n)
        root = root_from_nodes(BIG_STORE, n)
        lh = BIG_LEAF_HASHES[i]
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        target = data.draw(st.integers(min_value=-2, max_value=len(proof) - 1), label="target")
        if target == -2:
            root = flip(root, bit)
        elif target == -1:
            lh = flip(lh, bit)
        else:
            proof[target] = flip(proof[target], bit)
        with pytest.raises(ProofError):
            verify_inclusion(lh, i, n, proof, root)

    @settings(max_examples=80, deadline=None)
    @given(size_pair(), st.data())
    def test_consistency_tamper(self, case: tuple[int, int], data: st.DataObject) -> None:
        """Refuse the proof once any bit of a proof element or of either root flips.

        From the empty tree nothing binds the new root (every tree extends the empty
        one), so only the old root is flipped there.
        """
        m, n = case
        proof = consistency_proof_from_nodes(BIG_STORE, m, n)
        r1, r2 = root_from_nodes(BIG_STORE, m), root_from_nodes(BIG_STORE, n)
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        top = len(proof) - 1 if m else -2
        target = data.draw(st.integers(min_value=-2, max_value=top), label="target")
        if target == -2:
            r1 = flip(r1, bit)
        elif target == -1:
            r2 = flip(r2, bit)
        else:
            proof[target] = flip(proof[target], bit)
        with pytest.raises(ProofError):
            verify_consistency(m, n, r1, r2, proof)

    @settings(max_examples=40, deadline=None)
    @given(size_and_index(), st.integers(min_value=1, max_value=MAX_SIZE))
    def test_inclusion_wrong_size_fails(self, case: tuple[int, int], other: int) -> None:
        """Refuse a good proof presented for another tree size (with that size's root)."""
        n, i = case
        assume(other != n and i < other)
        proof = inclusion_proof_from_nodes(BIG_STORE, i, n)
        with pytest.raises(ProofError):
            verify_inclusion(BIG_LEAF_HASHES[i], i, other, proof, root_from_nodes(BIG_STORE, other))


# --- compact range ---------------------------------------------------------------------


class TestCompactRange:
    """The incremental frontier."""

    def test_published_frontiers(self) -> None:
        """Hold the published CompactTrees frontier and root after each append."""
        cr = CompactRange()
        assert list(cr.hashes) == COMPACT_TREES[0]
        assert cr.root() == ROOTS[0]
        for n, leaf in enumerate(LEAVES, start=1):
            cr.append(leaf_hash(leaf))
            assert cr.size == n
            assert list(cr.hashes) == COMPACT_TREES[n]
            assert cr.root() == ROOTS[n]

    def test_append_returns_completed_nodes(self) -> None:
        """Return the leaf and every perfect subtree completed, lowest level first."""
        cr = CompactRange()
        returned = cr.extend(leaf_hash(x) for x in LEAVES[:7])
        assert cr.append(leaf_hash(LEAVES[7])) == [
            Node(0, 7, NH[0][7]),
            Node(1, 3, NH[1][3]),
            Node(2, 1, NH[2][1]),
            Node(3, 0, NH[3][0]),
        ]
        assert Node(0, 6, NH[0][6]) in returned
        assert Node(1, 2, NH[1][2]) in returned

    def test_every_published_node_is_emitted_once(self) -> None:
        """Emit each perfect subtree of the 8-leaf tree exactly once, with its published hash."""
        nodes = CompactRange().extend(leaf_hash(x) for x in LEAVES)
        expected = [
            Node(level, index, value)
            for level, row in enumerate(NODE_HASHES)
            for index, value in enumerate(row)
        ]
        assert sorted(nodes, key=lambda n: (n.level, n.index)) == expected

    @settings(max_examples=30, deadline=None)
    @given(st.integers(min_value=0, max_value=MAX_SIZE))
    def test_root_after_every_append(self, n: int) -> None:
        """Agree with root_hash after every append."""
        cr = CompactRange()
        for k in range(n):
            cr.append(BIG_LEAF_HASHES[k])
            assert cr.root() == root_from_leaf_hashes(BIG_LEAF_HASHES[: k + 1])
        assert cr.size == n

    def test_root_matches_naive_at_every_size(self) -> None:
        """Agree with the naive MTH after each of the first 300 appends."""
        cr = CompactRange()
        for k, lh in enumerate(BIG_LEAF_HASHES, start=1):
            cr.append(lh)
            if k <= 70 or k % 37 == 0:
                assert cr.root() == naive_mth(BIG[:k])

    @settings(max_examples=40, deadline=None)
    @given(st.integers(min_value=0, max_value=MAX_SIZE))
    def test_dict_round_trip(self, n: int) -> None:
        """Load back what to_dict saved, equal and able to go on appending."""
        cr = CompactRange()
        cr.extend(BIG_LEAF_HASHES[:n])
        saved = cr.to_dict()
        loaded = CompactRange.from_dict(saved)
        assert loaded == cr
        assert loaded.root() == cr.root()
        if n < MAX_SIZE:
            assert loaded.append(BIG_LEAF_HASHES[n]) == cr.append(BIG_LEAF_HASHES[n])
            assert loaded == cr

    @settings(max_examples=40, deadline=None)
    @given(st.integers(min_value=0, max_value=MAX_SIZE))
    def test_from_nodes(self, n: int) -> None:
        """Rebuild the frontier of any stored size from stored nodes."""
        cr = CompactRange()
        cr.extend(BIG_LEAF_HASHES[:n])
        assert CompactRange.from_nodes(BIG_STORE, n) == cr

    def test_nodes_name_the_frontier(self) -> None:
        """List the frontier as nodes with their level and index."""
        cr = CompactRange()
        cr.extend(leaf_hash(x) for x in LEAVES[:7])
        assert cr.nodes() == [Node(2, 0, NH[2][0]), Node(1, 2, NH[1][2]), Node(0, 6, NH[0][6])]

    def test_copy_is_independent(self) -> None:
        """Appending to a copy leaves the original as it was."""
        cr = CompactRange()
        cr.extend(leaf_hash(x) for x in LEAVES[:3])
        clone = cr.copy()
        clone.append(leaf_hash(LEAVES[3]))
        assert cr.size == 3
        assert cr.root() == ROOTS[3]
        assert clone.root() == ROOTS[4]

    def test_append_refuses_bad_hash(self) -> None:
        """Refuse a leaf hash that is not 32 bytes, leaving the range unchanged."""
        cr = CompactRange()
        with pytest.raises(ProofError, match="leaf hash must be"):
            cr.append(b"entry bytes, not a hash")
        assert cr.size == 0

    def test_hash_count_must_match_size(self) -> None:
        """Refuse a frontier whose hash count is not the number of set bits of the size."""
        with pytest.raises(ProofError, match="needs 2 hashes"):
            CompactRange(3, [NH[1][0]])
        with pytest.raises(ProofError, match="compact range size"):
            CompactRange(-1, [])

    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"size": 1},
            {"size": 1, "hashes": "abcd"},
            {"size": 1, "hashes": [1]},
            {"size": 1, "hashes": ["zz" * 32]},
            {"size": 1, "hashes": ["ab" * 31]},
            {"size": "1", "hashes": ["ab" * 32]},
            {"size": 2, "hashes": ["ab" * 32, "cd" * 32]},
        ],
    )
    def test_from_dict_refuses_malformed(self, data: dict[str, object]) -> None:
        """Refuse a saved frontier of the wrong shape with a ProofError."""
        with pytest.raises(ProofError, match="compact range"):
            CompactRange.from_dict(data)

    def test_repr_and_unhashable(self) -> None:
        """Show size and root prefix; refuse hashing because appends mutate it."""
        cr = CompactRange()
        assert repr(cr) == f"CompactRange(size=0, root={EMPTY_ROOT.hex()[:16]}...)"
        with pytest.raises(TypeError):
            hash(cr)


# --- node store ------------------------------------------------------------------------


class TestMemoryNodeStore:
    """The in-memory NodeReader."""

    def test_is_a_node_reader(self) -> None:
        """Satisfy the NodeReader protocol."""
        assert isinstance(MemoryNodeStore(), NodeReader)

    def test_missing_node(self) -> None:
        """Refuse a proof that needs a node the store lacks, naming the node."""
        with pytest.raises(ProofError, match=r"node \(0, 8\) is not stored"):
            inclusion_proof_from_nodes(VECTOR_STORE, 0, 9)

    def test_readding_same_node_is_harmless(self) -> None:
        """Store the same node twice without complaint."""
        store = MemoryNodeStore([Node(0, 0, NH[0][0])])
        store.add([Node(0, 0, NH[0][0])])
        assert len(store) == 1
        assert (0, 0) in store

    def test_conflicting_node_refused(self) -> None:
        """Refuse a second, different hash for a stored node: the tree is append-only."""
        store = MemoryNodeStore([Node(0, 0, NH[0][0])])
        with pytest.raises(ProofError, match="append-only"):
            store.add([Node(0, 0, NH[0][1])])

    def test_gap_refused(self) -> None:
        """Refuse a node that would leave a gap on its level, saying how to add nodes."""
        store = MemoryNodeStore([Node(0, 0, NH[0][0])])
        with pytest.raises(ProofError, match="would leave a gap"):
            store.add([Node(0, 2, NH[0][2])])

    @pytest.mark.parametrize(("level", "index"), [(-1, 0), (0, -1), (True, 0), (0, 1.0)])
    def test_malformed_node_refused(self, level: object, index: object) -> None:
        """Refuse a node with a negative or non-integer level or index."""
        with pytest.raises(ProofError, match="must be a non-negative integer"):
            MemoryNodeStore([Node(level, index, NH[0][0])])  # type: ignore[arg-type]

    def test_malformed_hash_refused(self) -> None:
        """Refuse a node whose hash is not 32 bytes."""
        with pytest.raises(ProofError, match=r"node \(0, 0\) must be a 32-byte"):
            MemoryNodeStore([Node(0, 0, b"short")])

    @pytest.mark.parametrize("key", [(0, -1), (-1, 0), (4, 0), (0, 8), (3, 1)])
    def test_lookup_outside_refused(self, key: tuple[int, int]) -> None:
        """Refuse negative or absent positions rather than reading from the end of a list."""
        assert key not in VECTOR_STORE
        with pytest.raises(ProofError, match="is not stored"):
            VECTOR_STORE.get_nodes([key])

    def test_contents(self) -> None:
        """Count and find the 15 perfect nodes of the 8-leaf tree."""
        assert len(VECTOR_STORE) == 15
        assert (3, 0) in VECTOR_STORE
        assert "3,0" not in VECTOR_STORE
        assert repr(VECTOR_STORE) == "MemoryNodeStore(<15 nodes>)"

    def test_reader_returning_wrong_count(self) -> None:
        """Refuse a reader that answers with fewer hashes than asked for."""

        class Short:
            def get_nodes(self, level_index_pairs: Sequence[tuple[int, int]]) -> list[bytes]:
                return []

        with pytest.raises(ProofError, match="returned 0 hashes"):
            root_from_nodes(Short(), 3)

    def test_node_reads_are_logarithmic(self) -> None:
        """Read at most 2*log2(n)+1 nodes for a proof and one per set bit for a root."""

        class Counting:
            def __init__(self) -> None:
                self.calls: list[int] = []

            def get_nodes(self, level_index_pairs: Sequence[tuple[int, int]]) -> list[bytes]:
                self.calls.append(len(level_index_pairs))
                return BIG_STORE.get_nodes(level_index_pairs)

        reader = Counting()
        for n in (1, 2, 3, 7, 8, 100, 255, 256, 257, 300):
            bound = 2 * n.bit_length() + 1
            for i in range(n):
                inclusion_proof_from_nodes(reader, i, n)
                assert reader.calls[-1] <= bound
            for m in range(n + 1):
                consistency_proof_from_nodes(reader, m, n)
                assert reader.calls[-1] <= bound
            root_from_nodes(reader, n)
            assert reader.calls[-1] == n.bit_count()


def test_public_names() -> None:
    """Export exactly the documented API."""
    assert sorted(merkle.__all__) == sorted(
        [
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
    )
