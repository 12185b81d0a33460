"""Exports: the thinned checkpoint set, tamper detection in thinned exports, parallel checks.

An export keeps by default one checkpoint per block of entries, the checkpoints that anchor
each key's validity and the last one; the verifier still checks every checkpoint it gets.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pelayanan.audit.export as export_module
from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.export import export_checkpoints, verify_export, write_export
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.exceptions import (
    ChainError,
    MerkleRootError,
    SequenceError,
    SignatureError,
    VerificationError,
)
from pelayanan.store import MemoryStore

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
Signer = Callable[[Checkpoint], SignedCheckpoint]


def _build(size: int, signer: Callable[[int], Signer], *, ledger: str = "kota") -> MemoryStore:
    """Append *size* entries, each committed with a checkpoint (as the desk does)."""
    store = MemoryStore()
    rng = random.Random(size)
    for i in range(size):
        when = T0 + dt.timedelta(minutes=i)
        body = {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "kind": "action",
            "request": f"ADU-{i // 3:03d}",
            "action": rng.choice(["verify", "dispatch"]),
            "actor": f"19870312201001{i:04d}",
            "data": {"n": i},
        }
        store.append(ledger, body, time=when, sign=signer(i))
    return store


def _export(store: MemoryStore, path: Path, **kwargs: object) -> list[bytes]:
    with path.open("wb") as out:
        write_export(store, out, **kwargs)  # type: ignore[arg-type]
    return path.read_bytes().split(b"\n")


def _sizes(lines: list[bytes]) -> list[int]:
    return [
        SignedCheckpoint.parse(json.loads(line)["checkpoint"]).checkpoint.size
        for line in lines
        if line.startswith(b'{"checkpoint"')
    ]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    """The ledger key."""
    return generate_key_pair()


@pytest.fixture(scope="module")
def store(key: SigningKey) -> MemoryStore:
    """A 23-entry ledger with a checkpoint per entry."""
    return _build(23, lambda i: lambda cp: cp.sign(key))


class TestThinning:
    def test_default_density_keeps_block_starts_anchors_and_last(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path
    ) -> None:
        """With every=10: sizes 1 (first of the key), 10, 20 and 23 (the last) are kept."""
        lines = _export(store, tmp_path / "a.jsonl", checkpoint_every=10)
        assert _sizes(lines) == [1, 10, 20, 23]
        (report,) = verify_export(tmp_path / "a.jsonl", [key.verifier])
        assert report.size == 23
        assert report.checkpoints == 4

    def test_all_checkpoints_and_same_root(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path
    ) -> None:
        """all_checkpoints keeps all 23; both exports verify to the same root."""
        thin = _export(store, tmp_path / "thin.jsonl")
        full = _export(store, tmp_path / "full.jsonl", all_checkpoints=True)
        assert len(_sizes(full)) == 23
        assert _sizes(thin) == [1, 23]
        (a,) = verify_export(tmp_path / "thin.jsonl", [key.verifier])
        (b,) = verify_export(tmp_path / "full.jsonl", [key.verifier])
        assert (a.root, a.size, a.last_checkpoint) == (b.root, b.size, b.last_checkpoint)

    def test_rotation_keeps_both_ends_of_each_key(self, tmp_path: Path) -> None:
        """After a rotation the last checkpoint of the old key and the first of the new stay."""
        old, new = generate_key_pair(), generate_key_pair()
        store = _build(30, lambda i: lambda cp: cp.sign(old if i < 12 else new))
        lines = _export(store, tmp_path / "r.jsonl", checkpoint_every=100)
        assert _sizes(lines) == [1, 12, 13, 30]
        rotation = T0 + dt.timedelta(minutes=12)
        keys = [
            TrustedKey(old.verifier, valid_until=rotation),
            TrustedKey(new.verifier, valid_from=rotation),
        ]
        (report,) = verify_export(tmp_path / "r.jsonl", keys)
        assert set(report.keys) == {old.name, new.name}

    def test_revocation_inside_a_run_is_still_caught(self, tmp_path: Path) -> None:
        """A key revoked mid-run: the run's latest checkpoint is kept, so the export fails."""
        key = generate_key_pair()
        store = _build(30, lambda i: lambda cp: cp.sign(key))
        _export(store, tmp_path / "v.jsonl", checkpoint_every=100)
        revoked = TrustedKey(key.verifier, revoked_at=T0 + dt.timedelta(minutes=20))
        with pytest.raises(SignatureError, match="revoked"):
            verify_export(tmp_path / "v.jsonl", [revoked])

    @pytest.mark.parametrize(
        ("minutes", "kept"),
        [
            # A checkpoint dated before the run's first one is kept (validity starts matter).
            ([5, 6, 1, 7, 8], {0, 2, 4}),
            # Of equal earliest or latest times, the checkpoint of smallest size is kept.
            ([7, 1, 1, 7, 4], {0, 1, 4}),
        ],
    )
    def test_earliest_and_latest_times_are_kept(
        self, key: SigningKey, minutes: list[int], kept: set[int]
    ) -> None:
        """Besides the first and the last of a run, its earliest and latest checkpoint."""
        notes = []
        for size, minute in enumerate(minutes, start=1):
            cp = Checkpoint("kota", size, b"\0" * 32, T0 + dt.timedelta(minutes=minute))
            notes.append(cp.sign(key).to_text())
        assert export_checkpoints(notes, every=100) == kept

    def test_cosigned_checkpoints_are_all_kept(self, key: SigningKey) -> None:
        """Checkpoints carrying two signatures are never thinned."""
        other = generate_key_pair()
        notes = []
        for size in range(1, 6):
            cp = Checkpoint("kota", size, b"\0" * 32, T0 + dt.timedelta(minutes=size))
            one, two = cp.sign(key), cp.sign(other)
            notes.append(SignedCheckpoint(cp, one.signatures + two.signatures).to_text())
        assert export_checkpoints(notes, every=100) == set(range(5))

    def test_density_one_keeps_all_and_zero_is_refused(self, key: SigningKey) -> None:
        """every=1 keeps every checkpoint; every=0 is a ValueError naming the fix."""
        notes = [Checkpoint("kota", s, b"\0" * 32, T0).sign(key).to_text() for s in range(1, 5)]
        assert export_checkpoints(notes, every=1) == set(range(4))
        with pytest.raises(ValueError, match="at least 1"):
            export_checkpoints(notes, every=0)


