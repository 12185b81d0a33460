"""The tamper suite: every kind of damage to a generated log is detected with the right error.

Cases: each single-byte change of every stored entry, deletion of each entry, swaps of
entry pairs, truncation and rewrite after a saved checkpoint, checkpoints signed by an
untrusted key, and entries or checkpoints replayed from one ledger into another.  Each
test reports how many cases it ran.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from log_support import build_signed_store
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.audit.verify import VerificationReport, verify_ledger
from pelayanan.exceptions import (
    ChainError,
    MalformedEntryError,
    MerkleRootError,
    SequenceError,
    SignatureError,
    VerificationError,
)
from pelayanan.store import MemoryStore

Log = tuple[list[tuple[int, bytes]], list[str]]


_build = build_signed_store


def _log(store: MemoryStore, ledger: str = "kota") -> Log:
    return [(e.seq, e.data) for e in store.entries(ledger)], store.checkpoints(ledger)


def _verify(log: Log, key: SigningKey, **kwargs: object) -> VerificationReport:
    entries, notes = log
    return verify_ledger("kota", iter(entries), iter(notes), [key.verifier], **kwargs)  # type: ignore[arg-type]


def _report(capsys: pytest.CaptureFixture[str], what: str, count: int) -> None:
    with capsys.disabled():
        print(f"\n[tamper suite] {what}: {count} cases, all detected")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    """The ledger key of the generated logs."""
    return generate_key_pair()


@pytest.fixture(scope="module")
def store(key: SigningKey) -> MemoryStore:
    """A generated log of 6 entries with a checkpoint per entry (as the desk commits)."""
    return _build(key, size=6)


def _byte_changes(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield one change per byte position: flip the low bit (a different, nearby byte)."""
    for pos in range(len(data)):
        changed = bytearray(data)
        changed[pos] ^= 0x01
        yield pos, bytes(changed)


