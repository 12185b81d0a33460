"""`verify_store` with a worker process (``jobs=2``) reports exactly what ``jobs=1`` does."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store_thinned import LEDGER, spoil_signature

from pelayanan.audit.verify import fault_line
from pelayanan.cli._common import load_trusted_keys
from pelayanan.cli._main import cli
from pelayanan.exceptions import InvalidArgumentError, VerificationError
from pelayanan.store import MemoryStore, SQLiteStore, _check, verify_store
from pelayanan.store._check import _LedgerCheck, _start_method, _workers


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database (a checkpoint per commit) with its keys folder."""
    db = tmp_path_factory.mktemp("jobs") / "demo.db"
    assert CliRunner().invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    return db


def outcome(db: Path, jobs: int, **options: bool) -> tuple[str, ...]:
    """Return what `verify_store` says of *db*: its fault line, or its reports and problems."""
    keys = load_trusted_keys((), None, str(db))
    store = SQLiteStore(db, read_only=True)
    try:
        result = verify_store(store, keys, jobs=jobs, **options)
    except VerificationError as exc:
        return ("fault", fault_line(exc))
    finally:
        store.close()
    return (
        *(repr(report) for report in result.ledgers),
        *(problem.render() for problem in result.problems),
    )


def tampered(demo_db: Path, tmp_path: Path, sql: str, *params: object) -> Path:
    """Return a copy of the demo database with *sql* run on it."""
    db = tmp_path / "t.db"
    shutil.copy(demo_db, db)
    shutil.copytree(Path(f"{demo_db}.keys"), Path(f"{db}.keys"))
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql, params)
    conn.close()
    return db


def flip_entry(seq: int, old: str, new: str) -> tuple[str, str, str, str, int]:
    """SQL that replaces *old* by *new* in the bytes of entry *seq*."""
    sql = "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), ?, ?) AS BLOB) "
    return (sql + "WHERE ledger = ? AND seq = ?", old, new, LEDGER, seq)


TAMPERS: dict[str, tuple[object, ...]] = {
    "an entry's actor": flip_entry(40, '"actor":"', '"actor":"x'),
    "an entry made non-canonical": flip_entry(70, '{"', '{ "'),
    "the last entry": flip_entry(216, '"ledger":"', '"ledger":"x'),
    "a removed entry": ("DELETE FROM entries WHERE ledger = ? AND seq = 120", LEDGER),
    "a removed last entry": ("DELETE FROM entries WHERE ledger = ? AND seq = 216", LEDGER),
    "a checkpoint root": (
        (
            "UPDATE checkpoints SET note = "
            "replace(note, substr(note, instr(note, char(10)) + 1, 3), '999') "
            "WHERE ledger = ? AND size = 150"
        ),
        LEDGER,
    ),
    "a request row": ("UPDATE requests SET state = 'selesai' WHERE rowid = 3",),
    "a removed request row": ("DELETE FROM requests WHERE rowid = 5",),
    "a Merkle node": ("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 7",),
    "a head": ("UPDATE ledgers SET size = size - 1",),
    "a removed checkpoint": ("DELETE FROM checkpoints WHERE ledger = ? AND size = 90", LEDGER),
}


