"""Helpers for the store tests: the PostgreSQL server fixture logic and test bodies.

PostgreSQL tests connect to ``PELAYANAN_TEST_POSTGRES`` (default: the server on this
machine, ``postgresql://postgres@127.0.0.1:5432/test``).  When it cannot be reached they
skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Generator
from typing import Any

import pytest

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.keys import SigningKey
from pelayanan.store.base import RequestRecord

PG_URL = os.environ.get("PELAYANAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def pg_connect_or_skip(url: str = PG_URL) -> Any:
    """Return an autocommit psycopg connection to the server at *url*, or skip / fail."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the test venv has psycopg
        reason = f"psycopg is not installed ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run under CI: {reason}")
        pytest.skip(reason)
    try:
        return psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        reason = f"no PostgreSQL server at {url}: {str(exc).strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run under CI (CI=true): {reason}")
        pytest.skip(reason)


def fresh_schema(conn: Any, prefix: str = "pelayanan_t") -> str:
    """Return a new unique schema name (not yet created)."""
    del conn
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def drop_schema(conn: Any, schema: str) -> None:
    """Drop *schema* and everything in it."""
    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_schema_url(schema: str, url: str = PG_URL) -> str:
    """Return *url* (the test server's by default) selecting *schema*."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}schema={schema}"


def pg_database(url: str = PG_URL) -> Generator[str, None, None]:
    """Yield a URL of a fresh schema on the server at *url*; drop the schema afterwards."""
    conn = pg_connect_or_skip(url)
    schema = fresh_schema(conn)
    try:
        yield pg_schema_url(schema, url)
    finally:
        drop_schema(conn, schema)
        conn.close()


def body(n: int, **extra: Any) -> dict[str, Any]:
    """Return a plain entry body number *n*."""
    return {"time": "2026-07-06T01:00:00.000000Z", "kind": "test", "n": n, **extra}


def signer(key: SigningKey) -> Any:
    """Return a checkpoint signer for *key*."""

    def sign(checkpoint: Checkpoint) -> SignedCheckpoint:
        return checkpoint.sign(key)

    return sign


def record(request_id: str = "REQ-1", *, version: int = 1, **changes: Any) -> RequestRecord:
    """Return a request record with every field set to a non-trivial value."""
    fields: dict[str, Any] = {
        "id": request_id,
        "ledger": "kota",
        "sop_id": "pengaduan-umum",
        "sop_version": "1.0.0",
        "sop_hash": "ab" * 32,
        "state": "received",
        "version": version,
        "data": {"subject": "Jalan rusak di Jl. Merdeka", "nested": {"n": [1, 2, 3]}, "é": "ü"},
        "meta": {"actors": {"submit": ["warga-1"]}, "big": 2**60},
        "created_at": T0,
        "updated_at": T0 + dt.timedelta(microseconds=123_457),
        "unit": "unit-pengaduan",
        "assignee": "ver-1",
        "next_due": T0 + dt.timedelta(days=3, microseconds=1),
        "closed": False,
    }
    fields.update(changes)
    return RequestRecord(**fields)


# -- the Citus rule: statements on ledger tables are keyed by the ledger -------------------

#: The tables distributed by ``ledger`` under Citus (docs/storage.md).
LEDGER_TABLES = frozenset({"ledgers", "entries", "checkpoints", "merkle_nodes", "requests"})

#: Reads that span ledgers by nature (Citus runs them on every shard and merges); each is
#: a plain SELECT, never a write, a lock or a join.
FAN_OUT_READS = (
    ("the ledger list", r"^SELECT ledger FROM ledgers( ORDER BY ledger)?$"),
    ("ledgers holding entries", r"^SELECT DISTINCT ledger FROM entries ORDER BY ledger$"),
    ("a request by id", r"^SELECT [\w, ]+ FROM requests WHERE id = %s$"),
    ("requests by creation", r"^SELECT [\w, ]+ FROM requests WHERE \(created_at, id\) > "),
    ("the row check", r"^SELECT [\w, ]+ FROM requests WHERE id > %s ORDER BY id LIMIT %s$"),
    ("due requests", r"^SELECT [\w, ]+ FROM requests WHERE next_due IS NOT NULL AND "),
    ("workloads", r"^SELECT assignee, SUM\(1 - closed\), COUNT\(\*\) FROM requests WHERE unit"),
    ("checkpoint order", r"^SELECT ledger, id, size, note FROM checkpoints ORDER BY ledger, id$"),
)

_TABLE_WORDS = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|COPY)\s+(\w+)", re.IGNORECASE)
_KEYED = re.compile(r"\b(?:\w+\.)?ledger = %s")
_COLUMNS_WITH_LEDGER = re.compile(r"^(?:INSERT INTO|COPY) \w+ \([^)]*\bledger\b[^)]*\)")


def ledger_key_fault(statement: str) -> str | None:
    """Return why *statement* breaks the Citus rule, or ``None`` if it keeps it.

    The rule: a statement touching a ledger table writes, locks or joins only rows of
    one ledger, named by ``ledger = %s`` (or, for an INSERT or a COPY, a ``ledger``
    column); an unkeyed SELECT must be one of `FAN_OUT_READS`.
    """
    text = " ".join(statement.split())
    tables = {name.lower() for name in _TABLE_WORDS.findall(text)} & LEDGER_TABLES
    if not tables or re.match(r"(CREATE|ALTER|DROP|VACUUM|SET)\b", text, re.IGNORECASE):
        return None
    if text.startswith(("INSERT", "COPY")):
        return None if _COLUMNS_WITH_LEDGER.match(text) else "inserts rows without the ledger"
    keyed = _KEYED.search(text) is not None
    if " JOIN " in f" {text.upper()} ":
        joined = [t for t in _TABLE_WORDS.findall(text) if t.lower() in LEDGER_TABLES]
        if len(joined) > 1:
            return "joins two ledger tables"
        return None if keyed else "joins without naming the ledger"
    if keyed:
        return None
    if not text.startswith("SELECT") or "FOR UPDATE" in text:
        return "writes or locks rows without naming the ledger"
    if any(re.search(pattern, text) for _, pattern in FAN_OUT_READS):
        return None
    return "reads across ledgers and is not a known fan-out read"
