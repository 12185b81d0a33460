"""The demo refuses a missing folder and a path another demo holds, and points only at
files beside its database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.cli import cli
from pelayanan.cli._demo_files import demo_lock, lock_path

SRC = Path(__file__).resolve().parents[2] / "src"


class TestParentFolder:
    def test_missing_folder_is_refused(self, tmp_path: Path) -> None:
        """A --db in a folder that does not exist exits 2 with an error line, creating nothing."""
        target = tmp_path / "nonexistent" / "dir" / "x.db"
        result = CliRunner().invoke(cli, ["demo", "--db", str(target)])
        assert result.exit_code == 2
        assert result.output.startswith("error: ")
        assert "does not exist" in result.output
        assert not (tmp_path / "nonexistent").exists()


class TestLock:
    def test_held_lock_refuses_a_second_demo(self, tmp_path: Path) -> None:
        """While one demo holds PATH.lock, another on the same path exits 2 and leaves it."""
        db = tmp_path / "demo.db"
        with demo_lock(db) as lock:
            result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
            assert result.exit_code == 2
            assert "another demo is writing" in result.output
            assert lock.exists()
        assert not lock.exists()
        assert not db.exists()

    def test_lock_is_removed_on_failure(self, tmp_path: Path) -> None:
        """The lock goes away when the demo inside it fails."""
        db = tmp_path / "demo.db"
        with pytest.raises(RuntimeError), demo_lock(db):
            raise RuntimeError
        assert not lock_path(db).exists()

    def test_stale_lock_is_taken_over(self, tmp_path: Path) -> None:
        """A lock naming a process that no longer runs does not block the next demo."""
        db = tmp_path / "demo.db"
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        lock_path(db).write_text(gone.stdout, encoding="ascii")
        with demo_lock(db) as lock:
            assert lock.read_text(encoding="ascii").strip() == str(os.getpid())

    def test_second_process_refuses(self, tmp_path: Path) -> None:
        """A demo process on a path whose lock a running process holds exits 2, no traceback."""
        db = tmp_path / "demo.db"
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        command = [sys.executable, "-m", "pelayanan", "demo", "--db", str(db)]
        with demo_lock(db):
            second = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert second.returncode == 2, second.stderr
        assert second.stderr.startswith("error: another demo is writing")
        assert "Traceback" not in second.stderr
        assert not db.exists()


class TestNextSteps:
    def test_next_lines_name_files_beside_the_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every path in the "next:" lines is the database, its keys or its copied SOPs."""
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(cli, ["demo", "--db", "d.db"])
        assert result.exit_code == 0, result.output
        lines = result.output.split("next:\n", 1)[1].splitlines()
        assert "site-packages" not in result.output
        assert "  pelayanan sop check d.db.sop/pengaduan.yaml" in lines
        sop_lines = [line for line in lines if " sop " in line]
        assert sop_lines
        for line in sop_lines:
            for word in line.split()[3:]:
                assert word.startswith("d.db.sop/"), line
                assert (tmp_path / word).is_file(), line
        checked = CliRunner().invoke(cli, ["sop", "check", "d.db.sop/pengaduan.yaml"])
        assert checked.exit_code == 0, checked.output
        assert "  pelayanan sop simulate d.db.sop/pbg.yaml d.db.sop/scenarios/pbg.yaml" in lines
        assert "  pelayanan report sla --db d.db --format csv --table all -o tables" in lines
        # The at-risk list runs as shown; the report with a saved state runs twice (the
        # second run refreshes from the state) to the same text.
        assert "  pelayanan report at-risk --db d.db" in lines
        risk = CliRunner().invoke(cli, ["report", "at-risk", "--db", "d.db"])
        assert risk.exit_code == 0, risk.output
        state_line = "  pelayanan report sla --db d.db --format json --state report.state"
        assert state_line in lines
        runs = [CliRunner().invoke(cli, state_line.split()[1:]) for _ in range(2)]
        assert [run.exit_code for run in runs] == [0, 0], runs[-1].output
        assert runs[0].stdout == runs[1].stdout
        assert "ignored" not in runs[1].stderr  # the saved state was taken, not rebuilt
        assert (tmp_path / "report.state").is_file()
        move = next(line for line in lines if " store move " in line).split()
        assert move[1:] == [
            *("store", "move", "--map", "d.db.ledgers.toml", "--ledger", "pemkot-contoh"),
            *("--to", "d.db.moved.db", "--keys", "d.db.keys"),
        ]
        moved = CliRunner().invoke(cli, move[1:])
        assert moved.exit_code == 0, moved.output
        assert (tmp_path / "d.db.moved.db").is_file()
