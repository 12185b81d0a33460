"""Tests for stored Merkle nodes, receipts, and the prove / check-proof / verify commands."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.audit.merkle import (
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    root_from_nodes,
    root_hash,
)
from pelayanan.audit.receipt import Receipt, check_receipt, make_receipt
from pelayanan.audit.verify import verify_ledger
from pelayanan.cli import cli
from pelayanan.exceptions import ProofError
from pelayanan.store import MemoryStore, SQLiteStore, Store
from pelayanan.store.base import LedgerNodes

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def _fill(
    store: Store, key: SigningKey, size: int, *, ledger: str = "kota", every: int = 1
) -> None:
    for i in range(size):
        when = T0 + dt.timedelta(minutes=i)
        body = {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": "action", "data": {"i": i}}
        sign = (lambda cp: cp.sign(key)) if (i + 1) % every == 0 else None
        store.append(ledger, body, time=when, sign=sign)


def _data(store: Store, ledger: str = "kota") -> list[bytes]:
    return [e.data for e in store.entries(ledger)]


class TestStoredNodes:
    def test_proofs_from_nodes_equal_whole_list_proofs(
        self, store: Store, ledger_key: SigningKey
    ) -> None:
        """Every inclusion and consistency proof read from stored nodes equals RFC 9162's."""
        _fill(store, ledger_key, 21, every=5)
        leaves = _data(store)
        nodes = LedgerNodes(store, "kota")
        for size in range(1, 22):
            assert root_from_nodes(nodes, size) == root_hash(leaves[:size])
            for index in range(size):
                assert inclusion_proof_from_nodes(nodes, index, size) == inclusion_proof(
                    leaves, index, size
                )
            for old in range(size + 1):
                assert consistency_proof_from_nodes(nodes, old, size) == consistency_proof(
                    leaves, old, size
                )

    def test_missing_node_is_a_proof_error(self, store: Store, ledger_key: SigningKey) -> None:
        """Asking for a tree larger than the ledger raises ProofError, not KeyError."""
        _fill(store, ledger_key, 3)
        with pytest.raises(ProofError):
            inclusion_proof_from_nodes(LedgerNodes(store, "kota"), 0, 9)
        with pytest.raises(ProofError):
            store.get_nodes("no-such-ledger", [(0, 0)])

    def test_iter_checkpoints_streams_by_size(self, store: Store, ledger_key: SigningKey) -> None:
        """iter_checkpoints yields notes in size order within the bounds; latest is the largest."""
        _fill(store, ledger_key, 12, every=3)
        sizes = [SignedCheckpoint.parse(n).checkpoint.size for n in store.iter_checkpoints("kota")]
        assert sizes == [3, 6, 9, 12]
        bounded = store.iter_checkpoints("kota", min_size=4, max_size=9)
        assert [SignedCheckpoint.parse(n).checkpoint.size for n in bounded] == [6, 9]
        latest = store.latest_checkpoint("kota")
        assert latest is not None
        assert SignedCheckpoint.parse(latest).checkpoint.size == 12
        assert store.latest_checkpoint("empty") is None
        assert list(store.iter_checkpoints("kota")) == store.checkpoints("kota")

    def test_sqlite_checkpoint_pages(self, tmp_path: Path, ledger_key: SigningKey) -> None:
        """More checkpoints than one page are all streamed, in order, bounds included."""
        store = SQLiteStore(tmp_path / "s.db")
        store.checkpoint_page = 7
        _fill(store, ledger_key, 30)
        sizes = [SignedCheckpoint.parse(n).checkpoint.size for n in store.iter_checkpoints("kota")]
        assert sizes == list(range(1, 31))
        bounded = store.iter_checkpoints("kota", min_size=7, max_size=22)
        assert [SignedCheckpoint.parse(n).checkpoint.size for n in bounded] == list(range(7, 23))
        store.close()

    def test_sqlite_store_without_node_table_is_backfilled(
        self, tmp_path: Path, ledger_key: SigningKey
    ) -> None:
        """Opening a store written before merkle_nodes existed rebuilds the nodes from entries."""
        path = tmp_path / "old.db"
        store = SQLiteStore(path)
        _fill(store, ledger_key, 9)
        store.close()
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE merkle_nodes")
        conn.commit()
        conn.close()
        reopened = SQLiteStore(path)
        leaves = _data(reopened)
        assert inclusion_proof_from_nodes(LedgerNodes(reopened, "kota"), 4, 9) == inclusion_proof(
            leaves, 4, 9
        )
        reopened.close()


