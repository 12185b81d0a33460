"""Ledger and vault keys are created, saved, loaded (from files or the environment) and
rotated through documented public functions."""

from __future__ import annotations

import base64
import datetime as dt
import stat
from pathlib import Path

import pytest

import pelayanan
from pelayanan.audit.keyring import load_keyring
from pelayanan.exceptions import KeyMaterialError, PrivacyError

T0 = dt.datetime(2026, 7, 6, tzinfo=dt.UTC)


class TestSigningKey:
    def test_file_round_trip(self, tmp_path: Path) -> None:
        """A key written to a folder loads back as the same key, 0600 in a 0700 folder."""
        key = pelayanan.generate_key_pair()
        private, public = pelayanan.write_key_pair(key, tmp_path / "keys")
        loaded = pelayanan.load_signing_key(private)
        assert loaded.verifier == key.verifier
        assert pelayanan.load_public_key(public) == key.verifier
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700

    def test_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An environment variable holding the PEM text gives the same key."""
        key = pelayanan.generate_key_pair()
        monkeypatch.setenv("LEDGER_KEY", key.private_pem().decode())
        assert pelayanan.load_signing_key(env="LEDGER_KEY").verifier == key.verifier

    def test_encrypted_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An encrypted PEM in the environment needs its passphrase."""
        key = pelayanan.generate_key_pair()
        monkeypatch.setenv("LEDGER_KEY", key.private_pem(b"rahasia").decode())
        with pytest.raises(KeyMaterialError, match=r"\$LEDGER_KEY: the key is encrypted"):
            pelayanan.load_signing_key(env="LEDGER_KEY")
        loaded = pelayanan.load_signing_key(env="LEDGER_KEY", passphrase=b"rahasia")
        assert loaded.verifier == key.verifier

    def test_unset_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unset variable is named in the error, with what to put there."""
        monkeypatch.delenv("LEDGER_KEY", raising=False)
        with pytest.raises(KeyMaterialError, match="LEDGER_KEY is unset"):
            pelayanan.load_signing_key(env="LEDGER_KEY")

    def test_garbage_in_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Text that is not a PEM key is refused without echoing it."""
        monkeypatch.setenv("LEDGER_KEY", "not-a-key-ééé")
        with pytest.raises(KeyMaterialError, match="not a PEM private key") as info:
            pelayanan.load_signing_key(env="LEDGER_KEY")
        assert "not-a-key" not in str(info.value)

    def test_exactly_one_source(self, tmp_path: Path) -> None:
        """Neither or both of path and env is a usage error."""
        with pytest.raises(KeyMaterialError, match=r"\(path=\.\.\.\) or its environment"):
            pelayanan.load_signing_key(tmp_path / "k.pem", env="X")
        with pytest.raises(KeyMaterialError, match=r"\(path=\.\.\.\) or its environment"):
            pelayanan.load_signing_key()


class TestKeyFolder:
    def test_create_then_rotate(self, tmp_path: Path) -> None:
        """A created folder holds one active key; rotation retires it and keeps both trusted."""
        folder = tmp_path / "office.db.keys"
        first = pelayanan.create_key_folder(folder, valid_from=T0)
        retired, second = pelayanan.rotate_key_folder(folder, at=T0 + dt.timedelta(days=30))
        assert retired.name == first.name
        assert retired.valid_until == T0 + dt.timedelta(days=30)
        keyring = load_keyring(folder)
        assert keyring is not None
        assert [k.name for k in keyring.keys] == [first.name, second.name]
        assert pelayanan.load_signing_key(folder / "ledger-private.pem").name == second.name
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


class TestMasterKey:
    def test_file_round_trip(self, tmp_path: Path) -> None:
        """A master key saved to a file loads back, 0600 in a 0700 folder."""
        key = pelayanan.generate_master_key()
        path = pelayanan.write_master_key(key, tmp_path / "keys" / "vault-master.key")
        assert pelayanan.load_master_key(path) == key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    def test_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A base64 master key in the environment loads as the same bytes."""
        key = pelayanan.generate_master_key()
        monkeypatch.setenv("VAULT_KEY", base64.b64encode(key).decode())
        assert pelayanan.load_master_key(env="VAULT_KEY") == key

    @pytest.mark.parametrize(
        ("value", "message"),
        [("", "unset or empty"), ("!!!", "not base64"), ("AAAA", "32-byte")],
    )
    def test_bad_environment(
        self, monkeypatch: pytest.MonkeyPatch, value: str, message: str
    ) -> None:
        """An empty, non-base64 or wrong-length variable is refused, saying which."""
        monkeypatch.setenv("VAULT_KEY", value)
        with pytest.raises(PrivacyError, match=message):
            pelayanan.load_master_key(env="VAULT_KEY")

    def test_exactly_one_source(self, tmp_path: Path) -> None:
        """Neither or both of path and env is a usage error."""
        with pytest.raises(PrivacyError, match=r"\(path=\.\.\.\) or its environment"):
            pelayanan.load_master_key()
        with pytest.raises(PrivacyError, match=r"\(path=\.\.\.\) or its environment"):
            pelayanan.load_master_key(tmp_path / "k", env="X")
