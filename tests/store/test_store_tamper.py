"""The tamper suite: changes made to a store behind pelayanan's back, and who catches them.

A demo store (the `pelayanan demo` desk workload) plus a second ledger is built once;
each case copies it, changes it with SQL or file operations, and runs
`pelayanan audit verify --db` three ways: alone (keys from the store's key folder), with
the ledger's public key given separately (``--trusted-key``), and with a checkpoint note
saved earlier (``--since NOTE``: what a witness will hand the auditor).  The counts are
printed; every case that touches the working tables or the head must be caught by
``verify --db`` alone.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from store_support import T0, signer

from pelayanan.audit.keys import generate_key_pair, load_private_key, write_key_pair
from pelayanan.audit.merkle import CompactRange, leaf_hash
from pelayanan.audit.witness import Witness
from pelayanan.cli import cli
from pelayanan.store import SQLiteStore, latest_checkpoint_note

MAIN = "pemkot-contoh"
SECOND = "kedua"

Tamper = Callable[[Path, Path], None]


def _sql(db: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement, params)
    conn.commit()
    conn.close()


def _one(db: Path, query: str, params: tuple[Any, ...] = ()) -> Any:
    conn = sqlite3.connect(db)
    row = conn.execute(query, params).fetchone()
    conn.close()
    return row


def _backup(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the demo store, an older copy, a second ledger and a saved checkpoint note."""
    root = tmp_path_factory.mktemp("tamper")
    db = root / "base.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "3"])
    assert result.exit_code == 0, result.output
    _backup(db, root / "old.db")
    key = load_private_key(Path(str(db) + ".keys") / "ledger-private.pem")
    store = SQLiteStore(db)
    for n in range(3):
        fields = {"time": "2026-07-27T01:00:00.000000Z", "kind": "note", "n": n}
        # Checkpoints are dated no earlier than the entries they cover.
        when = dt.datetime(2026, 7, 27, 1, 0, tzinfo=dt.UTC)
        store.append(MAIN, fields, time=when, sign=signer(key))
        store.append(SECOND, fields, time=when, sign=signer(key))
    note = store.latest_checkpoint(MAIN)
    # A witness run elsewhere saw and cosigned each ledger's latest checkpoint.
    witness = Witness.create(root / "witness", "saksi")
    for ledger in (MAIN, SECOND):
        witness.trust_ledger(ledger, key.verifier)
        witness.cosign(latest_checkpoint_note(store, ledger), [], now=T0)
    store.close()
    assert note is not None
    (root / "saved.note").write_text(note, encoding="utf-8")
    shutil.copy(Path(str(db) + ".keys") / "ledger-public.pem", root / "trusted.pem")
    return {"root": root, "db": db}


def _rechain(db: Path, key_path: Path, change_at: int, ledger: str = MAIN) -> None:
    """Rewrite entry *change_at* of *ledger*, re-chain, re-sign, fix the tables."""
    key = load_private_key(key_path)
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT seq, data FROM entries WHERE ledger = ? ORDER BY seq", (ledger,)
    ).fetchall()
    conn.execute("DELETE FROM entries WHERE ledger = ?", (ledger,))
    conn.execute("DELETE FROM checkpoints WHERE ledger = ?", (ledger,))
    conn.execute("DELETE FROM merkle_nodes WHERE ledger = ?", (ledger,))
    conn.execute("DELETE FROM ledgers WHERE ledger = ?", (ledger,))
    conn.commit()
    conn.close()
    store = SQLiteStore(db)
    hashes: dict[int, str] = {}
    for seq, data in rows:
        fields = json.loads(data)
        for name in ("v", "ledger", "seq", "prev"):
            fields.pop(name)
        if seq == change_at:
            fields["forged"] = True
        # A careful forger dates each checkpoint at its entry, never before it.
        when = dt.datetime.fromisoformat(fields["time"])
        result = store.append(ledger, fields, time=when, sign=signer(key))
        hashes[seq] = result.entry_hash.hex()
    store.close()
    conn = sqlite3.connect(db)
    conn.executemany(
        "UPDATE requests SET last_hash = ? WHERE last_seq = ? AND ledger = ?",
        [(digest, seq, ledger) for seq, digest in hashes.items()],
    )
    _renumber_checkpoints(conn)
    conn.commit()
    conn.close()


