"""Forks and backdating are evidence: two histories in one export, checkpoints dated too early."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import SigningKey
from pelayanan.exceptions import SequenceError, SignatureError
from pelayanan.store import MemoryStore

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _store(
    key: SigningKey, size: int, *, tag: str = "", lag: dt.timedelta | None = None
) -> MemoryStore:
    """A ledger of *size* entries one minute apart, each checkpoint dated at its entry + *lag*."""
    store = MemoryStore()
    for i in range(size):
        when = T0 + dt.timedelta(minutes=i)
        signed_at = when + (lag or dt.timedelta())
        body = {"time": _stamp(when), "kind": "action", "data": {"i": f"{tag}{i}"}}

        def sign(cp: Checkpoint, at: dt.datetime = signed_at) -> SignedCheckpoint:
            return Checkpoint(cp.ledger, cp.size, cp.root, at).sign(key)

        store.append("kota", body, time=when, sign=sign)
    return store


def _export(store: MemoryStore, path: Path) -> bytes:
    with path.open("wb") as out:
        write_export(store, out, all_checkpoints=True)
    return path.read_bytes()


class TestTwoHistories:
    @pytest.mark.parametrize(
        ("tag", "size", "what"),
        [
            ("x", 8, "different roots at one size (a fork)"),
            ("", 8, "a second copy"),
            ("x", 6, "of 8 and 6"),
        ],
    )
    def test_a_ledger_twice_in_one_export_is_refused(
        self, ledger_key: SigningKey, tmp_path: Path, tag: str, size: int, what: str
    ) -> None:
        genuine = _export(_store(ledger_key, 8), tmp_path / "a.jsonl")
        rewritten = _export(_store(ledger_key, size, tag=tag), tmp_path / "b.jsonl")
        both = tmp_path / "both.jsonl"
        both.write_bytes(genuine + rewritten)
        assert len(verify_export(tmp_path / "b.jsonl", [ledger_key.verifier])) == 1
        with pytest.raises(SequenceError, match="appears twice") as caught:
            verify_export(both, [ledger_key.verifier], jobs=1)
        assert what in caught.value.reason
        assert caught.value.reason.count("pelayanan/kota\n") == 2


class TestBackdated:
    def test_a_checkpoint_dated_before_its_last_entry_is_refused(
        self, ledger_key: SigningKey, tmp_path: Path
    ) -> None:
        store = _store(ledger_key, 5, lag=dt.timedelta(seconds=-1))
        path = tmp_path / "e.jsonl"
        _export(store, path)
        for jobs in (1, 2):
            with pytest.raises(SignatureError, match="dated before the entry it covers") as caught:
                verify_export(path, [ledger_key.verifier], jobs=jobs)
            assert str(caught.value) == (
                "entry 0: checkpoint at size 1 is dated before the entry it covers"
            )

    def test_a_checkpoint_dated_at_its_entry_verifies(
        self, ledger_key: SigningKey, tmp_path: Path
    ) -> None:
        path = tmp_path / "e.jsonl"
        _export(_store(ledger_key, 5), path)
        assert verify_export(path, [ledger_key.verifier], jobs=2)[0].size == 5
