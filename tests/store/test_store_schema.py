"""Schema versions and migrations, URLs and errors at the store boundary (SQLite, PostgreSQL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from store_support import (
    T0,
    body,
    drop_schema,
    fresh_schema,
    pg_connect_or_skip,
    pg_schema_url,
    record,
    signer,
)

from pelayanan.audit.export import write_export
from pelayanan.audit.keys import SigningKey, write_key_pair
from pelayanan.audit.merkle import inclusion_proof, inclusion_proof_from_nodes
from pelayanan.cli._main import cli
from pelayanan.exceptions import SchemaVersionError, StoreError
from pelayanan.store import SCHEMA_VERSION, MemoryStore, SQLiteStore, open_store
from pelayanan.store.base import LedgerNodes
from pelayanan.store.postgres import PostgresStore

# The schema-1 layout of the walking skeleton: no merkle_nodes, no assignee index.
_V1_DROP = [
    "DROP TABLE merkle_nodes",
    "DROP INDEX requests_by_assignee",
    "ALTER TABLE requests DROP COLUMN last_seq",
    "ALTER TABLE requests DROP COLUMN last_hash",
    "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
]


def _fill(store: SQLiteStore | PostgresStore | MemoryStore, key: SigningKey, n: int) -> None:
    for i in range(n):
        store.append("kota", body(i), time=T0, sign=signer(key))


class TestSQLiteSchema:
    def test_new_store_is_written_at_the_current_version(self, tmp_path: Path) -> None:
        """A new file records the schema version this library writes."""
        store = SQLiteStore(tmp_path / "s.db")
        assert store.schema_version() == SCHEMA_VERSION == 3
        store.close()

    def test_version_1_store_is_migrated_with_nodes_rebuilt(
        self, tmp_path: Path, ledger_key: SigningKey
    ) -> None:
        """A schema-1 file is upgraded on open: nodes rebuilt from entries, index added."""
        path = tmp_path / "old.db"
        store = SQLiteStore(path)
        _fill(store, ledger_key, 11)
        store.append("kota", body(99), time=T0, request=record())
        store.close()
        conn = sqlite3.connect(path)
        for statement in _V1_DROP:
            conn.execute(statement)
        conn.commit()
        conn.close()
        migrated = SQLiteStore(path)
        assert migrated.schema_version() == SCHEMA_VERSION
        leaves = [e.data for e in migrated.entries("kota")]
        proof = inclusion_proof_from_nodes(LedgerNodes(migrated, "kota"), 5, 12)
        assert proof == inclusion_proof(leaves, 5, 12)
        assert migrated.assignee_counts("unit-pengaduan") == {"ver-1": (1, 1)}
        migrated.close()
        conn = sqlite3.connect(path)
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        conn.close()
        assert {"merkle_nodes", "requests_by_assignee"} <= indexes

    def test_newer_schema_is_refused_with_a_clear_error(self, tmp_path: Path) -> None:
        """A file written by a newer schema raises SchemaVersionError naming both versions."""
        path = tmp_path / "new.db"
        SQLiteStore(path).close()
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        conn.commit()
        conn.close()
        with pytest.raises(SchemaVersionError, match=r"schema version 99.*up to 3.*upgrade"):
            SQLiteStore(path)

    def test_foreign_sqlite_file_and_garbage_are_store_errors(self, tmp_path: Path) -> None:
        """Another application's SQLite file, or a non-database file, raises StoreError."""
        other = tmp_path / "other.db"
        conn = sqlite3.connect(other)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
        with pytest.raises(StoreError, match="not a pelayanan store"):
            SQLiteStore(other)
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"this is not a database" * 100)
        with pytest.raises(StoreError, match="cannot open"):
            SQLiteStore(garbage)


class TestOpenStore:
    def test_locations_pick_the_backend(self, tmp_path: Path) -> None:
        """memory:// gives a MemoryStore, a path a SQLiteStore."""
        assert isinstance(open_store("memory://"), MemoryStore)
        store = open_store(tmp_path / "x.db")
        assert isinstance(store, SQLiteStore)
        store.close()

    def test_unreachable_server_is_a_store_error(self) -> None:
        """A PostgreSQL URL nobody answers raises StoreError (no driver exception)."""
        with pytest.raises(StoreError, match="cannot connect"):
            open_store("postgresql://postgres@127.0.0.1:1/test?connect_timeout=1")


