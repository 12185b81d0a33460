"""End to end, as a newcomer runs it: demo, verify, export, tamper, keys."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from log_support import forge_actor
from pelayanan.cli import cli


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database made once for the module."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "7"])
    assert result.exit_code == 0, result.output
    return db


def _copy(db: Path, tmp_path: Path) -> Path:
    """Copy a store and its key folder so a test can damage the copy."""
    target = tmp_path / "copy.db"
    source = sqlite3.connect(db)
    dest = sqlite3.connect(target)
    source.backup(dest)
    source.close()
    dest.close()
    keys = Path(str(db) + ".keys")
    (tmp_path / "copy.db.keys").mkdir()
    for item in keys.iterdir():
        (tmp_path / "copy.db.keys" / item.name).write_bytes(item.read_bytes())
    return target


class TestDemo:
    def test_demo_prints_successful_verification(self, tmp_path: Path) -> None:
        """The demo runs and ends with a successful verification line."""
        db = tmp_path / "d.db"
        result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert "verification: OK" in result.output
        assert Path(str(db) + ".keys", "ledger-public.pem").exists()

    def test_demo_refuses_to_replace_a_foreign_file(self, tmp_path: Path) -> None:
        """The demo never overwrites a file that is not one of its own databases."""
        precious = tmp_path / "precious.db"
        precious.write_bytes(b"not a database at all")
        result = CliRunner().invoke(cli, ["demo", "--db", str(precious)])
        assert result.exit_code == 2
        assert precious.read_bytes() == b"not a database at all"

    def test_demo_rerun_replaces_its_own_database(self, tmp_path: Path) -> None:
        """Running the demo twice on one path starts afresh and still verifies."""
        db = tmp_path / "d.db"
        runner = CliRunner()
        assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
        again = runner.invoke(cli, ["demo", "--db", str(db)])
        assert again.exit_code == 0, again.output
        assert runner.invoke(cli, ["audit", "verify", "--db", str(db)]).exit_code == 0


class TestVerify:
    def test_verify_intact(self, demo_db: Path) -> None:
        """`audit verify --db` finds the demo's keys beside the database and exits 0."""
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(demo_db)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK ledger")

    @pytest.mark.parametrize("seq", [0, 5, 17, -1])
    def test_edited_entry_is_named(self, demo_db: Path, tmp_path: Path, seq: int) -> None:
        """Editing one stored entry inside the SQLite file fails verification naming it."""
        db = _copy(demo_db, tmp_path)
        if seq == -1:
            with sqlite3.connect(db) as conn:
                seq = conn.execute("SELECT max(seq) FROM entries").fetchone()[0]
            conn.close()
        forge_actor(db, seq)
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0].startswith(f"error: entry {seq}: ")

    def test_deleted_entry_detected(self, demo_db: Path, tmp_path: Path) -> None:
        """Deleting an entry row is detected at its position."""
        db = _copy(demo_db, tmp_path)
        conn = sqlite3.connect(db)
        conn.execute("DELETE FROM entries WHERE seq = 10")
        conn.commit()
        conn.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1
        assert result.stderr.startswith("error: entry 10: ")

    def test_wrong_trusted_key_is_unverifiable(self, demo_db: Path, tmp_path: Path) -> None:
        """A log checked against a key that did not sign it does not verify."""
        runner = CliRunner()
        assert runner.invoke(cli, ["keys", "generate", "--out", str(tmp_path / "k")]).exit_code == 0
        result = runner.invoke(
            cli,
            [
                "audit", "verify", "--db", str(demo_db),
                "--trusted-key", str(tmp_path / "k" / "ledger-public.pem"),
            ],
        )  # fmt: skip
        assert result.exit_code == 1
        assert "not validly signed by a trusted key" in result.output

    def test_export_verifies_and_tampered_export_fails(self, demo_db: Path, tmp_path: Path) -> None:
        """An export verifies offline with the public key; a changed line is named."""
        runner = CliRunner()
        out = tmp_path / "audit.jsonl"
        result = runner.invoke(cli, ["audit", "export", "--db", str(demo_db), "-o", str(out)])
        assert result.exit_code == 0, result.output
        key = str(demo_db) + ".keys/ledger-public.pem"
        ok = runner.invoke(cli, ["audit", "verify", str(out), "--trusted-key", key])
        assert ok.exit_code == 0, ok.output
        lines = out.read_bytes().split(b"\n")
        entry_lines = [i for i, line in enumerate(lines) if line.startswith(b'{"action"')]
        target = entry_lines[3]
        seq = json.loads(lines[target])["seq"]
        lines[target] = lines[target].replace(b'"kind":"', b'"kind":"x', 1)
        out.write_bytes(b"\n".join(lines))
        bad = runner.invoke(cli, ["audit", "verify", str(out), "--trusted-key", key])
        assert bad.exit_code == 1
        assert bad.stderr.startswith(f"error: entry {seq}: ")

    def test_verify_needs_a_source(self) -> None:
        """Neither --db nor a file is a usage error (exit 2), not a traceback."""
        result = CliRunner().invoke(cli, ["audit", "verify"])
        assert result.exit_code == 2
        assert result.stderr == "error: give either --db STORE or an export FILE.jsonl\n"

    def test_missing_database(self, tmp_path: Path) -> None:
        """A missing database file is one `error:` line and exit 2; nothing is created."""
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(tmp_path / "no.db")])
        assert result.exit_code == 2
        assert result.output.startswith("error:")
        assert "no such database file" in result.output
        assert not (tmp_path / "no.db").exists()


class TestKeys:
    def test_generate_writes_pair_and_refuses_overwrite(self, tmp_path: Path) -> None:
        """`keys generate` writes a private (0600) and public PEM and never overwrites."""
        runner = CliRunner()
        result = runner.invoke(cli, ["keys", "generate", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        private = tmp_path / "ledger-private.pem"
        assert private.stat().st_mode & 0o777 == 0o600
        assert b"PRIVATE KEY" in private.read_bytes()
        assert b"PUBLIC KEY" in (tmp_path / "ledger-public.pem").read_bytes()
        again = runner.invoke(cli, ["keys", "generate", "--out", str(tmp_path)])
        assert again.exit_code == 2
        assert "refusing to overwrite" in again.output
