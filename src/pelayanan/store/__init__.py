"""Storage: the `Store` protocol and its implementations.

`open_store` opens a store from a location string: a SQLite file path (the default
backend), ``":memory:"`` for a SQLite database in memory, or ``memory://`` for the
pure-Python `MemoryStore`.
"""

from __future__ import annotations

from pathlib import Path

from pelayanan.store.base import SCHEMA_VERSION, AppendResult, LedgerHead, RequestRecord, Store
from pelayanan.store.memory import MemoryStore
from pelayanan.store.sqlite import SQLiteStore

__all__ = [
    "SCHEMA_VERSION",
    "AppendResult",
    "LedgerHead",
    "MemoryStore",
    "RequestRecord",
    "SQLiteStore",
    "Store",
    "open_store",
]


def open_store(location: str | Path) -> Store:
    """Open the store at *location*.

    Args:
        location: a SQLite file path, ``":memory:"``, or ``"memory://"``.

    Raises:
        StoreError: the location cannot be opened as a pelayanan store.
    """
    text = str(location)
    if text == "memory://":
        return MemoryStore()
    return SQLiteStore(text)
