"""What the SQL stores share: one schema text, the statements, the reads and the append.

SQLite (3.24 and later) and PostgreSQL understand the same SQL for everything a store
does except taking the write lock, reading Merkle nodes in bulk, and bulk loading; so
the statements are written once, with ``?`` placeholders, and run through a `SQLExec`
that adapts them to the driver.  Each backend keeps only what is really its own:
connections and transactions, locking the ledger head, the node lookup, the bulk copy,
erasure housekeeping.  Rows are stored identically by both (instants as integer
microseconds, JSON as text, entries as bytes).
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Unpack

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, StoredEntry
from pelayanan.audit.merkle import CompactRange
from pelayanan.exceptions import (
    ConcurrentModificationError,
    ProofError,
    SchemaVersionError,
    StoreError,
    StoreMigrationRequiredError,
    StoreMissingError,
)
from pelayanan.store._guard import checkpoint_order_faults
from pelayanan.store._rows import (
    REQUEST_COLUMNS,
    REQUEST_PLACEHOLDERS,
    from_micros,
    micros,
    request_params,
    row_to_request,
    schema_number,
)
from pelayanan.store._schema import TABLES
from pelayanan.store.base import (
    SCHEMA_VERSION,
    AppendOptions,
    AppendResult,
    BulkAppender,
    LedgerHead,
    RequestRecord,
    prepare_checked_append,
)
from pelayanan.store.vault import (
    VAULT_FINGERPRINT_KEY,
    LegalHold,
    SubjectRecord,
    VaultChange,
    WrappedKey,
)

__all__ = ["BulkRows", "SQLExec", "SQLStoreBase"]


_HOLD_COLUMNS = "id, subject, request, reason, placed_by, placed_at"
# Request rows are written keyed by (ledger, id), the ledger being the distribution
# column under Citus (docs/storage.md): an insert for a new request, an update otherwise.
_INSERT_REQUEST = f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({REQUEST_PLACEHOLDERS})"
_UPDATE_REQUEST = (
    "UPDATE requests SET "
    + ", ".join(f"{c.strip()} = ?" for c in REQUEST_COLUMNS.split(",")[2:])
    + " WHERE id = ? AND ledger = ?"
)
_WRITE_HEAD = (
    "INSERT INTO ledgers (ledger, size, last_hash, compact_range) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (ledger) DO UPDATE SET size = excluded.size, "
    "last_hash = excluded.last_hash, compact_range = excluded.compact_range"
)
_MAX_INT64 = 2**63 - 1

#: A backend's bulk node lookup: ``(db, ledger, wanted pairs) -> {(level, index): hash}``.
NodeFinder = Callable[["SQLExec", str, Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]]


class SQLExec:
    """Run ``?``-style statements on one connection (adapted to the driver's style).

    Args:
        conn: a DB-API connection (sqlite3) or a psycopg connection.
        pyformat: the driver takes ``%s`` placeholders (psycopg).
        finder: the backend's bulk node lookup on this connection (one query for many
            nodes); without it nodes are read one by one.
    """

    _converted: dict[str, str] = {}  # noqa: RUF012 - a process-wide cache of statement texts

    def __init__(self, conn: Any, *, pyformat: bool, finder: NodeFinder | None = None) -> None:
        self.conn = conn
        self.pyformat = pyformat
        self.finder = finder

    def __repr__(self) -> str:
        return f"SQLExec({self.conn!r})"

    def _sql(self, statement: str) -> Any:
        if not self.pyformat:
            return statement
        text = self._converted.get(statement)
        if text is None:
            text = self._converted[statement] = statement.replace("?", "%s")
        return text.encode()

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Return the first row of *statement*, or ``None``."""
        return self.conn.execute(self._sql(statement), params).fetchone()

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """Return every row of *statement*."""
        return list(self.conn.execute(self._sql(statement), params).fetchall())

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run *statement*; return how many rows it changed."""
        return int(self.conn.execute(self._sql(statement), params).rowcount)

    def many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run *statement* once per row of *rows*."""
        if not rows:
            return
        if self.pyformat:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(statement), rows)
        else:
            self.conn.executemany(statement, rows)

    # -- what the append guard reads (`pelayanan.store._guard.RowReader`) ---------------

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""
        row = self.one("SELECT data FROM entries WHERE ledger = ? AND seq = ?", (ledger, seq))
        return None if row is None else bytes(row[0])

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""
        if self.finder is not None:
            found = self.finder(self, ledger, list(dict.fromkeys(pairs))) if pairs else {}
            if any(pair not in found for pair in pairs):
                msg = f"a frontier node of ledger {ledger!r} is not stored"
                raise ProofError(msg)
            return [found[pair] for pair in pairs]
        out = []
        for level, index in pairs:
            row = self.one(
                "SELECT hash FROM merkle_nodes WHERE ledger = ? AND level = ? AND idx = ?",
                (ledger, level, index),
            )
            if row is None:
                msg = f"node ({level}, {index}) of ledger {ledger!r} is not stored"
                raise ProofError(msg)
            out.append(bytes(row[0]))
        return out


