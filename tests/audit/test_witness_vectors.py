"""The witness test vectors of docs/audit-format.md, checked from the spec, then by pelayanan."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pelayanan.audit.keys import SigningKey, VerifierKey
from pelayanan.audit.merkle import verify_consistency
from pelayanan.audit.witness import ConsistencyProof, Witness, count_cosignatures

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-format.md"


def _block(text: str, name: str) -> dict[str, Any]:
    body = text.split(f"<!-- {name}:begin -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    loaded: dict[str, Any] = json.loads(body.strip().removeprefix("```json").removesuffix("```"))
    return loaded


@pytest.fixture(scope="module")
def docs() -> tuple[dict[str, Any], dict[str, Any]]:
    """The main vectors and the witness vectors."""
    text = DOC.read_text(encoding="utf-8")
    return _block(text, "vectors"), _block(text, "witness-vectors")


class TestFromTheSpec:
    def test_cosignature_line(self, docs: tuple[dict[str, Any], dict[str, Any]]) -> None:
        """Recompute the cosignature line with hashlib and the Ed25519 primitive alone."""
        main, wv = docs
        seed = bytes.fromhex(wv["witness_private_key_seed"])
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert public.hex() == wv["witness_public_key"]
        name = wv["witness_name"]
        key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
        assert key_id.hex() == wv["cosignature_key_id"]
        note: str = main["checkpoints"][1]
        body = note.split("\n\n", 1)[0] + "\n"
        stamp = wv["cosignature_time"]
        message = f"cosignature/v1\ntime {stamp}\n".encode() + body.encode()
        blob = key_id + struct.pack(">Q", stamp) + private.sign(message)
        line = f"\u2014 {name} {base64.b64encode(blob).decode()}\n"
        assert wv["cosigned_checkpoint"] == note + line
        Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], message)

    def test_consistency_proof_text(self, docs: tuple[dict[str, Any], dict[str, Any]]) -> None:
        main, wv = docs
        lines = wv["consistency_proof"].split("\n")
        assert lines[:4] == ["pelayanan-consistency/v1", "pelayanan/contoh", "2", "3"]
        hashes = [base64.b64decode(h).hex() for h in lines[4:] if h]
        assert hashes == main["consistency_proofs"]["2/3"]

    def test_state_document(self, docs: tuple[dict[str, Any], dict[str, Any]]) -> None:
        main, wv = docs
        state = wv["witness_state"]
        assert state["format"] == "pelayanan-witness"
        assert base64.b64decode(state["public_key"]).hex() == wv["witness_public_key"]
        entry = state["ledgers"]["contoh"]
        assert base64.b64decode(entry["key"]).hex() == main["public_key"]
        assert entry["checkpoint"] == main["checkpoints"][1]
        assert entry["cosigned"] == wv["cosigned_checkpoint"]


class TestAgainstPelayanan:
    def test_witness_reproduces_the_vectors(
        self, docs: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
    ) -> None:
        main, wv = docs
        seed = bytes.fromhex(wv["witness_private_key_seed"])
        key = SigningKey(Ed25519PrivateKey.from_private_bytes(seed))
        witness = Witness(tmp_path, wv["witness_name"], key, {})
        witness.trust_ledger("contoh", VerifierKey(bytes.fromhex(main["public_key"])))
        now = dt.datetime.fromtimestamp(wv["cosignature_time"], dt.UTC)
        witness.cosign(main["checkpoints"][0], [], now=now)
        proof = ConsistencyProof.parse(wv["consistency_proof"])
        cosigned = witness.cosign(main["checkpoints"][1], proof.hashes, now=now)
        assert cosigned == wv["cosigned_checkpoint"]
        assert witness.to_dict() == wv["witness_state"]
        assert json.loads((tmp_path / "witness.json").read_text()) == wv["witness_state"]
        _, names = count_cosignatures(cosigned, [witness.verifier])
        assert names == [wv["witness_name"]]

    def test_proof_checks_against_the_roots(
        self, docs: tuple[dict[str, Any], dict[str, Any]]
    ) -> None:
        main, wv = docs
        proof = ConsistencyProof.parse(wv["consistency_proof"])
        roots = main["roots"]
        verify_consistency(2, 3, bytes.fromhex(roots["2"]), bytes.fromhex(roots["3"]), proof.hashes)
