"""``desk.verify()``: the store check of ``pelayanan audit verify --db``, from code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from log_support import forge_actor
from pelayanan import ServiceDesk, SQLiteStore
from pelayanan.access import Actor
from pelayanan.audit.keyring import KeyringSigner, create_key_folder
from pelayanan.audit.keys import SigningKey, generate_key_pair, write_key_pair
from pelayanan.cli import cli
from pelayanan.exceptions import VerificationError
from pelayanan.sop import SOP
from pelayanan.testing import FakeClock

CITIZEN = Actor("warga-1", {"citizen"})
VERIFIER = Actor("ver-1", {"verifier"}, "unit-pengaduan")


def _work(desk: ServiceDesk, clock: FakeClock, requests: int = 3) -> None:
    for _ in range(requests):
        request = desk.submit(
            "pengaduan-umum", actor=CITIZEN, data={"subject": "Lampu", "category": "lainnya"}
        ).request
        clock.advance(minutes=5)
        desk.act(request.id, "verify", actor=VERIFIER)
        clock.advance(minutes=5)


class TestVerify:
    def test_an_intact_store_verifies(
        self, desk: ServiceDesk, clock: FakeClock, ledger_key: SigningKey
    ) -> None:
        """An untouched store verifies with the desk's own key: one report per ledger."""
        _work(desk, clock)
        report = desk.verify()
        assert report.ok
        (ledger,) = report.ledgers
        assert ledger.ledger == "default"
        assert ledger.size == desk.store.head("default").size
        assert desk.verify([ledger_key.verifier]) == report

    def test_the_report_the_cli_prints(
        self, tmp_path: Path, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """The report's lines are what ``pelayanan audit verify --db`` prints."""
        key = generate_key_pair()
        _, public = write_key_pair(key, tmp_path / "keys")
        store = SQLiteStore(tmp_path / "office.db")
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=key, clock=clock)
        _work(desk, clock)
        report = desk.verify()
        store.close()
        printed = CliRunner().invoke(
            cli,
            ["audit", "verify", "--db", str(tmp_path / "office.db"), "--trusted-key", str(public)],
        )
        assert printed.exit_code == 0, printed.output
        lines = printed.stdout.splitlines()
        assert lines[:-2] == [f"OK {r.summary()}" for r in report.ledgers]
        assert lines[-2].startswith("signatures: the thinned set checked")
        assert lines[-1] == "processes: 1"

    def test_a_keyring_desk_trusts_its_keyring(
        self, tmp_path: Path, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """A desk signing through a keyring verifies against the keyring's keys."""
        create_key_folder(tmp_path / "keys", valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        signer = KeyringSigner.from_folder(tmp_path / "keys")
        store = SQLiteStore(tmp_path / "office.db")
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=signer, clock=clock)
        _work(desk, clock, requests=1)
        assert desk.verify().ok
        store.close()

    def test_a_tampered_entry_is_named(
        self, tmp_path: Path, complaint_sop: SOP, clock: FakeClock, ledger_key: SigningKey
    ) -> None:
        """An entry changed behind the desk's back is the `VerificationError` it raises."""
        store = SQLiteStore(tmp_path / "office.db")
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
        _work(desk, clock)
        forge_actor(tmp_path / "office.db", 2)
        with pytest.raises(VerificationError) as raised:
            desk.verify()
        assert raised.value.seq == 2
        store.close()