def stored_version(db: SQLExec, where: str, tables: set[str], *, foreign: str) -> int | None:
    """Return the schema version a store records, ``None`` when it holds no tables yet.

    Args:
        db: a connection to the store.
        where: the store's location, for messages.
        tables: the names of the tables it holds.
        foreign: the message when it holds tables but no pelayanan store.

    Raises:
        StoreError: tables of something else, or no recorded version.
        SchemaVersionError: written by a newer schema than this library knows.
    """
    if "meta" not in tables:
        if tables:
            raise StoreError(foreign)
        return None
    row = db.one("SELECT value FROM meta WHERE key = 'schema_version'")
    if row is None:
        msg = f"{where}: the store records no schema version; it is damaged"
        raise StoreError(msg)
    found = schema_number(row[0], where)
    if found > SCHEMA_VERSION:
        msg = (
            f"{where} was written by schema version {found}; this pelayanan reads up to "
            f"{SCHEMA_VERSION}: upgrade pelayanan"
        )
        raise SchemaVersionError(msg)
    return found


def read_only_tables(
    where: str, found: int | None, tables: set[str], *, db: str
) -> tuple[str, ...]:
    """Refuse a read-only open of an absent or unmigrated store; return the missing tables.

    Args:
        where: the store's location, for messages.
        found: its schema version (`stored_version`).
        tables: the names of the tables it holds.
        db: how to name the store in the migrate command.

    Raises:
        StoreMissingError: no store there.
        StoreMigrationRequiredError: the store needs a migration first.
    """
    if found is None:
        msg = f"{where}: no pelayanan store here (a read-only open creates none)"
        raise StoreMissingError(msg)
    if found < SCHEMA_VERSION:
        msg = (
            f"{where} has schema version {found}; this pelayanan reads version "
            f"{SCHEMA_VERSION} and a read-only command does not migrate: run "
            f"`pelayanan store migrate --db {db}` first"
        )
        raise StoreMigrationRequiredError(msg)
    return tuple(t for t in TABLES if t not in tables)


def read_head(db: SQLExec, ledger: str, *, lock: bool = False) -> LedgerHead:
    """Return *ledger*'s head row (``lock``: ``FOR UPDATE``, PostgreSQL only)."""
    query = "SELECT size, last_hash, compact_range FROM ledgers WHERE ledger = ?"
    row = db.one(query + (" FOR UPDATE" if lock else ""), (ledger,))
    if row is None:
        return LedgerHead.empty()
    return LedgerHead(int(row[0]), str(row[1]), CompactRange.from_dict(json.loads(row[2])))


def write_head(db: SQLExec, ledger: str, head: LedgerHead) -> None:
    """Write *ledger*'s head row."""
    db.run(_WRITE_HEAD, (ledger, head.size, head.last_hash, json.dumps(head.range.to_dict())))


