"""The tables of the SQL stores: one schema text, in the words of each dialect.

SQLite and PostgreSQL read the same ``CREATE`` statements but for a few words (integer
and byte types, serial ids, index options), which `schema_text` fills in per dialect.
"""

from __future__ import annotations

# The one schema text; ``{int64}``, ``{blob}``, ``{serial}`` and ``{norowid}`` are the
# dialect's words (see `schema_text`).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledgers (
    ledger TEXT PRIMARY KEY,
    size {int64} NOT NULL,
    last_hash TEXT NOT NULL,
    compact_range TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    ledger TEXT NOT NULL,
    seq {int64} NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (ledger, seq)
){norowid};
CREATE TABLE IF NOT EXISTS checkpoints (
    id {serial},
    ledger TEXT NOT NULL,
    size {int64} NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_size ON checkpoints {checkpoint_index};
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
    next_due {int64},
    created_at {int64} NOT NULL,
    updated_at {int64} NOT NULL,
    closed INTEGER NOT NULL,
    last_seq {int64},
    last_hash TEXT
);
CREATE INDEX IF NOT EXISTS requests_next_due ON requests (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at, id);
CREATE INDEX IF NOT EXISTS requests_by_assignee ON requests (unit, assignee)
    WHERE assignee IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_id TEXT,
    seq {int64} NOT NULL
)
"""

# Merkle perfect-subtree hashes (level 0 = leaf hashes), written by each append so that
# proofs read O(log n) rows instead of every entry.
_NODES_SCHEMA = """
CREATE TABLE IF NOT EXISTS merkle_nodes (
    ledger TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx {int64} NOT NULL,
    hash {blob} NOT NULL,
    PRIMARY KEY (ledger, level, idx)
){norowid}
"""

# The personal-data vault (see `pelayanan.store.vault`).
_VAULT_SCHEMA = """
CREATE TABLE IF NOT EXISTS vault (
    subject TEXT PRIMARY KEY,
    kid TEXT NOT NULL,
    nonce {blob},
    wrapped {blob},
    created_at {int64} NOT NULL,
    erased_at {int64}
);
CREATE TABLE IF NOT EXISTS vault_index (tag TEXT PRIMARY KEY, subject TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vault_index_by_subject ON vault_index (subject);
CREATE TABLE IF NOT EXISTS vault_links (
    subject TEXT NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (subject, request)
){norowid};
CREATE TABLE IF NOT EXISTS vault_holds (
    id TEXT PRIMARY KEY,
    subject TEXT,
    request TEXT,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at {int64} NOT NULL
)
"""

_DIALECTS = {
    "sqlite": {
        "int64": "INTEGER",
        "blob": "BLOB",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "norowid": " WITHOUT ROWID",
        "checkpoint_index": "(ledger, size)",
    },
    "postgres": {
        "int64": "BIGINT",
        "blob": "BYTEA",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "norowid": "",
        "checkpoint_index": "(ledger, size, id)",
    },
}

#: The tables a store of the current schema holds (a read-only open checks them).
TABLES = ("meta", "ledgers", "entries", "checkpoints", "merkle_nodes", "requests", "idempotency")


def schema_text(dialect: str, *, vault: bool = False, nodes: bool = True) -> list[str]:
    """Return the schema's statements in *dialect* (``sqlite`` or ``postgres``).

    Args:
        dialect: the SQL dialect.
        vault: the vault tables instead of the store's own.
        nodes: include the Merkle node table (with the store's own tables).
    """
    words = _DIALECTS[dialect]
    texts = [_VAULT_SCHEMA] if vault else [_SCHEMA, *([_NODES_SCHEMA] if nodes else [])]
    statements = []
    for text in texts:
        statements += [s.format(**words) for s in text.split(";") if s.strip()]
    return statements
