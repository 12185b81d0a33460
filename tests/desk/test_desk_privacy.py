"""The desk's privacy: sealing, reveal, subject access, erasure, legal holds, retention."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from desk_support import CITIZEN_DATA, PLAINTEXTS
from pelayanan.access import Actor
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.verify import verify_ledger
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ErasureRefusedError,
    IncompleteRequestError,
    PermissionDeniedError,
    PrivacyError,
    SubjectErasedError,
    UnknownSubjectError,
)
from pelayanan.privacy import (
    DATA_PROTECTION_OFFICER,
    PrivacySettings,
    RetentionPeriod,
    RetentionSchedule,
    Vault,
    is_sealed,
)
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.store import SQLiteStore, Store
from pelayanan.testing import FakeClock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})


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
        revealed = pdesk.reveal(
            result.request.id, "telepon", actor=staff["verifier"], purpose="call back"
        )
        assert revealed.value == "+6281311112222"

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
        revealed = pdesk.reveal(rid, "nik", actor=staff["verifier"], purpose="verify identity")
        assert revealed.value == CITIZEN_DATA["nik"]
        assert revealed.request is not None
        assert revealed.request.id == rid
        assert revealed.seq == len(_entries(pdesk)) - 1
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
        result = pdesk.subject_access(subject, actor=DPO, purpose="akses subjek data no. 12")
        assert result.request is None
        data = result.subject_data
        assert data is not None
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
        result = pdesk.erase_subject(subject, actor=DPO, reason="permohonan hapus no. 7")
        erased = result.erasure
        assert erased is not None
        assert erased.requests == (rid,)
        assert (erased.seq, erased.entry_hash) == (result.seq, result.entry_hash)
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
        hold = pdesk.place_legal_hold(actor=DPO, reason="perkara 12/Pdt/2026", **target).hold
        assert hold is not None
        assert _entries(pdesk)[-1]["kind"] == "legal_hold"
        with pytest.raises(ErasureRefusedError) as info:
            pdesk.erase_subject(subject, actor=DPO, reason="r")
        assert info.value.rule == "legal_hold"
        assert info.value.holds == (hold.id,)
        refused = _entries(pdesk)[-1]
        assert refused["kind"] == "erasure_refused"
        assert refused["refusal"]["rule"] == "legal_hold"
        released = pdesk.release_legal_hold(
            hold.id, actor=Actor("legal-1", {"legal_officer"}), reason="done"
        )
        assert released.hold == hold
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
        erasure = desk.erase_subject(subject, actor=DPO, reason="r").erasure
        assert erasure is not None
        assert erasure.subject == subject


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
        assert desk.reveal(keep.request.id, "nama", actor=staff["verifier"], purpose="p").value == (
            "Andi Wijaya"
        )
        for export in (before, after):
            assert verify_export(export, [ledger_key.verifier])
        store.close()
