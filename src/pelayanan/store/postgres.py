"""The PostgreSQL store: psycopg 3 with a connection pool, for deployments that scale out.

Every append is one transaction that locks its ledger's head row (``SELECT ... FOR
UPDATE``, after inserting the row with ``ON CONFLICT DO NOTHING`` for a new ledger), so
appends to one ledger are serialized across connections and processes and the chain
cannot fork, while appends to different ledgers proceed in parallel.  The request row is
checked against the expected version inside the same transaction.

Rows are stored exactly as in SQLite (instants as integer microseconds, JSON as text,
entries as bytes), so a record round-trips identically through either backend.
Needs the ``postgres`` extra (``psycopg[binary]``, ``psycopg-pool``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, StoredEntry
from pelayanan.audit.merkle import CompactRange
from pelayanan.exceptions import (
    ConcurrentModificationError,
    ProofError,
    SchemaVersionError,
    StoreError,
    StoreMigrationRequiredError,
)
from pelayanan.store._guard import checkpoint_order_faults
from pelayanan.store._replay import last_entries
from pelayanan.store._rows import (
    REQUEST_COLUMNS,
    REQUEST_PLACEHOLDERS,
    from_micros,
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
from pelayanan.store.vault import LegalHold, SubjectRecord, VaultChange, WrappedKey

__all__ = ["PostgresStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledgers (
    ledger TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    compact_range TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    ledger TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (ledger, seq)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger TEXT NOT NULL,
    size BIGINT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints (ledger, size, id);
CREATE TABLE IF NOT EXISTS merkle_nodes (
    ledger TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (ledger, level, idx)
);
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
    next_due BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed INTEGER NOT NULL,
    last_seq BIGINT,
    last_hash TEXT
);
CREATE INDEX IF NOT EXISTS requests_next_due ON requests (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at, id);
CREATE INDEX IF NOT EXISTS requests_by_assignee ON requests (unit, assignee)
    WHERE assignee IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_id TEXT,
    seq BIGINT NOT NULL
)
"""

# The personal-data vault (issue 9; see `pelayanan.store.vault`): same tables as SQLite.
_VAULT_SCHEMA = """
CREATE TABLE IF NOT EXISTS vault (
    subject TEXT PRIMARY KEY,
    kid TEXT NOT NULL,
    nonce BYTEA,
    wrapped BYTEA,
    created_at BIGINT NOT NULL,
    erased_at BIGINT
);
CREATE TABLE IF NOT EXISTS vault_index (tag TEXT PRIMARY KEY, subject TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vault_index_by_subject ON vault_index (subject);
CREATE TABLE IF NOT EXISTS vault_links (
    subject TEXT NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (subject, request)
);
CREATE TABLE IF NOT EXISTS vault_holds (
    id TEXT PRIMARY KEY,
    subject TEXT,
    request TEXT,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at BIGINT NOT NULL
)
"""
_HOLD_COLUMNS = "id, subject, request, reason, placed_by, placed_at"

_UPSERT_REQUEST = (
    f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES "
    f"({REQUEST_PLACEHOLDERS.replace('?', '%s')}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(
        f"{column.strip()} = excluded.{column.strip()}" for column in REQUEST_COLUMNS.split(",")[1:]
    )
)

_MAX_BIGINT = 2**63 - 1


