"""The SQLite store: the default, one file, WAL mode, safe across threads and processes.

Writers serialize on ``BEGIN IMMEDIATE``: the ledger head is read, the entry encoded,
the request written and the checkpoint signed inside one transaction, so the chain
cannot fork even when several processes share the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import StoredEntry
from pelayanan.audit.merkle import CompactRange, leaf_hash
from pelayanan.exceptions import (
    ConcurrentModificationError,
    ProofError,
    SchemaVersionError,
    StoreError,
    StoreMigrationRequiredError,
    StoreMissingError,
)
from pelayanan.store._guard import checkpoint_order_faults
from pelayanan.store._replay import last_entries
from pelayanan.store._rows import (
    REQUEST_COLUMNS,
    REQUEST_PLACEHOLDERS,
    micros,
    request_params,
    row_to_request,
)
from pelayanan.store.base import (
    SCHEMA_VERSION,
    AppendResult,
    BulkAppender,
    CheckpointSigner,
    LedgerHead,
    RequestRecord,
    check_version,
    prepare_append,
)
from pelayanan.store.vault import SQLiteVaultMixin

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledgers (
    ledger TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    compact_range TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    ledger TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (ledger, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger TEXT NOT NULL,
    size INTEGER NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints (ledger, size);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    ledger TEXT NOT NULL,
    sop_id TEXT NOT NULL,
    sop_version TEXT NOT NULL,
    sop_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    meta TEXT NOT NULL,
    unit TEXT,
    assignee TEXT,
    next_due INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    last_seq INTEGER,
    last_hash TEXT
);
CREATE INDEX IF NOT EXISTS requests_next_due ON requests (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at, id);
CREATE INDEX IF NOT EXISTS requests_by_assignee ON requests (unit, assignee)
    WHERE assignee IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_id TEXT,
    seq INTEGER NOT NULL
);
"""

# Merkle perfect-subtree hashes (level 0 = leaf hashes), written by each append so that
# proofs read O(log n) rows instead of every entry.
_NODES_SCHEMA = """
CREATE TABLE IF NOT EXISTS merkle_nodes (
    ledger TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (ledger, level, idx)
) WITHOUT ROWID
"""


