"""`verify_store` checks every checkpoint root and the signatures of a thinned set."""

from __future__ import annotations

import base64
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.cli._common import load_trusted_keys
from pelayanan.cli._main import cli
from pelayanan.exceptions import SignatureError
from pelayanan.store import SQLiteStore, verify_store

LEDGER = "pemkot-contoh"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database (a checkpoint per commit) with its keys folder."""
    db = tmp_path_factory.mktemp("thin") / "demo.db"
    assert CliRunner().invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    return db


def copy(demo_db: Path, tmp_path: Path) -> Path:
    """Return a copy of the demo database with its keys."""
    db = tmp_path / "t.db"
    shutil.copy(demo_db, db)
    shutil.copytree(Path(f"{demo_db}.keys"), Path(f"{db}.keys"))
    return db


def spoil_signature(db: Path, size: int) -> None:
    """Flip one bit of the signature of the checkpoint at *size* (its root left alone)."""
    conn = sqlite3.connect(db)
    try:
        (note,) = conn.execute(
            "SELECT note FROM checkpoints WHERE ledger = ? AND size = ?", (LEDGER, size)
        ).fetchone()
        body, _, sig = note.partition("\n\n")
        dash, name, blob = sig.rstrip("\n").split(" ")
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 1
        spoiled = f"{body}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"
        SignedCheckpoint.parse(spoiled)  # still a well-formed note
        conn.execute(
            "UPDATE checkpoints SET note = ? WHERE ledger = ? AND size = ?", (spoiled, LEDGER, size)
        )
        conn.commit()
    finally:
        conn.close()


class TestThinnedSignatures:
    def test_every_root_is_checked_and_the_thinned_signatures(self, demo_db: Path) -> None:
        """By default fewer signatures than roots are checked; with all_checkpoints, all."""
        keys = load_trusted_keys((), None, str(demo_db))
        store = SQLiteStore(demo_db, read_only=True)
        try:
            (thin,) = verify_store(store, keys).ledgers
            (full,) = verify_store(store, keys, all_checkpoints=True).ledgers
        finally:
            store.close()
        assert thin.checkpoints == full.checkpoints == full.signatures > thin.signatures >= 2
        assert "signatures checked" in thin.summary()
        assert "signed checkpoints verified" in full.summary()

    def test_the_output_says_which(self, demo_db: Path) -> None:
        """audit verify --db names the signatures it checked."""
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(demo_db)])
        assert result.exit_code == 0
        assert "signatures: the thinned set checked" in result.stdout
        result = CliRunner().invoke(
            cli, ["audit", "verify", "--db", str(demo_db), "--all-checkpoints"]
        )
        assert result.exit_code == 0
        assert "signatures: every checkpoint's checked" in result.stdout

    @pytest.mark.parametrize("size", [1, 217])
    def test_a_spoiled_thinned_signature_is_caught(
        self, demo_db: Path, tmp_path: Path, size: int
    ) -> None:
        """The first and the latest checkpoint are always in the thinned set."""
        db = copy(demo_db, tmp_path)
        spoil_signature(db, size)
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1
        assert "not validly signed" in result.stderr

    def test_a_middle_signature_is_caught_with_all_checkpoints(
        self, demo_db: Path, tmp_path: Path
    ) -> None:
        """A spoiled signature left out of the thinned set: its root still verifies (the
        latest signature covers it); --all-checkpoints names it."""
        db = copy(demo_db, tmp_path)
        spoil_signature(db, 100)
        keys = load_trusted_keys((), None, str(db))
        store = SQLiteStore(db, read_only=True)
        try:
            assert verify_store(store, keys).ok
            with pytest.raises(SignatureError, match="checkpoint at size 100"):
                verify_store(store, keys, all_checkpoints=True)
        finally:
            store.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), "--all-checkpoints"])
        assert result.exit_code == 1
