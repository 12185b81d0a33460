"""Tests for ledger keys and the keyring: validity, rotation, revocation, secrecy."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.keyring import (
    Keyring,
    KeyringSigner,
    TrustedKey,
    create_key_folder,
    load_keyring,
    revoke_key,
    rotate_key_folder,
)
from pelayanan.audit.keys import generate_key_pair, load_private_key, write_key_pair
from pelayanan.audit.verify import accept_checkpoint, verify_ledger
from pelayanan.cli import cli
from pelayanan.exceptions import KeyMaterialError, SignatureError
from pelayanan.store import MemoryStore

T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _cp(when: dt.datetime, size: int = 1) -> Checkpoint:
    return Checkpoint("kota", size, b"\x01" * 32, when)


class TestTrustedKey:
    def test_validity_window_is_half_open(self) -> None:
        """A key counts from valid_from (inclusive) until valid_until (exclusive)."""
        key = TrustedKey(generate_key_pair().verifier, valid_from=T0, valid_until=T0 + HOUR)
        assert key.refusal_at(T0) is None
        assert key.refusal_at(T0 + HOUR - dt.timedelta(microseconds=1)) is None
        assert "valid only until" in (key.refusal_at(T0 + HOUR) or "")
        assert "valid only from" in (key.refusal_at(T0 - HOUR) or "")

    def test_revocation_refuses_from_its_instant(self) -> None:
        """A revoked key's signatures count only before the revocation instant."""
        key = TrustedKey(generate_key_pair().verifier, revoked_at=T0, revocation_reason="bocor")
        assert key.refusal_at(T0 - HOUR) is None
        assert "revoked" in (key.refusal_at(T0) or "")
        assert "bocor" in (key.refusal_at(T0) or "")

    def test_naive_instants_are_refused(self) -> None:
        """Validity instants must be timezone-aware."""
        with pytest.raises(KeyMaterialError):
            TrustedKey(generate_key_pair().verifier, valid_from=dt.datetime(2026, 1, 1))

    def test_keyring_round_trips_and_checks_names(self) -> None:
        """keyring.json round-trips; an entry whose name does not fit its key is refused."""
        ring = Keyring().add(generate_key_pair().verifier, valid_from=T0)
        ring = ring.rotate(generate_key_pair().verifier, at=T0 + HOUR)
        assert Keyring.from_json(ring.to_json()) == ring
        bad = ring.to_json().replace(ring.keys[0].name, "pelayanan-0000000000000000")
        with pytest.raises(KeyMaterialError, match="does not match"):
            Keyring.from_json(bad)


class TestRotation:
    def test_rotated_folder_signs_with_new_key_and_old_checkpoints_verify(
        self, tmp_path: Path
    ) -> None:
        """After rotation new checkpoints carry the new key; the whole log still verifies."""
        folder = tmp_path / "keys"
        first = create_key_folder(folder, valid_from=T0)
        signer = KeyringSigner.from_folder(folder)
        store = MemoryStore()
        for i in range(3):
            when = T0 + i * HOUR
            store.append("kota", _body(when), time=when, sign=signer)
        old, new = rotate_key_folder(folder, at=T0 + 3 * HOUR)
        assert old.name == first.name
        assert old.valid_until == T0 + 3 * HOUR
        signer.reload()
        for i in range(3, 6):
            when = T0 + i * HOUR
            store.append("kota", _body(when), time=when, sign=signer)
        notes = store.checkpoints("kota")
        assert first.name in notes[2]
        assert new.name in notes[3]
        keyring = load_keyring(folder)
        assert keyring is not None
        entries = [(e.seq, e.data) for e in store.entries("kota")]
        report = verify_ledger("kota", entries, notes, keyring.keys)
        assert set(report.keys) == {first.name, new.name}
        assert (folder / f"{first.name}-private.pem").exists()

    def test_old_key_after_its_validity_is_refused(self, tmp_path: Path) -> None:
        """A checkpoint signed by the retired key after rotation does not verify."""
        folder = tmp_path / "keys"
        first = create_key_folder(folder, valid_from=T0)
        rotate_key_folder(folder, at=T0 + HOUR)
        keyring = load_keyring(folder)
        assert keyring is not None
        late = _cp(T0 + 2 * HOUR).sign(first)
        with pytest.raises(SignatureError, match="valid only until"):
            accept_checkpoint(late, keyring.keys)
        assert accept_checkpoint(_cp(T0).sign(first), keyring.keys) == first.name

    def test_signer_refuses_when_no_key_is_valid(self) -> None:
        """The signer never produces a checkpoint that would not verify."""
        key = generate_key_pair()
        ring = Keyring().add(key.verifier, valid_from=T0)
        signer = KeyringSigner(ring, [key])
        with pytest.raises(KeyMaterialError, match="no loaded ledger key is valid"):
            signer(_cp(T0 - HOUR))
        assert signer(_cp(T0)).signatures[0][0] == key.name

    def test_revoked_key_refused_from_revocation(self, tmp_path: Path) -> None:
        """Revocation keeps earlier checkpoints valid and refuses later ones."""
        folder = tmp_path / "keys"
        key = create_key_folder(folder, valid_from=T0)
        revoked = revoke_key(folder, key.verifier.key_id, at=T0 + HOUR, reason="kunci bocor")
        assert revoked.revocation_reason == "kunci bocor"
        keyring = load_keyring(folder)
        assert keyring is not None
        assert accept_checkpoint(_cp(T0).sign(key), keyring.keys) == key.name
        with pytest.raises(SignatureError, match="revoked"):
            accept_checkpoint(_cp(T0 + HOUR).sign(key), keyring.keys)
        with pytest.raises(KeyMaterialError, match="revoked already"):
            revoke_key(folder, key.name, at=T0, reason="x")

    def test_bare_key_is_trusted_at_any_time(self) -> None:
        """A bare public key (no keyring) has no validity limits."""
        key = generate_key_pair()
        assert accept_checkpoint(_cp(T0 - 1000 * HOUR).sign(key), [key.verifier]) == key.name