def _split_schema(url: str) -> tuple[str, str | None]:
    """Remove a ``schema=NAME`` query parameter from *url*; return the rest and NAME."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    rest = urllib.parse.urlencode([(key, value) for key, value in query if key != "schema"])
    return urllib.parse.urlunsplit(parts._replace(query=rest)), schema


def _redact(url: str) -> str:
    """Return *url* without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostgresStore:
    """A `Store` in a PostgreSQL database (one schema of it), through a connection pool.

    Args:
        url: a ``postgresql://`` connection URL; a ``schema=NAME`` query parameter selects
            the schema (created if missing), as does *schema*.
        schema: the schema holding the tables (default: the server's search path,
            normally ``public``).
        min_size: connections the pool keeps open.
        max_size: the most connections the pool opens.
        timeout: seconds to wait for the server or for a free connection.

    Raises:
        StoreError: the server cannot be reached or the schema is not a pelayanan store.
        SchemaVersionError: the schema was written by a newer pelayanan.
    """

    #: How many rows the paged reads (entries, checkpoints, requests) fetch per query.
    page = 1000
    #: How many records `bulk_append` buffers before writing them.
    bulk_chunk = 10_000

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        conninfo, url_schema = _split_schema(url)
        self.url = _redact(url)
        self.read_only = read_only
        self.missing_tables: tuple[str, ...] = ()
        self._pinned: psycopg.Connection[Any] | None = None
        self._pinned_thread: int | None = None
        self.schema = schema if schema is not None else url_schema
        self.timeout = timeout
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"connect_timeout": max(1, int(timeout))},
            configure=self._configure,
            open=False,
        )
        try:
            # One direct attempt first: the pool would keep retrying until the timeout.
            psycopg.connect(conninfo, connect_timeout=max(1, int(timeout))).close()
            self._pool.open(wait=True, timeout=timeout)
        except psycopg.Error as exc:
            self._pool.close()
            msg = f"{self.url}: cannot connect to PostgreSQL ({exc})"
            raise StoreError(msg) from None
        try:
            if read_only:
                self._check_read_only()
            else:
                self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        where = f", schema={self.schema!r}" if self.schema else ""
        return f"PostgresStore({self.url!r}{where})"

    # -- connections ----------------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Point a new pooled connection at the store's schema (read-only if asked)."""
        if self.schema is not None:
            conn.execute(
                sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)),
            )
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")
        conn.commit()

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """Lend a connection for one transaction (commit on success, else roll back).

        Driver errors are turned into `StoreError` here, at the boundary.
        """
        pinned = self._pinned
        if pinned is not None and self._pinned_thread == threading.get_ident():
            try:
                yield pinned  # inside `snapshot`: its one transaction
            except psycopg.Error as exc:
                msg = f"{self.url}: {type(exc).__name__}: {str(exc).strip()}"
                raise StoreError(msg) from None
            return
        try:
            with self._pool.connection(timeout=self.timeout) as conn:
                yield conn
        except psycopg.Error as exc:
            msg = f"{self.url}: {type(exc).__name__}: {str(exc).strip()}"
            raise StoreError(msg) from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one consistent state: one ``REPEATABLE READ``, read-only transaction.

        Every read of this thread inside the block uses that transaction; writers go on
        committing and are not seen until the block ends.
        """
        if self._pinned is not None and self._pinned_thread == threading.get_ident():
            yield  # nested: the outer snapshot holds
            return
        try:
            with self._pool.connection(timeout=self.timeout) as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                self._pinned, self._pinned_thread = conn, threading.get_ident()
                try:
                    yield
                finally:
                    self._pinned, self._pinned_thread = None, None
                    conn.rollback()
                    conn.isolation_level = None
                    conn.read_only = None
        except psycopg.Error as exc:
            msg = f"{self.url}: {type(exc).__name__}: {str(exc).strip()}"
            raise StoreError(msg) from None

    # -- schema ---------------------------------------------------------------------------

    def _check_read_only(self) -> None:
        """Check the schema without writing: refuse a missing or unmigrated store.

        Raises:
            StoreError: the schema holds no pelayanan store.
            StoreMigrationRequiredError: the store needs a migration first.
        """
        with self._conn() as conn:
            found = self._found_version(conn)
            tables = {
                str(row[0])
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                ).fetchall()
            }
        if found is None:
            msg = f"{self.url}: no pelayanan store here (a read-only open creates nothing)"
            raise StoreError(msg)
        if found < SCHEMA_VERSION:
            msg = (
                f"{self.url} has schema version {found}; this pelayanan reads version "
                f"{SCHEMA_VERSION} and a read-only command does not migrate: run "
                "`pelayanan store migrate --db URL` first"
            )
            raise StoreMigrationRequiredError(msg)
        wanted = ("meta", "ledgers", "entries", "checkpoints", "merkle_nodes", "requests")
        self.missing_tables = tuple(t for t in (*wanted, "idempotency") if t not in tables)

    def _migrate(self) -> None:
        with self._conn() as conn:
            # One opener at a time creates or upgrades the tables.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('pelayanan:schema'))")
            if self.schema is not None:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            found = self._found_version(conn)
            if found is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement.encode())
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', %s)",
                    (str(SCHEMA_VERSION),),
                )
            elif found < 2:
                msg = f"{self.url}: schema version {found} is not a PostgreSQL layout"
                raise StoreError(msg)
            elif found < SCHEMA_VERSION:
                _migrate_2_to_3(conn)
                conn.execute(
                    "UPDATE meta SET value = %s WHERE key = 'schema_version'",
                    (str(SCHEMA_VERSION),),
                )
            for statement in _VAULT_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement.encode())

    def _found_version(self, conn: psycopg.Connection[Any]) -> int | None:
        tables = {
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchall()
        }
        if "meta" not in tables:
            if tables & {"entries", "ledgers", "requests"}:
                msg = f"{self.url}: the schema holds tables but is not a pelayanan store"
                raise StoreError(msg)
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            msg = f"{self.url}: the store records no schema version; it is damaged"
            raise StoreError(msg)
        found = int(row[0])
        if found > SCHEMA_VERSION:
            msg = (
                f"{self.url} was written by schema version {found}; this pelayanan reads "
                f"up to {SCHEMA_VERSION}: upgrade pelayanan"
            )
            raise SchemaVersionError(msg)
        return found

    def schema_version(self) -> int:
        """Return the schema version of the store."""
        with self._conn() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else SCHEMA_VERSION

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level metadata value."""
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_meta(self, key: str) -> str | None:
        """Return a store-level metadata value, or ``None``."""
        with self._conn() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- reads ----------------------------------------------------------------------------

    def get_request(self, request_id: str) -> RequestRecord | None:
        """Return the request with *request_id*, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = %s", (request_id,)
            ).fetchone()
        return None if row is None else row_to_request(row)

    def requests(self, *, ledger: str | None = None) -> Iterator[RequestRecord]:
        """Yield the stored requests (of one *ledger* if given), ordered by creation.

        Read `page` at a time by keyset pagination on ``(created_at, id)``.
        """
        query = f"SELECT {REQUEST_COLUMNS} FROM requests WHERE (created_at, id) > (%s, %s)"
        if ledger is not None:
            query += " AND ledger = %s"
        query += " ORDER BY created_at, id LIMIT %s"
        after: tuple[int, str] = (-_MAX_BIGINT, "")
        while True:
            params: tuple[Any, ...] = after
            params += (ledger, self.page) if ledger is not None else (self.page,)
            with self._conn() as conn:
                rows = conn.execute(query.encode(), params).fetchall()
            for row in rows:
                yield row_to_request(row)
            if len(rows) < self.page:
                return
            after = (int(rows[-1][12]), str(rows[-1][0]))

    def due_requests(self, now: dt.datetime, *, limit: int | None = None) -> list[RequestRecord]:
        """Return requests whose ``next_due`` is at or before *now*, earliest first."""
        query = (
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE next_due IS NOT NULL "
            "AND next_due <= %s ORDER BY next_due, id"
        )
        params: tuple[Any, ...] = (micros(now),)
        if limit is not None:
            query += " LIMIT %s"
            params += (limit,)
        with self._conn() as conn:
            rows = conn.execute(query.encode(), params).fetchall()
        return [row_to_request(row) for row in rows]

    def assignee_counts(self, unit: str) -> dict[str, tuple[int, int]]:
        """Return assignee -> (open requests, all requests) currently assigned in *unit*."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT assignee, SUM(1 - closed), COUNT(*) FROM requests "
                "WHERE unit = %s AND assignee IS NOT NULL GROUP BY assignee",
                (unit,),
            ).fetchall()
        return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}

    def idempotent_result(self, key: str) -> tuple[str | None, int] | None:
        """Return ``(request id, entry seq)`` recorded under idempotency *key*, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT request_id, seq FROM idempotency WHERE key = %s", (key,)
            ).fetchone()
        return None if row is None else (row[0], int(row[1]))

    def entries(
        self, ledger: str, start: int = 0, stop: int | None = None
    ) -> Iterator[StoredEntry]:
        """Yield the entries of *ledger* from *start* up to *stop*, streaming in pages."""
        position = start
        while stop is None or position < stop:
            upper = position + self.page if stop is None else min(stop, position + self.page)
            with self._conn() as conn:
                rows = conn.execute(
                    "SELECT seq, data FROM entries WHERE ledger = %s AND seq >= %s "
                    "AND seq < %s ORDER BY seq",
                    (ledger, position, upper),
                ).fetchall()
            if not rows:
                return
            for seq, data in rows:
                yield StoredEntry(ledger, int(seq), bytes(data))
            position = int(rows[-1][0]) + 1

    def checkpoints(self, ledger: str) -> list[str]:
        """Return the signed checkpoint notes of *ledger*, ordered by tree size."""
        return list(self.iter_checkpoints(ledger))

    def iter_checkpoints(
        self, ledger: str, *, min_size: int = 0, max_size: int | None = None
    ) -> Iterator[str]:
        """Yield the checkpoint notes of *ledger* with ``min_size <= size <= max_size``.

        Read `page` at a time by keyset pagination on ``(size, id)``.
        """
        upper = max_size if max_size is not None else _MAX_BIGINT
        after: tuple[int, int] = (min_size, -1)
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    "SELECT size, id, note FROM checkpoints WHERE ledger = %s "
                    "AND (size, id) > (%s, %s) AND size <= %s ORDER BY size, id LIMIT %s",
                    (ledger, after[0], after[1], upper, self.page),
                ).fetchall()
            for _, _, note in rows:
                yield str(note)
            if len(rows) < self.page:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    def latest_checkpoint(self, ledger: str) -> str | None:
        """Return the checkpoint note of *ledger* with the largest tree size, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT note FROM checkpoints WHERE ledger = %s "
                "ORDER BY size DESC, id DESC LIMIT 1",
                (ledger,),
            ).fetchone()
        return None if row is None else str(row[0])

    def get_nodes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return stored Merkle node hashes of *ledger*, in the order asked.

        Raises:
            ProofError: a node is not stored.
        """
        wanted = list(dict.fromkeys(pairs))
        found: dict[tuple[int, int], bytes] = {}
        if wanted:
            with self._conn() as conn:
                rows = conn.execute(
                    "SELECT m.level, m.idx, m.hash FROM unnest(%s::integer[], %s::bigint[]) "
                    "AS w(level, idx) JOIN merkle_nodes AS m "
                    "ON m.ledger = %s AND m.level = w.level AND m.idx = w.idx",
                    ([level for level, _ in wanted], [index for _, index in wanted], ledger),
                ).fetchall()
            found = {(int(level), int(index)): bytes(digest) for level, index, digest in rows}
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
        with self._conn() as conn:
            rows = conn.execute("SELECT ledger FROM ledgers ORDER BY ledger").fetchall()
        return [str(row[0]) for row in rows]

    def head(self, ledger: str) -> LedgerHead:
        """Return the current head of *ledger*."""
        with self._conn() as conn:
            return _read_head(conn, ledger, lock=False)

    # -- the personal-data vault (`pelayanan.store.vault.VaultStore`) ----------------------

    def vault_key(self, subject: str) -> WrappedKey | None:
        """Return the wrapped key of *subject* (``None`` if unknown or erased)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT kid, nonce, wrapped, created_at FROM vault "
                "WHERE subject = %s AND wrapped IS NOT NULL",
                (subject,),
            ).fetchone()
        if row is None:
            return None
        return WrappedKey(subject, row[0], bytes(row[1]), bytes(row[2]), from_micros(row[3]))

    def vault_subject(self, subject: str) -> SubjectRecord | None:
        """Return what the vault knows of *subject*, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT kid, created_at, erased_at FROM vault WHERE subject = %s", (subject,)
            ).fetchone()
        if row is None:
            return None
        erased = None if row[2] is None else from_micros(row[2])
        return SubjectRecord(subject, row[0], from_micros(row[1]), erased)

    def vault_subjects(self) -> list[str]:
        """Return every data-subject id (erased ones included), sorted."""
        with self._conn() as conn:
            rows = conn.execute("SELECT subject FROM vault ORDER BY subject").fetchall()
        return [str(row[0]) for row in rows]

    def vault_find(self, tag: str) -> str | None:
        """Return the subject indexed under keyed *tag*, or ``None``."""
        with self._conn() as conn:
            row = conn.execute("SELECT subject FROM vault_index WHERE tag = %s", (tag,)).fetchone()
        return None if row is None else str(row[0])

    def vault_requests(self, subject: str) -> list[str]:
        """Return the ids of the requests that hold *subject*'s data, sorted."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT request FROM vault_links WHERE subject = %s ORDER BY request", (subject,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def vault_holds(
        self, *, subject: str | None = None, requests: tuple[str, ...] = ()
    ) -> list[LegalHold]:
        """Return the active holds on *subject* or on any of *requests*."""
        found: list[LegalHold] = []
        with self._conn() as conn:
            if subject is not None:
                rows = conn.execute(
                    f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE subject = %s ORDER BY id",
                    (subject,),
                ).fetchall()
                found.extend(_hold_from_row(r) for r in rows)
            for request_id in requests:
                rows = conn.execute(
                    f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE request = %s ORDER BY id",
                    (request_id,),
                ).fetchall()
                found.extend(_hold_from_row(r) for r in rows)
        return found

    def vault_hold(self, hold_id: str) -> LegalHold | None:
        """Return the active hold *hold_id*, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {_HOLD_COLUMNS} FROM vault_holds WHERE id = %s", (hold_id,)
            ).fetchone()
        return None if row is None else _hold_from_row(row)

    # -- writes ---------------------------------------------------------------------------

    def add_checkpoint(self, ledger: str, note: str) -> None:
        """Store an extra signed checkpoint note."""
        size = SignedCheckpoint.parse(note).checkpoint.size
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (%s, %s, %s)",
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
        """Append an audit entry and write *request* in the same transaction.

        Raises:
            ConcurrentModificationError: the request changed since it was read, or the
                idempotency key was used already.
        """
        with self._conn() as conn:
            return self._append_in(
                conn,
                ledger,
                body,
                time=time,
                request=request,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
                sign=sign,
                change=None,
            )

    def append_with_vault(
        self,
        ledger: str,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        change: VaultChange,
        request: RequestRecord | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        sign: CheckpointSigner | None = None,
    ) -> AppendResult:
        """Append an audit entry, write *request* and apply *change* in one transaction.

        After an erasure the vault tables are vacuumed, so the deleted key rows do not
        linger as dead tuples (see docs/storage.md on what PostgreSQL keeps elsewhere).

        Raises:
            ConcurrentModificationError: the request changed since it was read.
        """
        with self._conn() as conn:
            result = self._append_in(
                conn,
                ledger,
                body,
                time=time,
                request=request,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
                sign=sign,
                change=change,
            )
        if change.erase:
            with self._conn() as conn:
                conn.autocommit = True
                try:
                    conn.execute("VACUUM vault, vault_index")
                finally:
                    conn.autocommit = False
        return result

    def _append_in(
        self,
        conn: psycopg.Connection[Any],
        ledger: str,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        request: RequestRecord | None,
        expected_version: int | None,
        idempotency_key: str | None,
        sign: CheckpointSigner | None,
        change: VaultChange | None,
    ) -> AppendResult:
        """Do one append inside the open transaction of *conn* (head locked first)."""
        head = _lock_head(conn, ledger)
        stored = None
        if request is not None:
            row = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM requests WHERE id = %s FOR UPDATE", (request.id,)
            ).fetchone()
            stored = None if row is None else row_to_request(row)
        check_version(request, stored, expected_version)
        if idempotency_key is not None:
            row = conn.execute(
                "SELECT 1 FROM idempotency WHERE key = %s", (idempotency_key,)
            ).fetchone()
            if row is not None:
                request_id = request.id if request is not None else "-"
                raise ConcurrentModificationError(request_id, expected_version or 0, None)
        prepared = prepare_append(
            head,
            ledger,
            body,
            time=time,
            sign=sign,
            request=request,
            stored=stored,
            reader=_ConnReader(conn),
        )
        if change is not None:
            # After the head lock, so two vault writers on one ledger cannot deadlock.
            _apply_vault(conn, change)
        conn.execute(
            "INSERT INTO entries (ledger, seq, data) VALUES (%s, %s, %s)",
            (ledger, head.size, prepared.data),
        )
        _write_head(conn, ledger, prepared.head)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO merkle_nodes (ledger, level, idx, hash) VALUES (%s, %s, %s, %s)",
                [(ledger, node.level, node.index, node.hash) for node in prepared.nodes],
            )
        if prepared.request is not None:
            conn.execute(_UPSERT_REQUEST.encode(), request_params(prepared.request))
        if idempotency_key is not None:
            inserted = conn.execute(
                "INSERT INTO idempotency (key, request_id, seq) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO NOTHING",
                (idempotency_key, request.id if request is not None else None, head.size),
            ).rowcount
            if inserted != 1:
                # Another ledger's append took the same key meanwhile.
                request_id = request.id if request is not None else "-"
                raise ConcurrentModificationError(request_id, expected_version or 0, None)
        if prepared.checkpoint is not None:
            conn.execute(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (%s, %s, %s)",
                (ledger, prepared.head.size, prepared.checkpoint.to_text()),
            )
        return prepared.result

    def bulk_append(self, ledger: str, records: Iterable[bytes | str]) -> LedgerHead:
        """Append pre-encoded entries and checkpoint notes verbatim, in one transaction.

        Raises:
            SequenceError: an entry or checkpoint does not continue this ledger.
            ChainError: an entry's ``prev`` does not link to the one before it.
        """
        with self._conn() as conn:
            bulk = BulkAppender(_lock_head(conn, ledger), ledger)
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
                    _write_bulk(conn, entries, nodes, notes)
            _write_bulk(conn, entries, nodes, notes)
            head = bulk.head
            _write_head(conn, ledger, head)
        return head

    def check_rows(self, columns: str) -> Iterator[tuple[Any, ...]]:
        """Yield every request row's *columns*, ordered by id, read in pages."""
        after = ""
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    f"SELECT {columns} FROM requests WHERE id > %s ORDER BY id LIMIT %s",
                    (after, 1000),
                ).fetchall()
            yield from rows
            if len(rows) < 1000:
                return
            after = str(rows[-1][0])

    def entry_ledgers(self) -> list[str]:
        """Return the ledgers that hold entries (with or without a head row), sorted."""
        with self._conn() as conn:
            rows = conn.execute("SELECT DISTINCT ledger FROM entries ORDER BY ledger").fetchall()
        return [str(row[0]) for row in rows]

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        """Return the bytes of entry *seq* of *ledger*, or ``None``."""
        with self._conn() as conn:
            return _ConnReader(conn).entry_data(ledger, seq)

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the stored Merkle nodes named by *pairs* (`ProofError` if one is missing)."""
        return self.get_nodes(ledger, pairs)

    def checkpoint_faults(self) -> list[tuple[str, str, str]]:
        """Return checkpoint rows stored twice or out of order.

        Identity values are taken outside transactions (appends to different ledgers
        commit in any order), so a gap in the ids proves nothing here and deleted rows
        are not looked for; SQLite, whose counter is transactional, does look.

        Returns:
            ``(table, key, what differs)`` per fault.
        """
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT ledger, id, size, note FROM checkpoints ORDER BY ledger, id"
            )
            return checkpoint_order_faults(rows)

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()


class _ConnReader:
    """Entries and nodes read on one connection (inside its open transaction)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def entry_data(self, ledger: str, seq: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT data FROM entries WHERE ledger = %s AND seq = %s", (ledger, seq)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def node_hashes(self, ledger: str, pairs: Sequence[tuple[int, int]]) -> list[bytes]:
        if not pairs:
            return []
        rows = self._conn.execute(
            "SELECT m.level, m.idx, m.hash FROM unnest(%s::integer[], %s::bigint[]) "
            "AS w(level, idx) JOIN merkle_nodes AS m "
            "ON m.ledger = %s AND m.level = w.level AND m.idx = w.idx",
            ([level for level, _ in pairs], [index for _, index in pairs], ledger),
        ).fetchall()
        found = {(int(level), int(index)): bytes(digest) for level, index, digest in rows}
        if any(pair not in found for pair in pairs):
            msg = f"a frontier node of ledger {ledger!r} is not stored"
            raise ProofError(msg)
        return [found[pair] for pair in pairs]


def _migrate_2_to_3(conn: psycopg.Connection[Any]) -> None:
    """Schema 2 -> 3: each request row names its last audit entry (filled from the log)."""
    conn.execute("ALTER TABLE requests ADD COLUMN IF NOT EXISTS last_seq BIGINT")
    conn.execute("ALTER TABLE requests ADD COLUMN IF NOT EXISTS last_hash TEXT")
    ledgers = [str(row[0]) for row in conn.execute("SELECT ledger FROM ledgers").fetchall()]
    for ledger in ledgers:
        rows = conn.execute(
            "SELECT seq, data FROM entries WHERE ledger = %s ORDER BY seq", (ledger,)
        ).fetchall()
        pointers = last_entries(ledger, ((int(seq), bytes(data)) for seq, data in rows))
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE requests SET last_seq = %s, last_hash = %s WHERE id = %s AND ledger = %s",
                [(seq, digest, rid, ledger) for rid, (seq, digest) in pointers.items()],
            )


