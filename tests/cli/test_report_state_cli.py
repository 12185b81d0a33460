"""``pelayanan report ... --state FILE`` and ``--at``: incremental reports from the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import format_time
from pelayanan.audit.keys import load_private_key
from pelayanan.cli._main import cli
from pelayanan.reports import state as state_module
from pelayanan.reports.settled import SettledRequests
from pelayanan.store import SQLiteStore

COMMANDS = [
    ("sla", "--format", "json"),
    ("sla", "--format", "csv", "--by", "officer"),
    ("sla", "--by", "unit"),
    ("at-risk",),
    ("open311",),
    ("quality", "--format", "json"),
]


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI; return exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def records(db: Path, start: int, stop: int) -> Iterator[bytes | str]:
    """Yield entries ``start..stop`` of *db* with their checkpoints, in export order."""
    store = SQLiteStore(db, read_only=True)
    try:
        (ledger,) = store.ledgers()
        notes = list(store.iter_checkpoints(ledger, min_size=start + (start > 0), max_size=stop))
        sizes = [SignedCheckpoint.parse(n).checkpoint.size for n in notes]
        yield from (n for n, s in zip(notes, sizes, strict=True) if s == start == 0)
        for entry in store.entries(ledger, start, stop):
            yield entry.data
            yield from (n for n, s in zip(notes, sizes, strict=True) if s == entry.seq + 1)
    finally:
        store.close()


def grow(demo_db: Path, db: Path, start: int, stop: int) -> None:
    """Append the demo's entries ``start..stop`` to *db* (made, with the keys, at 0)."""
    if start == 0:
        shutil.copytree(Path(f"{demo_db}.keys"), Path(f"{db}.keys"))
    store = SQLiteStore(db)
    try:
        store.bulk_append("pemkot-contoh", list(records(demo_db, start, stop)))
    finally:
        store.close()


