"""Tests for `audit checkpoint`, `audit consistency`, `audit witness` and verify with witnesses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.keys import SigningKey, generate_key_pair, write_key_pair
from pelayanan.audit.merkle import consistency_proof
from pelayanan.audit.witness import ConsistencyProof
from pelayanan.cli import cli
from pelayanan.store import SQLiteStore

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
BESIDE = "trusting keys stored beside the database"


def _grow(db: Path, key: SigningKey, upto: int, *, tag: str = "") -> None:
    """Append entries to *db* until it holds *upto*, a signed checkpoint after each."""
    store = SQLiteStore(db)
    try:
        for i in range(store.head("kota").size, upto):
            when = T0 + dt.timedelta(minutes=i)
            body = {
                "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "kind": "action",
                "data": {"i": f"{tag}{i}"},
            }
            store.append("kota", body, time=when, sign=lambda cp: cp.sign(key))
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, SigningKey]:
    key = generate_key_pair()
    path = tmp_path / "kota.db"
    write_key_pair(key, str(path) + ".keys")
    _grow(path, key, 10)
    return path, key


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _init(tmp_path: Path, db: Path) -> Path:
    state = tmp_path / "saksi"
    pem = str(db) + ".keys/ledger-public.pem"
    done = _run(
        "audit",
        "witness",
        "init",
        "--state",
        str(state),
        "--name",
        "saksi",
        "--ledger",
        "kota",
        "--ledger-key",
        pem,
    )
    assert done.exit_code == 0, done.output
    return state


class TestCheckpointAndConsistency:
    def test_checkpoint_prints_the_latest_note(self, db: tuple[Path, SigningKey]) -> None:
        result = _run("audit", "checkpoint", "--db", str(db[0]))
        assert result.exit_code == 0, result.output
        assert SignedCheckpoint.parse(result.stdout).checkpoint.size == 10

    def test_consistency_prints_the_rfc_9162_proof(self, db: tuple[Path, SigningKey]) -> None:
        result = _run("audit", "consistency", "--db", str(db[0]), "--from", "3", "--to", "7")
        assert result.exit_code == 0, result.output
        proof = ConsistencyProof.parse(result.stdout)
        store = SQLiteStore(db[0], read_only=True)
        leaves = [e.data for e in store.entries("kota")]
        store.close()
        assert (proof.ledger, proof.old_size, proof.new_size) == ("kota", 3, 7)
        assert list(proof.hashes) == consistency_proof(leaves, 3, 7)
        default = _run("audit", "consistency", "--db", str(db[0]), "--from", "3")
        assert ConsistencyProof.parse(default.stdout).new_size == 10

    @pytest.mark.parametrize(("old", "new"), [("5", "2"), ("-1", "3"), ("2", "11")])
    def test_bad_sizes_exit_2(self, db: tuple[Path, SigningKey], old: str, new: str) -> None:
        result = _run("audit", "consistency", "--db", str(db[0]), "--from", old, "--to", new)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: sizes must satisfy")

    def test_unknown_ledger_exit_2(self, db: tuple[Path, SigningKey]) -> None:
        result = _run("audit", "checkpoint", "--db", str(db[0]), "--ledger", "desa")
        assert result.exit_code == 2
        assert result.stderr.startswith("error:")


class TestWitnessCommands:
    def test_cosign_from_the_store_then_verify_names_the_witness(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, key = db
        state = _init(tmp_path, path)
        first = _run("audit", "witness", "cosign", "--state", str(state), "--db", str(path))
        assert first.exit_code == 0, first.output
        _grow(path, key, 25)
        second = _run("audit", "witness", "cosign", "--state", str(state), "--db", str(path))
        assert second.exit_code == 0, second.output
        assert second.stdout.splitlines()[-1].startswith("\u2014 saksi ")
        saved = tmp_path / "cosigned.txt"
        saved.write_text(second.stdout)
        wkey = str(state / "witness-public.pem")
        ok = _run(
            "audit", "verify", "--db", str(path), "--since", str(saved), "--witness-key", wkey
        )
        assert ok.exit_code == 0, ok.output
        assert "extends the checkpoint at size 25 (saksi)" in ok.stdout
        assert BESIDE not in ok.stderr
        state_file = str(state / "witness.json")
        both = _run(
            "audit", "verify", "--db", str(path), "--since", state_file, "--witness-key", wkey
        )
        assert both.exit_code == 0, both.output
        two = _run(
            "audit",
            "verify",
            "--db",
            str(path),
            "--since",
            str(saved),
            "--witness-key",
            wkey,
            "--witnesses",
            "2",
        )
        assert two.exit_code == 1
        assert "1 valid cosignatures" in two.stderr
        shown = _run("audit", "witness", "show", "--state", str(state))
        assert "ledger kota: size 25" in shown.stdout

    def test_files_rollback_and_fork_are_refused(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, key = db
        state = _init(tmp_path, path)
        old_note = tmp_path / "old.txt"
        old_note.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        _grow(path, key, 14)
        assert (
            _run(
                "audit", "witness", "cosign", "--state", str(state), "--checkpoint", str(old_note)
            ).exit_code
            == 0
        )
        new_note = tmp_path / "new.txt"
        new_note.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        proof = tmp_path / "proof.txt"
        proof.write_text(_run("audit", "consistency", "--db", str(path), "--from", "10").stdout)
        ok = _run(
            "audit",
            "witness",
            "cosign",
            "--state",
            str(state),
            "--checkpoint",
            str(new_note),
            "--proof",
            str(proof),
        )
        assert ok.exit_code == 0, ok.output
        back = _run(
            "audit", "witness", "cosign", "--state", str(state), "--checkpoint", str(old_note)
        )
        assert back.exit_code == 1
        assert back.stderr.startswith("error: ")
        assert "rollback" in back.stderr
        # The same key signs another history of the same size: a fork.
        forged = tmp_path / "forged.db"
        _grow(forged, key, 14, tag="x")
        fork_note = tmp_path / "fork.txt"
        fork_note.write_text(_run("audit", "checkpoint", "--db", str(forged)).stdout)
        fork = _run(
            "audit", "witness", "cosign", "--state", str(state), "--checkpoint", str(fork_note)
        )
        assert fork.exit_code == 1
        assert "fork" in fork.stderr
        _grow(path, key, 16)
        newer = tmp_path / "newer.txt"
        newer.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        cmd = ["audit", "witness", "cosign", "--state", str(state), "--checkpoint", str(newer)]
        stale = _run(*cmd, "--proof", str(proof))
        assert stale.exit_code == 2
        assert "the witness needs ledger 'kota' from 14 to 16" in stale.stderr
        assert _run(*cmd).exit_code == 2

    def test_bad_input_exits_2(self, db: tuple[Path, SigningKey], tmp_path: Path) -> None:
        assert _run("audit", "witness", "show", "--state", str(tmp_path / "none")).exit_code == 2
        state = _init(tmp_path, db[0])
        both = _run("audit", "witness", "cosign", "--state", str(state))
        assert both.exit_code == 2
        unpaired = _run("audit", "witness", "init", "--state", str(state), "--ledger", "x")
        assert unpaired.exit_code == 2

    def test_unknown_ledger_is_refused(self, db: tuple[Path, SigningKey], tmp_path: Path) -> None:
        state = tmp_path / "w"
        assert _run("audit", "witness", "init", "--state", str(state), "--name", "w").exit_code == 0
        refused = _run("audit", "witness", "cosign", "--state", str(state), "--db", str(db[0]))
        assert refused.exit_code == 1
        assert "no trusted key for ledger 'kota'" in refused.stderr


class TestVerifySince:
    def test_two_roots_at_one_size_are_a_fork(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, key = db
        forged = tmp_path / "forged.db"
        _grow(forged, key, 10, tag="x")
        a, b = tmp_path / "a.txt", tmp_path / "b.txt"
        a.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        b.write_text(_run("audit", "checkpoint", "--db", str(forged)).stdout)
        result = _run("audit", "verify", "--db", str(path), "--since", str(a), "--since", str(b))
        assert result.exit_code == 1
        assert result.stderr.startswith("error: fork: ledger kota")
        assert result.stdout.count("pelayanan/kota\n10\n") == 2

    def test_an_older_saved_checkpoint_must_be_consistent(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, key = db
        forged = tmp_path / "forged.db"
        _grow(forged, key, 5, tag="x")
        old = tmp_path / "old.txt"
        old.write_text(_run("audit", "checkpoint", "--db", str(forged)).stdout)
        new = tmp_path / "new.txt"
        new.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        result = _run(
            "audit", "verify", "--db", str(path), "--since", str(new), "--since", str(old)
        )
        assert result.exit_code == 1
        assert "fork" in result.stderr
        honest = tmp_path / "honest.txt"
        honest.write_text(_run("audit", "checkpoint", "--db", str(path)).stdout)
        _grow(path, key, 12)
        fine = _run(
            "audit", "verify", "--db", str(path), "--since", str(honest), "--since", str(new)
        )
        assert fine.exit_code == 0, fine.output

    def test_receipt_is_accepted_as_since(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, _ = db
        receipt = tmp_path / "r.json"
        assert (
            _run("audit", "prove", "--db", str(path), "--seq", "3", "-o", str(receipt)).exit_code
            == 0
        )
        result = _run("audit", "verify", "--db", str(path), "--since", str(receipt))
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith(BESIDE)


class TestDemoWitness:
    def test_demo_runs_a_witness_whose_cosignature_verifies(self, tmp_path: Path) -> None:
        db = tmp_path / "demo.db"
        demo = _run("demo", "--db", str(db))
        assert demo.exit_code == 0, demo.output
        line = next(ln for ln in demo.stdout.splitlines() if ln.startswith("witness: "))
        assert "saksi-demo countersigned the checkpoint" in line
        assert "the log extends it: OK" in line
        folder = Path(str(db) + ".witness")
        state, wkey = str(folder / "witness.json"), str(folder / "witness-public.pem")
        result = _run("audit", "verify", "--db", str(db), "--since", state, "--witness-key", wkey)
        assert result.exit_code == 0, result.output
        assert "(saksi-demo)" in result.stdout
        again = _run("demo", "--db", str(db))
        assert again.exit_code == 0, again.output


class TestVerifyOptions:
    def test_witness_options_need_since_and_keys(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path = str(db[0])
        state = _init(tmp_path, db[0])
        wkey = str(state / "witness-public.pem")
        no_since = _run("audit", "verify", "--db", path, "--witness-key", wkey)
        assert no_since.exit_code == 2
        assert no_since.stderr.startswith("error: --witness-key and --witnesses")
        note = tmp_path / "n.txt"
        note.write_text(_run("audit", "checkpoint", "--db", path).stdout)
        no_keys = _run("audit", "verify", "--db", path, "--since", str(note), "--witnesses", "1")
        assert no_keys.exit_code == 2
        uncosigned = _run(
            "audit", "verify", "--db", path, "--since", str(note), "--witness-key", wkey
        )
        assert uncosigned.exit_code == 1
        assert "carries 0 valid cosignatures" in uncosigned.stderr

    def test_an_export_with_two_histories_of_a_ledger_fails(
        self, db: tuple[Path, SigningKey], tmp_path: Path
    ) -> None:
        path, key = db
        forged = tmp_path / "forged.db"
        _grow(forged, key, 10, tag="x")
        a, b, both = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "both.jsonl"
        assert _run("audit", "export", "--db", str(path), "-o", str(a)).exit_code == 0
        assert _run("audit", "export", "--db", str(forged), "-o", str(b)).exit_code == 0
        both.write_bytes(a.read_bytes() + b.read_bytes())
        pem = str(path) + ".keys/ledger-public.pem"
        assert _run("audit", "verify", str(b), "--trusted-key", pem).exit_code == 0
        result = _run("audit", "verify", str(both), "--trusted-key", pem)
        assert result.exit_code == 1
        assert "appears twice in the export" in result.stderr
        assert "a fork" in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert result.stdout.count("pelayanan/kota\n10\n") == 2