def _renumber_checkpoints(conn: sqlite3.Connection) -> None:
    """Renumber the checkpoint rows 1..n and reset their counter, hiding deletions."""
    conn.execute("CREATE TEMP TABLE kept AS SELECT ledger, size, note FROM checkpoints ORDER BY id")
    conn.execute("DELETE FROM checkpoints")
    conn.execute("UPDATE sqlite_sequence SET seq = 0 WHERE name = 'checkpoints'")
    conn.execute(
        "INSERT INTO checkpoints (ledger, size, note) SELECT ledger, size, note FROM kept "
        "ORDER BY rowid"
    )
    conn.execute("DROP TABLE kept")


def _edit_entry(db: Path, keys: Path) -> None:
    data = bytes(_one(db, "SELECT data FROM entries WHERE ledger = ? AND seq = 40", (MAIN,))[0])
    _sql(db, "UPDATE entries SET data = ? WHERE ledger = ? AND seq = 40",
         params=(data.replace(b'"time":"2026', b'"time":"2025'), MAIN))  # fmt: skip


def _delete_last(db: Path, keys: Path) -> None:
    _sql(db, "DELETE FROM entries WHERE ledger = ? AND seq >= "
         "(SELECT size - 3 FROM ledgers WHERE ledger = ?)", params=(MAIN, MAIN))  # fmt: skip


def _delete_last_with_checkpoint(db: Path, keys: Path) -> None:
    size = _one(db, "SELECT size FROM ledgers WHERE ledger = ?", (MAIN,))[0]
    _sql(db, "DELETE FROM entries WHERE ledger = ? AND seq = ?", params=(MAIN, size - 1))
    _sql(db, "DELETE FROM checkpoints WHERE ledger = ? AND size = ?", params=(MAIN, size))


def _truncate_and_fix_head(db: Path, keys: Path, cut: int = 3) -> None:
    size = _one(db, "SELECT size FROM ledgers WHERE ledger = ?", (MAIN,))[0]
    keep = size - cut
    _sql(db, "DELETE FROM entries WHERE ledger = ? AND seq >= ?", params=(MAIN, keep))
    _sql(db, "DELETE FROM checkpoints WHERE ledger = ? AND size > ?", params=(MAIN, keep))
    _sql(db, "DELETE FROM merkle_nodes WHERE ledger = ?", params=(MAIN,))
    conn = sqlite3.connect(db)
    tree = CompactRange()
    nodes = []
    last = ""
    for (data,) in conn.execute(
        "SELECT data FROM entries WHERE ledger = ? ORDER BY seq", (MAIN,)
    ).fetchall():
        digest = leaf_hash(bytes(data))
        nodes += [(MAIN, n.level, n.index, n.hash) for n in tree.append(digest)]
        last = digest.hex()
    conn.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?, ?)", nodes)
    conn.execute(
        "UPDATE ledgers SET size = ?, last_hash = ?, compact_range = ? WHERE ledger = ?",
        (keep, last, json.dumps(tree.to_dict()), MAIN),
    )
    # The sweep over the row ids a careful attacker would make.
    _renumber_checkpoints(conn)
    conn.commit()
    conn.close()


