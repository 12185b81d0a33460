"""Read-only opening, consistent snapshots under live writers, and the append guard."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from store_support import T0, body, pg_database, record, signer

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey, write_key_pair
from pelayanan.cli import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import StoreIntegrityError, StoreMissingError, VerificationError
from pelayanan.routing import DispositionTarget, routing_config_from_dict
from pelayanan.sop import SOP
from pelayanan.store import MemoryStore, SQLiteStore, Store, open_store, verify_store
from pelayanan.testing import FakeClock

HERE = Path(__file__).resolve().parent
WORKER = HERE / "store_worker.py"
SOP_FILE = HERE.parents[1] / "examples" / "sop" / "pengaduan.yaml"


def _demo(tmp_path: Path) -> Path:
    db = tmp_path / "d.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "2"])
    assert result.exit_code == 0, result.output
    return db


class TestReadOnly:
    def test_verify_of_a_missing_file_creates_nothing(self, tmp_path: Path) -> None:
        """verify and a report on a missing store exit 2 with an error line; no file appears."""
        for args in (["audit", "verify"], ["report", "sla"]):
            result = CliRunner().invoke(cli, [*args, "--db", str(tmp_path / "none.db")])
            assert result.exit_code == 2, result.output
            assert result.output.startswith("error:")
        assert list(tmp_path.iterdir()) == []

    def test_open_read_only_of_a_missing_file_is_a_typed_error(self, tmp_path: Path) -> None:
        """`open_store(..., read_only=True)` raises StoreMissingError and creates nothing."""
        with pytest.raises(StoreMissingError):
            open_store(tmp_path / "none.db", read_only=True)
        assert not (tmp_path / "none.db").exists()

    def test_old_store_is_refused_with_the_migration_command(self, tmp_path: Path) -> None:
        """A schema-1 store is not migrated by verify: exit 2 naming `store migrate`."""
        db = _demo(tmp_path)
        conn = sqlite3.connect(db)
        conn.execute("DROP TABLE merkle_nodes")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        conn.commit()
        conn.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error:")
        assert "pelayanan store migrate --db" in result.output
        conn = sqlite3.connect(db)
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
        assert version == ("1",)
        assert "merkle_nodes" not in tables

    def test_dropped_node_table_is_reported_not_rebuilt(self, tmp_path: Path) -> None:
        """A missing merkle_nodes table is a `store:` line and exit 1; the file is unchanged."""
        db = _demo(tmp_path)
        conn = sqlite3.connect(db)
        conn.execute("DROP TABLE merkle_nodes")
        conn.commit()
        conn.close()
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1
        assert "store: merkle_nodes -: the table is missing" in result.output
        conn = sqlite3.connect(db)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
        assert "merkle_nodes" not in tables

    def test_migrate_command_brings_an_old_store_forward(self, tmp_path: Path) -> None:
        """`pelayanan store migrate` upgrades a v2 store; the pointers come from the log."""
        db = _demo(tmp_path)
        conn = sqlite3.connect(db)
        conn.execute("ALTER TABLE requests DROP COLUMN last_seq")
        conn.execute("ALTER TABLE requests DROP COLUMN last_hash")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        conn.commit()
        conn.close()
        assert CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)]).exit_code == 2
        migrated = CliRunner().invoke(cli, ["store", "migrate", "--db", str(db)])
        assert migrated.exit_code == 0, migrated.output
        verified = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert verified.exit_code == 0, verified.output


class TestAppendGuard:
    def test_desk_refuses_a_request_whose_actors_were_cleared(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey
    ) -> None:
        """Clearing the recorded actors cannot bypass separation of duties: act() refuses."""
        store = SQLiteStore(tmp_path / "s.db")
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=FakeClock(T0))
        citizen = Actor("warga-1", {"citizen"})
        data = {"subject": "x", "category": "infrastruktur"}
        desk.submit("pengaduan-umum", actor=citizen, data=data, request_id="R1")
        conn = sqlite3.connect(tmp_path / "s.db")
        meta = json.loads(conn.execute("SELECT meta FROM requests WHERE id = 'R1'").fetchone()[0])
        meta["actors"] = {}
        conn.execute("UPDATE requests SET meta = ? WHERE id = 'R1'", (json.dumps(meta),))
        conn.commit()
        conn.close()
        verifier = Actor("ver-1", {"verifier"}, "unit-pengaduan")
        with pytest.raises(StoreIntegrityError) as caught:
            desk.act("R1", "verify", actor=verifier)
        assert (caught.value.table, caught.value.key) == ("requests", "R1")
        assert "actors" in caught.value.what
        store.close()

    def test_append_refuses_a_head_with_a_corrupted_frontier(
        self, tmp_path: Path, ledger_key: SigningKey
    ) -> None:
        """A compact range that does not match the entries stops the next append."""
        store = SQLiteStore(tmp_path / "s.db")
        for n in range(5):
            store.append("kota", body(n), time=T0, sign=signer(ledger_key))
        conn = sqlite3.connect(tmp_path / "s.db")
        saved = json.loads(conn.execute("SELECT compact_range FROM ledgers").fetchone()[0])
        saved["hashes"][0] = "22" * 32
        conn.execute("UPDATE ledgers SET compact_range = ?", (json.dumps(saved),))
        conn.commit()
        conn.close()
        with pytest.raises(StoreIntegrityError) as caught:
            store.append("kota", body(9), time=T0, sign=signer(ledger_key))
        assert (caught.value.table, caught.value.key) == ("ledgers", "kota")
        assert store.head("kota").size == 5
        store.close()

    def test_append_sets_the_pointer_to_the_new_entry(self, tmp_path: Path) -> None:
        """A request written with an entry names that entry's number and hash."""
        store = SQLiteStore(tmp_path / "s.db")
        result = store.append("kota", body(0, request="REQ-1"), time=T0, request=record())
        stored = store.get_request("REQ-1")
        assert stored is not None
        assert (stored.last_seq, stored.last_hash) == (0, result.entry_hash.hex())
        store.close()