class TestSingleByteChanges:
    def test_every_byte_of_every_entry(
        self, store: MemoryStore, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each single-byte change of any entry fails verification naming that entry."""
        entries, notes = _log(store)
        assert _verify((entries, notes), key).size == len(entries)
        expected = (MalformedEntryError, SequenceError, ChainError, MerkleRootError)
        count = 0
        for target, (seq, data) in enumerate(entries):
            for pos, forged in _byte_changes(data):
                damaged = list(entries)
                damaged[target] = (seq, forged)
                with pytest.raises(VerificationError) as info:
                    _verify((damaged, notes), key)
                assert isinstance(info.value, expected), (target, pos, info.value)
                assert info.value.seq == target, (target, pos, str(info.value))
                count += 1
        assert count == sum(len(d) for _, d in entries)
        _report(capsys, "single-byte changes (checkpoint per entry)", count)

    def test_byte_changes_with_batched_checkpoints(
        self, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With one checkpoint per batch of 4, a change is pinned to its batch."""
        entries, notes = _log(_build(key, size=8, every=4))
        assert len(notes) == 2
        count = 0
        for target, (seq, data) in enumerate(entries):
            batch = range(target // 4 * 4, target // 4 * 4 + 4)
            for pos, forged in _byte_changes(data):
                if pos % 5:
                    continue  # every fifth byte keeps this variant quick
                damaged = list(entries)
                damaged[target] = (seq, forged)
                with pytest.raises(VerificationError) as info:
                    _verify((damaged, notes), key)
                assert info.value.seq in batch or info.value.seq == target - 1, str(info.value)
                count += 1
        _report(capsys, "single-byte changes (checkpoint per 4 entries)", count)

    def test_export_line_change_named(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path
    ) -> None:
        """A byte changed in an exported entry line is named by the export verifier too."""
        out = tmp_path / "a.jsonl"
        with out.open("wb") as fh:
            write_export(store, fh)
        lines = out.read_bytes().split(b"\n")
        entry_lines = [i for i, line in enumerate(lines) if line.startswith(b'{"action"')]
        for seq, index in enumerate(entry_lines):
            damaged = list(lines)
            damaged[index] = damaged[index].replace(b'"n":', b'"m":', 1)
            out.write_bytes(b"\n".join(damaged))
            with pytest.raises(VerificationError) as info:
                verify_export(out, [key.verifier])
            assert info.value.seq == seq


class TestStructuralDamage:
    def test_deletion_of_each_entry(
        self, store: MemoryStore, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Removing any entry is a SequenceError at its position (or a truncation at the end)."""
        entries, notes = _log(store)
        for target in range(len(entries)):
            damaged = entries[:target] + entries[target + 1 :]
            with pytest.raises(SequenceError) as info:
                _verify((damaged, notes), key)
            assert info.value.seq == target
            # The same removal with the survivors renumbered (as a rewritten store would).
            renumbered = [(i, d) for i, (_, d) in enumerate(damaged)]
            with pytest.raises(SequenceError) as info:
                _verify((renumbered, notes), key)
            assert info.value.seq == target
        _report(capsys, "deletions", 2 * len(entries))

    def test_swap_of_each_pair(
        self, store: MemoryStore, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Swapping two stored entries is a SequenceError at the first position."""
        entries, notes = _log(store)
        count = 0
        for i in range(len(entries)):
            for j in range(i + 1, len(entries)):
                damaged = list(entries)
                damaged[i] = (i, entries[j][1])
                damaged[j] = (j, entries[i][1])
                with pytest.raises(SequenceError) as info:
                    _verify((damaged, notes), key)
                assert info.value.seq == i
                count += 1
        _report(capsys, "swaps", count)

    def test_truncation_after_saved_checkpoint(
        self, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Cutting the log (entries and checkpoints) below a saved checkpoint is caught by since."""
        store = _build(key, size=10)
        entries, notes = _log(store)
        saved = SignedCheckpoint.parse(notes[6])  # the auditor kept the checkpoint at size 7
        assert _verify((entries, notes), key, since=saved).size == 10
        count = 0
        for keep in range(7):
            with pytest.raises(SequenceError) as info:
                _verify((entries[:keep], notes[:keep]), key, since=saved)
            assert "truncated" in info.value.reason
            count += 1
        # Without the saved checkpoint a clean cut is invisible: that is what since is for.
        assert _verify((entries[:5], notes[:5]), key).size == 5
        _report(capsys, "truncations after a saved checkpoint", count)

    def test_rewrite_after_saved_checkpoint(self, key: SigningKey) -> None:
        """A log re-signed with other content before the saved size no longer extends it."""
        saved = SignedCheckpoint.parse(_log(_build(key, size=10))[1][6])
        rewritten = _log(_build(key, size=10, seed=99))  # same key, different history
        with pytest.raises(MerkleRootError) as info:
            _verify(rewritten, key, since=saved)
        assert "rewritten" in info.value.reason

    def test_truncation_without_removing_checkpoints(
        self, store: MemoryStore, key: SigningKey
    ) -> None:
        """Removing tail entries while their checkpoints remain is a SequenceError."""
        entries, notes = _log(store)
        with pytest.raises(SequenceError) as info:
            _verify((entries[:-2], notes), key)
        assert info.value.seq == len(entries) - 2


class TestSignaturesAndReplay:
    def test_checkpoint_signed_by_untrusted_key(
        self, store: MemoryStore, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Replacing any checkpoint by one signed with another key is a SignatureError."""
        entries, notes = _log(store)
        intruder = generate_key_pair()
        for index, note in enumerate(notes):
            forged = SignedCheckpoint.parse(note).checkpoint.sign(intruder).to_text()
            damaged = list(notes)
            damaged[index] = forged
            with pytest.raises(SignatureError) as info:
                _verify((entries, damaged), key)
            assert info.value.seq is None
            assert info.value.reason.startswith(f"checkpoint at size {index + 1} ")
        _report(capsys, "checkpoints signed by an untrusted key", len(notes))

    def test_altered_checkpoint_signature_or_body(
        self, store: MemoryStore, key: SigningKey
    ) -> None:
        """A checkpoint whose body or signature bytes changed does not verify."""
        entries, notes = _log(store)
        cp = SignedCheckpoint.parse(notes[3])
        later = Checkpoint(
            cp.checkpoint.ledger,
            cp.checkpoint.size,
            cp.checkpoint.root,
            cp.checkpoint.time + dt.timedelta(seconds=1),
        )
        forged = SignedCheckpoint(later, cp.signatures).to_text()
        with pytest.raises(SignatureError):
            _verify((entries, [*notes[:3], forged, *notes[4:]]), key)

    def test_entries_replayed_into_another_ledger(
        self, key: SigningKey, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Entries of ledger A put into ledger B are refused as replayed (SequenceError)."""
        a_entries, a_notes = _log(_build(key, ledger="kota-a"), "kota-a")
        count = 0
        for target in range(len(a_entries)):
            with pytest.raises(SequenceError) as info:
                verify_ledger("kota", iter(a_entries), iter(a_notes), [key.verifier])
            assert "replayed" in info.value.reason or "ledger" in info.value.reason
            # One foreign entry spliced into an otherwise genuine ledger.
            b_entries, b_notes = _log(_build(key, ledger="kota"))
            b_entries[target] = (target, a_entries[target][1])
            with pytest.raises(SequenceError) as info:
                verify_ledger("kota", iter(b_entries), iter(b_notes), [key.verifier])
            assert info.value.seq == target
            assert "replayed" in info.value.reason
            count += 1
        _report(capsys, "entries replayed across ledgers", count)

    def test_checkpoint_replayed_into_another_ledger(self, key: SigningKey) -> None:
        """A validly signed checkpoint of another ledger is a SignatureError."""
        _, a_notes = _log(_build(key, ledger="kota-a"), "kota-a")
        b_entries, b_notes = _log(_build(key))
        with pytest.raises(SignatureError) as info:
            _verify((b_entries, [a_notes[0], *b_notes[1:]]), key)
        assert "replayed" in info.value.reason


_Damage = Callable[[list[bytes]], list[bytes]]


class TestExportDamage:
    @pytest.mark.parametrize(
        ("damage", "error"),
        [
            (lambda ls: [ls[0], *ls[3:]], SequenceError),  # entry 0 line and its checkpoint gone
            (lambda ls: [*ls[:-3], b""], SequenceError),  # last entry and checkpoint cut
            (lambda ls: [ls[0].replace(b'"size":6', b'"size":7'), *ls[1:]], SequenceError),
            (lambda ls: [*ls[:3], b"not json", *ls[3:]], MalformedEntryError),
        ],
    )
    def test_export_damage(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path, damage: _Damage, error: type
    ) -> None:
        """Removed, cut, miscounted or foreign lines in an export are detected."""
        out = tmp_path / "a.jsonl"
        with out.open("wb") as fh:
            write_export(store, fh)
        lines = out.read_bytes().split(b"\n")
        assert json.loads(lines[0])["size"] == 6
        out.write_bytes(b"\n".join(damage(lines)))
        with pytest.raises(error):
            verify_export(out, [key.verifier])