class TestSecrecy:
    def test_no_private_material_in_reprs_errors_or_logs(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Private key bytes appear in no repr, exception message or log record."""
        caplog.set_level(logging.DEBUG)
        key = generate_key_pair()
        pem = key.private_pem().decode()
        body = "".join(pem.splitlines()[1:-1])
        write_key_pair(key, tmp_path, passphrase=b"rahasia")
        texts = [
            repr(key),
            repr(key.verifier),
            repr(KeyringSigner(Keyring().add(key.verifier, valid_from=T0), [key])),
        ]
        for attempt in (None, b"salah"):
            with pytest.raises(KeyMaterialError) as info:
                load_private_key(tmp_path / "ledger-private.pem", attempt)
            texts.append(str(info.value))
        texts.extend(record.getMessage() for record in caplog.records)
        for text in texts:
            assert body not in text
            assert "PRIVATE KEY" not in text
            assert "rahasia" not in text

    def test_passphrase_round_trip(self, tmp_path: Path) -> None:
        """An encrypted PEM loads with its passphrase and yields the same key."""
        key = generate_key_pair()
        write_key_pair(key, tmp_path, passphrase=b"rahasia")
        assert b"ENCRYPTED" in (tmp_path / "ledger-private.pem").read_bytes()
        loaded = load_private_key(tmp_path / "ledger-private.pem", b"rahasia")
        assert loaded.verifier == key.verifier


class TestKeysCLI:
    def test_generate_rotate_revoke_list(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The keys commands maintain the keyring and never print private material."""
        runner = CliRunner()
        folder = tmp_path / "k"
        monkeypatch.setenv("LEDGER_PASS", "rahasia")
        made = runner.invoke(
            cli,
            [
                "keys",
                "generate",
                "--out",
                str(folder),
                "--valid-from",
                "2026-07-06T08:00:00+07:00",
                "--passphrase-env",
                "LEDGER_PASS",
            ],
        )
        assert made.exit_code == 0, made.output
        assert (folder / "keyring.json").exists()
        rotated = runner.invoke(
            cli, ["keys", "rotate", "--keys", str(folder), "--at", "2026-08-01T00:00:00+07:00"]
        )
        assert rotated.exit_code == 0, rotated.output
        keyring = load_keyring(folder)
        assert keyring is not None
        assert len(keyring.keys) == 2
        assert keyring.keys[0].valid_until == dt.datetime(2026, 7, 31, 17, tzinfo=dt.UTC)
        revoked = runner.invoke(
            cli,
            [
                "keys",
                "revoke",
                keyring.keys[0].name,
                "--keys",
                str(folder),
                "--reason",
                "laptop hilang",
            ],
        )
        assert revoked.exit_code == 0, revoked.output
        listed = runner.invoke(cli, ["keys", "list", "--keys", str(folder)])
        assert listed.exit_code == 0
        assert "active" in listed.output
        assert "laptop hilang" in listed.output
        for result in (made, rotated, revoked, listed):
            assert "PRIVATE KEY" not in result.output
            assert "rahasia" not in result.output

    @pytest.mark.parametrize(
        ("args", "code"),
        [
            (["keys", "rotate"], 2),
            (["keys", "rotate", "--keys", "nowhere"], 2),
            (["keys", "generate", "--out", "x", "--valid-from", "yesterday"], 2),
            (["keys", "generate", "--out", "x", "--valid-from", "2026-07-06T08:00:00"], 2),
            (["keys", "generate", "--out", "x", "--passphrase-env", "NO_SUCH_VARIABLE_SET"], 2),
        ],
    )
    def test_bad_input_is_one_line(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int
    ) -> None:
        """Bad options give one clear line and an exit code, never a traceback."""
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ")


def _body(when: dt.datetime) -> dict[str, object]:
    return {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": "action", "data": {}}