class TestJobs:
    def test_an_intact_store_in_two_processes(self, demo_db: Path) -> None:
        """Two processes give the reports one gives, and say that two ran."""
        keys = load_trusted_keys((), None, str(demo_db))
        store = SQLiteStore(demo_db, read_only=True)
        try:
            one = verify_store(store, keys, jobs=1)
            two = verify_store(store, keys, jobs=2)
            every = verify_store(store, keys, jobs=2, all_checkpoints=True)
            assert every.ledgers == verify_store(store, keys, all_checkpoints=True).ledgers
        finally:
            store.close()
        assert one.ok
        assert two.ok
        assert (one.jobs, two.jobs, every.jobs) == (1, 2, 2)
        assert one.ledgers == two.ledgers
        assert two.ledgers[0].last_checkpoint is not None
        assert "\u2014 " in two.ledgers[0].last_checkpoint  # the signed note, whole

    @pytest.mark.parametrize("what", sorted(TAMPERS))
    def test_a_tampered_store_is_reported_alike(
        self, demo_db: Path, tmp_path: Path, what: str
    ) -> None:
        """Whatever is wrong, jobs=2 names it as jobs=1 does (fault line or problems)."""
        db = tampered(demo_db, tmp_path, *TAMPERS[what])  # type: ignore[arg-type]
        one = outcome(db, 1)
        assert one != outcome(demo_db, 1)  # the tamper is seen
        assert outcome(db, 2) == one

    def test_a_spoiled_signature_is_reported_alike(self, demo_db: Path, tmp_path: Path) -> None:
        """A spoiled signature in the thinned set, and one only --all-checkpoints checks."""
        db = tampered(demo_db, tmp_path, "SELECT 1")
        spoil_signature(db, 1)
        spoil_signature(db, 100)
        assert outcome(db, 2) == outcome(db, 1)
        assert outcome(db, 1)[0] == "fault"
        assert outcome(db, 2, all_checkpoints=True) == outcome(db, 1, all_checkpoints=True)

    @settings(
        max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(seq=st.integers(0, 216), byte=st.integers(0, 40))
    def test_any_changed_entry_byte_is_reported_alike(
        self, demo_db: Path, tmp_path: Path, seq: int, byte: int
    ) -> None:
        """Property: a changed byte anywhere in an entry gets the same verdict either way."""
        db = tmp_path / f"p{seq}-{byte}.db"
        shutil.copy(demo_db, db)
        shutil.copytree(Path(f"{demo_db}.keys"), Path(f"{db}.keys"), dirs_exist_ok=True)
        conn = sqlite3.connect(db)
        with conn:
            (data,) = conn.execute(
                "SELECT data FROM entries WHERE ledger = ? AND seq = ?", (LEDGER, seq)
            ).fetchone()
            changed = bytearray(data)
            changed[byte % len(changed)] ^= 0x04
            conn.execute(
                "UPDATE entries SET data = ? WHERE ledger = ? AND seq = ?",
                (bytes(changed), LEDGER, seq),
            )
        conn.close()
        assert outcome(db, 2) == outcome(db, 1)
        assert outcome(db, 1)[0] == "fault"

    def test_halves_that_read_different_logs_check_again_in_one(
        self, demo_db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A table half that ends at another root (as when a desk appended between the two
        reads) is not trusted: the store is checked again in one process."""
        real = _LedgerCheck.tables_only

        def elsewhere(check: _LedgerCheck, progress: object) -> tuple[int, bytes] | None:
            read = real(check, None)
            assert read is not None
            return read[0], bytes(32)

        keys = load_trusted_keys((), None, str(demo_db))
        store = SQLiteStore(demo_db, read_only=True)
        try:
            monkeypatch.setattr(_LedgerCheck, "tables_only", elsewhere)
            result = verify_store(store, keys, jobs=2)
        finally:
            store.close()
        assert result.ok
        assert result.jobs == 1

    @pytest.mark.skipif(
        "forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver"
    )
    def test_two_processes_beside_running_threads(self, demo_db: Path) -> None:
        """With other threads running (a web application), the worker starts from a
        forkserver and still runs."""
        keys = load_trusted_keys((), None, str(demo_db))
        stop = threading.Event()
        waiter = threading.Thread(target=stop.wait)
        waiter.start()
        store = SQLiteStore(demo_db, read_only=True)
        try:
            assert _start_method() is not None
            result = verify_store(store, keys, jobs=2)
        finally:
            stop.set()
            waiter.join()
            store.close()
        assert result.ok
        assert result.jobs == 2

    def test_how_many_processes(self, demo_db: Path) -> None:
        """jobs below 1 is refused; a store the worker cannot open checks in one."""
        store = SQLiteStore(demo_db, read_only=True)
        try:
            with pytest.raises(InvalidArgumentError, match="jobs must be at least 1"):
                verify_store(store, [], jobs=0)
            assert _workers(store, None) == 1  # a few hundred entries: not worth a worker
            assert _workers(store, 8) == 2
        finally:
            store.close()
        assert _workers(MemoryStore(), 2) == 1

    def test_a_program_gets_one_process_unless_it_asks(
        self, demo_db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """verify_store never starts a process unasked; the CLI chooses by the store's size."""
        monkeypatch.setattr(_check, "PARALLEL_MIN_ENTRIES", 1)
        monkeypatch.setattr(_check.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
        keys = load_trusted_keys((), None, str(demo_db))
        store = SQLiteStore(demo_db, read_only=True)
        try:
            assert verify_store(store, keys).jobs == 1
            assert _workers(store, None) == 2
        finally:
            store.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(demo_db)])
        assert result.exit_code == 0, result.output
        assert "processes: 2" in result.stdout

    def test_the_output_says_how_many(self, demo_db: Path) -> None:
        """audit verify --db prints the number of processes that ran."""
        runner = CliRunner()
        result = runner.invoke(cli, ["audit", "verify", "--db", str(demo_db), "--jobs", "2"])
        assert result.exit_code == 0, result.output
        assert "processes: 2 (the log checked beside the tables)" in result.stdout
        result = runner.invoke(cli, ["audit", "verify", "--db", str(demo_db)])
        assert "processes: 1\n" in result.stdout
