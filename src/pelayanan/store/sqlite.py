"""The SQLite store: the default, one file, WAL mode, safe across threads and processes.

Writers serialize on ``BEGIN IMMEDIATE``: the ledger head is read, the entry encoded,
the request written and the checkpoint signed inside one transaction, so the chain
cannot fork even when several processes share the file.  The statements, the reads and
the append are shared with PostgreSQL (`pelayanan.store._sql`); what is SQLite's own is
here: the connection and its lock, the write transaction, migrations, the node lookup,
overwriting erased keys.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pelayanan.audit.merkle import CompactRange, leaf_hash
from pelayanan.exceptions import (
    StoreError,
    StoreMissingError,
)
from pelayanan.store._replay import last_entries
from pelayanan.store._rows import REQUEST_COLUMNS, micros, request_params
from pelayanan.store._schema import schema_text
from pelayanan.store._sql import (
    BulkRows,
    SQLExec,
    SQLStoreBase,
    read_head,
    read_only_tables,
    stored_version,
)
from pelayanan.store.base import (
    SCHEMA_VERSION,
    LedgerHead,
)

__all__ = ["SQLiteStore"]


def _backfill_nodes(conn: sqlite3.Connection) -> None:
    """Create and fill ``merkle_nodes`` from the entries if the table is missing."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='merkle_nodes'"
    ).fetchone()
    if not exists:
        conn.execute(schema_text("sqlite")[-1])
        for (ledger,) in conn.execute("SELECT ledger FROM ledgers").fetchall():
            compact = CompactRange()
            rows = conn.execute("SELECT data FROM entries WHERE ledger = ? ORDER BY seq", (ledger,))
            for (data,) in rows:
                conn.executemany(
                    "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (?, ?, ?, ?)",
                    [(ledger, n.level, n.index, n.hash) for n in compact.append(leaf_hash(data))],
                )


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Schema 1 -> 2: store Merkle nodes (rebuilt from the entries) and index assignees."""
    _backfill_nodes(conn)
    conn.execute(
        "CREATE INDEX IF NOT EXISTS requests_by_assignee ON requests (unit, assignee) "
        "WHERE assignee IS NOT NULL"
    )


# The names the row helpers had before they moved to `pelayanan.store._rows` (the SLA
# benchmark reads them from here).
_REQUEST_COLUMNS = REQUEST_COLUMNS
_micros = micros
_request_params = request_params


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    """Schema 2 -> 3: each request row names its last audit entry (filled from the log)."""
    columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(requests)")}
    for column, kind in (("last_seq", "INTEGER"), ("last_hash", "TEXT")):
        if column not in columns:
            conn.execute(f"ALTER TABLE requests ADD COLUMN {column} {kind}")
    ledgers = [str(row[0]) for row in conn.execute("SELECT ledger FROM ledgers").fetchall()]
    for ledger in ledgers:
        rows = conn.execute(
            "SELECT seq, data FROM entries WHERE ledger = ? ORDER BY seq", (ledger,)
        )
        pointers = last_entries(ledger, ((int(seq), bytes(data)) for seq, data in rows))
        conn.executemany(
            "UPDATE requests SET last_seq = ?, last_hash = ? WHERE id = ? AND ledger = ?",
            [(seq, digest, rid, ledger) for rid, (seq, digest) in pointers.items()],
        )


#: Migration steps by the version they start from; each brings a store up by one.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}


class SQLiteStore(SQLStoreBase):
    """A `Store` in one SQLite file (or ``":memory:"``).

    Args:
        path: the database file; created with the schema when missing.
        timeout: seconds a writer waits for another process's write lock.
        read_only: open with ``mode=ro``; create, migrate and repair nothing.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection
        if read_only:
            self._open_read_only(timeout)
            return
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._exec = SQLExec(self._conn, pyformat=False, finder=self._find_nodes)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            # Deleted cells and pages are overwritten with zeros, so an erased key leaves
            # no copy in the file's free space.
            self._conn.execute("PRAGMA secure_delete=ON")
            self._migrate()
        except sqlite3.Error as exc:
            msg = f"{self.path}: cannot open as a pelayanan SQLite store ({exc})"
            raise StoreError(msg) from None

    def _open_read_only(self, timeout: float) -> None:
        """Open with ``mode=ro``: nothing is created, migrated or repaired.

        Raises:
            StoreMissingError: no file (or an empty one) at the path.
            StoreMigrationRequiredError: the store needs a migration first.
            StoreError: not a pelayanan store.
        """
        if self.path != ":memory:" and not Path(self.path).is_file():
            msg = f"{self.path}: no such store (a read-only open creates nothing)"
            raise StoreMissingError(msg)
        uri = "file:" + urllib.parse.quote(str(Path(self.path).resolve())) + "?mode=ro"
        try:
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._exec = SQLExec(self._conn, pyformat=False, finder=self._find_nodes)
            tables = self._tables()
            found = self._found_version()
            self.missing_tables = read_only_tables(self.path, found, tables, db=self.path)
        except sqlite3.Error as exc:
            msg = f"{self.path}: cannot open as a pelayanan SQLite store ({exc})"
            raise StoreError(msg) from None
        except StoreError:
            self._conn.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- connection and transactions -----------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """Hold the connection; turn driver errors into `StoreError` at this boundary."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                msg = f"{self.path}: {type(exc).__name__}: {exc}"
                raise StoreError(msg) from None

    @contextlib.contextmanager
    def _db(self) -> Iterator[SQLExec]:
        """Lend the statement runner, holding the connection."""
        with self._locked():
            yield self._exec

    @contextlib.contextmanager
    def _write(self) -> Iterator[SQLExec]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction (the write lock)."""
        with self._locked() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                msg = f"{self.path}: cannot start a write transaction ({exc})"
                raise StoreError(msg) from None
            try:
                yield self._exec
                conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT or an I/O error may already have ended the transaction.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._write() as db:
            conn = db.conn
            found = self._found_version()
            if found is None:
                for statement in schema_text("sqlite"):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif found < SCHEMA_VERSION:
                for version in range(found, SCHEMA_VERSION):
                    _MIGRATIONS[version](conn)
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'",
                    (str(SCHEMA_VERSION),),
                )
            else:
                # A writable open repairs a dropped node table (a read-only one reports it).
                _backfill_nodes(conn)
            for statement in schema_text("sqlite", vault=True):
                conn.execute(statement)

    def _tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows} - {"sqlite_sequence"}

    def _found_version(self) -> int | None:
        """Return the schema version of the open file, ``None`` for an empty file.

        Raises:
            SchemaVersionError: written by a newer schema than this library knows.
            StoreError: a SQLite file that is not a pelayanan store.
        """
        foreign = f"{self.path} is a SQLite file but not a pelayanan store"
        return stored_version(self._exec, self.path, self._tables(), foreign=foreign)

    def _find_nodes(
        self, db: SQLExec, ledger: str, wanted: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Return the stored ones of the *wanted* nodes of *ledger*, by (level, index)."""
        found: dict[tuple[int, int], bytes] = {}
        # A proof asks for at most ~2 log2(n) nodes: one query joining a VALUES list,
        # which SQLite answers with one primary-key probe per node.
        for start in range(0, len(wanted), 200):
            chunk = wanted[start : start + 200]
            values = ",".join(["(?, ?)"] * len(chunk))
            params: list[Any] = []
            for level, index in chunk:
                params += [level, index]
            params.append(ledger)
            with self._locked():
                rows = db.conn.execute(
                    f"WITH wanted(level, idx) AS (VALUES {values}) "
                    "SELECT m.level, m.idx, m.hash FROM wanted CROSS JOIN merkle_nodes AS m "
                    "ON m.ledger = ? AND m.level = wanted.level AND m.idx = wanted.idx",
                    params,
                ).fetchall()
            for level, index, digest in rows:
                found[(int(level), int(index))] = bytes(digest)
        return found

    # -- writes ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _append_transaction(self, ledger: str) -> Iterator[tuple[SQLExec, LedgerHead]]:
        """Hold the write lock (``BEGIN IMMEDIATE``) and read the head under it."""
        with self._write() as db:
            yield db, read_head(db, ledger)

    def _erase_key(self, db: SQLExec, subject: str, at: int) -> None:
        """Destroy *subject*'s wrapped key: delete, then re-insert a tombstone.

        The old cell is zeroed by ``secure_delete``, which an in-place update would not do.
        """
        row = db.one("SELECT kid, created_at FROM vault WHERE subject = ?", (subject,))
        if row is None:
            return
        db.run("DELETE FROM vault WHERE subject = ?", (subject,))
        db.run(
            "INSERT INTO vault (subject, kid, nonce, wrapped, created_at, erased_at) "
            "VALUES (?, ?, NULL, NULL, ?, ?)",
            (subject, row[0], row[1], at),
        )

    def _after_erasure(self) -> None:
        # Older page images of the erased rows live on in the write-ahead log until it is
        # checkpointed and truncated; a reader may hold them, so only try here, without
        # waiting (`vault_scrub` waits and reports).
        self.vault_scrub(wait=0.0)

    def vault_scrub(self, *, wait: float) -> str | None:
        """Checkpoint and truncate the write-ahead log, so erased pages are overwritten.

        Another connection holding a read transaction keeps the old page images (in the
        log, and in the file where the checkpoint cannot overwrite them) until it ends;
        the checkpoint waits for it at most *wait* seconds.

        Args:
            wait: the most seconds to wait for readers to finish.

        Returns:
            ``None`` when the log was checkpointed and truncated; otherwise what still
            holds the old pages.
        """
        with self._locked() as conn:
            (previous,) = conn.execute("PRAGMA busy_timeout").fetchone()
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(wait * 1000))}")
            try:
                busy, log, moved = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(previous)}")
        if not busy:
            return None
        return (
            f"another connection to {self.path} holds a read transaction: the write-ahead "
            f"log ({log} pages, {max(moved, 0)} copied back) keeps the old pages until it "
            "closes; run the erasure's scrub again afterwards (pelayanan privacy erase "
            "reports this)"
        )

    def _write_bulk(self, db: SQLExec, rows: BulkRows) -> None:
        """Write the buffered entry and node rows of a bulk append."""
        db.many("INSERT INTO entries (ledger, seq, data) VALUES (?, ?, ?)", rows.entries)
        db.many(
            "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (?, ?, ?, ?)", rows.nodes
        )

    # -- reading one state ----------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one consistent state: every read inside runs in one read transaction.

        Writers in other processes go on committing; what they commit after the first
        read is not seen until the block ends.  Other threads using this handle wait.
        """
        with self._locked() as conn:
            if conn.in_transaction:
                yield  # nested: the outer snapshot holds
                return
            conn.execute("BEGIN")
            try:
                # A deferred transaction takes its snapshot at the first read.
                conn.execute("SELECT 1 FROM meta").fetchone()
                yield
            finally:
                # A failed read may already have ended the transaction.
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def checkpoint_faults(self) -> list[tuple[str, str, str]]:
        """Return checkpoint rows that were deleted, duplicated or reordered.

        Row ids come from an ``AUTOINCREMENT`` counter that never reuses a number and
        rolls back with its transaction, so the committed ids run without a gap up to
        the counter; a missing id is a deleted row.

        Returns:
            ``(table, key, what differs)`` per fault.
        """
        faults: list[tuple[str, str, str]] = []
        with self._locked() as conn:
            count = int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])
            row = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'checkpoints'"
            ).fetchone()
            counter = 0 if row is None else int(row[0])
            if count < counter:
                what = f"{counter - count} of the {counter} rows ever stored are missing"
                faults.append(("checkpoints", "-", what))
        faults.extend(self.checkpoint_order_faults())
        return faults

    def close(self) -> None:
        """Close the connection."""
        with self._locked():
            self._conn.close()
