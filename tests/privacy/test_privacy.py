"""Personal data: sealing, reveal, erasure, legal holds, retention, publication."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.access import Actor
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.verify import verify_ledger
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConfigurationError,
    ErasureRefusedError,
    IncompleteRequestError,
    PermissionDeniedError,
    PrivacyError,
    SOPDefinitionError,
    SubjectErasedError,
    UnknownSubjectError,
)
from pelayanan.privacy import (
    DATA_PROTECTION_OFFICER,
    PrivacySettings,
    RetentionPeriod,
    RetentionSchedule,
    Vault,
    generate_master_key,
    is_sealed,
    load_master_key,
    publish_statistics,
    write_master_key,
)
from pelayanan.sop import SOP, load_sop, sop_from_dict
from pelayanan.store import SQLiteStore, Store
from pelayanan.testing import FakeClock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CITIZEN_DATA = {
    "subject": "Jalan berlubang",
    "category": "infrastruktur",
    "nama": "Siti Nurhaliza Rahmawati",
    "nik": "3273015708910004",
    "telepon": "+6281234567890",
    "alamat": "Jl. Cihampelas No. 12, RT 03/RW 05, Bandung",
}
PLAINTEXTS = [CITIZEN_DATA[k] for k in ("nama", "nik", "telepon", "alamat")]
DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})


@pytest.fixture(scope="module")
def master_key() -> bytes:
    """One vault master key for the module."""
    return generate_master_key()


@pytest.fixture
def pdesk(
    store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock, master_key: bytes
) -> ServiceDesk:
    """A complaint desk with a vault, over each store."""
    return ServiceDesk(
        store,
        sops=[complaint_sop],
        signing_key=ledger_key,
        clock=clock,
        privacy=PrivacySettings(vault=Vault(master_key)),
    )


def _entries(desk: ServiceDesk) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in desk.store.entries(desk.ledger)]


def _verify(desk: ServiceDesk, key: SigningKey) -> int:
    store = desk.store
    report = verify_ledger(
        desk.ledger,
        ((e.seq, e.data) for e in store.entries(desk.ledger)),
        store.checkpoints(desk.ledger),
        [key.verifier],
    )
    return report.size


def _close(desk: ServiceDesk, request_id: str, staff: dict[str, Actor]) -> None:
    desk.act(request_id, "verify", actor=staff["verifier"])
    desk.act(request_id, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "pu"})
    desk.act(request_id, "follow_up", actor=staff["officer"], data={"follow_up_note": "ok"})
    desk.act(request_id, "close", actor=staff["supervisor"])


class TestSOPPrivacySection:
    """The SOP ``privacy`` section marks personal fields."""

    def _doc(self, privacy: Any) -> dict[str, Any]:
        return {
            "id": "x",
            "version": "1",
            "title": "t",
            "unit": "u",
            "roles": {"citizen": "", "verifier": ""},
            "initial": "a",
            "states": {"a": {}, "b": {"final": True}},
            "actions": [{"name": "go", "from": "a", "to": "b", "roles": ["verifier"]}],
            "privacy": privacy,
        }

    def test_example_sop_marks_citizen_fields(self, complaint_sop: SOP) -> None:
        """The example complaint SOP marks nama, nik, telepon and alamat personal."""
        policy = complaint_sop.privacy
        assert {"nama", "nik", "telepon", "alamat"} <= set(policy.fields)
        assert policy.fields["nik"].kind == "nik"
        assert policy.roles_for("nama") == ("verifier", "supervisor")
        assert not policy.is_personal("category")

    def test_shorthand_and_override(self) -> None:
        """A bare kind is shorthand; a field may override the reveal roles."""
        sop = sop_from_dict(
            self._doc(
                {
                    "reveal_roles": ["verifier"],
                    "retention": "arsip",
                    "fields": {"nama": "name", "nik": {"kind": "nik", "reveal_roles": []}},
                }
            )
        )
        assert sop.privacy.fields["nama"].kind == "name"
        assert sop.privacy.roles_for("nama") == ("verifier",)
        assert sop.privacy.roles_for("nik") == ()
        assert sop.privacy.retention == "arsip"

    def test_public_drops_personal_fields(self, complaint_sop: SOP) -> None:
        """The routing view of a request's data holds no personal field."""
        assert complaint_sop.privacy.public(CITIZEN_DATA) == {
            "subject": "Jalan berlubang",
            "category": "infrastruktur",
        }

    def test_no_section_means_no_personal_fields(self) -> None:
        """An SOP without the section has no personal fields."""
        doc = self._doc(None)
        del doc["privacy"]
        assert sop_from_dict(doc).privacy.fields == {}

    @pytest.mark.parametrize(
        ("privacy", "path"),
        [
            ({"fields": {"nama": {"kind": "face"}}}, "privacy.fields.nama.kind"),
            ({"reveal_roles": ["ghost"]}, "privacy.reveal_roles"),
            ({"fields": {"Nama": "name"}}, "privacy.fields.Nama"),
            ({"fieldz": {}}, "privacy.fieldz"),
            ({"retention": 5}, "privacy.retention"),
            ("yes", "privacy"),
        ],
    )
    def test_invalid_sections_are_refused_with_their_path(
        self, privacy: Any, path: str, tmp_path: Path
    ) -> None:
        """Bad kinds, undeclared roles, bad names and unknown keys name their key path."""
        import yaml

        file = tmp_path / "bad.yaml"
        file.write_text(yaml.safe_dump(self._doc(privacy)), encoding="utf-8")
        with pytest.raises(SOPDefinitionError) as info:
            load_sop(file)
        problem = next(p for p in info.value.problems if p.path == path)
        assert problem.line is not None