class TestIncrementalReports:
    @pytest.mark.parametrize("command", COMMANDS, ids="-".join)
    def test_a_grown_log_reports_the_bytes_of_a_full_replay(
        self, demo_db: Path, tmp_path: Path, command: tuple[str, ...]
    ) -> None:
        """Save at 120 entries, grow to the whole demo: the refresh equals a full report."""
        db, state = tmp_path / "t.db", tmp_path / "t.state"
        grow(demo_db, db, 0, 120)
        first = run("report", *command, "--db", str(db), "--state", str(state))
        assert first[0] == 0, first[2]
        assert first[1] == run("report", *command, "--db", str(db))[1]
        grow(demo_db, db, 120, 217)
        code, out, err = run("report", *command, "--db", str(db), "--state", str(state))
        assert (code, err) == (0, "")
        assert out == run("report", *command, "--db", str(db))[1]
        assert out == run("report", *command, "--db", str(demo_db))[1]

    def test_a_tampered_state_is_ignored_with_a_note(self, demo_db: Path, tmp_path: Path) -> None:
        """A changed state file changes no figure: noted, and the report rebuilt."""
        state = tmp_path / "t.state"
        assert run("report", "sla", "--db", str(demo_db), "--state", str(state))[0] == 0
        data = bytearray(state.read_bytes())
        data[-100] ^= 1
        state.write_bytes(bytes(data))
        code, out, err = run("report", "sla", "--db", str(demo_db), "--state", str(state))
        assert code == 0
        assert "ignored: its authentication tag does not check" in err
        assert "rebuilt from the whole log" in err
        assert out == run("report", "sla", "--db", str(demo_db))[1]
        assert run("report", "sla", "--db", str(demo_db), "--state", str(state))[2] == ""

    def test_a_rolled_back_log_is_noted_and_rebuilt(self, demo_db: Path, tmp_path: Path) -> None:
        """A state ahead of the log (an older copy restored): the report is rebuilt."""
        db, state = tmp_path / "t.db", tmp_path / "t.state"
        assert run("report", "sla", "--db", str(demo_db), "--state", str(state))[0] == 0
        shutil.copy(Path(f"{demo_db}.keys") / "report-state.key", tmp_path / "state.key")
        grow(demo_db, db, 0, 100)
        shutil.copy(tmp_path / "state.key", Path(f"{db}.keys") / "report-state.key")
        code, out, err = run("report", "sla", "--db", str(db), "--state", str(state))
        assert code == 0
        assert "no longer extends the checkpoint it covers (size 217)" in err
        assert out == run("report", "sla", "--db", str(db))[1]

    def test_a_forked_log_is_noted_and_rebuilt(self, demo_db: Path, tmp_path: Path) -> None:
        """The log rewritten after 100 entries (same key): the state no longer fits."""
        db, state = tmp_path / "t.db", tmp_path / "t.state"
        grow(demo_db, db, 0, 120)
        assert run("report", "sla", "--db", str(db), "--state", str(state))[0] == 0
        keys = tmp_path / "keys"
        shutil.copytree(Path(f"{db}.keys"), keys)
        db.unlink()
        shutil.rmtree(Path(f"{db}.keys"))
        grow(demo_db, db, 0, 100)
        shutil.copy(keys / "report-state.key", Path(f"{db}.keys") / "report-state.key")
        key = load_private_key(keys / "ledger-private.pem")
        store = SQLiteStore(db)
        try:
            for n in range(30):
                when = dt.datetime(2026, 7, 30, 1, n, tzinfo=dt.UTC)
                store.append(
                    "pemkot-contoh",
                    {"kind": "note", "text": f"fork {n}", "time": format_time(when)},
                    time=when,
                    sign=lambda cp: cp.sign(key),
                )
        finally:
            store.close()
        code, out, err = run("report", "sla", "--db", str(db), "--state", str(state))
        assert code == 0, err
        assert "ignored: the log no longer extends the checkpoint it covers (size 120)" in err
        assert out == run("report", "sla", "--db", str(db))[1]

    def test_another_library_version_is_noted(
        self, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A state of another pelayanan version is not used."""
        state = tmp_path / "t.state"
        assert run("report", "open311", "--db", str(demo_db), "--state", str(state))[0] == 0
        monkeypatch.setattr(state_module, "__version__", "9.9.9")
        code, out, err = run("report", "open311", "--db", str(demo_db), "--state", str(state))
        assert code == 0
        assert "saved by pelayanan" in err
        assert out == run("report", "open311", "--db", str(demo_db))[1]

    def test_other_options_are_noted(self, demo_db: Path, tmp_path: Path) -> None:
        """A state saved for --by unit does not serve --by officer."""
        state = tmp_path / "t.state"
        assert run("report", "sla", "--db", str(demo_db), "--by", "unit", "--state", str(state))
        code, _, err = run(
            "report", "sla", "--db", str(demo_db), "--by", "officer", "--state", str(state)
        )
        assert code == 0
        assert "other report options" in err

    def test_state_with_checkpoint_is_bad_input(self, demo_db: Path, tmp_path: Path) -> None:
        """--state carries the log forward; --checkpoint holds it still: not together."""
        note = tmp_path / "cp.note"
        store = SQLiteStore(demo_db, read_only=True)
        try:
            note.write_text(store.latest_checkpoint("pemkot-contoh") or "")
        finally:
            store.close()
        code, _, err = run(
            "report", "sla", "--db", str(demo_db), "--checkpoint", str(note),
            "--state", str(tmp_path / "s"),
        )  # fmt: skip
        assert code == 2
        assert "cannot be used with --checkpoint" in err


class TestInstant:
    def test_the_head_of_unit_report_opens_with_the_instant(self, demo_db: Path) -> None:
        """report sla (text) states the newest checkpoint's time on its second line."""
        code, out, _ = run("report", "sla", "--db", str(demo_db), "--lang", "en")
        assert code == 0
        assert out.splitlines()[1].startswith("As of 25 July 2026 16:30")

    @pytest.mark.parametrize("command", ["sla", "at-risk", "quality"])
    def test_the_instant_is_stated_first(self, demo_db: Path, command: str) -> None:
        """Every report says at its top the instant it judges: the newest checkpoint's."""
        store = SQLiteStore(demo_db, read_only=True)
        try:
            note = SignedCheckpoint.parse(store.latest_checkpoint("pemkot-contoh") or "")
        finally:
            store.close()
        when = note.checkpoint.time.astimezone(dt.UTC).isoformat()
        code, out, _ = run("report", command, "--db", str(demo_db), "--lang", "en")
        assert code == 0
        assert out.splitlines()[1].startswith("As of 25 July 2026 16:30 WIB")
        assert f"\n  at: {when}\n" in out.partition("TECHNICAL BASIS")[2]
        code, out, _ = run("report", command, "--db", str(demo_db), "--format", "json")
        assert json.loads(out)["basis"]["at"] == when

    @pytest.mark.parametrize("command", ["open311", "quality"])
    def test_at_judges_an_earlier_instant(self, demo_db: Path, command: str) -> None:
        """--at leaves later entries out and judges running clocks at it."""
        code, late, _ = run("report", command, "--db", str(demo_db))
        assert code == 0
        code, early, _ = run("report", command, "--db", str(demo_db), "--at", "2026-07-08T10:00Z")
        assert code == 0
        assert early != late
        assert run("report", command, "--db", str(demo_db), "--at", "yesterday")[0] == 2


class TestSettledRequestsInStates:
    def test_json_and_csv_states_settle_finished_requests_text_keeps_them(
        self, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The SLA sums alone (JSON, CSV) settle; text, with its summary, keeps every track."""
        settled: list[int] = []
        original = SettledRequests.settle

        def counting(self: SettledRequests) -> int:
            settled.append(original(self))
            return settled[-1]

        monkeypatch.setattr(SettledRequests, "settle", counting)
        state = tmp_path / "json.state"
        assert (
            run("report", "sla", "--format", "json", "--db", str(demo_db), "--state", str(state))[0]
            == 0
        )
        assert len(settled) == 1
        assert settled[0] > 0
        text_state = tmp_path / "text.state"
        assert run("report", "sla", "--db", str(demo_db), "--state", str(text_state))[0] == 0
        assert len(settled) == 1