def _hold_from_row(row: tuple[Any, ...]) -> LegalHold:
    return LegalHold(row[0], row[1], row[2], row[3], row[4], from_micros(row[5]))


def _apply_vault(conn: psycopg.Connection[Any], change: VaultChange) -> None:
    """Write *change* to the vault tables inside the open transaction (as SQLite does)."""
    with conn.cursor() as cur:
        if change.keys:
            cur.executemany(
                "INSERT INTO vault (subject, kid, nonce, wrapped, created_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(k.subject, k.kid, k.nonce, k.wrapped, micros(k.created_at)) for k in change.keys],
            )
        if change.index:
            cur.executemany(
                "INSERT INTO vault_index (tag, subject) VALUES (%s, %s) "
                "ON CONFLICT (tag) DO NOTHING",
                list(change.index),
            )
        if change.links:
            cur.executemany(
                "INSERT INTO vault_links (subject, request) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                list(change.links),
            )
        for subject in change.erase:
            cur.execute(
                "UPDATE vault SET nonce = NULL, wrapped = NULL, erased_at = %s WHERE subject = %s",
                (micros(change.at), subject),
            )
            cur.execute("DELETE FROM vault_index WHERE subject = %s", (subject,))
        if change.holds:
            cur.executemany(
                f"INSERT INTO vault_holds ({_HOLD_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (h.id, h.subject, h.request, h.reason, h.placed_by, micros(h.placed_at))
                    for h in change.holds
                ],
            )
        if change.release:
            cur.executemany("DELETE FROM vault_holds WHERE id = %s", [(i,) for i in change.release])


