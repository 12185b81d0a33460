"""Date of birth and the specific personal data of UU PDP Pasal 4(2); sensitive requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import PermissionDeniedError, SOPDefinitionError
from pelayanan.privacy import PrivacySettings, Vault, generate_master_key
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.open311 import open311_requests
from pelayanan.sop import sop_from_dict
from pelayanan.sop.personal import PERSONAL_KINDS, SPECIFIC_KINDS
from pelayanan.store import Store
from pelayanan.testing import FakeClock

SOP_DOC: dict[str, Any] = {
    "id": "pengaduan-perlindungan",
    "version": "1.0.0",
    "title": "Pengaduan perlindungan perempuan dan anak",
    "unit": "uptd-ppa",
    "roles": {"warga": "Pelapor", "petugas": "Petugas", "kepala": "Kepala UPTD"},
    "fields": {
        "kategori": {"type": "choice", "choices": ["kdrt", "perundungan", "lainnya"]},
        "tanggal_lahir": {"type": "text"},
        "rekam_medis": {"type": "text"},
        "nama_anak": {"type": "text"},
    },
    "submit": {"roles": ["warga"], "requires": ["kategori"]},
    "initial": "diterima",
    "states": {"diterima": {}, "selesai": {"final": True}},
    "actions": [{"name": "tutup", "from": "diterima", "to": "selesai", "roles": ["kepala"]}],
    "privacy": {
        "reveal_roles": ["petugas", "kepala"],
        "specific_reveal_roles": ["kepala"],
        "exclude_from_public": {"kategori": ["kdrt"]},
        "fields": {
            "tanggal_lahir": {"kind": "date_of_birth"},
            "rekam_medis": {"kind": "health"},
            "nama_anak": {"kind": "child"},
        },
    },
}
DATA = {"tanggal_lahir": "2014-05-01", "rekam_medis": "memar", "nama_anak": "A"}


@pytest.fixture
def desk(store: Store, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    privacy = PrivacySettings(vault=Vault(generate_master_key()))
    sop = sop_from_dict(SOP_DOC)
    return ServiceDesk(store, sops=[sop], signing_key=ledger_key, clock=clock, privacy=privacy)


class TestKinds:
    def test_kinds_listed(self) -> None:
        """Date of birth and every Pasal 4(2) kind can be marked."""
        assert "date_of_birth" in PERSONAL_KINDS
        assert set(SPECIFIC_KINDS) <= set(PERSONAL_KINDS)
        assert {"health", "biometric", "criminal_record", "child"} <= set(SPECIFIC_KINDS)

    def test_stricter_default_reveal_roles(self) -> None:
        """Specific kinds take specific_reveal_roles; other kinds the general ones."""
        policy = sop_from_dict(SOP_DOC).privacy
        assert policy.roles_for("tanggal_lahir") == ("petugas", "kepala")
        assert policy.roles_for("rekam_medis") == ("kepala",)
        bare = {**SOP_DOC["privacy"]}
        bare.pop("specific_reveal_roles")
        assert sop_from_dict({**SOP_DOC, "privacy": bare}).privacy.roles_for("nama_anak") == ()

    def test_bad_exclusion_is_a_problem(self) -> None:
        """exclude_from_public must map field names to values."""
        doc = {**SOP_DOC, "privacy": {**SOP_DOC["privacy"], "exclude_from_public": ["kdrt"]}}
        with pytest.raises(SOPDefinitionError, match="exclude_from_public"):
            sop_from_dict(doc)

    def test_hash_unchanged_without_new_keys(self) -> None:
        """An SOP that uses none of the new keys keeps its content hash."""
        plain = {**SOP_DOC["privacy"]}
        plain.pop("specific_reveal_roles")
        plain.pop("exclude_from_public")
        doc = {**SOP_DOC, "privacy": plain}
        again = {**doc, "privacy": {**plain, "exclude_from_public": {}}}
        assert sop_from_dict(doc).content_hash == sop_from_dict(again).content_hash


class TestDesk:
    def test_health_record_needs_the_specific_role(self, desk: ServiceDesk) -> None:
        """A general reveal role reads the date of birth, not the health record."""
        data = {"kategori": "perundungan", **DATA}
        rid = desk.submit(SOP_DOC["id"], actor=Actor("w", {"warga"}), data=data).request.id
        officer, head = Actor("p", {"petugas"}), Actor("k", {"kepala"})
        assert desk.reveal(rid, "tanggal_lahir", actor=officer, purpose="cek usia").value
        with pytest.raises(PermissionDeniedError):
            desk.reveal(rid, "rekam_medis", actor=officer, purpose="ingin tahu")
        assert desk.reveal(rid, "rekam_medis", actor=head, purpose="rujukan").value == "memar"

    def test_sensitive_requests_stay_out_of_open311(self, desk: ServiceDesk) -> None:
        """A domestic violence report is left out of the public feed; others stay."""
        citizen = Actor("w", {"warga"})
        kdrt = desk.submit(SOP_DOC["id"], actor=citizen, data={"kategori": "kdrt"}).request.id
        other = desk.submit(SOP_DOC["id"], actor=citizen, data={"kategori": "lainnya"}).request.id
        flow = RequestFlow([sop_from_dict(SOP_DOC)], indonesian_government_calendar())
        for stored in desk.store.entries("default"):
            flow.feed(json.loads(stored.data))
        ids = [item["service_request_id"] for item in open311_requests(flow)]
        assert ids == [other]
        assert kdrt in flow.tracks
