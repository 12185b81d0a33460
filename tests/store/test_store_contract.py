"""The store contract: one abstract suite run against MemoryStore, SQLiteStore, PostgresStore.

`StoreContract` holds every test; the ``Test*`` subclasses only say where a store lives.
`ProcessContract` adds what needs several OS processes sharing one store (SQLite file,
PostgreSQL server): concurrent writers, versioned races and the SIGKILL crash test.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from store_support import T0, body, ledger_key_fault, pg_database, record, signer

from pelayanan.access import Actor
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.export import write_export
from pelayanan.audit.keys import SigningKey, generate_key_pair, write_key_pair
from pelayanan.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    inclusion_proof_from_nodes,
    root_hash,
)
from pelayanan.audit.verify import verify_ledger
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ChainError,
    ConcurrentModificationError,
    InvalidArgumentError,
    ProofError,
    SequenceError,
    StoreError,
    StoreNotEmptyError,
    VerificationError,
)
from pelayanan.sop import SOP
from pelayanan.store import (
    MemoryStore,
    Store,
    import_export,
    latest_checkpoint_note,
    open_store,
    store_consistency_proof,
)
from pelayanan.store.base import _APPEND_OPTIONS, AppendOptions, LedgerNodes
from pelayanan.store.vault import LegalHold, VaultChange, VaultStore, WrappedKey
from pelayanan.testing import FakeClock

HERE = Path(__file__).resolve().parent
WORKER = HERE / "store_worker.py"
SOP_FILE = HERE.parents[1] / "examples" / "sop" / "pengaduan.yaml"


def _verify(store: Store, ledger: str, key: SigningKey) -> int:
    """Verify *ledger* from the store with *key*; return its size."""
    report = verify_ledger(
        ledger,
        ((e.seq, e.data) for e in store.entries(ledger)),
        store.iter_checkpoints(ledger),
        [key.verifier],
        expected_size=store.head(ledger).size,
    )
    return report.size


def _fill(store: Store, key: SigningKey, n: int, ledger: str = "kota") -> None:
    for i in range(n):
        store.append(ledger, body(i), time=T0, sign=signer(key))


def _snapshot(store: Store, ledger: str = "kota") -> tuple[Any, ...]:
    """Everything observable about *ledger* and the requests, for all-or-nothing checks."""
    return (
        store.head(ledger),
        [e.data for e in store.entries(ledger)],
        store.checkpoints(ledger),
        list(store.requests()),
        store.ledgers(),
    )


def _shrink_pages(store: Store, size: int) -> None:
    """Make paged reads use tiny pages, so paging is exercised with few rows."""
    for name in ("page", "request_page", "checkpoint_page"):
        if hasattr(store, name):
            setattr(store, name, size)


class StoreContract:
    """Every `Store` must pass these tests (subclasses provide ``location``)."""

    @pytest.fixture
    def location(self) -> str:
        """Where the store under test lives (overridden by each backend)."""
        raise NotImplementedError

    @pytest.fixture
    def db(self, location: str) -> Iterator[Store]:
        """A fresh, empty store of the backend under test."""
        made = open_store(location)
        yield made
        made.close()

    def second_handle(self, db: Store, location: str) -> Store:
        """Return another handle on the same store (its own connection where there is one)."""
        return open_store(location)

    # -- the protocol, method by method --------------------------------------------------

    def test_empty_store_answers_every_read(self, db: Store) -> None:
        """A new store has no ledger, request, entry, checkpoint, node or key."""
        assert db.ledgers() == []
        assert db.head("kota").size == 0
        options = AppendOptions.__required_keys__ | AppendOptions.__optional_keys__
        assert options == _APPEND_OPTIONS
        assert db.get_request("REQ-1") is None
        assert list(db.requests()) == []
        assert db.due_requests(T0) == []
        assert db.assignee_counts("unit-pengaduan") == {}
        assert db.idempotent_result("k") is None
        assert list(db.entries("kota")) == []
        assert db.checkpoints("kota") == []
        assert list(db.iter_checkpoints("kota")) == []
        assert db.latest_checkpoint("kota") is None
        with pytest.raises(ProofError):
            db.get_nodes("kota", [(0, 0)])

    def test_append_commits_entry_head_nodes_and_checkpoint(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """Each append adds the next entry, advances the head and stores a signed checkpoint."""
        results = [db.append("kota", body(i), time=T0, sign=signer(ledger_key)) for i in range(7)]
        assert [r.seq for r in results] == list(range(7))
        leaves = [e.data for e in db.entries("kota")]
        assert len(leaves) == 7
        assert results[-1].root == root_hash(leaves) == db.head("kota").range.root()
        assert db.head("kota").last_hash == results[-1].entry_hash.hex()
        assert json.loads(leaves[3])["prev"] == results[2].entry_hash.hex()
        sizes = [SignedCheckpoint.parse(n).checkpoint.size for n in db.checkpoints("kota")]
        assert sizes == list(range(1, 8))
        assert _verify(db, "kota", ledger_key) == 7
        assert db.ledgers() == ["kota"]

    def test_append_without_signer_stores_no_checkpoint(self, db: Store) -> None:
        """Without a signer the entry is stored and no checkpoint is made."""
        result = db.append("kota", body(0), time=T0)
        assert result.checkpoint is None
        assert db.checkpoints("kota") == []
        assert db.head("kota").size == 1

    def test_append_refuses_an_unknown_option_and_stores_nothing(self, db: Store) -> None:
        """A misspelt keyword is a typed error on every store, and nothing is appended."""
        with pytest.raises(InvalidArgumentError):
            db.append("kota", body(0), time=T0, idempotency="k")  # type: ignore[call-arg]
        assert db.head("kota").size == 0

    def test_request_round_trips_exactly(self, db: Store) -> None:
        """A request comes back equal: JSON, unicode, big ints, microseconds, UTC instants."""
        rec = record()
        db.append("kota", body(0), time=T0, request=rec)
        assert db.get_request("REQ-1") == rec
        stored = db.get_request("REQ-1")
        assert stored is not None
        assert stored.next_due is not None
        assert stored.next_due.utcoffset() is not None
        assert stored.meta["big"] == 2**60

    def test_requests_are_ordered_by_creation_and_filtered_by_ledger(self, db: Store) -> None:
        """`requests` yields by (created_at, id) across pages, optionally of one ledger."""
        _shrink_pages(db, 2)
        made = []
        for i in range(7):
            ledger = "kota" if i % 2 else "kab"
            rec = record(
                f"REQ-{i}",
                ledger=ledger,
                created_at=T0 + dt.timedelta(seconds=10 - i // 2),
                next_due=None,
            )
            db.append(ledger, body(i), time=T0, request=rec)
            made.append(rec)
        expected = sorted(made, key=lambda r: (r.created_at, r.id))
        assert list(db.requests()) == expected
        assert list(db.requests(ledger="kota")) == [r for r in expected if r.ledger == "kota"]

    def test_due_requests_are_earliest_first_and_limited(self, db: Store) -> None:
        """`due_requests` returns those due at or before now, earliest first, up to limit."""
        for i, hours in enumerate([5, 1, 3, 9, 2]):
            rec = record(f"REQ-{i}", next_due=T0 + dt.timedelta(seconds=hours * 3600))
            db.append("kota", body(i), time=T0, request=rec)
        db.append("kota", body(9), time=T0, request=record("REQ-X", next_due=None))
        due = db.due_requests(T0 + dt.timedelta(seconds=3 * 3600))
        assert [r.id for r in due] == ["REQ-1", "REQ-4", "REQ-2"]
        assert [r.id for r in db.due_requests(T0 + dt.timedelta(seconds=10**6), limit=2)] == [
            "REQ-1",
            "REQ-4",
        ]

    def test_assignee_counts_counts_open_and_all_per_assignee(self, db: Store) -> None:
        """`assignee_counts` gives (open, total) per assignee of one unit."""
        db.append("kota", body(0), time=T0, request=record("A", assignee="x"))
        db.append("kota", body(1), time=T0, request=record("B", assignee="x", closed=True))
        db.append("kota", body(2), time=T0, request=record("C", assignee="y"))
        db.append("kota", body(3), time=T0, request=record("D", assignee=None))
        db.append("kota", body(4), time=T0, request=record("E", assignee="x", unit="lain"))
        assert db.assignee_counts("unit-pengaduan") == {"x": (1, 2), "y": (1, 1)}

    def test_entries_yield_a_range_across_pages(self, db: Store, ledger_key: SigningKey) -> None:
        """`entries` yields [start, stop) in order, however the backend pages its reads."""
        _shrink_pages(db, 3)
        _fill(db, ledger_key, 11)
        assert [e.seq for e in db.entries("kota", 4, 9)] == [4, 5, 6, 7, 8]
        assert [e.seq for e in db.entries("kota", 9)] == [9, 10]
        assert list(db.entries("kota", 11)) == []
        assert [e.seq for e in db.entries("kota")] == list(range(11))

    def test_checkpoints_are_bounded_ordered_and_extra_notes_kept(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """Checkpoint reads honour min/max size; an added note is kept; latest is the largest."""
        _shrink_pages(db, 2)
        _fill(db, ledger_key, 6)
        extra = SignedCheckpoint.parse(db.checkpoints("kota")[2]).checkpoint.sign(ledger_key)
        db.add_checkpoint("kota", extra.to_text())
        sizes = [SignedCheckpoint.parse(n).checkpoint.size for n in db.checkpoints("kota")]
        assert sizes == [1, 2, 3, 3, 4, 5, 6]
        bounded = db.iter_checkpoints("kota", min_size=3, max_size=4)
        assert [SignedCheckpoint.parse(n).checkpoint.size for n in bounded] == [3, 3, 4]
        latest = db.latest_checkpoint("kota")
        assert latest is not None
        assert SignedCheckpoint.parse(latest).checkpoint.size == 6

    def test_stored_nodes_give_the_same_proofs_as_the_leaves(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """Proofs from `get_nodes` equal proofs computed from all leaves; missing nodes raise."""
        _fill(db, ledger_key, 13)
        leaves = [e.data for e in db.entries("kota")]
        for index in (0, 6, 12):
            got = inclusion_proof_from_nodes(LedgerNodes(db, "kota"), index, 13)
            assert got == inclusion_proof(leaves, index, 13)
        with pytest.raises(ProofError, match="not stored"):
            db.get_nodes("kota", [(0, 13)])

    def test_witness_reads_checkpoint_and_consistency_proof(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """The latest note and a consistency proof come out of every backend alike."""
        _fill(db, ledger_key, 13)
        leaves = [e.data for e in db.entries("kota")]
        note = latest_checkpoint_note(db, "kota")
        assert SignedCheckpoint.parse(note).checkpoint.size == 13
        proof = store_consistency_proof(db, 5, None, "kota")
        assert list(proof.hashes) == consistency_proof(leaves, 5, 13)

    # -- atomicity ----------------------------------------------------------------------

    def test_version_conflict_writes_nothing(self, db: Store, ledger_key: SigningKey) -> None:
        """A stale expected version raises and leaves no entry, node, checkpoint or change."""
        db.append("kota", body(0), time=T0, request=record(), sign=signer(ledger_key))
        before = _snapshot(db)
        stale = record(version=3, state="verified")
        with pytest.raises(ConcurrentModificationError) as caught:
            db.append(
                "kota",
                body(1),
                time=T0,
                request=stale,
                expected_version=2,
                idempotency_key="k1",
                sign=signer(ledger_key),
            )
        assert caught.value.actual == 1
        with pytest.raises(ConcurrentModificationError):
            db.append("kota", body(1), time=T0, request=record(), expected_version=None)
        assert _snapshot(db) == before
        assert db.idempotent_result("k1") is None
        with pytest.raises(ProofError):
            db.get_nodes("kota", [(0, 1)])

    def test_failing_signer_writes_nothing(self, db: Store, ledger_key: SigningKey) -> None:
        """If signing the checkpoint fails, the entry, request and key are not written."""
        _fill(db, ledger_key, 2)
        before = _snapshot(db)

        def broken(_: Any) -> SignedCheckpoint:
            raise RuntimeError("HSM unavailable")

        with pytest.raises(RuntimeError, match="HSM"):
            db.append("kota", body(2), time=T0, request=record(), idempotency_key="k", sign=broken)
        assert _snapshot(db) == before
        assert db.get_request("REQ-1") is None
        assert db.idempotent_result("k") is None
        with pytest.raises(ProofError):
            db.get_nodes("kota", [(0, 2)])
        assert db.append("kota", body(2), time=T0, sign=signer(ledger_key)).seq == 2
        assert _verify(db, "kota", ledger_key) == 3

    # -- idempotency ----------------------------------------------------------------------

    def test_idempotency_key_is_recorded_and_not_reused(self, db: Store) -> None:
        """A key remembers (request, seq); a second append with it is refused, unwritten."""
        db.append("kota", body(0), time=T0)
        db.append("kota", body(1), time=T0, request=record(), idempotency_key="submit-1")
        assert db.idempotent_result("submit-1") == ("REQ-1", 1)
        db.append("kota", body(2), time=T0, idempotency_key="refusal-1")
        assert db.idempotent_result("refusal-1") == (None, 2)
        before = _snapshot(db)
        with pytest.raises(ConcurrentModificationError):
            db.append("kota", body(3), time=T0, idempotency_key="submit-1")
        assert _snapshot(db) == before

    def test_desk_retry_with_the_same_key_applies_once(
        self, db: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """Through the desk, a retried submit and act return the first result, applied once."""
        desk = ServiceDesk(db, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
        citizen = Actor("warga-1", {"citizen"})
        verifier = Actor("ver-1", {"verifier"}, "unit-pengaduan")
        data = {"subject": "lampu jalan mati", "category": "infrastruktur"}
        first = desk.submit("pengaduan-umum", actor=citizen, data=data, idempotency_key="s")
        again = desk.submit("pengaduan-umum", actor=citizen, data=data, idempotency_key="s")
        assert again.replayed
        assert (again.seq, again.entry_hash) == (first.seq, first.entry_hash)
        acted = desk.act(first.request.id, "verify", actor=verifier, idempotency_key="v")
        retry = desk.act(first.request.id, "verify", actor=verifier, idempotency_key="v")
        assert retry.replayed
        assert (retry.seq, retry.request.version) == (acted.seq, acted.request.version)
        assert db.head("default").size == 2
        assert [r.id for r in db.requests()] == [first.request.id]

    def test_concurrent_retries_with_one_key_apply_once(
        self,
        db: Store,
        location: str,
        complaint_sop: SOP,
        ledger_key: SigningKey,
        clock: FakeClock,
    ) -> None:
        """Two desks submitting with the same key at once: one entry, both get its result."""
        handles = [db, self.second_handle(db, location)]
        desks = [
            ServiceDesk(h, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
            for h in handles
        ]
        citizen = Actor("warga-1", {"citizen"})
        data = {"subject": "banjir", "category": "infrastruktur"}
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def submit(desk: ServiceDesk) -> None:
            barrier.wait()
            results.append(
                desk.submit("pengaduan-umum", actor=citizen, data=data, idempotency_key="same")
            )

        threads = [threading.Thread(target=submit, args=(d,)) for d in desks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if handles[1] is not db:
            handles[1].close()
        assert len(results) == 2
        assert {(r.seq, r.entry_hash, r.request.id) for r in results} == {
            (results[0].seq, results[0].entry_hash, results[0].request.id)
        }
        assert db.head("default").size == 1

    # -- the personal-data vault (pelayanan.store.vault) ---------------------------------

    def test_vault_changes_commit_with_their_entry(self, db: Store) -> None:
        """Keys, index, links and holds are written with the entry; erasure keeps a tombstone."""
        assert isinstance(db, VaultStore)
        key = WrappedKey("subj-1", "kid-1", b"\x00" * 12, b"\x01" * 48, T0)
        hold = LegalHold("hold-1", "subj-1", None, "perkara 12/2026", "kepala-1", T0)
        change = VaultChange(
            T0,
            keys=(key,),
            index=(("tag-a", "subj-1"),),
            links=(("subj-1", "REQ-1"),),
            holds=(hold, attrs.evolve(hold, id="hold-2", subject=None, request="REQ-1")),
        )
        db.append_with_vault("kota", body(0), time=T0, change=change, request=record())
        assert db.vault_key("subj-1") == key
        assert db.vault_find("tag-a") == "subj-1"
        assert db.vault_find("tag-b") is None
        assert db.vault_requests("subj-1") == ["REQ-1"]
        assert db.vault_subjects() == ["subj-1"]
        assert [h.id for h in db.vault_holds(subject="subj-1", requests=("REQ-1",))] == [
            "hold-1",
            "hold-2",
        ]
        assert db.vault_hold("hold-1") == hold
        later = T0 + dt.timedelta(days=1)
        db.append_with_vault(
            "kota",
            body(1),
            time=later,
            change=VaultChange(later, erase=("subj-1",), release=("hold-1", "hold-2")),
        )
        assert db.vault_key("subj-1") is None
        assert db.vault_find("tag-a") is None
        subject = db.vault_subject("subj-1")
        assert subject is not None
        assert (subject.kid, subject.erased_at) == ("kid-1", later)
        assert db.vault_hold("hold-1") is None
        assert db.vault_subject("nobody") is None
        assert db.head("kota").size == 2

    def test_vault_change_is_not_applied_when_the_append_fails(self, db: Store) -> None:
        """A version conflict leaves the vault untouched along with the log."""
        assert isinstance(db, VaultStore)
        db.append("kota", body(0), time=T0, request=record())
        key = WrappedKey("subj-2", "kid-2", b"\x02" * 12, b"\x03" * 48, T0)
        with pytest.raises(ConcurrentModificationError):
            db.append_with_vault(
                "kota",
                body(1),
                time=T0,
                change=VaultChange(T0, keys=(key,), index=(("tag", "subj-2"),)),
                request=record(version=2),
                expected_version=5,
            )
        assert db.vault_key("subj-2") is None
        assert db.vault_subjects() == []
        assert db.vault_find("tag") is None
        assert db.head("kota").size == 1

    # -- ledgers as partitions ---------------------------------------------------------

    def test_two_ledgers_are_independent_chains(self, db: Store, ledger_key: SigningKey) -> None:
        """Interleaved appends to two ledgers make two chains, each numbered and verified alone."""
        for i in range(6):
            db.append("kota-bandung", body(i), time=T0, sign=signer(ledger_key))
            if i % 2:
                db.append("kab-bogor", body(i), time=T0, sign=signer(ledger_key))
        assert db.ledgers() == ["kab-bogor", "kota-bandung"]
        assert _verify(db, "kota-bandung", ledger_key) == 6
        assert _verify(db, "kab-bogor", ledger_key) == 3
        first = [json.loads(e.data) for e in db.entries("kab-bogor")]
        assert [e["seq"] for e in first] == [0, 1, 2]
        assert {e["ledger"] for e in first} == {"kab-bogor"}
        assert first[0]["prev"] == "0" * 64
        assert db.head("kab-bogor").range.root() != db.head("kota-bandung").range.root()

    # -- bulk path, export and import ----------------------------------------------------

    def test_bulk_append_copies_verbatim_and_refuses_a_fork(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """`bulk_append` loads entries and notes as given; a record off the chain loads nothing."""
        source = MemoryStore()
        _fill(source, ledger_key, 9)
        records: list[bytes | str] = []
        for entry in source.entries("kota"):
            records.append(entry.data)
            records.append(source.checkpoints("kota")[entry.seq])
        head = db.bulk_append("kota", records[:10])
        assert head.size == 5
        forked = [records[12], records[10]]  # seq 6 before seq 5
        with pytest.raises(SequenceError):
            db.bulk_append("kota", forked)
        assert db.head("kota").size == 5
        with pytest.raises(ChainError):
            db.bulk_append("kota", [source_entry_with_prev(records[10], "ff" * 32)])
        assert db.head("kota").size == 5
        db.bulk_append("kota", records[10:])
        assert db.head("kota") == source.head("kota")
        assert _verify(db, "kota", ledger_key) == 9
        assert db.checkpoints("kota") == source.checkpoints("kota")
        assert db.get_nodes("kota", [(3, 0)]) == source.get_nodes("kota", [(3, 0)])

    def test_export_import_round_trip(
        self, db: Store, ledger_key: SigningKey, tmp_path: Path
    ) -> None:
        """An export imports into an empty store and exports again byte for byte."""
        source = MemoryStore()
        _fill(source, ledger_key, 12, ledger="kota")
        _fill(source, ledger_key, 5, ledger="kab")
        source.add_checkpoint(
            "kota", SignedCheckpoint.parse(source.checkpoints("kota")[4]).to_text()
        )
        path = tmp_path / "log.jsonl"
        with path.open("wb") as out:
            write_export(source, out, all_checkpoints=True)
        reports = import_export(db, path, [ledger_key.verifier])
        assert [(r.ledger, r.size) for r in reports] == [("kab", 5), ("kota", 12)]
        assert db.checkpoints("kota") == source.checkpoints("kota")
        again = io.BytesIO()
        write_export(db, again, all_checkpoints=True)
        assert again.getvalue() == path.read_bytes()
        assert db.head("kota") == source.head("kota")
        leaves = [e.data for e in db.entries("kota")]
        proof = inclusion_proof_from_nodes(LedgerNodes(db, "kota"), 7, 12)
        assert proof == inclusion_proof(leaves, 7, 12)

    def test_import_refuses_a_store_with_data(
        self, db: Store, ledger_key: SigningKey, tmp_path: Path
    ) -> None:
        """Import into a store that holds a ledger raises StoreNotEmptyError, writing nothing."""
        source = MemoryStore()
        _fill(source, ledger_key, 3)
        path = tmp_path / "log.jsonl"
        with path.open("wb") as out:
            write_export(source, out)
        _fill(db, ledger_key, 1, ledger="lain")
        before = _snapshot(db, "lain")
        with pytest.raises(StoreNotEmptyError, match="empty store"):
            import_export(db, path, [ledger_key.verifier])
        assert _snapshot(db, "lain") == before
        assert db.head("kota").size == 0

    def test_import_verifies_before_writing_anything(
        self, db: Store, ledger_key: SigningKey, tmp_path: Path
    ) -> None:
        """A tampered or untrusted export is refused and the store stays empty."""
        source = MemoryStore()
        _fill(source, ledger_key, 6)
        path = tmp_path / "log.jsonl"
        with path.open("wb") as out:
            write_export(source, out)
        original = path.read_bytes()
        tampered = tmp_path / "tampered.jsonl"
        tampered.write_bytes(original.replace(b'"n":4', b'"n":5'))
        assert tampered.read_bytes() != original
        with pytest.raises(VerificationError):
            import_export(db, tampered, [ledger_key.verifier])
        with pytest.raises(VerificationError):
            import_export(db, path, [generate_key_pair().verifier])
        assert db.ledgers() == []
        assert list(db.entries("kota")) == []

    # -- concurrency (threads) -------------------------------------------------------------

    def test_threads_appending_to_one_ledger_never_fork(
        self, db: Store, location: str, ledger_key: SigningKey
    ) -> None:
        """Four threads (each with its own handle where possible) append: exact count, one chain."""
        handles = [self.second_handle(db, location) for _ in range(4)]
        errors: list[BaseException] = []

        def work(handle: Store, tag: int) -> None:
            try:
                for i in range(15):
                    handle.append("kota", body(i, tag=tag), time=T0, sign=signer(ledger_key))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(h, t)) for t, h in enumerate(handles)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for handle in handles:
            if handle is not db:
                handle.close()
        assert errors == []
        assert _verify(db, "kota", ledger_key) == 60
        tags = [json.loads(e.data)["tag"] for e in db.entries("kota")]
        assert sorted(tags) == sorted([t for t in range(4) for _ in range(15)])

    def test_two_actors_racing_on_one_request_exactly_one_wins(
        self, db: Store, location: str
    ) -> None:
        """Two threads write the same request from the same version: one commits, one conflicts."""
        db.append("kota", body(0), time=T0, request=record())
        handles = [db, self.second_handle(db, location)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def act(handle: Store, state: str) -> None:
            barrier.wait()
            try:
                handle.append(
                    "kota",
                    body(1, to=state),
                    time=T0,
                    request=record(version=2, state=state),
                    expected_version=1,
                )
                outcomes.append("won")
            except ConcurrentModificationError:
                outcomes.append("conflict")

        threads = [
            threading.Thread(target=act, args=(h, s))
            for h, s in zip(handles, ["verified", "rejected"], strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if handles[1] is not db:
            handles[1].close()
        assert sorted(outcomes) == ["conflict", "won"]
        stored = db.get_request("REQ-1")
        assert stored is not None
        assert stored.version == 2
        assert db.head("kota").size == 2
        last = json.loads(next(db.entries("kota", 1)).data)
        assert last["to"] == stored.state


def source_entry_with_prev(data: bytes, prev: str) -> bytes:
    """Return *data* with its ``prev`` replaced (a forking entry, same position)."""
    fields = json.loads(data)
    fields["prev"] = prev
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _run_worker(*args: str, timeout: float = 60) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _collect(proc: subprocess.Popen[str], lines: list[str]) -> None:
    """Append each complete line *proc* prints to *lines* until it exits."""
    assert proc.stdout is not None
    lines.extend(proc.stdout)


class ProcessContract(StoreContract):
    """Tests with several OS processes on one store (SQLite file, PostgreSQL server)."""

    crash_rounds: ClassVar[int] = 6

    @pytest.fixture
    def key_file(self, ledger_key: SigningKey, tmp_path: Path) -> str:
        """The ledger key as a PEM file the worker processes load."""
        private, _ = write_key_pair(ledger_key, tmp_path / "keys")
        return str(private)

    def test_node_range_reads_the_stored_nodes_of_one_level(
        self, db: Store, ledger_key: SigningKey
    ) -> None:
        """`node_range` returns a level's nodes in the range asked, as `get_nodes` does."""
        _fill(db, ledger_key, 13)
        node_range = getattr(db, "node_range")  # noqa: B009  (SQL stores only)
        leaves = node_range("kota", 0, 2, 20)
        assert sorted(leaves) == list(range(2, 13))  # leaf 13 onwards is not stored
        assert list(leaves.values()) == db.get_nodes("kota", [(0, i) for i in leaves])
        assert node_range("kota", 2, 0, 9) == dict(
            enumerate(db.get_nodes("kota", [(2, 0), (2, 1), (2, 2)]))
        )
        assert node_range("kota", 0, 5, 5) == {}
        assert node_range("other", 0, 0, 9) == {}

    def test_processes_appending_to_one_ledger_never_fork(
        self, db: Store, location: str, key_file: str, ledger_key: SigningKey
    ) -> None:
        """Four processes append to one ledger: the chain verifies and every ack is there."""
        procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), "append", location, key_file, "kota", "25", f"w{w}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(4)
        ]
        acked: dict[int, str] = {}
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            for line in out.splitlines():
                seq, tag = line.split()
                assert int(seq) not in acked, "two writers were told they got the same seq"
                acked[int(seq)] = tag
        assert _verify(db, "kota", ledger_key) == 100
        assert len(acked) == 100
        for entry in db.entries("kota"):
            assert json.loads(entry.data)["n"] == acked[entry.seq]

    def test_processes_racing_on_one_request_lose_no_update(
        self, db: Store, location: str, key_file: str, ledger_key: SigningKey
    ) -> None:
        """Three processes bump one request's version with retries: no update is lost."""
        db.append("kota", body(0), time=T0, request=record())
        procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), "bump", location, key_file, "REQ-1", "15"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        versions: list[int] = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            lines = out.splitlines()
            assert lines[-1].startswith("CONFLICTS ")
            versions.extend(int(v) for v in lines[:-1])
        assert sorted(versions) == list(range(2, 47))
        stored = db.get_request("REQ-1")
        assert stored is not None
        assert stored.version == 46
        assert _verify(db, "kota", ledger_key) == 46

    def _crash_rounds(
        self, db: Store, location: str, key_file: str, ledger_key: SigningKey, rounds: int
    ) -> None:
        rng = random.Random(8)
        acked: list[tuple[int, str, str]] = []
        for round_no in range(rounds):
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    "desk",
                    location,
                    key_file,
                    str(SOP_FILE),
                    f"R{round_no}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            lines: list[str] = []
            reader = threading.Thread(target=_collect, args=(proc, lines))
            reader.start()
            # Wait until the writer is under way, then kill it at a random moment.
            deadline = time.monotonic() + 30
            while not lines and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            assert lines, f"the writer never acknowledged anything: {proc.stderr}"
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            reader.join(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            for line in lines:
                if line.endswith("\n"):
                    seq, rid, action = line.split()
                    acked.append((int(seq), rid, action))
        reader_store = self.second_handle(db, location)
        try:
            size = _verify(reader_store, "default", ledger_key)
            assert size >= len(acked)
            entries = {e.seq: json.loads(e.data) for e in reader_store.entries("default")}
            for seq, rid, action in acked:
                assert entries[seq]["request"] == rid
                assert entries[seq]["action"] == action
                stored = reader_store.get_request(rid)
                assert stored is not None
                if action == "verify":
                    assert stored.state == "verified"
        finally:
            if reader_store is not db:
                reader_store.close()

    def test_sigkilled_writer_loses_no_acknowledged_action(
        self, db: Store, location: str, key_file: str, ledger_key: SigningKey
    ) -> None:
        """A desk writer SIGKILLed at random moments: the log verifies, every ack is stored."""
        self._crash_rounds(db, location, key_file, ledger_key, self.crash_rounds)

    @pytest.mark.slow
    def test_sigkilled_writer_many_rounds(
        self, db: Store, location: str, key_file: str, ledger_key: SigningKey
    ) -> None:
        """The crash test with many more kill rounds."""
        self._crash_rounds(db, location, key_file, ledger_key, 40)


class TestMemoryStore(StoreContract):
    """The contract for `MemoryStore`."""

    @pytest.fixture
    def location(self) -> str:
        """An in-memory store."""
        return "memory://"

    def second_handle(self, db: Store, location: str) -> Store:
        """A memory store has one handle: itself."""
        return db


class TestSQLiteStore(ProcessContract):
    """The contract for `SQLiteStore` (a WAL file shared by threads and processes)."""

    @pytest.fixture
    def location(self, tmp_path: Path) -> str:
        """A fresh SQLite file."""
        return str(tmp_path / "store.db")

    def test_driver_errors_surface_as_store_errors(self, db: Store) -> None:
        """Using a closed store raises StoreError, not a sqlite3 exception."""
        db.close()
        with pytest.raises(StoreError):
            db.head("kota")


#: Every statement text the PostgreSQL stores of this process sent during the suite.
STATEMENTS: set[str] = set()


def _statement_text(query: Any) -> str:
    if isinstance(query, bytes):
        return query.decode()
    if isinstance(query, str):
        return query
    return str(query.as_string(None))  # a psycopg.sql.Composed


@pytest.mark.postgres
class TestPostgresStore(ProcessContract):
    """The contract for `PostgresStore` (a fresh schema per test on the local server)."""

    @pytest.fixture
    def location(self) -> Iterator[str]:
        """A URL of a fresh schema, dropped afterwards."""
        yield from pg_database()

    @pytest.fixture(autouse=True)
    def _log_statements(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record each statement sent through psycopg (checked by the Citus rule test)."""
        import psycopg

        for owner, name in (
            (psycopg.Connection, "execute"),
            (psycopg.Cursor, "execute"),
            (psycopg.Cursor, "executemany"),
            (psycopg.Cursor, "copy"),
        ):
            original = getattr(owner, name)

            def logged(self: Any, query: Any, *args: Any, _run: Any = original, **kw: Any) -> Any:
                STATEMENTS.add(_statement_text(query))
                return _run(self, query, *args, **kw)

            monkeypatch.setattr(owner, name, logged)

    def test_driver_errors_surface_as_store_errors(self, db: Store) -> None:
        """Using a closed store raises StoreError, not a psycopg exception."""
        db.close()
        with pytest.raises(StoreError):
            db.head("kota")

    def test_an_open_append_blocks_its_own_ledger_only(
        self, db: Store, location: str, ledger_key: SigningKey
    ) -> None:
        """While an append to one ledger holds its locks, another ledger appends freely.

        The second handle gives up on any lock after a short ``lock_timeout``: its
        append to the same ledger times out (the lock is held), its appends to another
        ledger, with a request row and an idempotency key, do not wait at all.
        """
        db.append("kota", body(0), time=T0, request=record(), sign=signer(ledger_key))
        impatient = open_store(f"{location}&options=-c%20lock_timeout%3D300")
        try:
            with db._append_transaction("kota"):  # type: ignore[attr-defined]
                with pytest.raises(StoreError, match="lock timeout"):
                    impatient.append("kota", body(1), time=T0)
                for n in range(3):
                    impatient.append(
                        "kab", body(n), time=T0, sign=signer(ledger_key),
                        request=record(f"KAB-{n}", ledger="kab"), idempotency_key=f"k{n}",
                    )  # fmt: skip
            assert impatient.head("kab").size == 3
        finally:
            impatient.close()
        assert _verify(db, "kab", ledger_key) == 3


@pytest.mark.postgres
class TestPostgresStoreSecondServer(TestPostgresStore):
    """The contract for `PostgresStore` on a second, throwaway server of the session."""

    @pytest.fixture
    def location(self, second_postgres: str) -> Iterator[str]:
        """A URL of a fresh schema on the second server, dropped afterwards."""
        yield from pg_database(second_postgres)


@pytest.mark.postgres
def test_postgres_statements_are_keyed_by_ledger() -> None:
    """Every statement the PostgreSQL contract tests sent keeps the Citus rule.

    Runs after the PostgreSQL classes of this module (file order) and checks what they
    logged: writes, locks and joins on ledger tables name the ledger, and every other
    read across ledgers is a known fan-out read (see `ledger_key_fault`).
    """
    if not STATEMENTS:
        pytest.skip("no PostgreSQL contract test ran before this one: run the whole module")
    faults = {text: fault for text in STATEMENTS if (fault := ledger_key_fault(text))}
    assert faults == {}
    assert any(text.startswith("COPY entries") for text in STATEMENTS)
    assert any("FOR UPDATE" in text for text in STATEMENTS)