class TestReceipts:
    def test_receipt_round_trip_and_check(self, store: Store, ledger_key: SigningKey) -> None:
        """A receipt built from stored nodes survives JSON and checks with the public key."""
        _fill(store, ledger_key, 13)
        entry = next(store.entries("kota", 7, 8))
        note = store.latest_checkpoint("kota")
        assert note is not None
        receipt = make_receipt(
            "kota", 7, entry.hash, note, LedgerNodes(store, "kota"), entry=entry.data
        )
        again = Receipt.from_json(receipt.to_json())
        assert again == receipt
        result = check_receipt(again, [ledger_key.verifier])
        assert (result.seq, result.tree_size, result.key) == (7, 13, ledger_key.name)

    @settings(max_examples=30)
    @given(size=st.integers(1, 40), data=st.data())
    def test_every_entry_has_a_checking_receipt(self, size: int, data: st.DataObject) -> None:
        """For any ledger size and entry, the receipt's proof checks against the checkpoint."""
        key = _KEY
        store = MemoryStore()
        _fill(store, key, size)
        seq = data.draw(st.integers(0, size - 1))
        entry = next(store.entries("kota", seq, seq + 1))
        note = store.latest_checkpoint("kota")
        assert note is not None
        receipt = make_receipt("kota", seq, entry.hash, note, LedgerNodes(store, "kota"))
        assert check_receipt(receipt, [key.verifier]).seq == seq

    @pytest.mark.parametrize(
        "damage",
        ["seq", "entry_hash", "proof", "untrusted", "entry", "ledger"],
    )
    def test_damaged_receipt_fails(self, damage: str) -> None:
        """A receipt with a changed number, hash, proof, entry or signer does not check."""
        store = MemoryStore()
        _fill(store, _KEY, 11)
        entry = next(store.entries("kota", 6, 7))
        note = store.latest_checkpoint("kota")
        assert note is not None
        receipt = make_receipt(
            "kota", 6, entry.hash, note, LedgerNodes(store, "kota"), entry=entry.data
        )
        doc = json.loads(receipt.to_json())
        keys = [_KEY.verifier]
        if damage == "seq":
            doc["seq"] = 5
        elif damage == "entry_hash":
            doc["entry_hash"] = "00" * 32
        elif damage == "proof":
            doc["inclusion_proof"][1] = "11" * 32
        elif damage == "untrusted":
            keys = [generate_key_pair().verifier]
        elif damage == "entry":
            doc["entry"] = doc["entry"].replace('"i":6', '"i":7')
        else:
            doc["ledger"] = "kota-lain"
        with pytest.raises(ProofError):
            check_receipt(Receipt.from_json(json.dumps(doc)), keys)

    @pytest.mark.parametrize(
        "text",
        [
            "nope",
            "[]",
            '{"format":"pelayanan-receipt","version":9}',
            '{"format":"pelayanan-receipt","version":1}',
        ],
    )
    def test_malformed_receipt_is_a_proof_error(self, text: str) -> None:
        """Unparseable or incomplete receipts raise ProofError naming the problem."""
        with pytest.raises(ProofError):
            Receipt.from_json(text)

    def test_receipt_refuses_checkpoint_not_covering_entry(self) -> None:
        """A checkpoint older than the entry cannot prove it."""
        store = MemoryStore()
        _fill(store, _KEY, 5)
        first = store.checkpoints("kota")[0]
        entry = next(store.entries("kota", 3, 4))
        with pytest.raises(ProofError, match="not covered"):
            make_receipt("kota", 3, entry.hash, first, LedgerNodes(store, "kota"))


_KEY = generate_key_pair()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database made once for the module."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "3"])
    assert result.exit_code == 0, result.output
    return db