# -- live verification: no false alarms while two desks write -----------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store location on each backend that processes can share."""
    if request.param == "sqlite":
        yield str(tmp_path / "live.db")
    else:
        yield from pg_database()


def test_verify_and_report_while_two_desks_write_raise_no_false_alarm(
    live_location: str, tmp_path: Path, ledger_key: SigningKey
) -> None:
    """Repeated verify_store and `report sla` runs during appends by two processes: 0 alarms."""
    keys = tmp_path / "keys"
    write_key_pair(ledger_key, keys)
    seed: Store = open_store(live_location)
    seed.append("default", body(0), time=T0, sign=signer(ledger_key))
    seed.close()
    private = keys / "ledger-private.pem"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "desk",
                live_location,
                str(private),
                str(SOP_FILE),
                tag,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for tag in ("A", "B")
    ]
    alarms: list[str] = []
    runs = 0
    try:
        reader = open_store(live_location, read_only=True)
        sizes: set[int] = set()
        try:
            deadline = time.monotonic() + 60
            while reader.head("default").size < 20 and time.monotonic() < deadline:
                time.sleep(0.05)  # let both desks start writing first
            for _ in range(12):
                runs += 1
                try:
                    result = verify_store(reader, [ledger_key.verifier])
                    sizes.update(r.size for r in result.ledgers)
                    alarms.extend(p.render() for p in result.problems)
                except VerificationError as exc:
                    alarms.append(str(exc))
        finally:
            reader.close()
        for _ in range(4):
            runs += 1
            report = CliRunner().invoke(
                cli, ["report", "sla", "--db", live_location, "--keys", str(keys)]
            )
            if report.exit_code != 0:
                alarms.append(report.output.splitlines()[0])
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    print(
        f"\nlive verification: {runs} runs while 2 desks wrote ({len(sizes)} different "
        f"log sizes seen), {len(alarms)} false alarms"
    )
    assert alarms == []
    assert len(sizes) > 1, "the writers did not write while verification ran"


# -- the same checks on every backend -------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store location on each backend."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield str(tmp_path / "s.db")
    else:
        yield from pg_database()


class TestEveryBackend:
    def test_desk_work_verifies_with_no_store_problem(
        self, any_location: str, complaint_sop: SOP, ledger_key: SigningKey
    ) -> None:
        """After submits and actions, the tables agree with the log on every backend."""
        store = open_store(any_location)
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=FakeClock(T0))
        citizen = Actor("warga-1", {"citizen"})
        verifier = Actor("ver-1", {"verifier"}, "unit-pengaduan")
        for n in range(3):
            data = {"subject": f"jalan {n}", "category": "infrastruktur"}
            desk.submit("pengaduan-umum", actor=citizen, data=data, request_id=f"R{n}")
            desk.act(f"R{n}", "verify", actor=verifier)
        report = verify_store(store, [ledger_key.verifier])
        assert report.ok, [p.render() for p in report.problems]
        assert [r.size for r in report.ledgers] == [6]
        store.close()

    def test_a_changed_row_is_found_and_refused(
        self, any_location: str, complaint_sop: SOP, ledger_key: SigningKey
    ) -> None:
        """A row changed behind the store's back is reported and the desk will not act on it."""
        store = open_store(any_location)
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=FakeClock(T0))
        data = {"subject": "x", "category": "infrastruktur"}
        desk.submit(
            "pengaduan-umum", actor=Actor("warga-1", {"citizen"}), data=data, request_id="R1"
        )
        row = store.get_request("R1")
        assert row is not None
        # Written as an attacker with table access would: the row alone, no entry.
        forged = attrs.evolve(row, state="verified", version=row.version + 1)
        _write_row_only(store, forged)
        problems = verify_store(store, [ledger_key.verifier]).problems
        assert any(p.table == "requests" and p.key == "R1" for p in problems), problems
        boss = Actor("kabid-1", {"supervisor"}, "unit-pengaduan")
        with pytest.raises(StoreIntegrityError) as caught:
            desk.act("R1", "dispatch", actor=boss, data={"assigned_unit": "dinas-pu"})
        assert "state is 'verified'" in caught.value.what
        store.close()


