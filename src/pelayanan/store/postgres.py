"""The PostgreSQL store: psycopg 3 with a connection pool, for deployments that scale out.

Every append is one transaction that locks its ledger's head row (``SELECT ... FOR
UPDATE``, after inserting the row with ``ON CONFLICT DO NOTHING`` for a new ledger), so
appends to one ledger are serialized across connections and processes and the chain
cannot fork, while appends to different ledgers proceed in parallel.  The request row is
checked against the expected version inside the same transaction.

Rows are stored exactly as in SQLite (instants as integer microseconds, JSON as text,
entries as bytes), so a record round-trips identically through either backend; the
statements, the reads and the append are shared with SQLite (`pelayanan.store._sql`),
and what is PostgreSQL's own is here: the pool, the head lock, snapshots, the node
lookup, the bulk copy, vacuuming after an erasure.
Needs the ``postgres`` extra (``psycopg[binary]``, ``psycopg-pool``).
"""

from __future__ import annotations

import contextlib
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from pelayanan.exceptions import (
    StoreError,
)
from pelayanan.store._replay import last_entries
from pelayanan.store._schema import schema_text
from pelayanan.store._sql import (
    BulkRows,
    SQLExec,
    SQLStoreBase,
    new_head_row,
    read_head,
    read_only_tables,
    stored_version,
)
from pelayanan.store.base import (
    SCHEMA_VERSION,
    LedgerHead,
)

__all__ = ["PostgresStore"]


def _split_schema(url: str) -> tuple[str, str | None]:
    """Remove a ``schema=NAME`` query parameter from *url*; return the rest and NAME."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    # libpq decodes %XX only (a "+" stays a plus), so spaces are written as %20.
    rest = urllib.parse.urlencode(
        [(key, value) for key, value in query if key != "schema"], quote_via=urllib.parse.quote
    )
    return urllib.parse.urlunsplit(parts._replace(query=rest)), schema


def _redact(url: str) -> str:
    """Return *url* without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(SQLStoreBase):
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

    @contextlib.contextmanager
    def _db(self) -> Iterator[SQLExec]:
        """Lend a statement runner on a connection (the snapshot's, inside one)."""
        with self._conn() as conn:
            yield SQLExec(conn, pyformat=True, finder=self._find_nodes)

    # -- schema ---------------------------------------------------------------------------

    def _check_read_only(self) -> None:
        """Check the schema without writing: refuse a missing or unmigrated store.

        Raises:
            StoreMissingError: the schema holds no pelayanan store.
            StoreMigrationRequiredError: the store needs a migration first.
        """
        with self._conn() as conn:
            found = self._found_version(conn)
            tables = _tables(conn)
        self.missing_tables = read_only_tables(self.url, found, tables, db="URL")

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
                for statement in schema_text("postgres"):
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
            for statement in schema_text("postgres", vault=True):
                conn.execute(statement.encode())

    def _found_version(self, conn: psycopg.Connection[Any]) -> int | None:
        # Other applications' tables may share the schema; only ours make it a store.
        ours = _tables(conn) & {"meta", "entries", "ledgers", "requests"}
        foreign = f"{self.url}: the schema holds tables but is not a pelayanan store"
        return stored_version(SQLExec(conn, pyformat=True), self.url, ours, foreign=foreign)

    # -- reads that are PostgreSQL's own --------------------------------------------------

    def _find_nodes(
        self, db: SQLExec, ledger: str, wanted: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Return the stored ones of the *wanted* nodes of *ledger*, by (level, index)."""
        rows = db.conn.execute(
            "SELECT m.level, m.idx, m.hash FROM unnest(%s::integer[], %s::bigint[]) "
            "AS w(level, idx) JOIN merkle_nodes AS m "
            "ON m.ledger = %s AND m.level = w.level AND m.idx = w.idx",
            ([level for level, _ in wanted], [index for _, index in wanted], ledger),
        ).fetchall()
        return {(int(level), int(index)): bytes(digest) for level, index, digest in rows}

    def checkpoint_faults(self) -> list[tuple[str, str, str]]:
        """Return checkpoint rows that were deleted, duplicated or reordered.

        Identity values are taken outside transactions (appends to different ledgers
        commit in any order), so a gap in the ids proves nothing here.  Deleted rows are
        found in the server's own statistics instead: pelayanan never deletes a
        checkpoint row, so any deletion the server counted for the table (``n_tup_del``)
        was made by someone else.  The server counts a deletion once the deleting session
        reports its statistics (at the latest when it ends), and an administrator who
        may reset statistics can hide it (as one who edits ``sqlite_sequence`` can on
        SQLite).

        Returns:
            ``(table, key, what differs)`` per fault.
        """
        with self._db() as db:
            row = db.one(
                "SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'checkpoints'::regclass"
            )
        deleted = 0 if row is None or row[0] is None else int(row[0])
        faults: list[tuple[str, str, str]] = []
        if deleted:
            what = (
                f"{deleted} rows were deleted (the server's statistics count them; "
                "pelayanan never deletes a checkpoint)"
            )
            faults.append(("checkpoints", "-", what))
        faults.extend(self.checkpoint_order_faults())
        return faults

    # -- writes ---------------------------------------------------------------------------

    #: Lock the request row while an append checks it (``FOR UPDATE``).
    _lock_rows = True

    @contextlib.contextmanager
    def _append_transaction(self, ledger: str) -> Iterator[tuple[SQLExec, LedgerHead]]:
        """Open a transaction and lock the ledger's head row in it (created when new)."""
        with self._conn() as conn:
            yield SQLExec(conn, pyformat=True, finder=self._find_nodes), _lock_head(conn, ledger)

    def _erase_key(self, db: SQLExec, subject: str, at: int) -> None:
        """Destroy *subject*'s wrapped key in place (the table is vacuumed afterwards)."""
        db.run(
            "UPDATE vault SET nonce = NULL, wrapped = NULL, erased_at = ? WHERE subject = ?",
            (at, subject),
        )

    def _after_erasure(self) -> None:
        # The deleted key rows must not linger as dead tuples (see docs/storage.md on what
        # PostgreSQL keeps elsewhere).
        with self._conn() as conn:
            conn.autocommit = True
            try:
                conn.execute("VACUUM vault, vault_index")
            finally:
                conn.autocommit = False

    def _write_bulk(self, db: SQLExec, rows: BulkRows) -> None:
        """Write the buffered entry and node rows of a bulk append with ``COPY``."""
        with db.conn.cursor() as cur:
            if rows.entries:
                with cur.copy("COPY entries (ledger, seq, data) FROM STDIN") as copy:
                    for row in rows.entries:
                        copy.write_row(row)
            if rows.nodes:
                with cur.copy("COPY merkle_nodes (ledger, level, idx, hash) FROM STDIN") as copy:
                    for node in rows.nodes:
                        copy.write_row(node)

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()


def _tables(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {str(row[0]) for row in rows}


def _lock_head(conn: psycopg.Connection[Any], ledger: str) -> LedgerHead:
    """Lock *ledger*'s head row until the transaction ends (creating it when new)."""
    db = SQLExec(conn, pyformat=True)
    new_head_row(db, ledger)
    return read_head(db, ledger, lock=True)


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