class TestCommands:
    def test_prove_and_check_proof(self, demo_db: Path, tmp_path: Path) -> None:
        """`audit prove` writes a receipt that `audit check-proof` accepts offline (exit 0)."""
        runner = CliRunner()
        out = tmp_path / "r.json"
        made = runner.invoke(
            cli, ["audit", "prove", "--db", str(demo_db), "--seq", "4", "-o", str(out)]
        )
        assert made.exit_code == 0, made.output
        key = str(demo_db) + ".keys/ledger-public.pem"
        ok = runner.invoke(cli, ["audit", "check-proof", str(out), "--trusted-key", key])
        assert ok.exit_code == 0, ok.output
        assert ok.output.startswith("OK entry 4 of ledger")
        doc = json.loads(out.read_text())
        doc["inclusion_proof"][0] = "22" * 32
        out.write_text(json.dumps(doc))
        bad = runner.invoke(cli, ["audit", "check-proof", str(out), "--trusted-key", key])
        assert bad.exit_code == 1
        assert bad.stderr.startswith("error: receipt does not check:")

    def test_prove_to_stdout_and_errors(self, demo_db: Path) -> None:
        """Without -o the receipt goes to stdout; a missing entry is exit 2 naming it."""
        runner = CliRunner()
        printed = runner.invoke(
            cli, ["audit", "prove", "--db", str(demo_db), "--seq", "0", "--no-entry"]
        )
        assert printed.exit_code == 0
        assert "entry" not in json.loads(printed.output)
        missing = runner.invoke(cli, ["audit", "prove", "--db", str(demo_db), "--seq", "99999"])
        assert missing.exit_code == 2
        assert missing.stderr.startswith("error: entry 99999:")

    def test_check_proof_unreadable_file(self, tmp_path: Path) -> None:
        """A missing receipt file is one line and exit 2."""
        result = CliRunner().invoke(
            cli, ["audit", "check-proof", str(tmp_path / "no.json"), "--trusted-key", "x"]
        )
        assert result.exit_code == 2
        assert result.stderr.startswith("error: cannot read receipt")

    def test_verify_since_detects_truncation(self, demo_db: Path, tmp_path: Path) -> None:
        """`verify --since` passes on the intact log and fails once the tail was cut."""
        runner = CliRunner()
        db = tmp_path / "copy.db"
        src = sqlite3.connect(demo_db)
        dst = sqlite3.connect(db)
        src.backup(dst)
        src.close()
        saved = tmp_path / "saved.txt"
        note = dst.execute(
            "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1 OFFSET 5"
        ).fetchone()[0]
        saved.write_text(note)
        keys = str(demo_db) + ".keys"
        ok = runner.invoke(
            cli, ["audit", "verify", "--db", str(db), "--keys", keys, "--since", str(saved)]
        )
        assert ok.exit_code == 0, ok.output
        size = SignedCheckpoint.parse(note).checkpoint.size
        dst.execute("DELETE FROM entries WHERE seq >= ?", (size - 3,))
        dst.execute("DELETE FROM checkpoints WHERE size > ?", (size - 3,))
        dst.commit()
        dst.close()
        bad = runner.invoke(
            cli, ["audit", "verify", "--db", str(db), "--keys", keys, "--since", str(saved)]
        )
        assert bad.exit_code == 1
        assert "truncated" in bad.output.splitlines()[0]

    def test_verify_reports_progress(self, tmp_path: Path) -> None:
        """The progress callback sees the expected total and reaches it at the end."""
        store = MemoryStore()
        _fill(store, _KEY, 5000, every=1000)
        seen: list[tuple[str, int, int]] = []
        report = verify_ledger(
            "kota",
            ((e.seq, e.data) for e in store.entries("kota")),
            store.iter_checkpoints("kota"),
            [_KEY.verifier],
            expected_size=5000,
            progress=lambda ledger, done, total: seen.append((ledger, done, total)),
        )
        assert report.size == 5000
        assert seen[0] == ("kota", 4096, 5000)
        assert seen[-1] == ("kota", 5000, 5000)