def _read_head(conn: psycopg.Connection[Any], ledger: str, *, lock: bool) -> LedgerHead:
    query = "SELECT size, last_hash, compact_range FROM ledgers WHERE ledger = %s"
    row = conn.execute((query + (" FOR UPDATE" if lock else "")).encode(), (ledger,)).fetchone()
    if row is None:
        return LedgerHead.empty()
    return LedgerHead(int(row[0]), str(row[1]), CompactRange.from_dict(json.loads(row[2])))


def _lock_head(conn: psycopg.Connection[Any], ledger: str) -> LedgerHead:
    """Lock *ledger*'s head row until the transaction ends (creating it when new)."""
    conn.execute(
        "INSERT INTO ledgers (ledger, size, last_hash, compact_range) VALUES (%s, 0, %s, %s) "
        "ON CONFLICT (ledger) DO NOTHING",
        (ledger, GENESIS_PREV, json.dumps(CompactRange().to_dict())),
    )
    return _read_head(conn, ledger, lock=True)


def _write_head(conn: psycopg.Connection[Any], ledger: str, head: LedgerHead) -> None:
    conn.execute(
        "UPDATE ledgers SET size = %s, last_hash = %s, compact_range = %s WHERE ledger = %s",
        (head.size, head.last_hash, json.dumps(head.range.to_dict()), ledger),
    )


def _write_bulk(
    conn: psycopg.Connection[Any],
    entries: list[tuple[str, int, bytes]],
    nodes: list[tuple[str, int, int, bytes]],
    notes: list[tuple[str, int, str]],
) -> None:
    """Write and clear the buffered rows of a bulk append."""
    with conn.cursor() as cur:
        if entries:
            with cur.copy("COPY entries (ledger, seq, data) FROM STDIN") as copy:
                for row in entries:
                    copy.write_row(row)
        if nodes:
            with cur.copy("COPY merkle_nodes (ledger, level, idx, hash) FROM STDIN") as copy:
                for node in nodes:
                    copy.write_row(node)
        if notes:
            cur.executemany(
                "INSERT INTO checkpoints (ledger, size, note) VALUES (%s, %s, %s)", notes
            )
    entries.clear()
    nodes.clear()
    notes.clear()