class TestVault:
    """The vault seals values under per-subject keys wrapped by the master key."""

    def test_seal_open_round_trip(self, master_key: bytes) -> None:
        """A sealed value opens in the same context and names its subject, never the value."""
        vault = Vault(master_key)
        wrapped, key = vault.new_key("subj-a", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal("3273015708910004", ledger="l", request="r", field="nik")
        assert is_sealed(sealed)
        assert "3273015708910004" not in json.dumps(sealed)
        again = vault.unwrap(wrapped)
        assert again.open(sealed, ledger="l", request="r", field="nik") == "3273015708910004"
        assert again.matches(sealed, field="nik", value="3273015708910004")
        assert not again.matches(sealed, field="nik", value="3273015708910005")

    @pytest.mark.parametrize(
        "context",
        [
            {"ledger": "other", "request": "r", "field": "nik"},
            {"ledger": "l", "request": "r2", "field": "nik"},
            {"ledger": "l", "request": "r", "field": "telepon"},
        ],
    )
    def test_sealed_value_is_bound_to_its_place(
        self, master_key: bytes, context: dict[str, str]
    ) -> None:
        """A sealed value moved to another ledger, request or field does not decrypt."""
        _, key = Vault(master_key).new_key("subj-a", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal("x", ledger="l", request="r", field="nik")
        with pytest.raises(PrivacyError, match="does not decrypt"):
            key.open(sealed, **context)

    def test_wrong_master_key_does_not_unwrap(self, master_key: bytes) -> None:
        """A key wrapped under one master key does not unwrap under another."""
        wrapped, _ = Vault(master_key).new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        with pytest.raises(PrivacyError, match="wrong vault master key"):
            Vault(generate_master_key()).unwrap(wrapped)

    def test_wrapped_key_is_bound_to_its_subject(self, master_key: bytes) -> None:
        """A wrapped key copied to another subject id does not unwrap."""
        vault = Vault(master_key)
        wrapped, _ = vault.new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        with pytest.raises(PrivacyError):
            vault.unwrap(attrs.evolve(wrapped, subject="other"))

    def test_index_tag_is_keyed_not_a_bare_hash(self, master_key: bytes) -> None:
        """NIK index tags depend on the master key and ignore separators."""
        import hashlib

        nik = "3273015708910004"
        tag = Vault(master_key).index_tag("nik", nik)
        assert tag == Vault(master_key).index_tag("nik", "3273 0157.0891-0004")
        assert tag != Vault(generate_master_key()).index_tag("nik", nik)
        assert tag != hashlib.sha256(nik.encode()).hexdigest()

    def test_master_key_must_be_32_bytes(self) -> None:
        """A short master key is refused with a typed error."""
        with pytest.raises(PrivacyError, match="32 bytes"):
            Vault(b"short")

    def test_master_key_file_is_private(self, tmp_path: Path, master_key: bytes) -> None:
        """The master key file is written mode 0600 and reads back."""
        path = write_master_key(master_key, tmp_path / "k" / "vault-master.key")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_master_key(path) == master_key
        path.write_bytes(b"x")
        with pytest.raises(PrivacyError, match="not a vault master key"):
            load_master_key(path)

    @settings(max_examples=30)
    @given(value=st.text() | st.integers(-(2**53) + 1, 2**53 - 1), field=st.text(min_size=1))
    def test_any_text_value_round_trips(self, master_key: bytes, value: Any, field: str) -> None:
        """Every canonical-JSON text or integer value seals and opens unchanged."""
        _, key = Vault(master_key).new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal(value, ledger="l", request="r", field=field)
        assert key.open(sealed, ledger="l", request="r", field=field) == value


class TestSealing:
    """The desk stores personal fields only sealed: in entries and in the request row."""

    def test_entries_and_request_hold_no_plaintext(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """Submit seals personal fields in the entry and the stored request."""
        result = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        raw = b"".join(e.data for e in pdesk.store.entries(pdesk.ledger))
        for value in PLAINTEXTS:
            assert value.encode() not in raw
        entry = _entries(pdesk)[-1]
        assert entry["data"] == {"subject": "Jalan berlubang", "category": "infrastruktur"}
        assert set(entry["personal"]) == {"nama", "nik", "telepon", "alamat"}
        record = pdesk.get(result.request.id)
        assert all(is_sealed(record.data[k]) for k in ("nama", "nik", "telepon", "alamat"))
        assert record.meta["subject"].startswith("subj-")
        assert record.data["category"] == "infrastruktur"

    def test_same_nik_joins_the_same_subject(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A second request with the same NIK belongs to the same data subject."""
        first = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        second = pdesk.submit(
            "pengaduan-umum",
            actor=staff["citizen"],
            data={**CITIZEN_DATA, "nik": "3273 0157 0891 0004"},
        )
        other = pdesk.submit(
            "pengaduan-umum",
            actor=staff["citizen"],
            data={**CITIZEN_DATA, "nik": "3173014101850001"},
        )
        subject = first.request.meta["subject"]
        assert second.request.meta["subject"] == subject
        assert other.request.meta["subject"] != subject
        assert pdesk.find_subject("3273015708910004") == subject

    def test_subject_ids_are_random_not_derived(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """Subject ids carry no trace of the NIK."""
        result = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        subject = result.request.meta["subject"]
        import hashlib
        import re

        assert re.fullmatch(r"subj-[0-9a-f]{20}", subject)
        digest = hashlib.sha256(CITIZEN_DATA["nik"].encode()).hexdigest()
        assert subject.removeprefix("subj-") not in digest
        assert CITIZEN_DATA["nik"][:6] not in subject

    def test_personal_field_added_by_an_action_is_sealed(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """An action that adds a personal field seals it under the request's subject."""
        data = {"subject": "s", "category": "lainnya", "nama": "Budi Santoso"}
        result = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=data)
        pdesk.act(
            result.request.id,
            "verify",
            actor=staff["verifier"],
            data={"telepon": "+6281311112222"},
        )
        record = pdesk.get(result.request.id)
        assert record.data["telepon"]["subject"] == result.request.meta["subject"]
        assert b"+6281311112222" not in b"".join(e.data for e in pdesk.store.entries(pdesk.ledger))
        value = pdesk.reveal(
            result.request.id, "telepon", actor=staff["verifier"], purpose="call back"
        )
        assert value == "+6281311112222"

    def test_request_without_personal_fields_needs_no_vault(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A desk without a vault still serves requests that carry no personal field."""
        result = desk.submit(
            "pengaduan-umum", actor=staff["citizen"], data={"subject": "s", "category": "lainnya"}
        )
        assert "subject" not in result.request.meta

    def test_personal_field_without_vault_is_refused(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A personal value never reaches a desk without a vault in clear: PrivacyError."""
        with pytest.raises(PrivacyError, match="PrivacySettings"):
            desk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        raw = b"".join(e.data for e in desk.store.entries(desk.ledger))
        assert CITIZEN_DATA["nik"].encode() not in raw


class TestReveal:
    """Reveals are allowed by SOP role, need a purpose, and are always recorded."""

    def test_allowed_reveal_is_recorded(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A verifier reveals the NIK; the log records who, whose, which field and why."""
        request_id = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        rid = request_id.request.id
        value = pdesk.reveal(rid, "nik", actor=staff["verifier"], purpose="verify identity")
        assert value == CITIZEN_DATA["nik"]
        entry = _entries(pdesk)[-1]
        assert entry["kind"] == "reveal"
        assert entry["actor"] == staff["verifier"].id
        assert entry["request"] == rid
        assert entry["field"] == "nik"
        assert entry["subject"] == request_id.request.meta["subject"]
        assert entry["purpose"] == "verify identity"

    def test_unauthorized_reveal_raises_and_is_recorded(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """An officer (not a reveal role) is refused with PermissionDeniedError, recorded."""
        rid = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA).request.id
        with pytest.raises(PermissionDeniedError) as info:
            pdesk.reveal(rid, "nama", actor=staff["officer"], purpose="curious")
        assert info.value.rule == "reveal_role"
        entry = _entries(pdesk)[-1]
        assert entry["kind"] == "reveal_refused"
        assert entry["actor"] == staff["officer"].id
        assert entry["reason"]["rule"] == "reveal_role"
        assert CITIZEN_DATA["nama"] not in json.dumps(entry)

    def test_reveal_needs_a_purpose(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A reveal without a purpose is refused and recorded."""
        rid = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA).request.id
        with pytest.raises(IncompleteRequestError):
            pdesk.reveal(rid, "nama", actor=staff["verifier"], purpose="  ")
        assert _entries(pdesk)[-1]["kind"] == "reveal_refused"

    def test_reveal_of_non_personal_field_is_refused(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """Only personal fields are revealed; others are read from the data."""
        rid = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA).request.id
        with pytest.raises(PrivacyError, match="not personal"):
            pdesk.reveal(rid, "category", actor=staff["verifier"], purpose="x")

    def test_subject_access_returns_all_their_data(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """The DPO gets every personal field of every request of the subject; recorded."""
        first = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        subject = first.request.meta["subject"]
        data = pdesk.subject_access(subject, actor=DPO, purpose="akses subjek data no. 12")
        assert len(data["requests"]) == 2
        fields = next(iter(data["requests"].values()))["fields"]
        assert fields["nama"] == CITIZEN_DATA["nama"]
        entry = _entries(pdesk)[-1]
        assert entry["kind"] == "reveal"
        assert entry["scope"] == "subject"
        assert entry["fields"] == ["alamat", "nama", "nik", "telepon"]

    def test_subject_access_needs_the_officer_role(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A verifier may not answer subject access requests."""
        subject = pdesk.submit(
            "pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA
        ).request.meta["subject"]
        with pytest.raises(PermissionDeniedError):
            pdesk.subject_access(subject, actor=staff["verifier"], purpose="x")
        assert _entries(pdesk)[-1]["kind"] == "reveal_refused"

    def test_unknown_subject(self, pdesk: ServiceDesk) -> None:
        """An unknown subject id raises UnknownSubjectError (a LookupError)."""
        with pytest.raises(UnknownSubjectError):
            pdesk.subject_access("subj-nobody", actor=DPO, purpose="x")
        with pytest.raises(LookupError):
            pdesk.erase_subject("subj-nobody", actor=DPO, reason="x")


class TestErasure:
    """Erasure destroys the subject's key; the log still verifies; refusals are recorded."""

    def test_erasure_makes_data_unrecoverable_and_log_verifies(
        self, pdesk: ServiceDesk, staff: dict[str, Actor], ledger_key: SigningKey
    ) -> None:
        """After erasure, reveal raises SubjectErasedError and the whole log verifies."""
        result = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        rid, subject = result.request.id, result.request.meta["subject"]
        _close(pdesk, rid, staff)
        size_before = _verify(pdesk, ledger_key)
        erased = pdesk.erase_subject(subject, actor=DPO, reason="permohonan hapus no. 7")
        assert erased.requests == (rid,)
        entry = _entries(pdesk)[-1]
        assert entry["kind"] == "erasure"
        assert entry["subject"] == subject
        assert entry["reason"] == "permohonan hapus no. 7"
        assert _verify(pdesk, ledger_key) == size_before + 1
        with pytest.raises(SubjectErasedError):
            pdesk.reveal(rid, "nik", actor=staff["verifier"], purpose="check")
        assert _entries(pdesk)[-1]["kind"] == "reveal_refused"
        with pytest.raises(SubjectErasedError):
            pdesk.subject_access(subject, actor=DPO, purpose="x")
        assert pdesk.find_subject(CITIZEN_DATA["nik"]) is None
        assert _verify(pdesk, ledger_key) == size_before + 3

    def test_erasing_twice_is_refused(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A second erasure raises SubjectErasedError and is recorded as refused."""
        subject = pdesk.submit(
            "pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA
        ).request.meta["subject"]
        pdesk.erase_subject(subject, actor=DPO, reason="r")
        with pytest.raises(SubjectErasedError):
            pdesk.erase_subject(subject, actor=DPO, reason="r")
        assert _entries(pdesk)[-1]["kind"] == "erasure_refused"

    def test_new_request_after_erasure_gets_a_new_subject(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """The erased subject's index is gone: the same NIK later starts a new subject."""
        subject = pdesk.submit(
            "pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA
        ).request.meta["subject"]
        pdesk.erase_subject(subject, actor=DPO, reason="r")
        again = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        assert again.request.meta["subject"] != subject

    def test_erasure_needs_the_officer_role(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A supervisor may not erase; the refusal is recorded."""
        subject = pdesk.submit(
            "pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA
        ).request.meta["subject"]
        with pytest.raises(PermissionDeniedError):
            pdesk.erase_subject(subject, actor=staff["supervisor"], reason="r")
        assert _entries(pdesk)[-1]["refusal"]["rule"] == "officer"

    @pytest.mark.parametrize("on", ["subject", "request"])
    def test_legal_hold_refuses_erasure_until_released(
        self, pdesk: ServiceDesk, staff: dict[str, Actor], on: str
    ) -> None:
        """A hold on the subject or on one of their requests refuses erasure, recorded."""
        result = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        subject = result.request.meta["subject"]
        target = {"subject": subject} if on == "subject" else {"request": result.request.id}
        hold = pdesk.place_legal_hold(actor=DPO, reason="perkara 12/Pdt/2026", **target)
        assert _entries(pdesk)[-1]["kind"] == "legal_hold"
        with pytest.raises(ErasureRefusedError) as info:
            pdesk.erase_subject(subject, actor=DPO, reason="r")
        assert info.value.rule == "legal_hold"
        assert info.value.holds == (hold.id,)
        refused = _entries(pdesk)[-1]
        assert refused["kind"] == "erasure_refused"
        assert refused["refusal"]["rule"] == "legal_hold"
        pdesk.release_legal_hold(hold.id, actor=Actor("legal-1", {"legal_officer"}), reason="done")
        assert _entries(pdesk)[-1]["kind"] == "legal_hold_released"
        pdesk.erase_subject(subject, actor=DPO, reason="r")

    def test_hold_needs_a_hold_role(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """An officer may not place a legal hold; recorded."""
        rid = pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA).request.id
        with pytest.raises(PermissionDeniedError):
            pdesk.place_legal_hold(actor=staff["officer"], reason="x", request=rid)
        assert _entries(pdesk)[-1]["kind"] == "legal_hold_refused"
        with pytest.raises(IncompleteRequestError):
            pdesk.place_legal_hold(actor=DPO, reason="x")
        with pytest.raises(PrivacyError):
            pdesk.release_legal_hold("hold-none", actor=DPO, reason="x")


class TestRetention:
    """Retention classes are configured by the host; unexpired retention refuses erasure."""

    @pytest.fixture
    def retained_sop(self) -> SOP:
        """The complaint SOP with a retention class."""
        import yaml

        doc = yaml.safe_load((EXAMPLES / "sop" / "pengaduan.yaml").read_text(encoding="utf-8"))
        doc["version"] = "1.0.0-retained"
        doc["privacy"]["retention"] = "arsip-pengaduan"
        return sop_from_dict(doc)

    def _desk(
        self,
        store: Store,
        sop: SOP,
        key: SigningKey,
        clock: FakeClock,
        master_key: bytes,
        classes: dict[str, str],
    ) -> ServiceDesk:
        privacy = PrivacySettings(vault=Vault(master_key), retention=RetentionSchedule(classes))
        return ServiceDesk(store, sops=[sop], signing_key=key, clock=clock, privacy=privacy)

    def test_unconfigured_class_refuses(
        self,
        store: Store,
        retained_sop: SOP,
        ledger_key: SigningKey,
        clock: FakeClock,
        master_key: bytes,
        staff: dict[str, Actor],
    ) -> None:
        """No period is shipped: a class the host did not configure refuses erasure."""
        desk = self._desk(store, retained_sop, ledger_key, clock, master_key, {})
        result = desk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        with pytest.raises(ErasureRefusedError) as info:
            desk.erase_subject(result.request.meta["subject"], actor=DPO, reason="r")
        assert info.value.rule == "retention_unconfigured"

    def test_open_then_unexpired_then_expired(
        self,
        store: Store,
        retained_sop: SOP,
        ledger_key: SigningKey,
        clock: FakeClock,
        master_key: bytes,
        staff: dict[str, Actor],
    ) -> None:
        """Erasure waits for closing plus the class period, each refusal recorded."""
        desk = self._desk(
            store, retained_sop, ledger_key, clock, master_key, {"arsip-pengaduan": "P1Y"}
        )
        result = desk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        subject = result.request.meta["subject"]
        with pytest.raises(ErasureRefusedError, match="still open"):
            desk.erase_subject(subject, actor=DPO, reason="r")
        _close(desk, result.request.id, staff)
        closed_at = clock.now()
        clock.advance(days=300)
        with pytest.raises(ErasureRefusedError) as info:
            desk.erase_subject(subject, actor=DPO, reason="r")
        assert info.value.rule == "retention"
        assert info.value.until == RetentionPeriod(years=1).after(closed_at.astimezone(dt.UTC))
        assert _entries(desk)[-1]["refusal"]["rule"] == "retention"
        clock.advance(days=70)
        assert desk.erase_subject(subject, actor=DPO, reason="r").subject == subject


class TestRetentionPeriod:
    """Retention periods parse from ISO 8601 and add calendar time."""

    @pytest.mark.parametrize(
        ("text", "period"),
        [
            ("P5Y", RetentionPeriod(years=5)),
            ("p1y6m", RetentionPeriod(years=1, months=6)),
            ("P90D", RetentionPeriod(days=90)),
        ],
    )
    def test_parse(self, text: str, period: RetentionPeriod) -> None:
        """Years, months and days parse, case-insensitively."""
        assert RetentionPeriod.parse(text) == period

    @pytest.mark.parametrize("text", ["", "P", "5Y", "P1W", "PT5H", "P-1Y"])
    def test_invalid(self, text: str) -> None:
        """Anything else is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            RetentionPeriod.parse(text)

    def test_month_end_is_clamped(self) -> None:
        """One month after 31 January is the end of February."""
        start = dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)
        assert RetentionPeriod(months=1).after(start) == dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC)

    @settings(max_examples=50)
    @given(
        years=st.integers(0, 50),
        months=st.integers(0, 30),
        days=st.integers(0, 4000),
    )
    def test_str_round_trips(self, years: int, months: int, days: int) -> None:
        """The printed form parses back to the same period."""
        period = RetentionPeriod(years, months, days)
        assert RetentionPeriod.parse(str(period)) == period

    def test_no_default_classes(self) -> None:
        """No retention class ships with the library."""
        assert RetentionSchedule().classes == {}


class TestPublication:
    """Publication exports only aggregated, non-personal counts."""

    def test_counts_without_personal_data(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """Cells count requests per SOP, month and state; no id, actor or value leaks."""
        for _ in range(3):
            pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        published = publish_statistics(pdesk.store.requests())
        assert published["cells"] == [
            {"sop": "pengaduan-umum", "month": "2026-07", "state": "received", "count": 3}
        ]
        text = json.dumps(published)
        for value in [*PLAINTEXTS, "subj-", "REQ-", staff["citizen"].id]:
            assert value not in text

    def test_small_cells_are_suppressed(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Cells below min_count carry no count."""
        pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        published = publish_statistics(pdesk.store.requests(), min_count=5)
        assert published["cells"][0] == {
            "sop": "pengaduan-umum",
            "month": "2026-07",
            "state": "received",
            "suppressed": True,
        }
        assert published["suppressed_cells"] == 1


class TestRawBytes:
    """After erasure, no file holds the subject's plaintext or key material."""

    def test_store_files_and_exports_hold_nothing_recoverable(
        self,
        tmp_path: Path,
        complaint_sop: SOP,
        ledger_key: SigningKey,
        clock: FakeClock,
        master_key: bytes,
        staff: dict[str, Actor],
    ) -> None:
        """Scan the .db, -wal and exports (before and after erasure) byte by byte."""
        db = tmp_path / "p.db"
        store = SQLiteStore(db)
        desk = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            privacy=PrivacySettings(vault=Vault(master_key)),
        )
        result = desk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        subject = result.request.meta["subject"]
        keep = desk.submit(
            "pengaduan-umum",
            actor=staff["citizen"],
            data={**CITIZEN_DATA, "nik": "3173014101850001", "nama": "Andi Wijaya"},
        )
        _close(desk, result.request.id, staff)
        desk.reveal(result.request.id, "nama", actor=staff["verifier"], purpose="p")
        wrapped = store.vault_key(subject)
        assert wrapped is not None
        tag = Vault(master_key).index_tag("nik", CITIZEN_DATA["nik"])
        before = tmp_path / "before.jsonl"
        with before.open("wb") as out:
            write_export(store, out)
        on_disk = db.read_bytes() + Path(f"{db}-wal").read_bytes()
        assert wrapped.wrapped in on_disk  # the scan below can see key material
        desk.erase_subject(subject, actor=DPO, reason="permohonan hapus")
        after = tmp_path / "after.jsonl"
        with after.open("wb") as out:
            write_export(store, out)
        files = [db, Path(f"{db}-wal"), before, after]
        secrets_ = [v.encode() for v in PLAINTEXTS]
        secrets_ += [wrapped.wrapped, wrapped.nonce + wrapped.wrapped, tag.encode()]
        for path in files:
            blob = path.read_bytes() if path.exists() else b""
            for secret in secrets_:
                assert secret not in blob, (path.name, secret[:12])
        # The other subject is untouched and the exports verify.
        assert desk.reveal(keep.request.id, "nama", actor=staff["verifier"], purpose="p") == (
            "Andi Wijaya"
        )
        for export in (before, after):
            assert verify_export(export, [ledger_key.verifier])
        store.close()


def test_load_sop_keeps_privacy_section() -> None:
    """Loading the example file (YAML) carries the privacy section into the SOP."""
    sop = load_sop(EXAMPLES / "sop" / "pengaduan.yaml")
    assert sop.privacy.reveal_roles == ("verifier", "supervisor")
