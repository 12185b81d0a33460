"""Ledger maps: reading them, the store that follows one, and moving a ledger between stores."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from store_support import pg_database

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey, write_key_pair
from pelayanan.cli._main import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    LedgerPlacementError,
    StoreNotEmptyError,
)
from pelayanan.sop import SOP
from pelayanan.store import LedgerMap, MappedStore, open_store, read_ledger_map, verify_store
from pelayanan.store.ledger_map import move_ledger
from pelayanan.testing import FakeClock

CITIZEN = Actor("warga-1", {"citizen"})
VERIFIER = Actor("ver-1", {"verifier"}, "unit-pengaduan")


def _map(folder: Path, text: str, name: str = "ledgers.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _desk(store: object, sop: SOP, key: SigningKey, clock: FakeClock, ledger: str) -> ServiceDesk:
    return ServiceDesk(store, sops=[sop], signing_key=key, clock=clock, ledger=ledger)  # type: ignore[arg-type]


DeskFactory = Callable[[object, str], ServiceDesk]


@pytest.fixture
def make_desk(complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> DeskFactory:
    """Make a complaint desk over a store for a ledger."""
    return lambda store, ledger: _desk(store, complaint_sop, ledger_key, clock, ledger)


def _fill(location: Path | str, make_desk: DeskFactory, ledger: str, prefix: str, n: int) -> None:
    """Open the store at *location* and run *n* complaints through *ledger*'s desk."""
    with contextlib.closing(open_store(location)) as store:
        _work(make_desk(store, ledger), prefix, n)


def _work(desk: ServiceDesk, prefix: str, n: int) -> None:
    for i in range(n):
        rid = f"{prefix}-{i}"
        data = {"subject": f"jalan rusak {i}", "category": "infrastruktur"}
        desk.submit("pengaduan-umum", actor=CITIZEN, data=data, request_id=rid)
        if i % 2 == 0:
            desk.act(rid, "verify", actor=VERIFIER)


class TestReading:
    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("m.toml", '[ledgers]\n"kota" = "a.db"\n"kab-*" = "b.db"\n'),
            ("m.yaml", "ledgers:\n  kota: a.db\n  kab-*: b.db\n"),
            ("m.json", '{"ledgers": {"kota": "a.db", "kab-*": "b.db"}}\n'),
        ],
    )
    def test_each_format_places_names_and_patterns(
        self, tmp_path: Path, name: str, text: str
    ) -> None:
        """TOML, YAML and JSON maps read alike; relative paths are the map's folder's."""
        ledger_map = read_ledger_map(_map(tmp_path, text, name))
        assert ledger_map.location_for("kota") == str(tmp_path / "a.db")
        assert ledger_map.location_for("kab-bandung") == str(tmp_path / "b.db")
        with pytest.raises(LedgerPlacementError, match="places no ledger 'desa'"):
            ledger_map.location_for("desa")

    def test_problems_are_located(self, tmp_path: Path) -> None:
        """Each problem names the file, the line and the key path."""
        path = _map(tmp_path, '[ledgers]\n"kota" = 3\n\n[extra]\nx = 1\n')
        with pytest.raises(ConfigurationError) as caught:
            read_ledger_map(path)
        text = str(caught.value)
        assert f"{path}:2: ledgers.kota: expected text" in text
        assert f"{path}:4: extra: unknown key 'extra'" in text

    def test_a_map_without_ledgers_is_refused(self, tmp_path: Path) -> None:
        """An empty map is an error, not a store holding nothing."""
        with pytest.raises(ConfigurationError, match="ledgers: missing"):
            read_ledger_map(_map(tmp_path, "title = 'x'\n"))

    @given(
        ledger=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
        patterns=st.lists(st.sampled_from(["*", "k*", "*a*", "?*"]), max_size=3),
    )
    def test_an_exact_name_wins_over_every_pattern(self, ledger: str, patterns: list[str]) -> None:
        """Whatever the patterns and their order, the ledger's own rule places it."""
        rules = [(p, f"memory-{i}.db") for i, p in enumerate(patterns)]
        ledger_map = LedgerMap((*rules, (ledger, "own.db")))
        assert ledger_map.location_for(ledger) == "own.db"

    @pytest.mark.parametrize("name", ["m.toml", "m.yaml", "m.json"])
    def test_written_maps_read_back(self, tmp_path: Path, name: str) -> None:
        """`LedgerMap.write` writes what `read_ledger_map` reads, in the file's format."""
        path = _map(tmp_path, "", name)
        written = LedgerMap((("kota", "postgresql://h/db"), ("kab-*", "b.db")), str(path))
        written.write(path)
        assert read_ledger_map(path).rules == written.rules


@pytest.fixture
def two_files(tmp_path: Path) -> Path:
    """A map placing ``kota`` in one SQLite file and every other ledger in another."""
    return _map(tmp_path, '[ledgers]\n"kota" = "kota.db"\n"*" = "rest.db"\n')


