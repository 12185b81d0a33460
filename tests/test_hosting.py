"""pelayanan.hosting: status codes, settings from the environment, receipts, reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelayanan import (
    Actor,
    ConfigurationError,
    IncompleteRequestError,
    PelayananError,
    PermissionDeniedError,
    ServiceDesk,
    SQLiteStore,
    TransitionNotAllowedError,
    UnknownRequestError,
    generate_key_pair,
    generate_master_key,
    write_key_pair,
)
from pelayanan import exceptions as errors
from pelayanan.audit.keyring import KeyringSigner, create_key_folder
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.receipt import check_receipt
from pelayanan.exceptions import ProofError, StoreError, VerificationError
from pelayanan.hosting import HostSettings, http_status, log_reports, prove_entry
from pelayanan.privacy import MASTER_KEY_FILE, write_master_key
from pelayanan.sop import SOP
from pelayanan.testing import FakeClock

_ERRORS = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, PelayananError)
]


class TestHttpStatus:
    """Typed errors map to HTTP status codes."""

    def test_refusals_are_client_errors(self) -> None:
        """Unknown 404, permission 403, wrong state 409, missing fields 422."""
        assert http_status(UnknownRequestError("REQ-1")) == 404
        assert http_status(PermissionDeniedError("no role", rule="role")) == 403
        assert http_status(TransitionNotAllowedError("close", "received")) == 409
        assert http_status(IncompleteRequestError("dispatch", ["assigned_unit"])) == 422

    def test_server_faults_are_server_errors(self) -> None:
        """A log that does not verify is 500; an unreachable store 503."""
        assert http_status(VerificationError(3, "bad")) == 500
        assert http_status(StoreError("down")) == 503
        assert http_status(ConfigurationError("bad")) == 500

    @given(st.sampled_from(_ERRORS))
    def test_every_error_has_a_status(self, cls: type[PelayananError]) -> None:
        """Every class of the tree maps to a 4xx or 5xx code."""
        error = cls.__new__(cls)
        assert 400 <= http_status(error) < 600


class TestHostSettings:
    """Settings come from environment variables naming key files."""

    def test_reads_key_files(self, tmp_path: Path) -> None:
        """A ledger key file and a master key file give a complete configuration."""
        key = generate_key_pair()
        private, _ = write_key_pair(key, tmp_path / "keys")
        master = generate_master_key()
        write_master_key(master, tmp_path / "keys" / MASTER_KEY_FILE)
        settings = HostSettings.from_env(
            {
                "PELAYANAN_STORE": "office.db",
                "PELAYANAN_LEDGER": "pemkot",
                "PELAYANAN_LEDGER_KEY_FILE": str(private),
                "PELAYANAN_MASTER_KEY_FILE": str(tmp_path / "keys" / MASTER_KEY_FILE),
            }
        )
        assert (settings.store, settings.ledger, settings.master_key) == (
            "office.db",
            "pemkot",
            master,
        )
        assert settings.trusted_keys[0].key_id == key.verifier.key_id
        assert master.hex() not in repr(settings)
        assert "BEGIN" not in repr(settings)

    def test_key_folder_and_hex_master_key(self, tmp_path: Path) -> None:
        """KEYS_DIR gives a keyring signer; MASTER_KEY may be 64 hex digits."""
        create_key_folder(tmp_path / "k", valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        master = generate_master_key()
        settings = HostSettings.from_env(
            {"APP_KEYS_DIR": str(tmp_path / "k"), "APP_MASTER_KEY": master.hex()},
            prefix="APP_",
            default_store="fallback.db",
        )
        assert isinstance(settings.signing_key, KeyringSigner)
        assert settings.store == "fallback.db"
        assert settings.ledger == "default"
        assert settings.master_key == master

    def test_every_problem_at_once(self, tmp_path: Path) -> None:
        """Missing store, missing key and a bad master key are all named by variable."""
        with pytest.raises(ConfigurationError) as caught:
            HostSettings.from_env({"PELAYANAN_MASTER_KEY": "abc", "PELAYANAN_MASTER_KEY_FILE": "x"})
        message = str(caught.value)
        assert "PELAYANAN_STORE" in message
        assert "PELAYANAN_LEDGER_KEY_FILE" in message
        assert "PELAYANAN_MASTER_KEY: give 64 hexadecimal digits" in message

    def test_missing_key_file_is_named(self, tmp_path: Path) -> None:
        """A key file variable naming no file says so."""
        with pytest.raises(ConfigurationError, match=r"PELAYANAN_LEDGER_KEY_FILE: .* not a file"):
            HostSettings.from_env(
                {"PELAYANAN_STORE": "x.db", "PELAYANAN_LEDGER_KEY_FILE": str(tmp_path / "no")}
            )


@pytest.fixture
def desk(
    tmp_path: Path, complaint_sop: SOP, clock: FakeClock, ledger_key: SigningKey
) -> ServiceDesk:
    """A desk on SQLite with one verified complaint and one refused dispatch."""
    made = ServiceDesk(
        SQLiteStore(tmp_path / "h.db"), sops=[complaint_sop], signing_key=ledger_key,
        clock=clock, id_factory=lambda: "ADU-1",
    )  # fmt: skip
    made.submit(
        complaint_sop.id,
        actor=Actor("warga-1", {"citizen"}),
        data={"subject": "Lampu mati", "category": "infrastruktur"},
    )
    clock.advance(hours=1)
    made.act("ADU-1", "verify", actor=Actor("ver-1", {"verifier"}))
    return made


class TestReceiptsAndReports:
    """Receipts and reports straight from a store."""

    def test_receipt_checks(self, desk: ServiceDesk, ledger_key: SigningKey) -> None:
        """prove_entry gives a receipt that check_receipt accepts, entry included."""
        receipt = prove_entry(desk.store, desk.ledger, 0)
        assert receipt.entry is not None
        assert check_receipt(receipt, [ledger_key.verifier]).seq == 0

    def test_no_receipt_for_a_missing_entry(self, desk: ServiceDesk) -> None:
        """An entry beyond the log is a ProofError naming it."""
        with pytest.raises(ProofError, match="entry 99"):
            prove_entry(desk.store, desk.ledger, 99)

    def test_reports_in_one_replay(
        self, desk: ServiceDesk, clock: FakeClock, ledger_key: SigningKey
    ) -> None:
        """The SLA report, the at-risk list and the Open311 feed come from one replay."""
        key = ledger_key
        at = clock.now() + dt.timedelta(days=70)  # past the 60-day resolution clock
        reports = log_reports(
            desk.store, ledger=desk.ledger, sops=desk.sops, trusted_keys=[key.verifier], at=at
        )
        assert reports.basis.size == desk.store.head(desk.ledger).size
        assert [r["service_request_id"] for r in reports.open311] == ["ADU-1"]
        assert reports.open311[0]["status"] == "open"
        assert "received 1, closed 0, open 1" in reports.sla.render_text()
        assert reports.at_risk.at == at
        assert [item.request for item in reports.at_risk.items] == ["ADU-1"]

    def test_reports_refuse_an_untrusted_log(self, desk: ServiceDesk) -> None:
        """Reports are released only for a log signed by a trusted key."""
        with pytest.raises(VerificationError):
            log_reports(
                desk.store,
                ledger=desk.ledger,
                sops=desk.sops,
                trusted_keys=[generate_key_pair().verifier],
            )
