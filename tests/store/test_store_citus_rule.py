"""The Citus rule checker itself: it flags what would not run on one shard."""

from __future__ import annotations

import pytest
from store_support import ledger_key_fault

from pelayanan.store._schema import schema_text


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT size, last_hash, compact_range FROM ledgers WHERE ledger = %s FOR UPDATE",
        "INSERT INTO entries (ledger, seq, data) VALUES (%s, %s, %s)",
        "COPY merkle_nodes (ledger, level, idx, hash) FROM STDIN",
        (
            "SELECT m.level, m.idx, m.hash FROM unnest(%s::integer[], %s::bigint[]) AS w(level, "
            "idx) JOIN merkle_nodes AS m ON m.ledger = %s AND m.level = w.level AND m.idx = w.idx"
        ),
        "SELECT ledger FROM ledgers ORDER BY ledger",
        "SELECT key FROM meta WHERE key = %s",
    ],
)
def test_keyed_statements_and_known_fan_out_reads_pass(statement: str) -> None:
    """Keyed statements, ledger-column inserts and listed fan-out reads keep the rule."""
    assert ledger_key_fault(statement) is None


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("UPDATE requests SET state = %s WHERE id = %s", "writes or locks"),
        ("SELECT data FROM requests WHERE id = %s FOR UPDATE", "writes or locks"),
        ("DELETE FROM entries WHERE seq > %s", "writes or locks"),
        ("INSERT INTO checkpoints (size, note) VALUES (%s, %s)", "without the ledger"),
        ("SELECT e.data FROM entries e JOIN requests r ON r.last_seq = e.seq", "two ledger"),
        ("SELECT * FROM entries AS e JOIN unnest(%s) AS w(seq) ON e.seq = w.seq", "joins without"),
        ("SELECT COUNT(*) FROM entries", "not a known fan-out read"),
    ],
)
def test_unkeyed_statements_are_flagged(statement: str, why: str) -> None:
    """A write, lock, insert or join without the ledger, or an unknown wide read, fails."""
    fault = ledger_key_fault(statement)
    assert fault is not None
    assert why in fault


def test_every_ledger_table_row_carries_its_ledger() -> None:
    """Each distributed table has a NOT NULL ledger column (the distribution column)."""
    statements = " ".join(schema_text("postgres"))
    for table in ("ledgers", "entries", "checkpoints", "merkle_nodes", "requests"):
        start = statements.index(f"CREATE TABLE IF NOT EXISTS {table} (")
        body = statements[start : statements.index(")", statements.index("ledger", start))]
        assert "ledger TEXT" in body, table
        assert "ledger TEXT NOT NULL" in body or "ledger TEXT PRIMARY KEY" in body, table
