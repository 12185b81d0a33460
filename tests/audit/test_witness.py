"""Tests for witnesses: cosignature/v1, consistency proofs out of a store, refusals."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.audit.merkle import consistency_proof, root_hash
from pelayanan.audit.witness import (
    ConsistencyProof,
    Cosignature,
    Witness,
    cosignature_key_id,
    cosignature_message,
    count_cosignatures,
    split_cosigned,
)
from pelayanan.exceptions import (
    BackdatedCheckpointError,
    ForkError,
    InvalidArgumentError,
    ProofError,
    RollbackError,
    UnknownLedgerError,
    WitnessError,
    WitnessSignatureError,
)
from pelayanan.store import MemoryStore, latest_checkpoint_note, store_consistency_proof

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 7, 7, 0, 0, tzinfo=dt.UTC)
LEAVES = [f"entry {i}".encode() for i in range(64)]


def _note(
    key: SigningKey, size: int, *, minutes: int | None = None, leaves: list[bytes] = LEAVES
) -> str:
    when = T0 + dt.timedelta(minutes=size if minutes is None else minutes)
    return Checkpoint("kota", size, root_hash(leaves[:size]), when).sign(key).to_text()


@pytest.fixture
def witness(tmp_path: Path, ledger_key: SigningKey) -> Witness:
    made = Witness.create(tmp_path / "w", "saksi.example")
    made.trust_ledger("kota", ledger_key.verifier)
    return made


class TestCosignature:
    def test_key_id_and_message_follow_c2sp(self) -> None:
        """Key id: SHA-256(name || LF || 0x04 || key)[:4]; message: header lines then body."""
        pub = bytes(range(32))
        want = hashlib.sha256(b"w.example\n\x04" + pub).digest()[:4]
        assert cosignature_key_id("w.example", pub) == want
        assert cosignature_message(b"o\n1\nr\n", 7) == b"cosignature/v1\ntime 7\no\n1\nr\n"

    def test_line_round_trips_and_verifies(self, witness: Witness, ledger_key: SigningKey) -> None:
        cosigned = witness.cosign(_note(ledger_key, 5), [], now=NOW)
        signed, cosigs = split_cosigned(cosigned)
        assert signed.to_text() == _note(ledger_key, 5)
        (cosig,) = cosigs
        assert cosig.timestamp == int(NOW.timestamp())
        assert cosig.line() in cosigned
        assert cosig.verify(signed.checkpoint.body(), witness.verifier.public_key)
        other = Cosignature(cosig.name, cosig.key_id, cosig.timestamp + 1, cosig.signature)
        assert not other.verify(signed.checkpoint.body(), witness.verifier.public_key)
        assert count_cosignatures(cosigned, [witness.verifier])[1] == ["saksi.example"]
        assert count_cosignatures(cosigned, [generate_key_pair().verifier])[1] == []

    def test_extension_lines_are_cosigned(self, witness: Witness, ledger_key: SigningKey) -> None:
        """Signed extension lines after ``time`` stay in the note and under the cosignature."""
        cp = Checkpoint("kota", 5, root_hash(LEAVES[:5]), T0, ("hint saksi.example",))
        note = cp.sign(ledger_key).to_text()
        assert "\nhint saksi.example\n\n" in note
        cosigned = witness.cosign(note, [], now=NOW)
        signed, (cosig,) = split_cosigned(cosigned)
        assert signed.to_text() == note
        assert signed.checkpoint.extensions == ("hint saksi.example",)
        assert cosig.verify(signed.checkpoint.body(), witness.verifier.public_key)
        assert count_cosignatures(cosigned, [witness.verifier])[1] == ["saksi.example"]
        bare = Checkpoint("kota", 5, root_hash(LEAVES[:5]), T0).body()
        assert not cosig.verify(bare, witness.verifier.public_key)


class TestWitnessState:
    def test_files_are_private_and_state_reopens(
        self, witness: Witness, ledger_key: SigningKey
    ) -> None:
        folder = witness.folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "witness-private.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE((folder / "witness.json").stat().st_mode) == 0o600
        witness.cosign(_note(ledger_key, 5), [], now=NOW)
        again = Witness.open(folder)
        assert again.name == "saksi.example"
        assert again.verifier == witness.verifier
        seen = again.latest("kota")
        assert seen is not None
        assert seen.checkpoint.size == 5
        assert not list(folder.glob(".*.tmp"))

    def test_create_refuses_an_existing_witness_and_bad_names(self, witness: Witness) -> None:
        with pytest.raises(WitnessError, match="already holds a witness"):
            Witness.create(witness.folder, "again")
        with pytest.raises(WitnessError, match="without spaces"):
            Witness.create(witness.folder.parent / "x", "two words")

    def test_open_refuses_a_foreign_file(self, tmp_path: Path) -> None:
        (tmp_path / "witness.json").write_text(json.dumps({"format": "other"}))
        with pytest.raises(WitnessError, match="not a witness state"):
            Witness.open(tmp_path)

    def test_trusting_a_second_key_for_a_ledger_is_refused(self, witness: Witness) -> None:
        with pytest.raises(WitnessError, match="another key"):
            witness.trust_ledger("kota", generate_key_pair().verifier)

    def test_a_rotated_key_replaces_the_old_one_and_keeps_the_checkpoint(
        self, witness: Witness, ledger_key: SigningKey
    ) -> None:
        witness.cosign(_note(ledger_key, 5), [], now=NOW)
        new = generate_key_pair()
        witness.trust_ledger("kota", new.verifier, replace=True)
        with pytest.raises(WitnessSignatureError):
            witness.cosign(_note(ledger_key, 9), consistency_proof(LEAVES, 5, 9), now=NOW)
        with pytest.raises(RollbackError):
            witness.cosign(_note(new, 3), [], now=NOW)
        witness.cosign(_note(new, 9), consistency_proof(LEAVES, 5, 9), now=NOW)
        assert Witness.open(witness.folder).trusted_key("kota") == new.verifier


class TestRefusals:
    def test_extension_with_a_proof_is_cosigned(
        self, witness: Witness, ledger_key: SigningKey
    ) -> None:
        witness.cosign(_note(ledger_key, 5), [], now=NOW)
        witness.cosign(_note(ledger_key, 40), consistency_proof(LEAVES, 5, 40), now=NOW)
        seen = witness.latest("kota")
        assert seen is not None
        assert seen.checkpoint.size == 40

    def test_rollback(self, witness: Witness, ledger_key: SigningKey) -> None:
        witness.cosign(_note(ledger_key, 9, minutes=1), [], now=NOW)
        with pytest.raises(RollbackError, match="smaller"):
            witness.cosign(_note(ledger_key, 5, minutes=2), [], now=NOW)

    def test_fork_at_the_same_size(self, witness: Witness, ledger_key: SigningKey) -> None:
        witness.cosign(_note(ledger_key, 9), [], now=NOW)
        other = [b"rewritten", *LEAVES[1:]]
        with pytest.raises(ForkError, match="fork") as caught:
            witness.cosign(_note(ledger_key, 9, leaves=other), [], now=NOW)
        assert caught.value.notes[0] == _note(ledger_key, 9)
        seen = witness.latest("kota")
        assert seen is not None
        assert seen.checkpoint.root == root_hash(LEAVES[:9])

    def test_fork_when_the_proof_fails(self, witness: Witness, ledger_key: SigningKey) -> None:
        witness.cosign(_note(ledger_key, 9), [], now=NOW)
        other = [b"rewritten", *LEAVES[1:]]
        proof = consistency_proof(other, 9, 20)
        with pytest.raises(ForkError):
            witness.cosign(_note(ledger_key, 20, leaves=other), proof, now=NOW)

    def test_bad_ledger_signature(self, witness: Witness) -> None:
        with pytest.raises(WitnessSignatureError, match="not validly signed"):
            witness.cosign(_note(generate_key_pair(), 5), [], now=NOW)

    def test_unknown_ledger(self, witness: Witness, ledger_key: SigningKey) -> None:
        note = Checkpoint("desa", 1, root_hash(LEAVES[:1]), T0).sign(ledger_key).to_text()
        with pytest.raises(UnknownLedgerError, match="no trusted key"):
            witness.cosign(note, [], now=NOW)

    def test_backdated(self, witness: Witness, ledger_key: SigningKey) -> None:
        witness.cosign(_note(ledger_key, 5, minutes=30), [], now=NOW)
        proof = consistency_proof(LEAVES, 5, 9)
        with pytest.raises(BackdatedCheckpointError, match="before the checkpoint"):
            witness.cosign(_note(ledger_key, 9, minutes=10), proof, now=NOW)

    def test_naive_clock_is_refused(self, witness: Witness, ledger_key: SigningKey) -> None:
        with pytest.raises(WitnessError, match="timezone-aware"):
            witness.cosign(_note(ledger_key, 5), [], now=NOW.replace(tzinfo=None))

    @settings(max_examples=40, deadline=None)
    @given(st.integers(1, 64), st.integers(1, 64))
    def test_any_honest_extension_is_accepted(
        self, tmp_path_factory: pytest.TempPathFactory, a: int, b: int
    ) -> None:
        """For any sizes m <= n, the witness accepts n after m given the RFC 9162 proof."""
        key = generate_key_pair()
        made = Witness.create(tmp_path_factory.mktemp("w"), "w")
        made.trust_ledger("kota", key.verifier)
        m, n = min(a, b), max(a, b)
        made.cosign(_note(key, m), [], now=NOW)
        made.cosign(_note(key, n), consistency_proof(LEAVES, m, n), now=NOW)
        assert made.latest("kota") == SignedCheckpoint.parse(_note(key, n))


class TestConsistencyText:
    def test_round_trip(self) -> None:
        proof = ConsistencyProof("kota", 3, 10, tuple(consistency_proof(LEAVES, 3, 10)))
        text = proof.to_text()
        assert text.startswith("pelayanan-consistency/v1\npelayanan/kota\n3\n10\n")
        assert ConsistencyProof.parse(text) == proof

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "other\npelayanan/kota\n1\n2\n",
            "pelayanan-consistency/v1\npelayanan/kota\n5\n2\n",
            "pelayanan-consistency/v1\npelayanan/kota\n1\n2\n" + base64.b64encode(b"x").decode(),
            "pelayanan-consistency/v1\npelayanan/kota\none\n2\n",
        ],
    )
    def test_malformed_is_refused(self, text: str) -> None:
        with pytest.raises(ProofError):
            ConsistencyProof.parse(text)


class TestFromStore:
    def test_latest_note_and_proof(self, ledger_key: SigningKey) -> None:
        store = MemoryStore()
        for i in range(12):
            when = T0 + dt.timedelta(minutes=i)
            body = {
                "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "kind": "action",
                "data": {"i": i},
            }
            store.append("kota", body, time=when, sign=lambda cp: cp.sign(ledger_key))
        note = latest_checkpoint_note(store)
        assert SignedCheckpoint.parse(note).checkpoint.size == 12
        leaves = [e.data for e in store.entries("kota")]
        proof = store_consistency_proof(store, 5)
        assert proof.new_size == 12
        assert list(proof.hashes) == consistency_proof(leaves, 5, 12)
        with pytest.raises(InvalidArgumentError, match="sizes must satisfy"):
            store_consistency_proof(store, 5, 13)
        with pytest.raises(InvalidArgumentError, match="no ledger"):
            latest_checkpoint_note(store, "desa")