def new_head_row(db: SQLExec, ledger: str) -> None:
    """Insert an empty head row for *ledger* unless it has one (so it can be locked)."""
    db.run(
        "INSERT INTO ledgers (ledger, size, last_hash, compact_range) VALUES (?, 0, ?, ?) "
        "ON CONFLICT (ledger) DO NOTHING",
        (ledger, GENESIS_PREV, json.dumps(CompactRange().to_dict())),
    )


def append_rows(
    db: SQLExec,
    ledger: str,
    head: LedgerHead,
    body: Mapping[str, Any],
    *,
    lock_rows: bool,
    before_write: Callable[[], None] | None = None,
    **options: Unpack[AppendOptions],
) -> AppendResult:
    """Do one append inside the open write transaction of *db*, the ledger head locked.

    Args:
        db: the transaction.
        ledger: the ledger.
        head: its head, read under the lock.
        body: the entry's fields.
        lock_rows: lock the request row (``FOR UPDATE``, PostgreSQL).
        before_write: called once everything is checked, before the first write (the
            vault change of `append_with_vault`).
        **options: the `AppendOptions` of `Store.append`.

    Raises:
        ConcurrentModificationError: the request changed, or the key was used.
        StoreIntegrityError: the head or the request row disagrees with the log.
    """
    request = options.get("request")
    expected_version = options.get("expected_version")
    idempotency_key = options.get("idempotency_key")
    stored = None
    if request is not None:
        query = f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ? AND ledger = ?"
        params = (request.id, request.ledger)
        row = db.one(query + (" FOR UPDATE" if lock_rows else ""), params)
        stored = None if row is None else row_to_request(row)
    used = "SELECT 1 FROM idempotency WHERE key = ?"
    key_used = idempotency_key is not None and db.one(used, (idempotency_key,)) is not None
    prepared = prepare_checked_append(
        head, ledger, body, options, stored=stored, key_used=key_used, reader=db
    )
    request_id = request.id if request is not None else None
    if before_write is not None:
        before_write()
    db.run(
        "INSERT INTO entries (ledger, seq, data) VALUES (?, ?, ?)",
        (ledger, head.size, prepared.data),
    )
    write_head(db, ledger, prepared.head)
    db.many(
        "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (?, ?, ?, ?)",
        [(ledger, node.level, node.index, node.hash) for node in prepared.nodes],
    )
    if prepared.request is not None:
        params = request_params(prepared.request)
        if stored is None:
            db.run(_INSERT_REQUEST, params)
        else:
            db.run(_UPDATE_REQUEST, (*params[2:], params[0], params[1]))
    if idempotency_key is not None:
        inserted = db.run(
            "INSERT INTO idempotency (key, request_id, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (idempotency_key, request_id, head.size),
        )
        if inserted != 1:
            # Another ledger's append took the same key meanwhile.
            raise ConcurrentModificationError(request_id or "-", expected_version or 0, None)
    if prepared.checkpoint is not None:
        db.run(
            "INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)",
            (ledger, prepared.head.size, prepared.checkpoint.to_text()),
        )
    return prepared.result


def apply_vault(db: SQLExec, change: VaultChange, *, erase: Callable[[str, int], None]) -> None:
    """Write *change* to the vault tables inside the open transaction.

    Args:
        db: the transaction.
        change: the vault change.
        erase: destroys one subject's wrapped key, given the erasure time in microseconds
            (each backend overwrites its own way).
    """
    db.many(
        "INSERT INTO vault (subject, kid, nonce, wrapped, created_at) VALUES (?, ?, ?, ?, ?)",
        [(k.subject, k.kid, k.nonce, k.wrapped, micros(k.created_at)) for k in change.keys],
    )
    db.many(
        "INSERT INTO vault_index (tag, subject) VALUES (?, ?) ON CONFLICT (tag) DO NOTHING",
        list(change.index),
    )
    db.many(
        "INSERT INTO vault_links (subject, request) VALUES (?, ?) ON CONFLICT DO NOTHING",
        list(change.links),
    )
    for subject in change.erase:
        erase(subject, micros(change.at))
        db.run("DELETE FROM vault_index WHERE subject = ?", (subject,))
    db.many(
        f"INSERT INTO vault_holds ({_HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (h.id, h.subject, h.request, h.reason, h.placed_by, micros(h.placed_at))
            for h in change.holds
        ],
    )
    db.many("DELETE FROM vault_holds WHERE id = ?", [(i,) for i in change.release])