def _restore_older_copy(db: Path, keys: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(db.parent / "old.db", db)


def _rewrite_with_stolen_key(db: Path, keys: Path) -> None:
    _rechain(db, keys / "ledger-private.pem", 40)


def _replace_key_folder(db: Path, keys: Path) -> None:
    shutil.rmtree(keys)
    write_key_pair(generate_key_pair(), keys)
    (keys / "keyring.json").unlink(missing_ok=True)
    _rechain(db, keys / "ledger-private.pem", 40)
    _rechain(db, keys / "ledger-private.pem", -1, ledger=SECOND)  # re-signed, unchanged


def _delete_head_row(db: Path, keys: Path) -> None:
    _sql(db, "DELETE FROM ledgers WHERE ledger = ?", params=(MAIN,))


def _hide_second_ledger(db: Path, keys: Path) -> None:
    _sql(db, "DELETE FROM ledgers WHERE ledger = ?", params=(SECOND,))


def _first_request(db: Path) -> str:
    return str(_one(db, "SELECT id FROM requests WHERE meta LIKE '%verify%' ORDER BY id")[0])


def _change_state(db: Path, keys: Path) -> None:
    _sql(db, "UPDATE requests SET state = 'selesai' WHERE id = ?", params=(_first_request(db),))


def _clear_actors(db: Path, keys: Path) -> None:
    request_id = _first_request(db)
    meta = json.loads(_one(db, "SELECT meta FROM requests WHERE id = ?", (request_id,))[0])
    meta["actors"] = {}
    _sql(db, "UPDATE requests SET meta = ? WHERE id = ?", params=(json.dumps(meta), request_id))


def _change_assignee(db: Path, keys: Path) -> None:
    _sql(db, "UPDATE requests SET assignee = 'orang-lain' WHERE id = ?",
         params=(_first_request(db),))  # fmt: skip


def _corrupt_compact_range(db: Path, keys: Path) -> None:
    saved = json.loads(_one(db, "SELECT compact_range FROM ledgers WHERE ledger = ?", (MAIN,))[0])
    saved["hashes"][0] = "11" * 32
    _sql(db, "UPDATE ledgers SET compact_range = ? WHERE ledger = ?",
         params=(json.dumps(saved), MAIN))  # fmt: skip


def _corrupt_node(db: Path, keys: Path) -> None:
    _sql(db, "UPDATE merkle_nodes SET hash = ? WHERE ledger = ? AND level = 1 AND idx = 3",
         params=(b"\x11" * 32, MAIN))  # fmt: skip


def _delete_middle_checkpoint(db: Path, keys: Path) -> None:
    _sql(db, "DELETE FROM checkpoints WHERE ledger = ? AND size = 50", params=(MAIN,))


def _duplicate_checkpoint(db: Path, keys: Path) -> None:
    _sql(db, "INSERT INTO checkpoints (ledger, size, note) SELECT ledger, size, note "
         "FROM checkpoints WHERE ledger = ? AND size = 50", params=(MAIN,))  # fmt: skip


#: name -> (the change, whether it touches the working tables or the head).
CASES: dict[str, tuple[Tamper, bool]] = {
    "edit an entry": (_edit_entry, False),
    "delete the last 3 entries": (_delete_last, False),
    "delete the last entry and its checkpoint": (_delete_last_with_checkpoint, False),
    # Cutting only entries that changed no request leaves a store that agrees with itself:
    # only a checkpoint saved earlier (a witness) can tell.
    "truncate 3 plain entries and fix the head": (_truncate_and_fix_head, False),
    "truncate past request changes and fix the head": (
        lambda db, keys: _truncate_and_fix_head(db, keys, cut=12),
        True,
    ),
    "restore an older copy of the file": (_restore_older_copy, False),
    "rewrite and re-sign with the stolen ledger key": (_rewrite_with_stolen_key, False),
    "replace the key folder": (_replace_key_folder, False),
    "delete a head row": (_delete_head_row, True),
    "hide one of two ledgers": (_hide_second_ledger, True),
    "change a request's state": (_change_state, True),
    "clear a request's actors": (_clear_actors, True),
    "change a request's assignee": (_change_assignee, True),
    "corrupt the compact range": (_corrupt_compact_range, True),
    "corrupt a node": (_corrupt_node, True),
    "delete a middle checkpoint": (_delete_middle_checkpoint, True),
    "duplicate a checkpoint": (_duplicate_checkpoint, True),
}


def _witnessed(root: Path) -> tuple[str, ...]:
    """The verify options that rely on the witness: its state and its public key."""
    state = root / "witness"
    return (
        "--since",
        str(state / "witness.json"),
        "--witness-key",
        str(state / "witness-public.pem"),
    )


def _caught(db: Path, *extra: str) -> bool:
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 1


def _tampered(base: dict[str, Path], name: str, tmp_path: Path) -> Path:
    db = tmp_path / "t.db"
    _backup(base["db"], db)
    shutil.copytree(Path(str(base["db"]) + ".keys"), Path(str(db) + ".keys"))
    shutil.copy(base["root"] / "old.db", tmp_path / "old.db")
    CASES[name][0](db, Path(str(db) + ".keys"))
    return db


class TestTamperSuite:
    def test_the_untouched_store_verifies_every_way(self, base: dict[str, Path]) -> None:
        """The built store passes alone, with the trusted key and with the saved note."""
        root = base["root"]
        assert not _caught(base["db"])
        assert not _caught(base["db"], "--trusted-key", str(root / "trusted.pem"))
        assert not _caught(base["db"], "--since", str(root / "saved.note"))
        assert not _caught(base["db"], *_witnessed(root))

    def test_count_what_each_way_of_verifying_catches(
        self, base: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Print the counts; every case touching tables or the head is caught alone."""
        root = base["root"]
        alone = trusted = witness = cosigned = 0
        missed_alone: list[str] = []
        missed_cosigned: list[str] = []
        for name, (_, touches_tables) in CASES.items():
            db = _tampered(base, name, tmp_path_factory.mktemp("case"))
            by_alone = _caught(db)
            by_trusted = _caught(db, "--trusted-key", str(root / "trusted.pem"))
            # The witness hook: a checkpoint note saved before the change.
            by_witness = _caught(
                db, "--trusted-key", str(root / "trusted.pem"), "--since", str(root / "saved.note")
            )
            # A witness: its cosigned checkpoints, checked with its key alone.
            by_cosigned = _caught(db, *_witnessed(root))
            alone += by_alone
            trusted += by_trusted
            witness += by_witness
            cosigned += by_cosigned
            if not by_cosigned:
                missed_cosigned.append(name)
            if not by_alone:
                missed_alone.append(name)
            if touches_tables:
                assert by_alone, f"{name}: not caught by verify --db alone"
        print(
            f"\ntamper suite: {len(CASES)} changes; caught by verify --db alone: {alone}; "
            f"with a trusted key given separately: {trusted}; with the trusted key and a "
            f"saved checkpoint (--since, the witness hook): {witness}; with a witness "
            f"(cosigned checkpoints, --witness-key): {cosigned}; missed alone: "
            f"{', '.join(missed_alone)}; missed with a witness: {', '.join(missed_cosigned)}"
        )
        assert len(CASES) >= 15
        assert trusted > alone  # a key folder replaced along with the log
        assert witness == len(CASES)
        assert cosigned == len(CASES), missed_cosigned

    @pytest.mark.parametrize(
        ("name", "table"),
        [
            ("clear a request's actors", "store: requests "),
            ("change a request's state", "store: requests "),
            ("corrupt the compact range", f"store: ledgers {MAIN}: "),
            ("corrupt a node", "store: merkle_nodes "),
            ("hide one of two ledgers", f"store: ledgers {SECOND}: "),
            ("duplicate a checkpoint", "store: checkpoints "),
            ("delete a middle checkpoint", "store: checkpoints "),
        ],
    )
    def test_store_problems_name_table_and_key(
        self, base: dict[str, Path], tmp_path: Path, name: str, table: str
    ) -> None:
        """Each working-table disagreement prints `store: TABLE KEY: what` and exits 1."""
        db = _tampered(base, name, tmp_path)
        result = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
        assert result.exit_code == 1
        assert table in result.output, result.output