@pytest.mark.postgres
class TestPostgresSchema:
    def test_schema_isolation_and_newer_version(self) -> None:
        """Two schemas are separate stores; a newer schema version is refused clearly."""
        conn = pg_connect_or_skip()
        first, second = fresh_schema(conn), fresh_schema(conn)
        try:
            a = PostgresStore(pg_schema_url(first))
            b = open_store(pg_schema_url(second))
            a.append("kota", body(0), time=T0)
            assert b.ledgers() == []
            assert a.schema_version() == SCHEMA_VERSION
            a.set_meta("demo", "1")
            assert a.get_meta("demo") == "1"
            a.close()
            b.close()
            conn.execute(f"UPDATE \"{first}\".meta SET value = '7' WHERE key = 'schema_version'")
            with pytest.raises(SchemaVersionError, match="schema version 7"):
                PostgresStore(pg_schema_url(first))
            conn.execute(f'CREATE TABLE "{second}".entries_x (x int)')
            conn.execute(f'DROP TABLE "{second}".meta')
            with pytest.raises(StoreError, match="not a pelayanan store"):
                PostgresStore(pg_schema_url(second))
        finally:
            drop_schema(conn, first)
            drop_schema(conn, second)
            conn.close()

    def test_cli_verifies_imports_and_describes_a_postgres_store(
        self, tmp_path: Path, ledger_key: SigningKey
    ) -> None:
        """`store import`, `store info` and `audit verify --db postgresql://...` work end to end."""
        conn = pg_connect_or_skip()
        schema = fresh_schema(conn)
        url = pg_schema_url(schema)
        try:
            source = MemoryStore()
            _fill(source, ledger_key, 5)
            export = tmp_path / "log.jsonl"
            with export.open("wb") as out:
                write_export(source, out)
            _, public = write_key_pair(ledger_key, tmp_path / "keys")
            runner = CliRunner()
            done = runner.invoke(
                cli, ["store", "import", str(export), "--db", url, "--trusted-key", str(public)]
            )
            assert done.exit_code == 0, done.output
            assert "imported ledger kota: 5 entries" in done.output
            again = runner.invoke(
                cli, ["store", "import", str(export), "--db", url, "--keys", str(tmp_path / "keys")]
            )
            assert again.exit_code == 2
            assert "empty store" in again.output
            info = runner.invoke(cli, ["store", "info", "--db", url])
            assert info.exit_code == 0, info.output
            assert "schema version 3" in info.output
            assert "ledger kota: 5 entries" in info.output
            verified = runner.invoke(
                cli, ["audit", "verify", "--db", url, "--keys", str(tmp_path / "keys")]
            )
            assert verified.exit_code == 0, verified.output
            assert verified.output.startswith("OK ledger kota: 5 entries")
            no_key = runner.invoke(cli, ["audit", "verify", "--db", url])
            assert no_key.exit_code == 2
            assert no_key.stderr.startswith("error: no trusted key")
        finally:
            drop_schema(conn, schema)
            conn.close()


class TestStoreCli:
    def test_import_into_sqlite_refuses_an_untrusted_export(
        self, tmp_path: Path, ledger_key: SigningKey
    ) -> None:
        """`store import` with the wrong key exits 1 and leaves the new store empty."""
        from pelayanan.audit.keys import generate_key_pair

        source = MemoryStore()
        _fill(source, ledger_key, 3)
        export = tmp_path / "log.jsonl"
        with export.open("wb") as out:
            write_export(source, out)
        _, public = write_key_pair(generate_key_pair(), tmp_path / "other")
        target = tmp_path / "new.db"
        done = CliRunner().invoke(
            cli,
            ["store", "import", str(export), "--db", str(target), "--trusted-key", str(public)],
        )
        assert done.exit_code == 1
        assert "does not verify" in done.output
        store = SQLiteStore(target)
        assert store.ledgers() == []
        store.close()
