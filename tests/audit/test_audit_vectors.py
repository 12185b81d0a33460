"""The test vectors of docs/audit-format.md, checked two ways.

First with a small verifier written here from the specification alone (hashlib and the
Ed25519 primitive, none of pelayanan's audit code), then against pelayanan itself, so the
document, the code and the vectors cannot drift apart.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.merkle import consistency_proof, inclusion_proof, root_hash
from pelayanan.audit.receipt import Receipt, check_receipt
from pelayanan.store import MemoryStore

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-format.md"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    """The JSON block between the vector markers of docs/audit-format.md."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- vectors:begin -->", 1)[1].split("<!-- vectors:end -->", 1)[0]
    body = block.strip().removeprefix("```json").removesuffix("```")
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, straight from the definition."""
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return _sha(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _public(seed_hex: str) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class TestFromTheSpecification:
    def test_key_name_and_id(self, vectors: dict[str, Any]) -> None:
        """The key name and C2SP key ID follow §3 from the raw public key."""
        public = _public(vectors["private_key_seed"])
        assert public.hex() == vectors["public_key"]
        name = "pelayanan-" + hashlib.sha256(public).hexdigest()[:16]
        assert name == vectors["key_name"]
        key_id = _sha(name.encode() + b"\n\x01" + public)[:4]
        assert key_id.hex() == vectors["key_id"]
        blob = base64.b64encode(b"\x01" + public).decode()
        assert vectors["vkey"] == f"{name}+{key_id.hex()}+{blob}"

    def test_entries_chain_and_hash(self, vectors: dict[str, Any]) -> None:
        """Entries are canonical, numbered, chained by prev, and hash as leaf hashes."""
        prev = "0" * 64
        for seq, (text, digest) in enumerate(
            zip(vectors["entries"], vectors["leaf_hashes"], strict=True)
        ):
            data = text.encode()
            entry = json.loads(data)
            assert (
                json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=True) == text
            )
            assert (entry["v"], entry["seq"], entry["ledger"]) == (1, seq, vectors["ledger"])
            assert entry["prev"] == prev
            prev = _sha(b"\x00" + data).hex()
            assert prev == digest

    def test_roots(self, vectors: dict[str, Any]) -> None:
        """The stated roots are MTH of the first n entries."""
        leaves = [e.encode() for e in vectors["entries"]]
        for size, root in vectors["roots"].items():
            assert _mth(leaves[: int(size)]).hex() == root

    def test_checkpoints_signed_notes(self, vectors: dict[str, Any]) -> None:
        """Each checkpoint body states size and root; its Ed25519 signature verifies."""
        public = Ed25519PrivateKey.from_private_bytes(
            bytes.fromhex(vectors["private_key_seed"])
        ).public_key()
        for note in vectors["checkpoints"]:
            body, sigs = note.split("\n\n", 1)
            origin, size, root, time = body.split("\n")
            assert origin == "pelayanan/" + vectors["ledger"]
            assert base64.b64decode(root).hex() == vectors["roots"][size]
            assert time.startswith("time ")
            dash, name, blob = sigs.rstrip("\n").split(" ")
            assert (dash, name) == ("\u2014", vectors["key_name"])
            raw = base64.b64decode(blob)
            assert raw[:4].hex() == vectors["key_id"]
            public.verify(raw[4:], (body + "\n").encode())

    def test_inclusion_proofs(self, vectors: dict[str, Any]) -> None:
        """Each inclusion proof leads from the leaf to the root (RFC 9162 §2.1.3.2)."""
        for where, proof in vectors["inclusion_proofs"].items():
            index, size = map(int, where.split("/"))
            fn, sn = index, size - 1
            r = bytes.fromhex(vectors["leaf_hashes"][index])
            for p in (bytes.fromhex(h) for h in proof):
                assert sn != 0
                if fn & 1 or fn == sn:
                    r = _sha(b"\x01" + p + r)
                    while not fn & 1 and fn:
                        fn >>= 1
                        sn >>= 1
                else:
                    r = _sha(b"\x01" + r + p)
                fn >>= 1
                sn >>= 1
            assert sn == 0
            assert r.hex() == vectors["roots"][str(size)]

    def test_export_layout(self, vectors: dict[str, Any]) -> None:
        """The export is a header, entry lines, and checkpoints after the entry reaching them."""
        lines = vectors["export"].split("\n")
        assert lines[-1] == ""
        header = json.loads(lines[0])
        assert header == {
            "format": "pelayanan-audit-export",
            "ledger": vectors["ledger"],
            "size": 3,
            "version": 1,
        }
        e0, e1, e2 = vectors["entries"]
        c2, c3 = vectors["checkpoints"]
        assert lines[1:-1] == [
            e0,
            e1,
            json.dumps({"checkpoint": c2}, separators=(",", ":"), ensure_ascii=False),
            e2,
            json.dumps({"checkpoint": c3}, separators=(",", ":"), ensure_ascii=False),
        ]


class TestAgainstTheCode:
    def _store(self, vectors: dict[str, Any]) -> tuple[MemoryStore, SigningKey]:
        key = SigningKey(
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vectors["private_key_seed"]))
        )
        store = MemoryStore()
        for seq, text in enumerate(vectors["entries"]):
            entry = json.loads(text)
            body = {k: v for k, v in entry.items() if k not in ("v", "ledger", "seq", "prev")}
            when = dt.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=dt.UTC
            )
            sign = (lambda cp: cp.sign(key)) if seq else None
            store.append(vectors["ledger"], body, time=when, sign=sign)
        return store, key

    def test_code_reproduces_every_vector(self, vectors: dict[str, Any]) -> None:
        """pelayanan writes exactly the documented entries, checkpoints, proofs and export."""
        store, _ = self._store(vectors)
        data = [e.data for e in store.entries(vectors["ledger"])]
        assert [d.decode() for d in data] == vectors["entries"]
        assert [canonical_json(json.loads(d)) for d in data] == data
        assert store.checkpoints(vectors["ledger"]) == vectors["checkpoints"]
        for size, root in vectors["roots"].items():
            assert root_hash(data[: int(size)]).hex() == root
        for where, proof in vectors["inclusion_proofs"].items():
            index, size = map(int, where.split("/"))
            assert [h.hex() for h in inclusion_proof(data, index, size)] == proof
        for where, proof in vectors["consistency_proofs"].items():
            old, size = map(int, where.split("/"))
            assert [h.hex() for h in consistency_proof(data, old, size)] == proof
        out = io.BytesIO()
        write_export(store, out)
        assert out.getvalue().decode() == vectors["export"]

    def test_code_verifies_export_and_receipt(
        self, vectors: dict[str, Any], tmp_path: Path
    ) -> None:
        """The documented export verifies, and the documented receipt checks."""
        _, key = self._store(vectors)
        path = tmp_path / "contoh.jsonl"
        path.write_text(vectors["export"], encoding="utf-8")
        (report,) = verify_export(path, [key.verifier])
        assert report.root.hex() == vectors["roots"]["3"]
        receipt = Receipt.from_json(json.dumps(vectors["receipt"]))
        assert check_receipt(receipt, [key.verifier]).seq == 1