class TestMappedStore:
    def test_desks_append_each_ledger_to_its_store(
        self, two_files: Path, make_desk: DeskFactory, ledger_key: SigningKey
    ) -> None:
        """Two desks over one mapped store write two files; reads merge them."""
        store = open_store(two_files)
        assert isinstance(store, MappedStore)
        try:
            _work(make_desk(store, "kota"), "K", 3)
            _work(make_desk(store, "kab-garut"), "G", 2)
            assert store.ledgers() == ["kab-garut", "kota"]
            assert [r.id for r in store.requests()] == ["G-0", "G-1", "K-0", "K-1", "K-2"]
            request = store.get_request("K-1")
            assert request is not None
            assert request.ledger == "kota"
            assert store.head("kota").size == 5
            assert sum(store.assignee_counts("unit-pengaduan").get("ver-1", (0, 0))) >= 0
            assert verify_store(store, [ledger_key.verifier]).ok
        finally:
            store.close()
        with contextlib.closing(open_store(two_files.parent / "kota.db")) as kota:
            assert kota.ledgers() == ["kota"]
        with contextlib.closing(open_store(two_files.parent / "rest.db")) as rest:
            assert rest.ledgers() == ["kab-garut"]

    def test_a_desk_refuses_a_ledger_the_map_does_not_place(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """No rule for the ledger: the desk is refused before anything is written."""
        store = open_store(_map(tmp_path, '[ledgers]\n"kota" = "kota.db"\n'))
        try:
            with pytest.raises(LedgerPlacementError, match="places no ledger 'kab-garut'"):
                _desk(store, complaint_sop, ledger_key, clock, "kab-garut")
            with pytest.raises(LedgerPlacementError):
                store.append("kab-garut", {"kind": "x"}, time=clock.now())
        finally:
            store.close()


def _move_and_check(
    map_path: Path,
    target: str,
    sop: SOP,
    key: SigningKey,
    clock: FakeClock,
) -> None:
    """Fill ``kota`` where the map puts it, move it to *target*, and check both sides."""
    store = open_store(map_path)
    try:
        _work(_desk(store, sop, key, clock, "kota"), "K", 4)
        assert isinstance(store, MappedStore)
        source_at = store.map.location_for("kota")
        before = store.head("kota")
        rows = list(store.requests(ledger="kota"))
    finally:
        store.close()
    moved = move_ledger(map_path, "kota", target, [key.verifier])
    assert (moved.size, moved.root) == (before.size, before.range.root().hex())
    assert moved.requests == len(rows) == 4
    assert read_ledger_map(map_path).location_for("kota") == target
    store = open_store(map_path)
    try:
        assert store.head("kota") == before
        assert list(store.requests(ledger="kota")) == rows
        assert verify_store(store, [key.verifier]).ok
        desk = _desk(store, sop, key, clock, "kota")
        _work(desk, "L", 1)
        assert store.head("kota").size == before.size + 2
    finally:
        store.close()
    old = open_store(source_at)
    try:
        assert old.head("kota") == before
        with pytest.raises(LedgerPlacementError, match="was moved"):
            _desk(old, sop, key, clock, "kota")
    finally:
        old.close()


class TestMove:
    def test_move_between_files(
        self, two_files: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A ledger moves from one SQLite file to another; the map follows."""
        target = str(two_files.parent / "new.db")
        _move_and_check(two_files, target, complaint_sop, ledger_key, clock)

    def test_move_refuses_a_target_holding_the_ledger(
        self, two_files: Path, make_desk: DeskFactory, ledger_key: SigningKey
    ) -> None:
        """The target already has the ledger: refused, and the map is unchanged."""
        _fill(two_files, make_desk, "kota", "K", 1)
        other = two_files.parent / "other.db"
        _fill(other, make_desk, "kota", "X", 1)
        text = two_files.read_text()
        with pytest.raises(StoreNotEmptyError, match="already holds ledger 'kota'"):
            move_ledger(two_files, "kota", str(other), [ledger_key.verifier])
        with pytest.raises(InvalidArgumentError, match="already in"):
            move_ledger(two_files, "kota", "kota.db", [ledger_key.verifier])
        assert two_files.read_text() == text

    def test_the_command_moves_and_the_reports_read_the_map(
        self, two_files: Path, make_desk: DeskFactory, ledger_key: SigningKey
    ) -> None:
        """``pelayanan store move`` moves; ``report sla --db MAP`` reads through the map."""
        _fill(two_files, make_desk, "kota", "K", 3)
        _, public = write_key_pair(ledger_key, two_files.parent / "keys")
        target = str(two_files.parent / "new.db")
        runner = CliRunner()
        moved = runner.invoke(
            cli,
            ["store", "move", "--map", str(two_files), "--ledger", "kota", "--to", target,
             "--trusted-key", str(public)],
        )  # fmt: skip
        assert moved.exit_code == 0, moved.output
        assert "moved ledger kota" in moved.stdout
        assert "5 entries" in moved.stdout
        again = runner.invoke(
            cli,
            ["store", "move", "--map", str(two_files), "--ledger", "kota", "--to", target,
             "--trusted-key", str(public)],
        )  # fmt: skip
        assert again.exit_code == 1
        assert "refused: ledger 'kota' is already in" in again.stderr
        report = runner.invoke(
            cli,
            ["report", "sla", "--db", str(two_files), "--trusted-key", str(public), "--format",
             "json"],
        )  # fmt: skip
        assert report.exit_code == 0, report.output
        assert '"size": 5' in report.stdout


@pytest.mark.postgres
def test_move_between_servers(
    tmp_path: Path,
    second_postgres: str,
    complaint_sop: SOP,
    ledger_key: SigningKey,
    clock: FakeClock,
) -> None:
    """A ledger moves from the local server to the throwaway second one."""
    first = pg_database()
    second = pg_database(second_postgres)
    here, there = next(first), next(second)
    try:
        map_path = _map(tmp_path, f'[ledgers]\n"*" = "{here}"\n')
        _move_and_check(map_path, there, complaint_sop, ledger_key, clock)
    finally:
        first.close()
        second.close()