class TestThinnedExportTamper:
    def test_changed_entry_line_is_named(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path
    ) -> None:
        """Changing any field of any entry line, its prev included, names that entry."""
        path = tmp_path / "t.jsonl"
        lines = _export(store, path, checkpoint_every=10)
        entry_lines = [i for i, line in enumerate(lines) if line.startswith(b'{"action"')]
        count = 0
        for seq, index in enumerate(entry_lines):
            original = lines[index]
            cut = original.index(b'"prev":"') + 8
            flipped = b"0" if original[cut : cut + 1] != b"0" else b"1"
            for field, changed in [
                ("data", original.replace(b'"n":', b'"m":', 1)),
                ("prev", original[:cut] + flipped + original[cut + 1 :]),
            ]:
                damaged = list(lines)
                damaged[index] = changed
                path.write_bytes(b"\n".join(damaged))
                with pytest.raises((ChainError, MerkleRootError)) as info:
                    verify_export(path, [key.verifier], jobs=1)
                if field == "prev" and seq == len(entry_lines) - 1:
                    # The last entry has no successor to tell it from its predecessor.
                    assert info.value.seq in (seq - 1, seq)
                else:
                    assert info.value.seq == seq, (seq, field, str(info.value))
                count += 1
        assert count == 46

    def test_deleted_line(self, store: MemoryStore, key: SigningKey, tmp_path: Path) -> None:
        """A deleted entry line is a SequenceError at its position."""
        path = tmp_path / "d.jsonl"
        lines = _export(store, path, checkpoint_every=10)
        index = next(i for i, line in enumerate(lines) if b'"seq":7,' in line)
        path.write_bytes(b"\n".join(lines[:index] + lines[index + 1 :]))
        with pytest.raises(SequenceError) as info:
            verify_export(path, [key.verifier])
        assert info.value.seq == 7

    def test_truncated_export(self, store: MemoryStore, key: SigningKey, tmp_path: Path) -> None:
        """An export cut anywhere after its header fails (count or coverage)."""
        path = tmp_path / "c.jsonl"
        data = b"\n".join(_export(store, path, checkpoint_every=10))
        first_newline = data.index(b"\n") + 1
        for cut in range(first_newline, len(data) - 1, 97):
            path.write_bytes(data[:cut])
            with pytest.raises(VerificationError):
                verify_export(path, [key.verifier])

    def test_forged_checkpoint_line(
        self, store: MemoryStore, key: SigningKey, tmp_path: Path
    ) -> None:
        """A checkpoint line re-signed by another key, or with its root changed, is refused."""
        path = tmp_path / "f.jsonl"
        lines = _export(store, path, checkpoint_every=10)
        intruder = generate_key_pair()
        for index, line in enumerate(lines):
            if not line.startswith(b'{"checkpoint"'):
                continue
            signed = SignedCheckpoint.parse(json.loads(line)["checkpoint"])
            cp = signed.checkpoint
            moved = Checkpoint(cp.ledger, cp.size, bytes(32), cp.time)
            for forged in (
                cp.sign(intruder),
                SignedCheckpoint(moved, signed.signatures),
            ):
                damaged = list(lines)
                damaged[index] = canonical_json({"checkpoint": forged.to_text()})
                path.write_bytes(b"\n".join(damaged))
                with pytest.raises(SignatureError):
                    verify_export(path, [key.verifier])