def _hold(row: Sequence[Any]) -> LegalHold:
    return LegalHold(row[0], row[1], row[2], row[3], row[4], from_micros(row[5]))


@attrs.define
class BulkRows:
    """The rows a bulk append buffers: entries, Merkle nodes and checkpoint notes."""

    entries: list[tuple[str, int, bytes]] = attrs.Factory(list)
    nodes: list[tuple[str, int, int, bytes]] = attrs.Factory(list)
    notes: list[tuple[str, int, str]] = attrs.Factory(list)


class SQLStoreBase(abc.ABC):
    """What both SQL stores share: the reads and the write path, written once.

    A backend provides `_db`, a context manager lending a `SQLExec` (inside the current
    snapshot if there is one), the node lookup `_find_nodes`, the write transaction
    `_append_transaction`, erasure (`_erase_key`, `_after_erasure`) and `_write_bulk`.
    """

    #: How many rows the paged reads (entries, checkpoints, requests) fetch per query.
    page = 1000
    #: How many checkpoint notes `iter_checkpoints` reads per query.
    checkpoint_page = 1000
    #: How many requests `requests` reads per query.
    request_page = 1000
    #: What a read-only open found missing (reported by `verify_store`, never rebuilt).
    missing_tables: tuple[str, ...] = ()

    #: Lock the request row while an append checks it (``FOR UPDATE``, PostgreSQL).
    _lock_rows = False

    @abc.abstractmethod
    def _db(self) -> contextlib.AbstractContextManager[SQLExec]:
        """Lend the statement runner, holding the connection."""

    @abc.abstractmethod
    def _append_transaction(
        self, ledger: str
    ) -> contextlib.AbstractContextManager[tuple[SQLExec, LedgerHead]]:
        """Open the write transaction of one append; lend it with the locked head."""

    @abc.abstractmethod
    def _erase_key(self, db: SQLExec, subject: str, at: int) -> None:
        """Destroy *subject*'s wrapped key inside the transaction *db*."""

    @abc.abstractmethod
    def _after_erasure(self) -> None:
        """Clean up after a committed erasure (old row images)."""

    @abc.abstractmethod
    def _write_bulk(self, db: SQLExec, rows: BulkRows) -> None:
        """Write the buffered entry and node rows of a bulk append (the base writes notes)."""

    def _flush_bulk(self, db: SQLExec, rows: BulkRows) -> None:
        """Write every buffered row of a bulk append, then empty the buffer."""
        self._write_bulk(db, rows)
        db.many("INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)", rows.notes)
        rows.entries.clear()
        rows.nodes.clear()
        rows.notes.clear()

    #: How many records `bulk_append` buffers before writing them.
    bulk_chunk = 10_000

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Append pre-encoded entries and checkpoint notes verbatim, in one transaction.

        Rows are written in chunks of `bulk_chunk` so memory stays flat however many
        records stream in; the transaction holds the ledger's lock until all are in.

        Raises:
            SequenceError: an entry or checkpoint does not continue this ledger.
            ChainError: an entry's ``prev`` does not link to the one before it.
        """
        with self._append_transaction(ledger) as (db, locked):
            bulk = BulkAppender(locked, ledger)
            rows = BulkRows()
            for record in records:
                if isinstance(record, bytes):
                    seq, made = bulk.entry(record)
                    rows.entries.append((ledger, seq, record))
                    rows.nodes.extend((ledger, n.level, n.index, n.hash) for n in made)
                else:
                    rows.notes.append((ledger, bulk.checkpoint(record), record))
                if len(rows.entries) + len(rows.notes) >= self.bulk_chunk:
                    self._flush_bulk(db, rows)
            self._flush_bulk(db, rows)
            head = bulk.head
            write_head(db, ledger, head)
        return head

    # -- the write path -------------------------------------------------------------------

    def append(
        self, ledger: str, body: Mapping[str, Any], **options: Unpack[AppendOptions]
    ) -> AppendResult:
        """Append an audit entry and write *request* in the same transaction.

        Raises:
            ConcurrentModificationError: the request changed since it was read, or the
                idempotency key was used already.
            StoreIntegrityError: the head or the request row disagrees with the log.
        """
        with self._append_transaction(ledger) as (db, head):
            return append_rows(db, ledger, head, body, lock_rows=self._lock_rows, **options)

    def append_with_vault(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        change: VaultChange,
        **options: Unpack[AppendOptions],
    ) -> AppendResult:
        """Append an audit entry, write *request* and apply *change* in one transaction.

        The vault change is written after the head lock, so two vault writers on one
        ledger cannot deadlock.

        Raises:
            ConcurrentModificationError: the request changed since it was read.
            StoreIntegrityError: the head or the request row disagrees with the log.
        """
        with self._append_transaction(ledger) as (db, head):

            def erase(subject: str, at: int) -> None:
                self._erase_key(db, subject, at)

            result = append_rows(
                db, ledger, head, body, lock_rows=self._lock_rows,
                before_write=lambda: apply_vault(db, change, erase=erase), **options,
            )  # fmt: skip
        if change.erase:
            self._after_erasure()
        return result

    @abc.abstractmethod
    def _find_nodes(
        self, db: SQLExec, ledger: str, wanted: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Return the stored ones of the *wanted* nodes of *ledger*, by (level, index)."""

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle node hashes of *ledger*, in the order asked.

        Raises:
            ProofError: a node is not stored.
        """
        wanted = list(dict.fromkeys(pairs))
        found: dict[tuple[int, int], bytes] = {}
        if wanted:
            with self._db() as db:
                found = self._find_nodes(db, ledger, wanted)
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

    def node_range(self, ledger: str, level: int, start: int, stop: int) -> dict[int, bytes]:
        """Return the stored Merkle nodes of *ledger* at *level*, *start* <= index < *stop*.

        One range scan of the primary key: `verify_store` compares every node this way
        (a range per level of each batch); for 20,000 entries the nodes are made and
        compared in 52 ms against 88 ms asking for them by name with `get_nodes`
        (docs/performance.md).

        Returns:
            index -> hash of the nodes stored in that range.
        """
        with self._db() as db:
            rows = db.all(
                "SELECT idx, hash FROM merkle_nodes WHERE ledger = ? AND level = ? "
                "AND idx >= ? AND idx < ?",
                (ledger, level, start, stop),
            )
        return {int(index): bytes(digest) for index, digest in rows}

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first row *sql* reads in a transaction of its own, or ``None``."""
        with self._db() as db:
            return db.one(sql, params)

    # -- metadata -------------------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the schema version of the open store."""
        row = self._one("SELECT value FROM meta WHERE key = 'schema_version'")
        return schema_number(row[0], repr(self)) if row else SCHEMA_VERSION

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level metadata value (e.g. a marker that this is a demo store)."""
        with self._db() as db:
            db.run(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_meta(self, key: str) -> str | None:
        """Return a store-level metadata value, or ``None``."""
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    # -- requests -------------------------------------------------------------------------

    def put_requests(self, records: Iterable[RequestRecord]) -> int:
        """Insert request rows as they are (a ledger moved here); return how many.

        Only for copying a ledger whose entries are already in this store and whose
        rows are not: the rows must agree with its log (`verify_store` checks that).
        """
        rows = [request_params(record) for record in records]
        with self._db() as db:
            db.many(_INSERT_REQUEST, rows)
        return len(rows)

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request with *request_id*, or ``None``."""
        row = self._one(f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return None if row is None else row_to_request(row)

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation.

        Read `request_page` at a time by keyset pagination on ``(created_at, id)``.
        """
        query = f"SELECT {REQUEST_COLUMNS} FROM requests WHERE (created_at, id) > (?, ?)"
        if ledger is not None:
            query += " AND ledger = ?"
        query += " ORDER BY created_at, id LIMIT ?"
        after: tuple[int, str] = (-_MAX_INT64, "")
        while True:
            page = self.request_page
            params: tuple[Any, ...] = after + ((ledger, page) if ledger is not None else (page,))
            with self._db() as db:
                rows = db.all(query, params)
            for row in rows:
                yield row_to_request(row)
            if len(rows) < page:
                return
            after = (int(rows[-1][12]), str(rows[-1][0]))

    def check_rows(self, columns: str) -> Iterator[tuple[Any, ...]]:
        """Yield every request row's *columns* (the first one ``id``), ordered by id."""
        after = ""
        while True:
            with self._db() as db:
                rows = db.all(
                    f"SELECT {columns} FROM requests WHERE id > ? ORDER BY id LIMIT ?",
                    (after, self.page),
                )
            yield from rows
            if len(rows) < self.page:
                return
            after = str(rows[-1][0])

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""
        query = (
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE next_due IS NOT NULL "
            "AND next_due <= ? ORDER BY next_due, id"
        )
        params: tuple[Any, ...] = (micros(now),)
        if limit is not None:
            query += " LIMIT ?"
            params += (limit,)
        with self._db() as db:
            rows = db.all(query, params)
        return [row_to_request(row) for row in rows]

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*."""
        with self._db() as db:
            rows = db.all(
                "SELECT assignee, SUM(1 - closed), COUNT(*) FROM requests "
                "WHERE unit = ? AND assignee IS NOT NULL GROUP BY assignee",
                (unit,),
            )
        return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""
        row = self._one("SELECT request_id, seq FROM idempotency WHERE key = ?", (key,))
        return None if row is None else (row[0], int(row[1]))

    # -- the log --------------------------------------------------------------------------

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note."""
        size = SignedCheckpoint.parse(note).checkpoint.size
        with self._db() as db:
            db.run(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (?, ?, ?)",
                (ledger, size, note),
            )

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to *stop*, streaming in pages."""
        position = start
        while stop is None or position < stop:
            upper = position + self.page if stop is None else min(stop, position + self.page)
            with self._db() as db:
                rows = db.all(
                    "SELECT seq, data FROM entries WHERE ledger = ? AND seq >= ? AND seq < ? "
                    "ORDER BY seq",
                    (ledger, position, upper),
                )
            if not rows:
                return
            for seq, data in rows:
                yield StoredEntry(ledger, int(seq), bytes(data))
            position = int(rows[-1][0]) + 1

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""
        with self._db() as db:
            return db.entry_data(ledger, seq)

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""
        return self.get_nodes(ledger, pairs)

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""
        return list(self.iter_checkpoints(ledger))

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``.

        Read `checkpoint_page` at a time by keyset pagination on ``(size, id)``.
        """
        upper = max_size if max_size is not None else _MAX_INT64
        after: tuple[int, int] = (min_size, -1)
        while True:
            page = self.checkpoint_page
            with self._db() as db:
                rows = db.all(
                    "SELECT size, id, note FROM checkpoints WHERE ledger = ? "
                    "AND (size, id) > (?, ?) AND size <= ? ORDER BY size, id LIMIT ?",
                    (ledger, after[0], after[1], upper, page),
                )
            for _, _, note in rows:
                yield str(note)
            if len(rows) < page:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""
        row = self._one(
            "SELECT note FROM checkpoints WHERE ledger = ? ORDER BY size DESC, id DESC LIMIT 1",
            (ledger,),
        )
        return None if row is None else str(row[0])

    def checkpoint_order_faults(self) -> list[tuple[str, str, str]]:
        """Return checkpoint rows stored twice or out of order (see `checkpoint_faults`)."""
        with self._db() as db:
            rows = db.all("SELECT ledger, id, size, note FROM checkpoints ORDER BY ledger, id")
        return checkpoint_order_faults(rows)

    def ledgers(self) -> list[str]:
        """Return the ids of the ledgers in this store, sorted."""
        with self._db() as db:
            rows = db.all("SELECT ledger FROM ledgers ORDER BY ledger")
        return [str(row[0]) for row in rows]

    def entry_ledgers(self) -> list[str]:
        """Return the ledgers that hold entries (with or without a head row), sorted."""
        with self._db() as db:
            rows = db.all("SELECT DISTINCT ledger FROM entries ORDER BY ledger")
        return [str(row[0]) for row in rows]

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger*."""
        with self._db() as db:
            return read_head(db, ledger)

    # -- the personal-data vault (`pelayanan.store.vault.VaultStore`) ----------------------

    def vault_key(self, subject: str) -> WrappedKey | None:
        """Return the wrapped key of *subject* (``None`` if unknown or erased)."""
        row = self._one(
            "SELECT kid, nonce, wrapped, created_at FROM vault "
            "WHERE subject = ? AND wrapped IS NOT NULL",
            (subject,),
        )
        if row is None:
            return None
        return WrappedKey(subject, row[0], bytes(row[1]), bytes(row[2]), from_micros(row[3]))

    def vault_subject(self, subject: str) -> SubjectRecord | None:
        """Return what the vault knows of *subject*, or ``None``."""
        row = self._one(
            "SELECT kid, created_at, erased_at FROM vault WHERE subject = ?", (subject,)
        )
        if row is None:
            return None
        erased = None if row[2] is None else from_micros(row[2])
        return SubjectRecord(subject, row[0], from_micros(row[1]), erased)

    def vault_subjects(self) -> list[str]:
        """Return every data-subject id (erased ones included), sorted."""
        with self._db() as db:
            rows = db.all("SELECT subject FROM vault ORDER BY subject")
        return [str(row[0]) for row in rows]

    def vault_find(self, tag: str) -> str | None:
        """Return the subject indexed under keyed *tag*, or ``None``."""
        row = self._one("SELECT subject FROM vault_index WHERE tag = ?", (tag,))
        return None if row is None else str(row[0])

    def vault_requests(self, subject: str) -> list[str]:
        """Return the ids of the requests that hold *subject*'s data, sorted."""
        with self._db() as db:
            rows = db.all(
                "SELECT request FROM vault_links WHERE subject = ? ORDER BY request", (subject,)
            )
        return [str(row[0]) for row in rows]

    def vault_holds(
        self, *, subject: str | None = None, requests: tuple[str, ...] = ()
    ) -> list[LegalHold]:
        """Return the active holds on *subject* or on any of *requests*."""
        found: list[LegalHold] = []
        with self._db() as db:
            if subject is not None:
                rows = db.all(
                    f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE subject = ? ORDER BY id",
                    (subject,),
                )
                found.extend(_hold(r) for r in rows)
            for request_id in requests:
                rows = db.all(
                    f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE request = ? ORDER BY id",
                    (request_id,),
                )
                found.extend(_hold(r) for r in rows)
        return found

    def vault_fingerprint(self, candidate: str | None) -> str | None:
        """Record *candidate* unless a fingerprint is recorded; return the recorded one.

        With ``None``, only read.  The first writer wins, so two processes binding
        different keys at once cannot both succeed.
        """
        with self._db() as db:
            if candidate is not None:
                db.run(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    (VAULT_FINGERPRINT_KEY, candidate),
                )
            row = db.one("SELECT value FROM meta WHERE key = ?", (VAULT_FINGERPRINT_KEY,))
        return None if row is None else str(row[0])

    def vault_hold(self, hold_id: str) -> LegalHold | None:
        """Return the active hold *hold_id*, or ``None``."""
        row = self._one(f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE id = ?", (hold_id,))
        return None if row is None else _hold(row)