def _backfill_nodes(conn: sqlite3.Connection) -> None:
    """Create and fill ``merkle_nodes`` from the entries if the table is missing."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='merkle_nodes'"
    ).fetchone()
    if not exists:
        conn.execute(_NODES_SCHEMA)
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

#: The tables a store of the current schema holds (a read-only open checks them).
_TABLES = (
    "meta",
    "ledgers",
    "entries",
    "checkpoints",
    "merkle_nodes",
    "requests",
    "idempotency",
)


class SQLiteStore(SQLiteVaultMixin):
    """A `Store` in one SQLite file (or ``":memory:"``).

    Args:
        path: the database file; created with the schema when missing.
        timeout: seconds a writer waits for another process's write lock.
    """

    #: How many checkpoint notes `iter_checkpoints` reads per query.
    checkpoint_page = 1000
    #: How many requests `requests` reads per query.
    request_page = 1000
    #: How many records `bulk_append` buffers before writing them.
    bulk_chunk = 10_000

    def __init__(self, path: str | Path, *, timeout: float = 30.0, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        self.missing_tables: tuple[str, ...] = ()
        if read_only:
            self._open_read_only(timeout)
            return
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._init_vault()  # privacy (issue 9): vault tables, secure_delete
        except sqlite3.Error as exc:
            msg = f"{self.path}: cannot open as a pelayanan SQLite store ({exc})"
            raise StoreError(msg) from None

    def _open_read_only(self, timeout: float) -> None:
        """Open with ``mode=ro``: nothing is created, migrated or repaired.

        Raises:
            StoreMissingError: no file at the path.
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
            found = self._found_version()
        except sqlite3.Error as exc:
            msg = f"{self.path}: cannot open as a pelayanan SQLite store ({exc})"
            raise StoreError(msg) from None
        if found is None:
            msg = f"{self.path}: an empty file, not a pelayanan store"
            raise StoreError(msg)
        if found < SCHEMA_VERSION:
            self._conn.close()
            msg = (
                f"{self.path} has schema version {found}; this pelayanan reads version "
                f"{SCHEMA_VERSION} and a read-only command does not migrate: run "
                f"`pelayanan store migrate --db {self.path}` first"
            )
            raise StoreMigrationRequiredError(msg)
        present = {
            str(row[0])
            for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        self.missing_tables = tuple(t for t in _TABLES if t not in present)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- schema -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """Hold the connection; turn driver errors into `StoreError` at this boundary."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                msg = f"{self.path}: {type(exc).__name__}: {exc}"
                raise StoreError(msg) from None

    def _migrate(self) -> None:
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = self._found_version()
                if found is None:
                    for statement in (*_SCHEMA.split(";"), _NODES_SCHEMA):
                        if statement.strip():
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
                    # A damaged v2 file whose node table was dropped: rebuild it.
                    _backfill_nodes(conn)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _found_version(self) -> int | None:
        """Return the schema version of the open file, ``None`` for an empty file.

        Raises:
            SchemaVersionError: written by a newer schema than this library knows.
            StoreError: a SQLite file that is not a pelayanan store.
        """
        conn = self._conn
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not has_meta:
            has_tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
            if has_tables:
                msg = f"{self.path} is a SQLite file but not a pelayanan store"
                raise StoreError(msg)
            return None
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            msg = f"{self.path}: the store records no schema version; it is damaged"
            raise StoreError(msg)
        found = int(row[0])
        if found > SCHEMA_VERSION:
            msg = (
                f"{self.path} was written by schema version {found}; this pelayanan "
                f"reads up to {SCHEMA_VERSION}: upgrade pelayanan"
            )
            raise SchemaVersionError(msg)
        return found

    def schema_version(self) -> int:
        """Return the schema version of the open store (after migration: the current)."""
        with self._locked() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level metadata value (e.g. a marker that this is a demo store)."""
        with self._locked() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_meta(self, key: str) -> str | None:
        """Return a store-level metadata value, or ``None``."""
        with self._locked():
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reads --------------------------------------------------------------------------

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request with *request_id*, or ``None``."""
        with self._locked():
            row = self._conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
        return None if row is None else row_to_request(row)

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation.

        Read `request_page` at a time by keyset pagination on ``(created_at, id)``.
        """
        sql = (
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE (created_at > ? OR "
            "(created_at = ? AND id > ?))"
        )
        if ledger is not None:
            sql += " AND ledger = ?"
        sql += " ORDER BY created_at, id LIMIT ?"
        after: tuple[int, str] = (-(2**63), "")
        while True:
            params: tuple[Any, ...] = (after[0], after[0], after[1])
            params += (ledger, self.request_page) if ledger is not None else (self.request_page,)
            with self._locked():
                rows = self._conn.execute(sql, params).fetchall()
            for row in rows:
                yield row_to_request(row)
            if len(rows) < self.request_page:
                return
            after = (int(rows[-1][12]), str(rows[-1][0]))

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""
        sql = (
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE next_due IS NOT NULL "
            "AND next_due <= ? ORDER BY next_due, id"
        )
        params: tuple[Any, ...] = (micros(now),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        with self._locked():
            rows = self._conn.execute(sql, params).fetchall()
        return [row_to_request(row) for row in rows]

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*."""
        with self._locked():
            rows = self._conn.execute(
                "SELECT assignee, SUM(1 - closed), COUNT(*) FROM requests "
                "WHERE unit = ? AND assignee IS NOT NULL GROUP BY assignee",
                (unit,),
            ).fetchall()
        return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""
        with self._locked():
            row = self._conn.execute(
                "SELECT request_id, seq FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else (row[0], int(row[1]))

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to *stop*, streaming in batches."""
        batch = 1000
        position = start
        while stop is None or position < stop:
            upper = position + batch if stop is None else min(stop, position + batch)
            with self._locked():
                rows = self._conn.execute(
                    "SELECT seq, data FROM entries WHERE ledger = ? AND seq >= ? AND seq < ? "
                    "ORDER BY seq",
                    (ledger, position, upper),
                ).fetchall()
            if not rows:
                return
            for seq, data in rows:
                yield StoredEntry(ledger, int(seq), bytes(data))
            position = int(rows[-1][0]) + 1

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""
        with self._locked():
            rows = self._conn.execute(
                "SELECT note FROM checkpoints WHERE ledger = ? ORDER BY size, id", (ledger,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``.

        Read `checkpoint_page` at a time by keyset pagination on ``(size, id)``.
        """
        page = self.checkpoint_page
        upper = max_size if max_size is not None else 2**63 - 1
        after: tuple[int, int] = (min_size, -1)
        while True:
            with self._locked():
                rows = self._conn.execute(
                    "SELECT size, id, note FROM checkpoints WHERE ledger = ? "
                    "AND (size > ? OR (size = ? AND id > ?)) AND size <= ? "
                    "ORDER BY size, id LIMIT ?",
                    (ledger, after[0], after[0], after[1], upper, page),
                ).fetchall()
            for _, _, note in rows:
                yield str(note)
            if len(rows) < page:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""
        with self._locked():
            row = self._conn.execute(
                "SELECT note FROM checkpoints WHERE ledger = ? ORDER BY size DESC, id DESC LIMIT 1",
                (ledger,),
            ).fetchone()
        return None if row is None else str(row[0])

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle node hashes of *ledger*, in the order asked.

        Raises:
            ProofError: a node is not stored.
        """
        found: dict[tuple[int, int], bytes] = {}
        wanted = list(dict.fromkeys(pairs))
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
                rows = self._conn.execute(
                    f"WITH wanted(level, idx) AS (VALUES {values}) "
                    "SELECT m.level, m.idx, m.hash FROM wanted CROSS JOIN merkle_nodes AS m "
                    "ON m.ledger = ? AND m.level = wanted.level AND m.idx = wanted.idx",
                    params,
                ).fetchall()
            for level, index, digest in rows:
                found[(int(level), int(index))] = bytes(digest)
        out = []
        for level, index in pairs:
            digest = found.get((level, index))
            if digest is None:
                msg = (
                    f"node ({level}, {index}) of ledger {ledger!r} is not stored; the tree is "
                    "smaller than the size asked for"
                )
                raise ProofError(msg)
            out.append(digest)
        return out

    def ledgers(self) -> list[str]:
        """Return the ids of the ledgers in this store, sorted."""
        with self._locked():
            rows = self._conn.execute("SELECT ledger FROM ledgers ORDER BY ledger").fetchall()
        return [str(row[0]) for row in rows]

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger*."""
        with self._locked():
            return self._read_head(ledger)

    def _read_head(self, ledger: str) -> LedgerHead:
        row = self._conn.execute(
            "SELECT size, last_hash, compact_range FROM ledgers WHERE ledger = ?", (ledger,)
        ).fetchone()
        if row is None:
            return LedgerHead.empty()
        return LedgerHead(int(row[0]), str(row[1]), CompactRange.from_dict(json.loads(row[2])))

    # -- writes -------------------------------------------------------------------------

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note."""
        size = SignedCheckpoint.parse(note).checkpoint.size
        with self._locked():
            self._conn.execute(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)",
                (ledger, size, note),
            )

    def append(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        request: RequestRecord | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        sign: CheckpointSigner | None = None,
    ) -> AppendResult:
        """Append an audit entry and write *request* in the same transaction."""
        with self._locked():
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                msg = f"{self.path}: cannot start a write transaction ({exc})"
                raise StoreError(msg) from None
            try:
                result = self._append_locked(
                    ledger,
                    body=body,
                    time=time,
                    request=request,
                    expected_version=expected_version,
                    idempotency_key=idempotency_key,
                    sign=sign,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return result

    def _rollback(self) -> None:
        # A failed COMMIT or an I/O error may already have ended the transaction.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Append pre-encoded entries and checkpoint notes verbatim, in one transaction.

        Rows are written in chunks of `bulk_chunk` so memory stays flat however many
        records stream in; the transaction holds the write lock until all are in.

        Raises:
            SequenceError: an entry or checkpoint does not continue this ledger.
            ChainError: an entry's ``prev`` does not link to the one before it.
        """
        with self._locked() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                bulk = BulkAppender(self._read_head(ledger), ledger)
                entries: list[tuple[str, int, bytes]] = []
                nodes: list[tuple[str, int, int, bytes]] = []
                notes: list[tuple[str, int, str]] = []
                for record in records:
                    if isinstance(record, bytes):
                        seq, made = bulk.entry(record)
                        entries.append((ledger, seq, record))
                        nodes.extend((ledger, n.level, n.index, n.hash) for n in made)
                    else:
                        notes.append((ledger, bulk.checkpoint(record), record))
                    if len(entries) + len(notes) >= self.bulk_chunk:
                        self._write_bulk(entries, nodes, notes)
                self._write_bulk(entries, nodes, notes)
                head = bulk.head
                self._write_head(ledger, head)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return head

    def _write_bulk(
        self,
        entries: list[tuple[str, int, bytes]],
        nodes: list[tuple[str, int, int, bytes]],
        notes: list[tuple[str, int, str]],
    ) -> None:
        """Write and clear the buffered rows of a bulk append."""
        conn = self._conn
        conn.executemany("INSERT INTO entries (ledger, seq, data) VALUES (?, ?, ?)", entries)
        conn.executemany(
            "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (?, ?, ?, ?)", nodes
        )
        conn.executemany("INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)", notes)
        entries.clear()
        nodes.clear()
        notes.clear()

    def _write_head(self, ledger: str, head: LedgerHead) -> None:
        self._conn.execute(
            "INSERT INTO ledgers (ledger, size, last_hash, compact_range) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(ledger) DO UPDATE SET size = excluded.size, "
            "last_hash = excluded.last_hash, compact_range = excluded.compact_range",
            (ledger, head.size, head.last_hash, json.dumps(head.range.to_dict())),
        )

    def _append_locked(
        self,
        ledger: str,
        *,
        body: Mapping[str, Any],
        time: dt.datetime,
        request: RequestRecord | None,
        expected_version: int | None,
        idempotency_key: str | None,
        sign: CheckpointSigner | None,
    ) -> AppendResult:
        conn = self._conn
        stored = None
        if request is not None:
            row = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?", (request.id,)
            ).fetchone()
            stored = None if row is None else row_to_request(row)
        check_version(request, stored, expected_version)
        if idempotency_key is not None:
            row = conn.execute(
                "SELECT 1 FROM idempotency WHERE key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                request_id = request.id if request is not None else "-"
                raise ConcurrentModificationError(request_id, expected_version or 0, None)
        head = self._read_head(ledger)
        prepared = prepare_append(
            head,
            ledger,
            body,
            time=time,
            sign=sign,
            request=request,
            stored=stored,
            reader=self,
        )
        conn.execute(
            "INSERT INTO entries (ledger, seq, data) VALUES (?, ?, ?)",
            (ledger, head.size, prepared.data),
        )
        self._write_head(ledger, prepared.head)
        conn.executemany(
            "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (?, ?, ?, ?)",
            [(ledger, node.level, node.index, node.hash) for node in prepared.nodes],
        )
        if prepared.request is not None:
            conn.execute(
                f"INSERT OR REPLACE INTO requests ({REQUEST_COLUMNS}) "
                f"VALUES ({REQUEST_PLACEHOLDERS})",
                request_params(prepared.request),
            )
        if idempotency_key is not None:
            conn.execute(
                "INSERT INTO idempotency (key, request_id, seq) VALUES (?, ?, ?)",
                (idempotency_key, request.id if request is not None else None, head.size),
            )
        if prepared.checkpoint is not None:
            conn.execute(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)",
                (ledger, prepared.head.size, prepared.checkpoint.to_text()),
            )
        return prepared.result

    def check_rows(self, columns: str) -> Iterator[tuple[Any, ...]]:
        """Yield every request row's *columns*, ordered by id, read in pages."""
        after = ""
        while True:
            with self._locked() as conn:
                rows = conn.execute(
                    f"SELECT {columns} FROM requests WHERE id > ? ORDER BY id LIMIT ?",
                    (after, 1000),
                ).fetchall()
            yield from rows
            if len(rows) < 1000:
                return
            after = str(rows[-1][0])

    def entry_ledgers(self) -> list[str]:
        """Return the ledgers that hold entries (with or without a head row), sorted."""
        with self._locked() as conn:
            rows = conn.execute("SELECT DISTINCT ledger FROM entries ORDER BY ledger").fetchall()
        return [str(row[0]) for row in rows]

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""
        with self._locked() as conn:
            row = conn.execute(
                "SELECT data FROM entries WHERE ledger = ? AND seq = ?", (ledger, seq)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""
        return self.get_nodes(ledger, pairs)

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
            rows = conn.execute(
                "SELECT ledger, id, size, note FROM checkpoints ORDER BY ledger, id"
            )
            faults.extend(checkpoint_order_faults(rows))
        return faults

    def close(self) -> None:
        """Close the connection."""
        with self._locked():
            self._conn.close()
