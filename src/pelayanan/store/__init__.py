"""Storage: the `Store` protocol and its implementations.

`open_store` opens a store from a location string: a SQLite file path (the default
backend), ``":memory:"`` for a SQLite database in memory, ``memory://`` for the
pure-Python `MemoryStore`, or a ``postgresql://`` URL for `PostgresStore` (the
``postgres`` extra).  `import_export` loads a verified JSONL export into an empty store.
A ledger map file (``.toml``, ``.yaml``, ``.yml``, ``.json``) opens as a `MappedStore`,
each ledger in the store the map places it in (`pelayanan.store.ledger_map`).
See docs/storage.md.
"""

from __future__ import annotations

from pathlib import Path

from pelayanan.exceptions import StoreError
from pelayanan.store._check import StoreProblem, StoreReport, read_snapshot, verify_store
from pelayanan.store._witness import latest_checkpoint_note, store_consistency_proof
from pelayanan.store.base import SCHEMA_VERSION, AppendResult, LedgerHead, RequestRecord, Store
from pelayanan.store.ledger_map import LedgerMap, MappedStore, is_ledger_map, read_ledger_map
from pelayanan.store.memory import MemoryStore
from pelayanan.store.sqlite import SQLiteStore
from pelayanan.store.transfer import import_export, is_empty

__all__ = [
    "SCHEMA_VERSION",
    "AppendResult",
    "LedgerHead",
    "LedgerMap",
    "MappedStore",
    "MemoryStore",
    "RequestRecord",
    "SQLiteStore",
    "Store",
    "StoreProblem",
    "StoreReport",
    "import_export",
    "is_empty",
    "is_ledger_map",
    "is_url",
    "latest_checkpoint_note",
    "open_store",
    "read_ledger_map",
    "read_snapshot",
    "store_consistency_proof",
    "verify_store",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_url(location: str | Path) -> bool:
    """Return whether *location* names a server store (a URL) rather than a file."""
    return str(location).startswith((*_POSTGRES_SCHEMES, "memory://"))


def open_store(location: str | Path, *, read_only: bool = False) -> Store:
    """Open the store at *location*.

    Args:
        location: a SQLite file path, ``":memory:"``, ``"memory://"``, or a
            ``postgresql://user@host:port/db`` URL (``?schema=NAME`` picks a schema), or
            a ledger map file (``.toml``, ``.yaml``, ``.yml``, ``.json``).
        read_only: open for reading only: SQLite with ``mode=ro``, PostgreSQL with
            read-only transactions; nothing is created, migrated or repaired.

    Raises:
        StoreMissingError: *read_only* and no store exists there.
        StoreMigrationRequiredError: *read_only* and the store needs a migration.
        StoreError: the location cannot be opened as a pelayanan store, or it is a
            PostgreSQL URL and the ``postgres`` extra is not installed.
        SchemaVersionError: the store was written by a newer pelayanan.
        ConfigurationError: a ledger map file is wrong.
    """
    text = str(location)
    if is_ledger_map(text):
        return MappedStore(read_ledger_map(text), read_only=read_only)
    if text == "memory://":
        return MemoryStore()
    if text.startswith(_POSTGRES_SCHEMES):
        try:
            from pelayanan.store.postgres import PostgresStore  # noqa: PLC0415 - optional extra
        except ImportError as exc:
            msg = (
                f"PostgreSQL stores need the postgres extra ({exc.name} is missing): "
                "pip install 'pelayanan[postgres]'"
            )
            raise StoreError(msg) from None
        return PostgresStore(text, read_only=read_only)
    return SQLiteStore(text, read_only=read_only)