def _damage(lines: list[bytes], rng: random.Random) -> list[bytes]:
    """Damage an export at random: flip a byte, drop, duplicate or swap lines."""
    lines = list(lines)
    how = rng.randrange(5)
    i = rng.randrange(1, len(lines) - 1)
    if how == 0 and lines[i]:
        pos = rng.randrange(len(lines[i]))
        lines[i] = lines[i][:pos] + bytes([lines[i][pos] ^ 1]) + lines[i][pos + 1 :]
    elif how == 1:
        del lines[i]
    elif how == 2:
        lines.insert(i, lines[i])
    elif how == 3:
        j = rng.randrange(1, len(lines) - 1)
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def _outcome(path: Path, key: SigningKey, jobs: int) -> tuple[str, int | None, str]:
    try:
        (report,) = verify_export(path, [key.verifier], jobs=jobs)
    except VerificationError as exc:
        return type(exc).__name__, exc.seq, exc.reason
    return "ok", report.size, report.root.hex()


class TestParallelChecks:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(seed=st.integers(0, 2**32 - 1), every=st.sampled_from([1, 4, 10]))
    def test_same_outcome_as_serial(
        self,
        store: MemoryStore,
        key: SigningKey,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        seed: int,
        every: int,
    ) -> None:
        """Worker processes give the same report, or the same first error, as one process."""
        monkeypatch.setattr(export_module, "_CHUNK_LINES", 3)
        path = tmp_path / f"p{seed}-{every}.jsonl"
        lines = _export(store, path, checkpoint_every=every)
        rng = random.Random(seed)
        if seed % 4:
            lines = _damage(lines, rng)
        path.write_bytes(b"\n".join(lines))
        assert _outcome(path, key, 2) == _outcome(path, key, 1)

    def test_jobs_below_one_refused(self, key: SigningKey, tmp_path: Path) -> None:
        """jobs=0 is a VerificationError that names the fix."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(b"")
        with pytest.raises(VerificationError, match="at least 1"):
            verify_export(path, [key.verifier], jobs=0)