def test_a_deleted_middle_checkpoint_row_is_found(
    live_location: str, ledger_key: SigningKey
) -> None:
    """Deleting a checkpoint row between others is a store fault on SQLite and PostgreSQL."""
    store = open_store(live_location)
    for n in range(5):
        store.append("kota", body(n), time=T0, sign=signer(ledger_key))
    assert verify_store(store, [ledger_key.verifier]).ok
    with store._db() as db:  # type: ignore[attr-defined]
        assert db.run("DELETE FROM checkpoints WHERE ledger = ? AND size = 3", ("kota",)) == 1
    store.close()  # the deleting session ends, and the server counts what it did
    reader = open_store(live_location, read_only=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            problems = verify_store(reader, [ledger_key.verifier]).problems
            if problems or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the statistics arrive asynchronously on PostgreSQL
    finally:
        reader.close()
    assert [(p.table, p.key) for p in problems] == [("checkpoints", "-")], problems
    assert "1 " in problems[0].what


def _write_row_only(store: Store, forged: Any) -> None:
    """Overwrite a request row without an entry (what a database administrator could do)."""
    if isinstance(store, MemoryStore):
        store._requests[forged.id] = forged
        return
    with store._db() as db:  # type: ignore[attr-defined]
        db.run("UPDATE requests SET state = ?, version = ? WHERE id = ?",
               (forged.state, forged.version, forged.id))  # fmt: skip


class TestRoutedDesk:
    def test_routing_assignment_and_disposisi_replay_to_the_rows(
        self, complaint_sop: SOP, ledger_key: SigningKey
    ) -> None:
        """Routing, assignment, a chained parallel disposisi, its join and returns all replay."""
        config = routing_config_from_dict(
            {
                "triage": "unit-pengaduan",
                "rules": [
                    {"name": "pu", "when": {"category": "infrastruktur"}, "unit": "dinas-pu"}
                ],
                "units": {"dinas-pu": {"strategy": "least_loaded", "officers": ["pu-1", "pu-2"]}},
                "disposition": {"roles": ["supervisor"]},
            }
        )
        store = MemoryStore()
        clock = FakeClock(T0)
        desk = ServiceDesk(
            store, sops=[complaint_sop], signing_key=ledger_key, clock=clock, routing=config
        )
        citizen = Actor("warga-1", {"citizen"})
        kepala = Actor("kepala-1", {"supervisor"}, "unit-pengaduan")
        kadis = Actor("kadis-pu", {"supervisor"}, "dinas-pu")
        due = T0 + dt.timedelta(days=5)
        first = desk.submit(
            "pengaduan-umum", actor=citizen, data={"subject": "a", "category": "sosial"}
        ).request.id
        desk.dispose(first, actor=kepala, to="dinas-pu", instruction="Tindak lanjuti", due=due)
        desk.dispose(
            first,
            actor=kadis,
            to=[
                DispositionTarget(unit="bidang-jalan", due=due),
                DispositionTarget(unit="bidang-air", due=due),
            ],
            instruction="Cek lapangan",
        )
        desk.answer_disposition(first, actor=Actor("staf-jl", set(), "bidang-jalan"), answer="ok")
        desk.bukan_wewenang(
            first, actor=Actor("kabid-air", {"supervisor"}, "bidang-air"), reason="x"
        )
        second = desk.submit(
            "pengaduan-umum", actor=citizen, data={"subject": "b", "category": "infrastruktur"}
        ).request.id
        desk.assign(second, actor=kadis, officer="pu-2")
        desk.bukan_wewenang(second, actor=kadis, reason="Jalan provinsi")
        report = verify_store(store, [ledger_key.verifier])
        assert report.ok, [p.render() for p in report.problems]
        row = store.get_request(first)
        assert row is not None
        forged = attrs.evolve(row, meta={**row.meta, "disposisi": {}})
        _write_row_only(store, forged)
        problems = verify_store(store, [ledger_key.verifier]).problems
        assert [p.key for p in problems] == [first]
        assert "disposisi" in problems[0].what


class TestImportedStore:
    def test_an_imported_desk_log_verifies_without_its_request_rows(self, tmp_path: Path) -> None:
        """An export holds no request rows; verify --db on the imported store is intact."""
        db = _demo(tmp_path)
        export = tmp_path / "log.jsonl"
        keys = str(db) + ".keys"
        done = CliRunner().invoke(cli, ["audit", "export", "--db", str(db), "-o", str(export)])
        assert done.exit_code == 0, done.output
        target = tmp_path / "imported.db"
        args = ["store", "import", str(export), "--db", str(target), "--keys", keys]
        assert CliRunner().invoke(cli, args).exit_code == 0
        verified = CliRunner().invoke(cli, ["audit", "verify", "--db", str(target), "--keys", keys])
        assert verified.exit_code == 0, verified.output
